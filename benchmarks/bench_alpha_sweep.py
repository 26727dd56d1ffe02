"""Luo et al.'s alpha sweep (Table 2) and D in {10, 20} (Table 3), CPU-sized, by GridSearchCV.

``sklearn.model_selection.GridSearchCV`` over ``ChimeraSeparator`` with
``alpha in {0, 0.05, 0.1, 0.5, 1}`` x ``embedding_dim in {10, 20}``. Model selection uses
only the MIR-1K *training* singers: ``cv`` is a ``PredefinedSplit`` holding out every
fifth training clip for validation; the test singers are never seen by the search.
Two scorers (multi-metric search): the validation SI-SDRi of the mask-inference head
and of the deep-clustering head (K-means on the embeddings), the same fitted model
scored with ``set_params(head=...)``; ``refit="mi"``. The scorer also scores each fitted
model (trained on the training part of the split) on the test singers, for the table;
the refit best model (all training clips) is scored on the test singers too.

The network is tiny (1 x 64 BLSTM), trained for a few epochs (RMSprop, lr 1e-3,
100-frame segments, no early stopping): the numbers show the *trend* of the paper's
tables at a CPU budget, not its absolute values. One CPU thread. Features are computed
once (``MelFeatures`` defaults) and the records passed as ``X``.

Usage::

    python benchmarks/bench_alpha_sweep.py [--quick] [--train-clips N] [--test-clips N]
                                           [--epochs N]
"""

import argparse
import time

import numpy as np
import torch
from sklearn.model_selection import GridSearchCV, PredefinedSplit

from _common import MIR1K, RESULTS, machine, write_report
from sksep import ChimeraSeparator, MelFeatures
from sksep.datasets import load_mir1k

ALPHAS = [0.0, 0.05, 0.1, 0.5, 1.0]
DIMS = [10, 20]


class HeadScorer:
    """Validation SI-SDRi of one head; also records the test-set SI-SDRi of both heads."""

    def __init__(self, head, test_X, test_Y, store):
        self.head, self.test_X, self.test_Y, self.store = head, test_X, test_Y, store

    def __call__(self, estimator, X, Y):
        previous = estimator.head
        estimator.set_params(head=self.head)
        try:
            score = estimator.score(X, Y)
            key = (estimator.alpha, estimator.embedding_dim, self.head)
            if key not in self.store:
                tic = time.perf_counter()
                self.store[key] = {"valid": score,
                                   "test": estimator.score(self.test_X, self.test_Y),
                                   "epochs": len(estimator.history_),
                                   "train_seconds": float(sum(estimator.history_[:, "dur"])),
                                   "test_score_seconds": time.perf_counter() - tic}
            return score
        finally:
            estimator.set_params(head=previous)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--train-clips", type=int, default=None,
                        help="random subset of the training clips (default: all; 30 quick)")
    parser.add_argument("--test-clips", type=int, default=None, help="default 45; 16 quick")
    parser.add_argument("--epochs", type=int, default=None, help="default 4; 2 quick")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    n_train, n_test, epochs = (30, 16, 2) if args.quick else (None, 45, 4)
    n_train = args.train_clips or n_train
    n_test = args.test_clips or n_test
    epochs = args.epochs or epochs
    train = load_mir1k(MIR1K, "train")
    test = load_mir1k(MIR1K, "test")
    rng = np.random.default_rng(0)
    if n_train is not None:  # a random subset of both training singers
        keep = np.sort(rng.choice(len(train.X), n_train, replace=False))
        train_X, train_Y = [train.X[i] for i in keep], [train.Y[i] for i in keep]
    else:
        train_X, train_Y = list(train.X), list(train.Y)
    keep = np.sort(rng.choice(len(test.X), n_test, replace=False))  # all three singers
    test_X, test_Y = [test.X[i] for i in keep], [test.Y[i] for i in keep]

    features = MelFeatures().fit(train_X)
    train_records = features.transform(train_X)
    test_records = features.transform(test_X)
    fold = np.full(len(train_records), -1)
    fold[::5] = 0  # every fifth training clip validates
    store = {}
    scoring = {head: HeadScorer(head, test_records, test_Y, store) for head in ("mi", "dc")}
    base = ChimeraSeparator(hidden_size=64, num_layers=1, max_epochs=epochs,
                            validation_fraction=0.0, patience=None, random_state=0)
    search = GridSearchCV(base, {"alpha": ALPHAS, "embedding_dim": DIMS}, scoring=scoring,
                          refit="mi", cv=PredefinedSplit(fold), error_score="raise")
    search.fit(train_records, train_Y)
    best = search.best_estimator_
    best_test = {}
    for head in ("mi", "dc"):
        best.set_params(head=head)
        best_test[head] = best.score(test_records, test_Y)
    best.set_params(head="mi")
    rows = [{"alpha": a, "embedding_dim": d, "head": h, **store[(a, d, h)]}
            for a in ALPHAS for d in DIMS for h in ("mi", "dc") if (a, d, h) in store]
    result = {
        "benchmark": "alpha_sweep", "quick": args.quick, "threads": 1,
        "budget": {"network": "ChimeraSeparator(hidden_size=64, num_layers=1)",
                   "epochs": epochs, "train_clips": len(train_records),
                   "validation_clips": int((fold == 0).sum()),
                   "test_clips": len(test_records), "segment_frames": 100,
                   "optimizer": "RMSprop lr 1e-3, batch 16"},
        "rows": rows,
        "best_params": search.best_params_, "best_valid_mi": search.best_score_,
        "best_refit_test": best_test, "machine": machine(),
        "seconds": time.perf_counter() - start, "torch": torch.__version__,
    }
    write_report(RESULTS / "alpha_sweep", result)
    print(f"{'alpha':>6} {'D':>3} {'head':>4} {'valid SI-SDRi':>14} {'test SI-SDRi':>13}")
    for row in rows:
        print(f"{row['alpha']:>6} {row['embedding_dim']:>3} {row['head']:>4} "
              f"{row['valid']:>14.2f} {row['test']:>13.2f}")
    print(f"best {search.best_params_}: test SI-SDRi mi {best_test['mi']:.2f}, "
          f"dc {best_test['dc']:.2f}; {result['seconds']:.0f} s")
    return result


if __name__ == "__main__":
    main()
