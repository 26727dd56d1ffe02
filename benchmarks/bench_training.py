"""Training throughput of each sksep estimator vs a bare PyTorch loop over the same module.

For every trainable estimator, one round is:

A. ``est.fit(records, Y)`` for one epoch (no validation split, no early stopping, no
   gradient clipping, so the work is the bare loop's): skorch, the targets of every
   clip, the module, feature standardisation, keep-best weights, all that ``fit`` does;
B. the bare loop: a fresh module built as ``fit`` builds it, the optimizer and learning
   rate of the fitted skorch net (``est.net_``), its objective, over the same batch
   tensors (the segments ``fit`` trains on, collated once, before timing),
   ``zero_grad / forward / loss / backward / step``.

Frames/s counts training frames (segments x segment length) per second. The
library's overhead is the median over paired rounds of ``time(A) / time(B) - 1``. One
CPU thread; the features are computed once, outside the timings, and passed to ``fit``
as records.

Usage::

    python benchmarks/bench_training.py [--quick]
"""

import argparse
import copy
import statistics
import time

import numpy as np
import torch

from _common import MIR1K, RESULTS, machine, paired_rounds, ratio_summary, write_report
from sksep import (
    ChimeraSeparator,
    ClassConditionalSeparator,
    ConvMaskSeparator,
    DeepClusteringSeparator,
    UNetSeparator,
)
from sksep.datasets import load_mir1k

COMMON = dict(max_epochs=1, validation_fraction=0.0, patience=None, max_grad_norm=None,
              random_state=0, verbose=0)


def estimators():
    """CPU-sized settings of every trainable estimator (name, estimator)."""
    return [
        ("ChimeraSeparator (2 x 128 BLSTM)",
         ChimeraSeparator(hidden_size=128, num_layers=2, **COMMON)),
        ("DeepClusteringSeparator (2 x 128 BLSTM)",
         DeepClusteringSeparator(hidden_size=128, num_layers=2, **COMMON)),
        ("ClassConditionalSeparator (2 x 128 BLSTM)",
         ClassConditionalSeparator(hidden_size=128, num_layers=2, **COMMON)),
        ("ConvMaskSeparator (2 conv, 8 maps, 256 fc)",
         ConvMaskSeparator(conv_layers=2, channels=8, hidden_size=256, **COMMON)),
        ("UNetSeparator (8 maps)", UNetSeparator(channels=8, batch_size=16, **COMMON)),
    ]


def bare_setup(est, records, sources):
    """Module factory, objective and the collated batches of one epoch of the fitted ``est``."""
    problem = est.training_problem(records, sources)
    generator = torch.Generator().manual_seed(0)
    loader = torch.utils.data.DataLoader(problem.dataset, batch_size=est.batch_size,
                                         shuffle=True, generator=generator)
    batches = list(loader)

    def build():  # a fresh, untrained module as fit builds it (fit builds one per fit)
        return copy.deepcopy(problem.module)

    frames = len(problem.dataset) * problem.dataset[0][0].shape[0]
    return build, problem.objective, batches, frames


def bare_epoch(build, objective, batches, lr, optimizer_class):
    torch.manual_seed(0)
    module = build()
    module.train()
    optimizer = optimizer_class(module.parameters(), lr=lr)
    return train_pass(module, optimizer, objective, batches)


def train_pass(forward, optimizer, objective, batches):
    """One pass of ``zero_grad / forward / objective / backward / step`` over ``batches``;
    the last loss. ``forward`` is the module or any callable standing in for it."""
    for features, targets in batches:
        optimizer.zero_grad()
        loss = objective(forward(features), targets)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--clips", type=int, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rounds = args.rounds or (4 if args.quick else 15)
    n_clips = args.clips or (3 if args.quick else 8)
    start = time.perf_counter()
    data = load_mir1k(MIR1K, "train", max_clips=n_clips)
    sources = [np.asarray(y, dtype=np.float32) for y in data.Y]
    rows = {}
    for name, est in estimators():
        est.fit(data.X, data.Y)  # warm-up (allocator, librosa caches); fits est.features_
        records = est.features_.transform(data.X)
        build, objective, batches, frames = bare_setup(est, records, sources)
        optimizer, lr = est.net_.optimizer, est.net_.lr

        def bare_run():
            bare_epoch(build, objective, batches, lr, optimizer)

        bare_run()  # warm-up
        epoch = []

        def fit_once():
            est.fit(records, data.Y)
            epoch.append(float(est.history_[-1, "dur"]))  # skorch's own epoch time

        lib, bare = paired_rounds(fit_once, bare_run, rounds)
        summary = ratio_summary(lib, bare)
        rows[name] = {
            "frames_per_epoch": frames, "batches": len(batches), "optimizer": est.optimizer,
            "batch_size": est.batch_size,
            "sksep_fps": frames / statistics.median(lib),
            "bare_fps": frames / statistics.median(bare),
            "sksep_median_s": statistics.median(lib), "bare_median_s": statistics.median(bare),
            **summary, "overhead_pct": 100 * (summary["ratio_median"] - 1),
            # The training loop alone (skorch's epoch duration), without fit's one-off
            # work (targets of every clip, module construction, standardisation).
            "sksep_epoch_median_s": statistics.median(epoch),
            "epoch_overhead_pct": 100 * (ratio_summary(epoch, bare)["ratio_median"] - 1),
        }
        print(f"{name:<45} sksep {rows[name]['sksep_fps']:8.0f} fr/s  bare "
              f"{rows[name]['bare_fps']:8.0f} fr/s  overhead {rows[name]['overhead_pct']:+.1f} % "
              f"(epoch loop {rows[name]['epoch_overhead_pct']:+.1f} %)",
              flush=True)
    result = {"benchmark": "training", "quick": args.quick, "rounds": rounds,
              "clips": n_clips, "threads": 1, "rows": rows, "machine": machine(),
              "seconds": time.perf_counter() - start, "torch": torch.__version__}
    write_report(RESULTS / "training", result)
    return result


if __name__ == "__main__":
    main()
