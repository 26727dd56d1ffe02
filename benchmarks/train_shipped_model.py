"""Reproduce the shipped model ``chimera-mir1k``: train, score, save, register.

Trains a Chimera network (alpha = 0.1, D = 20, mMSA, 2 x 300 BLSTM, 100-frame
segments, RMSprop) on the MIR-1K training singers (abjones, amy), keeping 10 % of
the clips for validation and the best epoch's weights, within a wall-clock budget.
Then scores it on the MIR-1K test singers (annar, heycat, tammy), saves it with
float16 weights to ``sksep/models/chimera-mir1k.sksep`` and writes its entry
(training budget, epochs, scores) into ``sksep/models/registry.json``.

Usage::

    python benchmarks/train_shipped_model.py [--budget-minutes 55] [--overwrite]
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from sksep import ChimeraSeparator
from sksep._atomic import atomic_write
from sksep.callbacks import TimeBudget
from sksep.datasets import load_mir1k
from sksep.metrics import separation_report

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "MIR-1K"
MODELS = ROOT / "sksep" / "models"
NAME = "chimera-mir1k"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--budget-minutes", type=float, default=55.0)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--hidden-size", type=int, default=300)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    train = load_mir1k(args.data, "train")
    test = load_mir1k(args.data, "test")
    model = ChimeraSeparator(alpha=0.1, embedding_dim=20, mi_objective="mmsa",
                             hidden_size=args.hidden_size, num_layers=args.layers,
                             segment_frames=100, max_epochs=args.max_epochs, patience=10,
                             random_state=0, verbose=1,
                             callbacks=[TimeBudget(args.budget_minutes * 60)])
    start = time.perf_counter()
    model.fit(train.X, train.Y)
    train_seconds = time.perf_counter() - start
    model.source_names_ = tuple(train.source_names)
    print(f"trained {len(model.epoch_summary_)} epochs in {train_seconds:.0f} s, "
          f"kept epoch {model.best_epoch_}")

    path = model.save(MODELS / f"{NAME}.sksep", overwrite=args.overwrite, half=True)
    scores = {}
    for head in ("mi", "dc"):
        model.set_params(head=head)
        scores[head] = separation_report(test.Y, model.predict(test.X), test.X,
                                         source_names=test.source_names, n_jobs=2)
    model.set_params(head="mi")
    print(json.dumps(scores, indent=2))

    registry_path = MODELS / "registry.json"
    registry = json.loads(registry_path.read_text())
    registry[NAME] = {
        "file": path.name,
        "estimator": "ChimeraSeparator",
        "sources": list(train.source_names),
        "sample_rate": 16000,
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
        "description": "Chimera network (alpha=0.1, D=20, mMSA, 2 x 300 BLSTM), "
                       "vocals / accompaniment, 16 kHz mono; predicts with the MI head",
        "training": (f"MIR-1K training singers abjones + amy (175 clips, 10 % held out for "
                     f"validation), {len(model.epoch_summary_)} epochs in "
                     f"{train_seconds / 60:.0f} min on {torch.get_num_threads()} CPU threads "
                     f"({platform.processor() or platform.machine()}), best epoch "
                     f"{model.best_epoch_}; benchmarks/train_shipped_model.py"),
        "scores": {"test set": "MIR-1K test singers annar + heycat + tammy (90 clips)",
                   "mi": scores["mi"], "dc": scores["dc"]},
    }
    text = json.dumps(registry, indent=2) + "\n"
    atomic_write(registry_path, lambda tmp: Path(tmp).write_text(text), overwrite=True)
    print(f"wrote {path} ({registry[NAME]['size_mb']} MB) and {registry_path}")


if __name__ == "__main__":
    main()
