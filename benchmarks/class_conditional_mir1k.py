"""Class-conditional separators on MIR-1K: the four covariance types vs the mask-inference baseline.

Reruns the comparison of Seetharaman et al. (2019, Table 1) on MIR-1K (two classes:
vocals, accompaniment) at a small, fixed CPU budget: every configuration trains the
same small network (2 x 128 BLSTM, D = 20, sksep's default 150-band mel features with
deltas) on the training singers (abjones, amy; 10 % of their clips held out to keep the
best epoch) for the same number of epochs on one CPU thread, then separates all 90
clips of the test singers (annar, heycat, tammy).

The budget is a fixed epoch count, calibrated to about 3 minutes of training per
configuration on an idle core (4 epochs: 32 s per epoch for the baseline, 42 s for the
GMM models). A wall-clock budget (``--budget SECONDS``) is available but unfair on a
shared machine: whichever configuration runs while other jobs load the CPU gets fewer
epochs.

Printed and written beside this script: SI-SDRi and the MIREX GNSDR / GSIR / GSAR per
source, with the mixture (floor) and the oracle binary and Wiener-like masks (ceiling) on
the same clips, the training wall time and epochs of each row, and the learned variances
and priors.

Usage::

    python benchmarks/class_conditional_mir1k.py [--epochs 4] [--budget SECONDS]
        [--max-test-clips N]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from _common import MIR1K, RESULTS, machine, machine_line, score_clips, write_report
from sksep import ClassConditionalSeparator, MelFeatures, OracleMaskSeparator
from sksep.callbacks import TimeBudget
from sksep.datasets import load_mir1k
from sksep.metrics import format_report_table

CLASSES = ("vocals", "accompaniment")
CONFIGURATIONS = [  # (row label, covariance_type)
    ("BLSTM mask inference (baseline)", None),
    ("DC/GMM diag (untied)", "diag"),
    ("DC/GMM diag (tied)", "tied_diag"),
    ("DC/GMM spherical (untied)", "spherical"),
    ("DC/GMM spherical (tied)", "tied_spherical"),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MIR1K, help="MIR-1K folder")
    parser.add_argument("--epochs", type=int, default=4,
                        help="training epochs per configuration (default 4, ~3 min idle)")
    parser.add_argument("--budget", type=float, default=None,
                        help="wall-clock training seconds per configuration instead of a "
                             "fixed epoch count")
    parser.add_argument("--lr", type=float, default=1e-3, help="RMSprop learning rate")
    parser.add_argument("--max-test-clips", type=int, default=None,
                        help="score only the first N test clips (quick checks)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="covariance types to run ('none' is the baseline)")
    parser.add_argument("--output", type=Path, default=RESULTS / "class_conditional_mir1k",
                        help="output path without extension (.md and .json are written)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    start = time.perf_counter()
    train = load_mir1k(args.data, "train")
    test = load_mir1k(args.data, "test", max_clips=args.max_test_clips)
    features = MelFeatures()  # 16 kHz, 512 / 128, 150 mel bands + deltas
    train_records = features.fit_transform(train.X)
    test_records = features.transform(test.X)
    print(f"MIR-1K: {len(train.X)} training clips, {len(test.X)} test clips "
          f"(features in {time.perf_counter() - start:.0f} s)", flush=True)

    rows, details = {}, {}
    rows["mixture"] = score_clips(test, [np.stack([x, x]) for x in test.X])
    for mask in ("binary", "wiener"):
        oracle = OracleMaskSeparator(mask=mask).fit(test.X, test.Y)
        rows[f"oracle {mask}"] = score_clips(test, oracle.predict(test.X, test.Y))
        print(f"oracle {mask}: {rows[f'oracle {mask}']}", flush=True)

    configurations = CONFIGURATIONS
    if args.only is not None:
        wanted = {None if name == "none" else name for name in args.only}
        configurations = [c for c in CONFIGURATIONS if c[1] in wanted]
    for label, covariance_type in configurations:
        model = ClassConditionalSeparator(
            source_names=CLASSES, covariance_type=covariance_type, embedding_dim=20,
            hidden_size=128, num_layers=2, lr=args.lr,
            max_epochs=args.epochs if args.budget is None else 10_000, patience=None,
            validation_fraction=0.1, random_state=0,
            callbacks=None if args.budget is None else [TimeBudget(args.budget)])
        tic, cpu_tic = time.perf_counter(), time.process_time()
        model.fit(train_records, train.Y)
        train_seconds = time.perf_counter() - tic
        train_cpu_seconds = time.process_time() - cpu_tic
        tic = time.perf_counter()
        estimates = model.predict(test_records)
        predict_seconds = time.perf_counter() - tic
        rows[label] = score_clips(test, estimates)
        details[label] = {
            "covariance_type": covariance_type,
            "train_seconds": train_seconds,
            "train_cpu_seconds": train_cpu_seconds,
            "epochs": len(model.history_),
            "best_epoch": model.best_epoch_,
            "valid_loss": [float(v) for v in model.history_[:, "valid_loss"]],
            "predict_seconds": predict_seconds,
            "beta": (None if model.beta_ is None
                     else np.atleast_1d(model.beta_).tolist()),
            "variances": None if model.variances_ is None else model.variances_.tolist(),
            "priors": None if model.priors_ is None else model.priors_.tolist(),
        }
        print(f"{label}: {len(model.history_)} epochs in {train_seconds:.0f} s, kept epoch "
              f"{model.best_epoch_}, beta={details[label]['beta']}, "
              f"priors={details[label]['priors']}: {rows[label]}", flush=True)

    table = format_report_table(rows)
    total = time.perf_counter() - start
    record = machine(threads=1)

    def numbers(values):
        return "" if values is None else ", ".join(f"{v:.2f}" for v in values)

    budget_lines = [f"| {label} | {d['train_seconds']:.0f} | {d['train_cpu_seconds']:.0f} "
                    f"| {d['epochs']} | {d['best_epoch']} | {numbers(d['beta'])} "
                    f"| {numbers(d['priors'])} |"
                    for label, d in details.items()]
    if args.budget is None:
        budget = (f"{args.epochs} epochs per configuration (calibrated to about 3 minutes "
                  f"of training on an idle core; the wall times below are what this run took)")
        command = f"--epochs {args.epochs}"
    else:
        budget = (f"a budget of {args.budget:g} s of training (`sksep.callbacks.TimeBudget`: "
                  f"the epoch that crosses the budget is the last)")
        command = f"--budget {args.budget:g}"
    markdown = "\n".join([
        "# Class-conditional embeddings on MIR-1K",
        "",
        "Produced by `python benchmarks/class_conditional_mir1k.py "
        f"{command} --lr {args.lr:g}"
        + (f" --max-test-clips {args.max_test_clips}" if args.max_test_clips else "")
        + (f" --only {' '.join(args.only)}" if args.only else "") + "`.",
        "",
        f"Test: {len(test.X)} clips of the MIR-1K test singers (annar, heycat, tammy). "
        "Training: the 175 clips of abjones and amy (10 % held out, by clip, to keep the "
        "epoch with the lowest validation loss). Every model is a 2 x 128 BLSTM on sksep's "
        "default features (16 kHz, 512-sample window, 128-sample hop, 150 mel bands + "
        "deltas), D = 20, L1 loss on the linear STFT magnitudes + deep-clustering loss "
        "(weight 1, bins within 40 dB of the clip's peak), RMSprop, 100-frame segments, "
        f"batch 16, seed 0, one CPU thread (`torch.set_num_threads(1)`), and {budget}. "
        "The baseline is the same BLSTM as a "
        "mask-inference network (per-frequency D x C layers, sigmoid), L1 loss only.",
        "",
        "SI-SDRi: length-weighted mean SI-SDR improvement (dB). GNSDR / GSIR / GSAR: "
        "MIREX globals from BSS Eval (museval), in dB.",
        "",
        table,
        "",
        "Training budget and learned GMM parameters (beta = 1 / variance for the spherical "
        "types; priors in the order vocals, accompaniment):",
        "",
        "| model | train wall time (s) | train CPU time (s) | epochs | kept epoch | beta "
        "| priors |",
        "|---|---:|---:|---:|---:|---|---|",
        *budget_lines,
        "",
        f"Machine: {machine_line(record)}, shared with other jobs (load average "
        f"{record['load_average'][2]:.1f} over the last 15 min at the end of the run), so "
        f"wall times are indicative only; the CPU time of the (single-threaded) training "
        f"process is the budget actually spent. Total run time {total / 60:.0f} min.",
        "",
    ])
    write_report(args.output,
                 {"epochs": args.epochs, "budget_seconds": args.budget, "lr": args.lr,
                  "n_test_clips": len(test.X), "rows": rows, "training": details,
                  "machine": record, "total_seconds": total},
                 markdown)
    print(table)
    print(f"total wall time {total:.0f} s")
    return rows, details


if __name__ == "__main__":
    main()
