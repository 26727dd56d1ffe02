"""Training throughput of each sksep estimator vs a bare PyTorch loop over the same module.

For every trainable estimator, one round is:

A. ``est.fit(records, Y)`` for one epoch (no validation split, no early stopping, no
   gradient clipping, so the work is the bare loop's): skorch, the targets of every
   clip, the module, feature standardisation, keep-best weights, all that ``fit`` does;
B. the bare loop: the same module class built by the estimator's ``_build_module``, the
   same optimizer (the estimator's ``optimizer``, same learning rate), the same
   objective, over the same batch tensors (the estimator's
   :class:`~sksep.separators._training.SegmentDataset` collated once, before timing),
   ``zero_grad / forward / loss / backward / step``.

Frames/s counts training frames (segments x segment length) per second. The
library's overhead is the median over paired rounds of ``time(A) / time(B) - 1``. One
CPU thread; the features are computed once, outside the timings, and passed to ``fit``
as records.

Usage::

    python benchmarks/bench_training.py [--quick]
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from sksep import (
    ChimeraSeparator,
    ClassConditionalSeparator,
    ConvMaskSeparator,
    DeepClusteringSeparator,
    UNetSeparator,
)
from sksep.separators._neural import OPTIMIZERS
from sksep.separators._training import SegmentDataset
from sksep._validation import check_sources
from sksep.datasets import load_mir1k

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE.parents[1] / "shared" / "data" / "MIR-1K"

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
    """Module factory, objective and the collated batches of one epoch."""
    est._check_params()
    est.grid_ = records[0].grid
    est.n_sources_ = sources[0].shape[0]
    if hasattr(est, "_check_classes"):
        est.classes_ = est._check_classes(est.n_sources_)
    if hasattr(est, "_naming"):
        est.permutation_invariant_ = False
    features = [r.features for r in records]
    targets = [est._clip_targets(r, s) for r, s in zip(records, sources)]
    segment = est.segment_frames if np.ndim(est.segment_frames) == 0 else est.segment_frames[0]
    dataset = SegmentDataset(features, targets, segment)
    generator = torch.Generator().manual_seed(0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=est.batch_size, shuffle=True,
                                         generator=generator)
    batches = list(loader)
    stacked = np.concatenate(features, axis=0)
    mean, scale = torch.from_numpy(stacked.mean(0)), torch.from_numpy(stacked.std(0) + 1e-5)
    n_features = features[0].shape[1]

    def build():
        module = est._build_module(n_features, est.grid_.n_bins, est.n_sources_)
        module.standardize.mean.copy_(mean)
        module.standardize.scale.copy_(scale)
        return module

    frames = len(dataset) * segment
    return build, est._objective(), batches, frames


def bare_epoch(build, objective, batches, lr, optimizer_class):
    torch.manual_seed(0)
    module = build()
    module.train()
    optimizer = optimizer_class(module.parameters(), lr=lr)
    for features, targets in batches:
        optimizer.zero_grad()
        loss = objective(module(features), targets)
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
    data = load_mir1k(DATA, "train", max_clips=n_clips)
    sources = check_sources(data.Y, [len(x) for x in data.X], name="Y")
    rows = {}
    for name, est in estimators():
        features = est.features if est.features is not None else est._default_features()
        records = features.fit(data.X).transform(data.X)
        build, objective, batches, frames = bare_setup(est, records, sources)
        est.fit(records, data.Y)  # warm-up (allocator, librosa caches)
        bare_epoch(build, objective, batches, est.lr, OPTIMIZERS[est.optimizer])
        lib, bare, epoch = [], [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            est.fit(records, data.Y)
            t1 = time.perf_counter()
            epoch.append(float(est.history_[-1, "dur"]))  # skorch's own epoch time
            bare_epoch(build, objective, batches, est.lr, OPTIMIZERS[est.optimizer])
            t2 = time.perf_counter()
            lib.append(t1 - t0)
            bare.append(t2 - t1)
        ratios = [a / b for a, b in zip(lib, bare)]
        epoch_ratios = [a / b for a, b in zip(epoch, bare)]
        rows[name] = {
            "frames_per_epoch": frames, "batches": len(batches), "optimizer": est.optimizer,
            "batch_size": est.batch_size,
            "sksep_fps": frames / statistics.median(lib),
            "bare_fps": frames / statistics.median(bare),
            "sksep_median_s": statistics.median(lib), "bare_median_s": statistics.median(bare),
            "ratio_median": statistics.median(ratios),
            "overhead_pct": 100 * (statistics.median(ratios) - 1),
            "ratio_min": min(ratios), "ratio_max": max(ratios),
            # The training loop alone (skorch's epoch duration), without fit's one-off
            # work (targets of every clip, module construction, standardisation).
            "sksep_epoch_median_s": statistics.median(epoch),
            "epoch_overhead_pct": 100 * (statistics.median(epoch_ratios) - 1),
        }
        print(f"{name:<45} sksep {rows[name]['sksep_fps']:8.0f} fr/s  bare "
              f"{rows[name]['bare_fps']:8.0f} fr/s  overhead {rows[name]['overhead_pct']:+.1f} % "
              f"(epoch loop {rows[name]['epoch_overhead_pct']:+.1f} %)",
              flush=True)
    result = {"benchmark": "training", "quick": args.quick, "rounds": rounds,
              "clips": n_clips, "threads": 1, "rows": rows, "machine": machine(),
              "seconds": time.perf_counter() - start, "torch": torch.__version__}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "training.json").write_text(json.dumps(result, indent=2))
    return result


def machine():
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


if __name__ == "__main__":
    main()
