"""Ensembles of the shipped recipe's models: does averaging their masks pay for its cost?

Issue 15's last lever ("ensembles / test-time tricks only if they pay for their cost"):
``K`` models of the same recipe (the shipped ``chimera-mir1k`` and the recipe's retrained
seeds, ``shipped_recipe.py``) each predict the MI head's masks on the same mel grid; the
ensemble separates with their mean (:func:`mean_masks`, then :func:`sksep.apply_masks`).

* Chosen on validation: vocals / accompaniment SI-SDRi on the two held-out training songs
  of the recipe, every member alone and the ensemble of all of them.
* Cost: separation time of one 30 s clip, ensemble / the first member alone, median of
  per-round ratios over paired rounds on one thread (BENCHMARKS.md); about ``K`` since
  every member runs its network.
* Test: the ensemble's MI-head scores on the 90 test clips, scored once, next to the
  members' registry scores.

Run::

    python benchmarks/bench_ensemble.py [--models chimera-mir1k path/to/other.sksep ...]

(by default the shipped model and every ``benchmarks/_work/ship/seed*/chimera-mir1k.sksep``)
and it writes ``benchmarks/results/ensemble.{json,md}``.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from _common import (MIR1K, RESULTS, machine, machine_line, paired_rounds, ratio_summary,
                     write_report)

#: The recipe's retrained seeds, where ``tools/train_shipped_model.py`` put them.
SEEDS = Path(__file__).resolve().parent / "_work" / "ship"


def mean_masks(members, X):
    """The members' MI-head masks of each mixture, averaged.

    Parameters
    ----------
    members : list of fitted separators
        Separators with the same feature grid (e.g. models of one recipe); each computes
        its own features from the waveforms (their standardisation may differ).
    X : list of ndarray (n_samples_i,)
        Mono mixtures at the members' sample rate.

    Returns
    -------
    masks : list of ndarray (n_sources, n_frames, n_bins)
        Mean of the members' masks, values in [0, 1].
    """
    if not members:
        raise ValueError("members is empty; expected at least one fitted separator")
    grids = {repr(member.grid_) for member in members}
    if len(grids) > 1:
        raise ValueError(f"members have {len(grids)} different feature grids; expected one")
    total = None
    for member in members:
        masks = member.predict_masks(X)
        total = masks if total is None else [a + b for a, b in zip(total, masks)]
    return [mask / len(members) for mask in total]


def ensemble_predict(members, X):
    """Separate each mixture of ``X`` with the mean of the members' masks:
    ``list of (n_sources, n_samples_i)`` arrays, like ``predict`` on a list."""
    from sksep import apply_masks

    records = members[0].features_.transform(X)
    return [apply_masks(record, masks)
            for record, masks in zip(records, mean_masks(members, X))]


def default_models():
    return ["chimera-mir1k"] + [str(path) for path in
                                sorted(SEEDS.glob("seed*/chimera-mir1k.sksep"))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None,
                        help="model names or .sksep files (default: the shipped model and "
                             "the recipe's seeds in benchmarks/_work/ship)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    import torch

    import sksep
    from shipped_recipe import validation_songs
    from sksep.datasets import load_mir1k
    from sksep.metrics import separation_report

    torch.set_num_threads(1)
    names = args.models or default_models()
    if len(names) < 2:
        raise SystemExit(f"an ensemble needs at least 2 models; found {names}")
    members = [sksep.load(name).set_params(head="mi") for name in names]
    (X, Y), sources = validation_songs()
    validation = {}
    for name, member in zip(names, members):
        validation[name] = separation_report(Y, member.predict(X), X, bss=False,
                                             source_names=sources)
    validation["ensemble"] = separation_report(Y, ensemble_predict(members, X), X,
                                               bss=False, source_names=sources)
    clip = np.concatenate(X)[:30 * 16000]
    single, ensemble = paired_rounds(lambda: members[0].predict([clip]),
                                     lambda: ensemble_predict(members, [clip]), args.rounds)
    test = load_mir1k(MIR1K, "test")
    test_report = separation_report(test.Y, ensemble_predict(members, test.X), test.X,
                                     source_names=test.source_names, n_jobs=2)
    result = {"models": names, "validation": validation, "test": {"ensemble": test_report},
              "time": ratio_summary(ensemble, single), "rounds": args.rounds,
              "machine": machine(torch_threads=1)}
    write_report(RESULTS / "ensemble", result, markdown(result))
    print(markdown(result))
    return result


def markdown(result):
    """The report of a :func:`main` result."""
    validation = result["validation"]
    members = [name for name in validation if name != "ensemble"]
    best = max(members, key=lambda name: validation[name]["vocals"]["SI-SDRi"])
    gain = validation["ensemble"]["vocals"]["SI-SDRi"] - validation[best]["vocals"]["SI-SDRi"]
    test = result["test"]["ensemble"]
    lines = [
        "# Ensembles of the shipped recipe's models", "",
        f"Produced by `python benchmarks/bench_ensemble.py`: the MI-head masks of "
        f"{len(members)} models of the shipped recipe averaged on the mel grid, then applied "
        f"to the mixture's STFT. Validation: the recipe's two held-out training songs "
        f"(the decision); test: the 90 MIR-1K test clips, scored once.", "",
        "| model | validation vocals SI-SDRi | validation acc. SI-SDRi |",
        "|---|---:|---:|"]
    for name in members + ["ensemble"]:
        lines.append(f"| {'ensemble (mean of the masks)' if name == 'ensemble' else name} | "
                     f"{validation[name]['vocals']['SI-SDRi']:.2f} | "
                     f"{validation[name]['accompaniment']['SI-SDRi']:.2f} |")
    time = result["time"]
    lines += ["", f"Ensemble - best member ({best}) on validation: **{gain:+.2f} dB** vocals "
              f"SI-SDRi, for **{time['ratio_median']:.2f}x** the separation time of one model "
              f"(30 s clip, median of {result['rounds']} paired rounds, range "
              f"{time['ratio_min']:.2f}-{time['ratio_max']:.2f}, one thread). Test, the "
              f"ensemble: vocal GNSDR {test['vocals']['GNSDR']:.2f} dB, vocals SI-SDRi "
              f"{test['vocals']['SI-SDRi']:.2f} dB.", "",
              f"{machine_line(result['machine'])}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
