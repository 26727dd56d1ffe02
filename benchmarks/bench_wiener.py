"""The multichannel Wiener post-filter on the MUSDB excerpts: what it gains and costs.

For each of the three songs of ``../shared/data/MUSDB18-excerpts`` (44.1 kHz stereo,
vocals against drums + bass + other), the shipped model separates the whole excerpt at
full band (:func:`sksep.separation.separate_audio`) with 0, 1 and 2 EM iterations of
the Wiener post-filter (``wiener_iterations``). Reported: SI-SDRi of both stems at
44.1 kHz stereo (channels concatenated, as ``bench_fullband.py``), the largest
deviation of the stems' sum from the song, and the time ratio against no post-filter
from paired rounds on the first song.

Usage::

    python benchmarks/bench_wiener.py [--rounds 3] [--iterations 0 1 2]
"""

import argparse

import numpy as np

from _common import MUSDB_EXCERPTS, RESULTS, machine, paired_rounds, ratio_summary, write_report
import sksep
from sksep.audio_io import load_audio
from sksep.metrics import si_sdr_improvement
from sksep.separation import separate_audio

ACCOMPANIMENT = ("drums", "bass", "other")


def _song(folder):
    stems = {name: load_audio(folder / f"{name}.flac", mono=False) for name in
             ("vocals", *ACCOMPANIMENT)}
    rate = stems["vocals"][1]
    vocals = stems["vocals"][0]
    accompaniment = sum(stems[name][0] for name in ACCOMPANIMENT)
    return vocals + accompaniment, np.stack([vocals, accompaniment]), rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    model = sksep.load("chimera-mir1k")
    folders = sorted(p for p in MUSDB_EXCERPTS.iterdir() if p.is_dir())
    rows = {n: {"vocals": [], "accompaniment": [], "sum_error": []} for n in args.iterations}
    for folder in folders:
        mixture, references, rate = _song(folder)
        for n in args.iterations:
            stems = separate_audio(model, mixture, rate, wiener_iterations=n)
            flat = lambda a: a.reshape(*a.shape[:-2], -1)  # noqa: E731 (channels concatenated)
            gains = si_sdr_improvement(flat(references), flat(stems), flat(mixture))
            rows[n]["vocals"].append(float(gains[0]))
            rows[n]["accompaniment"].append(float(gains[1]))
            rows[n]["sum_error"].append(float(np.abs(stems.sum(0) - mixture).max()))
    mixture, _, rate = _song(folders[0])
    timing = {}
    for n in args.iterations:
        if n:
            plain, filtered = paired_rounds(lambda: separate_audio(model, mixture, rate),
                                            lambda: separate_audio(model, mixture, rate,
                                                                   wiener_iterations=n),
                                            args.rounds)
            timing[n] = ratio_summary(filtered, plain)
    result = {"songs": [f.name for f in folders], "rows": rows, "time_ratio": timing,
              "rounds": args.rounds, "machine": machine()}
    lines = ["# Wiener post-filter on the MUSDB excerpts", "",
             "Produced by `python benchmarks/bench_wiener.py`: the shipped `chimera-mir1k`, "
             "full band at 44.1 kHz stereo, mean over the "
             f"{len(folders)} excerpts; time ratio against no post-filter, median (min-max) of "
             f"{args.rounds} paired rounds on the first song.", "",
             "| EM iterations | vocals SI-SDRi | acc. SI-SDRi | max sum error | time ratio |",
             "|---:|---:|---:|---:|---:|"]
    for n in args.iterations:
        t = timing.get(n)
        ratio = f"{t['ratio_median']:.2f} ({t['ratio_min']:.2f}-{t['ratio_max']:.2f})" if t else "1"
        lines.append(f"| {n} | {np.mean(rows[n]['vocals']):.2f} | "
                     f"{np.mean(rows[n]['accompaniment']):.2f} | "
                     f"{max(rows[n]['sum_error']):.1e} | {ratio} |")
    markdown = "\n".join(lines) + "\n"
    write_report(RESULTS / "wiener", result, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
