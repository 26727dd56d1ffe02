"""What each mask could reach at best: oracle masks on the mel and the linear STFT grid.

Issue 15's levers change the grid of the masks (mel bands or STFT bins) and their
target (Wiener-like ratio masks or phase-sensitive masks). The oracle, computed from
the true sources, is the ceiling of each choice: a lever can only pay where its ceiling
is higher. For every test clip (nothing is trained; the test clips are the ones the
other MIR-1K figures use) and each grid:

* ``binary``: the ideal binary mask (the dominant source takes the bin);
* ``wiener p1`` / ``wiener p2``: ``|S_c|^p / sum_k |S_k|^p`` (p = 2 is the reference
  mask of the shipped model's mMSA loss, ``WienerMask()``);
* ``phase-sensitive``: ``|S_c| cos(theta_c - theta_X) / |X|`` truncated to [0, 1]
  (:class:`sksep.PhaseSensitiveMask`), the best real mask applied with the mixture phase
  and the target of ``mi_objective="psa"``.

On the mel grid each mask is computed from the sources' mel magnitudes and spread
over the STFT bins as the models' masks are (:func:`sksep.apply_masks`). Scores are
SI-SDRi of vocals and accompaniment, mean over the clips.

Run::

    python benchmarks/bench_oracle_ceilings.py              # results/oracle_ceilings.{md,json}
    python benchmarks/bench_oracle_ceilings.py --max-clips 3 --output /tmp/ceilings
"""

import argparse
import time
from pathlib import Path

import numpy as np

from _common import MIR1K, RESULTS, machine, utc_now, write_report

MASKS = ("binary", "wiener p1", "wiener p2", "phase-sensitive")
GRIDS = ("mel", "stft")
SOURCES = ("vocals", "accompaniment")


def oracle_masks(record, sources, grid):
    """Every oracle mask of :data:`MASKS` on ``grid``, each ``(C, T, grid.n_bins)``."""
    from sksep import IdealBinaryMask, PhaseSensitiveMask, WienerMask
    from sksep._masks import phase_sensitive_mask
    from sksep._spectral import grid_magnitudes

    magnitudes = grid_magnitudes(grid, sources)
    if grid == record.grid:
        phase_sensitive = PhaseSensitiveMask().masks(record, sources)
    else:  # the linear STFT grid: the mask from the complex spectra, bin by bin
        spectra = np.swapaxes(grid.stft(sources), 1, 2)  # (C, T, n_freq)
        phase_sensitive = phase_sensitive_mask(spectra, record.stft.T)
    return {"binary": IdealBinaryMask().masks_from_magnitudes(magnitudes),
            "wiener p1": WienerMask(power=1.0).masks_from_magnitudes(magnitudes),
            "wiener p2": WienerMask(power=2.0).masks_from_magnitudes(magnitudes),
            "phase-sensitive": phase_sensitive}


def clip_scores(record, mixture, sources):
    """``{(grid, mask): [vocals SI-SDRi, accompaniment SI-SDRi]}`` of one clip."""
    from sksep import apply_masks
    from sksep._spectral import linear_grid
    from sksep.metrics import si_sdr_improvement

    scores = {}
    for grid_name, grid in zip(GRIDS, (record.grid, linear_grid(record.grid))):
        for mask_name, masks in oracle_masks(record, sources, grid).items():
            estimates = apply_masks(record, masks, grid=grid)
            scores[grid_name, mask_name] = [
                float(si_sdr_improvement(sources[c], estimates[c], mixture))
                for c in range(len(SOURCES))]
    return scores


def measure(data_root, max_clips=None):
    from sksep import MelFeatures
    from sksep.datasets import load_mir1k

    start = time.perf_counter()
    test = load_mir1k(data_root, "test", max_clips=max_clips)
    features = MelFeatures().fit(test.X[:1])
    per_clip = {}
    for mixture, sources in zip(test.X, test.Y):
        record = features.transform([mixture])[0]
        for key, values in clip_scores(record, mixture, sources).items():
            per_clip.setdefault(key, []).append(values)
    rows = [{"grid": grid, "mask": mask,
             **{source: float(np.mean([v[c] for v in per_clip[grid, mask]]))
                for c, source in enumerate(SOURCES)}}
            for mask in MASKS for grid in GRIDS]
    return {"clips": len(test.X), "feature_grid": repr(record.grid), "rows": rows,
            "seconds": round(time.perf_counter() - start, 1),
            "machine": machine(), "date_utc": utc_now()}


def markdown(result):
    by_key = {(row["grid"], row["mask"]): row for row in result["rows"]}
    lines = ["# What each mask could reach: oracle ceilings on the mel and the STFT grid", "",
             f"Produced by `python benchmarks/bench_oracle_ceilings.py` on the "
             f"{result['clips']} MIR-1K test clips ({result['date_utc']}, "
             f"{result['seconds']:.0f} s). Oracle masks from the true sources, applied with "
             f"the mixture's phase; SI-SDRi in dB, mean over the clips. 'mel': 150 mel "
             f"bands (`MelFeatures()`, the shipped model's grid) spread over the STFT bins "
             f"as the models' masks are; 'stft': the 257 bins of the same 512-point STFT.",
             "",
             "| mask | vocals, mel | vocals, STFT | STFT - mel | acc., mel | acc., STFT |",
             "|---|---:|---:|---:|---:|---:|"]
    for mask in MASKS:
        mel, stft = by_key["mel", mask], by_key["stft", mask]
        lines.append(f"| {mask} | {mel['vocals']:.2f} | {stft['vocals']:.2f} | "
                     f"{stft['vocals'] - mel['vocals']:+.2f} | {mel['accompaniment']:.2f} | "
                     f"{stft['accompaniment']:.2f} |")
    wiener, psm = by_key["mel", "wiener p2"], by_key["mel", "phase-sensitive"]
    grid_gain = by_key["stft", "wiener p2"]["vocals"] - wiener["vocals"]
    lines += ["", f"Read: moving the shipped model's target (Wiener p = 2) from the mel to "
              f"the STFT grid raises its ceiling by {grid_gain:+.2f} dB (vocals); moving it "
              f"to the phase-sensitive mask on the same mel grid raises it by "
              f"{psm['vocals'] - wiener['vocals']:+.2f} dB. The target, not the grid, is "
              f"where the headroom of masking lies"
              + (" (the grid's share is small)." if abs(grid_gain) < 0.5 else "."), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=MIR1K, help="MIR-1K folder")
    parser.add_argument("--max-clips", type=int, default=None,
                        help="score only the first N test clips (quick checks)")
    parser.add_argument("--output", type=Path, default=RESULTS / "oracle_ceilings",
                        help="report path without suffix (.md and .json are written)")
    args = parser.parse_args(argv)
    result = measure(args.data, args.max_clips)
    write_report(args.output, result, markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
