"""Convolutional separators on MIR-1K: dnn, cnn (mse), cnn (nll), U-Net and UH-net.

Compares, at a small fixed CPU budget, the models of Roma et al. (2018: the fully-connected
``dnn`` baseline and the context CNN with the MSE and NLL objectives) and of Xi's report
(U-Net and the UH-net hybrid) on the 90 clips of the MIR-1K test singers (annar, heycat,
tammy), trained on the training singers (abjones, amy; 10 % of their clips held out to keep
the best epoch). Every configuration trains for a wall-clock budget on one CPU thread.
Printed and written beside this script (Markdown + JSON): SI-SDRi and the MIREX GNSDR /
GSIR / GSAR per source, the IoU and PSNR of the predicted vocal masks against the ideal
ones, the training wall time and epochs of each row, with the mixture (floor) and the
oracle binary and Wiener-like masks (ceiling) on each feature grid.

Usage::

    python benchmarks/conv_mir1k.py [--budget 180] [--max-test-clips N] [--only dnn unet]
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from _common import (MIR1K, RESULTS, json_safe, machine, machine_line, score_clips,
                     write_report)
from sksep import (ConvMaskSeparator, IdealBinaryMask, MelFeatures, OracleMaskSeparator,
                   UNetSeparator, WienerMask, apply_masks)
from sksep.callbacks import TimeBudget
from sksep.datasets import load_mir1k
from sksep.metrics import mask_iou, mask_psnr

# The two feature grids: the CNNs' linear STFT (their default) and the U-Nets' log-mel.
GRIDS = {
    "linear": ("linear STFT, 1024 / 256, 513 bins",
               MelFeatures(n_mels=None, n_fft=1024, hop_length=256, deltas=False)),
    "mel": ("log-mel, 512 / 128, 128 bands", MelFeatures(n_mels=128, deltas=False)),
}


def configurations(seed):
    """(key, row label, grid, estimator) of each trained row: small networks for a CPU."""
    common = dict(max_epochs=10_000, patience=None, validation_fraction=0.1, random_state=seed)
    cnn = dict(conv_layers=2, channels=4, hidden_size=256, **common)
    unet = dict(channels=8, batch_size=16, **common)
    return [
        ("dnn", "dnn (mse, 5 frames)", "linear",
         ConvMaskSeparator(conv_layers=0, hidden_size=512, **common)),
        ("cnn_mse", "cnn (mse, 11 frames)", "linear", ConvMaskSeparator(objective="mse", **cnn)),
        ("cnn_nll", "cnn (nll, 11 frames)", "linear", ConvMaskSeparator(objective="nll", **cnn)),
        ("unet", "U-Net", "mel", UNetSeparator(**unet)),
        ("uhnet", "UH-net", "mel",
         UNetSeparator(hybrid=True, hidden_size=64, num_layers=2, embedding_dim=20, **unet)),
    ]


class EpochBudget(TimeBudget):
    """A :class:`~sksep.callbacks.TimeBudget` that ends training at the epoch boundary
    nearest to ``seconds``, never inside an epoch.

    After each epoch, another one runs only if it is expected (from the last epoch's
    duration) to end nearer the budget than now, i.e. if ``elapsed + duration / 2``
    is within the budget. At least one epoch always runs.
    """

    def on_batch_end(self, net, **kwargs):
        pass  # TimeBudget may stop inside an epoch; this budget only between epochs

    def on_epoch_end(self, net, **kwargs):
        self.epochs_completed_ += 1
        elapsed = time.monotonic() - self.started_
        if elapsed + net.history[-1, "dur"] / 2 > self.seconds:
            self.exhausted_ = True
            raise KeyboardInterrupt  # skorch ends training cleanly, keeping the best epoch


def _mask_scores(masks, ideal_binary, ideal_ratio):
    """IoU (threshold 0.5) and PSNR of the vocal masks, pooled over all test clips."""
    vocals = [m[0] for m in masks]
    return {"IoU": mask_iou(vocals, [m[0] for m in ideal_binary]),
            "PSNR": mask_psnr(vocals, [m[0] for m in ideal_ratio])}


def _markdown_table(rows, details, scores):
    header = ["", "grid", "params", "epochs", "train s",
              "vocals SI-SDRi", "acc. SI-SDRi", "vocals GNSDR", "acc. GNSDR",
              "vocals GSIR", "vocals GSAR", "vocal IoU", "vocal PSNR"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|"]
    for label, report in rows.items():
        info = details.get(label, {})
        mask = scores.get(label, {})
        cells = [label, info.get("grid", ""),
                 f"{info['params'] / 1e6:.2f} M" if "params" in info else "",
                 str(info.get("epochs", "")),
                 f"{info['train_seconds']:.0f}" if "train_seconds" in info else "",
                 f"{report['vocals']['SI-SDRi']:.2f}", f"{report['accompaniment']['SI-SDRi']:.2f}",
                 f"{report['vocals']['GNSDR']:.2f}", f"{report['accompaniment']['GNSDR']:.2f}",
                 f"{report['vocals']['GSIR']:.2f}", f"{report['vocals']['GSAR']:.2f}",
                 f"{mask['IoU']:.3f}" if "IoU" in mask else "",
                 f"{mask['PSNR']:.2f}" if "PSNR" in mask else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MIR1K, help="MIR-1K folder")
    parser.add_argument("--budget", type=float, default=180.0,
                        help="training seconds per configuration (default 180)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-test-clips", type=int, default=None,
                        help="score only the first N test clips (quick checks)")
    parser.add_argument("--max-train-clips", type=int, default=None,
                        help="train on the first N training clips only (quick checks)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="configurations to train: dnn cnn_mse cnn_nll unet uhnet")
    parser.add_argument("--output", type=Path, default=RESULTS / "conv_mir1k",
                        help="output path without extension (.md and .json are written)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    start = time.perf_counter()
    load_before = os.getloadavg()
    train = load_mir1k(args.data, "train", max_clips=args.max_train_clips)
    test = load_mir1k(args.data, "test", max_clips=args.max_test_clips)
    records = {}
    for grid, (_, features) in GRIDS.items():
        records[grid] = (features.fit_transform(train.X), features.transform(test.X))
    ideal = {grid: ([IdealBinaryMask().masks(r, y) for r, y in zip(records[grid][1], test.Y)],
                    [WienerMask().masks(r, y) for r, y in zip(records[grid][1], test.Y)])
             for grid in GRIDS}
    print(f"MIR-1K: {len(train.X)} training clips, {len(test.X)} test clips "
          f"(features in {time.perf_counter() - start:.0f} s)", flush=True)

    rows, details, scores = {}, {}, {}
    rows["mixture"] = score_clips(test, [np.stack([x, x]) for x in test.X])
    for grid, (_, features) in GRIDS.items():
        for mask, index in (("binary", 0), ("wiener", 1)):
            label = f"oracle {mask} ({grid})"
            oracle = OracleMaskSeparator(mask=mask, features=features).fit(test.X, test.Y)
            rows[label] = score_clips(test, oracle.predict(test.X, test.Y))
            details[label] = {"grid": grid}
            scores[label] = _mask_scores(ideal[grid][index], *ideal[grid])
            print(f"{label}: {rows[label]} {scores[label]}", flush=True)

    for key, label, grid, model in configurations(args.seed):
        if args.only is not None and key not in args.only:
            continue
        model.set_params(callbacks=[EpochBudget(args.budget)])
        train_records, test_records = records[grid]
        tic = time.perf_counter()
        model.fit(train_records, train.Y)
        train_seconds = time.perf_counter() - tic
        tic = time.perf_counter()
        masks = model.predict_masks(test_records)
        estimates = [apply_masks(r, m) for r, m in zip(test_records, masks)]
        predict_seconds = time.perf_counter() - tic
        rows[label] = score_clips(test, estimates)
        scores[label] = _mask_scores(masks, *ideal[grid])
        history = model.history_
        details[label] = {
            "key": key, "grid": grid,
            "params": int(sum(p.numel() for p in model.net_.module_.parameters())),
            "settings": {k: v for k, v in model.get_params().items()
                         if k not in ("callbacks", "features", "mask_target")},
            "train_seconds": train_seconds, "epochs": len(history),
            "best_epoch": model.best_epoch_,
            "train_loss": [float(v) for v in history[:, "train_loss"]],
            "valid_loss": [float(v) for v in history[:, "valid_loss"]],
            "predict_seconds": predict_seconds,
            "max_null_sum_error": float(max(np.abs(e.sum(0) - x).max()
                                            for e, x in zip(estimates, test.X))),
        }
        print(f"{label}: {len(history)} epochs in {train_seconds:.0f} s (kept "
              f"{model.best_epoch_}), predict {predict_seconds:.0f} s: {rows[label]} "
              f"{scores[label]}", flush=True)

    total = time.perf_counter() - start
    table = _markdown_table(rows, details, scores)
    record = machine(threads=1)
    command = (f"python benchmarks/conv_mir1k.py --budget {args.budget:g} --seed {args.seed}"
               + (f" --max-train-clips {args.max_train_clips}" if args.max_train_clips else "")
               + (f" --max-test-clips {args.max_test_clips}" if args.max_test_clips else "")
               + (f" --only {' '.join(args.only)}" if args.only else ""))
    markdown = "\n".join([
        "# Convolutional separators on MIR-1K",
        "",
        f"Produced by `{command}`.",
        "",
        f"Test: {len(test.X)} clips of the MIR-1K test singers (annar, heycat, tammy). "
        f"Training: the {len(train.X)} clips of abjones and amy, 10 % of them held out (by "
        "clip) to keep the epoch with the lowest validation loss. One CPU thread "
        f"(`torch.set_num_threads(1)`), seed {args.seed}, and a budget of {args.budget:g} s of "
        "training per row: training stops at the epoch boundary nearest to the budget (after "
        "each epoch, another one runs only if, judged by the last epoch's duration, it would "
        "end less than half an epoch past the budget), so a row whose epoch is longer than "
        "the budget trains one epoch. Learning rate 1e-3 everywhere; each estimator's "
        "default optimiser: Adam for `ConvMaskSeparator` (Roma et al.), RMSprop for "
        "`UNetSeparator` (Xi).",
        "",
        "* **dnn**: `ConvMaskSeparator(conv_layers=0, hidden_size=512)`: 5 frames x 513 "
        "bins -> 2 x 512 sigmoid -> 2 x 513 sigmoid masks, MSE against the ratio mask "
        "|S_i| / sum_j |S_j|, renormalised at predict; segments of 64 frames, batch 8.",
        "* **cnn**: `ConvMaskSeparator(conv_layers=2, channels=4, hidden_size=256)`: 11 "
        "frames x 513 bins -> conv 3x3 (4, then 8 maps; max-pool 2x2, batch norm, ReLU) -> "
        "2 x 256 sigmoid -> output; `objective=\"mse\"` (soft masks, renormalised) or "
        "`\"nll\"` (softmax, binary masks at predict).",
        "* **U-Net**: `UNetSeparator(channels=8, batch_size=16)`: 128-frame x 128-mel "
        "patches, 4 down / 4 up stages (8 ... 128 maps), dropout 0.5, BCE against the "
        "Wiener-like ratio mask; inference on patches overlapping by half, cross-faded.",
        "* **UH-net**: the same U-Net with `hybrid=True` and a 2 x 64 Bi-GRU Chimera network "
        "(D = 20, alpha = 0.1) whose mask-head output is stacked with the spectrogram as two "
        "more input channels; loss BCE + Chimera loss (DC + mMSA), trained jointly.",
        "",
        "Every model's estimates use the mixture phase. SI-SDRi: length-weighted mean SI-SDR "
        "improvement (dB). GNSDR / GSIR / GSAR: MIREX globals from BSS Eval (museval), dB. "
        "Vocal IoU: intersection over union of the predicted vocal mask (> 0.5) and the ideal "
        "binary vocal mask; vocal PSNR: PSNR (dB, peak 1) of the predicted vocal mask against "
        "the Wiener-like ratio mask |S_v|^2 / sum_j |S_j|^2; both pooled over all test bins, "
        "on each model's own feature grid (`linear`: 513 STFT bins, 64 ms / 16 ms; `mel`: 128 "
        "mel bands, 32 ms / 8 ms), against the oracle rows of that grid.",
        "",
        table,
        "",
        "The cnn computes every frame from its own 11-frame window, as in the paper: on a CPU "
        "that costs about ten times the dnn's time per frame, so at this budget the cnn sees "
        "about one epoch and the dnn several. The rows compare what a few CPU minutes buy, "
        "not the architectures at convergence; every row is far below its oracle.",
        "",
        f"Machine: {machine_line(record)}; shared with other jobs running (load average "
        f"{load_before[0]:.1f} at the start), so wall times and the epochs they allowed are "
        f"indicative only. Total run time {total / 60:.0f} min.",
        "",
    ])
    write_report(args.output, json_safe(
        {"command": command, "budget_seconds": args.budget, "seed": args.seed,
         "n_train_clips": len(train.X), "n_test_clips": len(test.X), "rows": rows,
         "mask_scores": scores, "training": details, "machine": record,
         "total_seconds": total}), markdown)
    print(table)
    print(f"total wall time {total:.0f} s")
    return rows, details, scores


if __name__ == "__main__":
    main()
