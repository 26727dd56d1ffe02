"""Why ``cnn (nll)`` gave -27 dB vocal SI-SDRi, and what fixes it (issue 16).

The fully-connected ``dnn`` body of :class:`sksep.ConvMaskSeparator` (5 frames of the
linear STFT, 2 x 512) is trained for a fixed number of epochs on the MIR-1K training
singers minus two whole held-out songs, with the MSE and the NLL objectives, each with
equal bin weights (the paper's) and with ``bin_weights="magnitude"``. Reported on the
held-out songs' clips (validation, never the test singers): the share of bins whose
dominant source is the vocals, the mean of the predicted vocal mask, and SI-SDRi of
both sources. One thread, seed 0.

Usage::

    python benchmarks/probe_conv_nll.py [--epochs 4]
"""

import argparse
import time

import numpy as np
import torch

from _common import MIR1K, RESULTS, machine, write_report
from sksep import ConvMaskSeparator, MelFeatures
from sksep.datasets import hold_out_songs, load_mir1k
from sksep.metrics import si_sdr_improvement


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_mir1k(MIR1K, "train")
    groups = np.asarray(data.groups)
    train, valid, held_out = hold_out_songs(groups, songs=sorted(set(groups))[-2:])
    X, Y = [data.X[i] for i in train], [data.Y[i] for i in train]
    X_valid, Y_valid = [data.X[i] for i in valid], [data.Y[i] for i in valid]
    features = MelFeatures(frequency_scale="linear", n_fft=1024, hop_length=256, deltas=False)
    rows = []
    for objective in ("mse", "nll"):
        for bin_weights in (None, "magnitude"):
            est = ConvMaskSeparator(objective=objective, bin_weights=bin_weights, conv_layers=0,
                                    hidden_size=512, features=features, max_epochs=args.epochs,
                                    patience=None, validation_fraction=0.0,
                                    random_state=args.seed)
            start = time.perf_counter()
            est.fit(X, Y)
            seconds = time.perf_counter() - start
            masks = est.predict_masks(X_valid)
            records = est.features_.transform(X_valid)
            dominant = np.mean([_vocal_share(r, y)
                                for r, y in zip(records, Y_valid)])
            estimates = est.predict(X_valid)
            gains = np.mean([si_sdr_improvement(y, e, x)
                             for e, y, x in zip(estimates, Y_valid, X_valid)], axis=0)
            rows.append({"objective": objective, "bin_weights": bin_weights,
                         "epochs": args.epochs, "train_seconds": round(seconds, 1),
                         "vocal_dominant_share": float(dominant),
                         "predicted_vocal_share": float(np.mean([m[0].mean() for m in masks])),
                         "vocals_si_sdri": float(gains[0]),
                         "accompaniment_si_sdri": float(gains[1])})
            print(rows[-1], flush=True)
    lines = ["# cnn (nll) probe: bin weights", "",
             f"Produced by `python benchmarks/probe_conv_nll.py --epochs {args.epochs}`: the "
             "dnn body (5 frames x 513 bins, 2 x 512), trained on MIR-1K's training singers "
             f"minus the held-out songs {', '.join(held_out)} ({len(train)} clips), scored on "
             f"those songs' {len(valid)} clips; {args.epochs} epochs, one thread, seed "
             f"{args.seed}. Masks at predict: renormalised sigmoids (mse), binary (nll).", "",
             "| objective | bin weights | vocal-dominant bins | predicted vocal mask mean | "
             "vocals SI-SDRi | acc. SI-SDRi | train s |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['objective']} | {r['bin_weights'] or 'equal'} | "
                     f"{r['vocal_dominant_share']:.3f} | {r['predicted_vocal_share']:.3f} | "
                     f"{r['vocals_si_sdri']:.2f} | {r['accompaniment_si_sdri']:.2f} | "
                     f"{r['train_seconds']:.0f} |")
    markdown = "\n".join(lines) + "\n"
    write_report(RESULTS / "probe_conv_nll", {"rows": rows, "held_out": held_out,
                                              "machine": machine()}, markdown)
    print(markdown)


def _vocal_share(record, sources):
    from sksep import IdealBinaryMask
    return float(IdealBinaryMask().masks(record, sources)[0].mean())


if __name__ == "__main__":
    main()
