"""Ship the best kept model of a family of ``benchmarks/compare_methods.py`` (issue 16).

The family's row must beat its paper's baseline on the validation songs and add
something the shipped Chimera lacks (:data:`SHIPPABLE`; :func:`ship_decision`). Its
best kept run (float16, in the ignored ``benchmarks/_work/compare_methods/``) is then
copied into ``sksep/models``, scored from the shipped file (validation songs and the
MIR-1K test singers) and registered. ``class-conditional-mir1k`` was shipped with::

    python benchmarks/compare_methods.py run --epochs 15 --seeds 0 --only cc_tied_spherical
    python tools/ship_compare_methods.py --epochs 15 --row cc_tied_spherical
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

# _release first: it puts benchmarks/ on sys.path.
from _release import MODELS as SHIPPED, REGISTRY, register_model
import compare_methods
from _common import MIR1K, RESULTS, json_safe
from compare_methods import FINDINGS, _cell, _ordering, _paired_difference

#: Rows whose best model may ship, with the shipped name and what the model
#: adds to the shipped Chimera (issue 16: a family ships only if it adds something).
SHIPPABLE = {
    "cc_tied_spherical": (
        "class-conditional-mir1k",
        "query-by-example: model.query(example, mixture) extracts what sounds like an "
        "isolated example (Seetharaman et al. 2019, section 4.3; by default the posterior "
        "of the example's Gaussian against a rest Gaussian of the mixture, "
        "benchmarks/results/query_by_example.md); model.embed gives the "
        "class-conditional embeddings"),
}


def ship_decision(results, row, model_folder):
    """Whether ``row``'s best model ships, decided on the validation songs only.

    The row must beat its paper's baseline (the ``worse`` row of its :data:`FINDINGS`
    entry) on the validation songs by more than one standard deviation of the paired
    per-seed differences, over at least two seeds; the seed shipped is the one with the
    best validation vocals SI-SDRi among those whose model file is in ``model_folder``.

    Returns
    -------
    decision : dict
        ``{"ships": bool, "why": str, "baseline": str or None, "validation_difference":
        list of float, "seed": int or None, "run": dict or None, "model": Path or None}``.
    """
    decision = {"ships": False, "baseline": None, "validation_difference": [],
                "seed": None, "run": None, "model": None}
    pairs = [(better, worse) for _, _, better, worse in FINDINGS if better[0] == row]
    if not pairs:
        return {**decision, "why": f"{row} has no paper baseline in FINDINGS"}
    better, worse = pairs[0]
    decision["baseline"] = worse[0]
    difference = _paired_difference(results, better, worse, "validation")
    decision["validation_difference"] = difference
    if len(difference) < 2:
        return {**decision, "why": f"{len(difference)} seed(s) of {row} and {worse[0]} "
                                   f"paired; at least 2 are needed"}
    if _ordering(difference) != "holds":
        return {**decision, "why": f"{row} does not beat {worse[0]} on the validation songs "
                                   f"({_cell(difference)} dB vocals SI-SDRi)"}
    saved = [r for r in results.get(row, [])
             if (model_folder / f"{row}-seed{r['seed']}.sksep").exists()]
    if not saved:
        return {**decision, "why": f"no saved model of {row} in {model_folder}"}
    best = max(saved, key=lambda r: r["validation"][better[1]]["vocals"]["SI-SDRi"])
    return {**decision, "ships": True, "seed": best["seed"], "run": best,
            "model": model_folder / f"{row}-seed{best['seed']}.sksep",
            "why": f"{row} beats {worse[0]} on the validation songs by {_cell(difference)} "
                   f"dB vocals SI-SDRi ({len(difference)} seeds paired); seed "
                   f"{best['seed']} has the best validation score of the "
                   f"{len(saved)} seed(s) whose model was kept"}


def retrain_note(run, validation, tolerance_db=0.01):
    """A sentence for the registry when the kept model file scores differently on the
    validation songs from the comparison's run of the same row and seed, i.e. it was
    trained again (training is not bit-reproducible from one session to the next);
    ``""`` when the file is the run's own model.

    Parameters
    ----------
    run : dict
        The comparison's run record (``run["validation"]["-"]``: its scores).
    validation : dict
        The shipped file's validation scores, ``{source: {"SI-SDRi": dB}}``.
    tolerance_db : float
        Largest vocals SI-SDRi difference (dB) still read as the same model.
    """
    recorded = run["validation"]["-"]["vocals"]["SI-SDRi"]
    measured = validation["vocals"]["SI-SDRi"]
    if abs(recorded - measured) <= tolerance_db:
        return ""
    return (f". This file is a retraining with the same command and seed (the run's model "
            f"file was not kept): it scores {measured:.2f} dB vocals SI-SDRi on the "
            f"validation songs where the compared run scored {recorded:.2f}")


def ship(args):
    """Ship the best kept model of ``--row`` into ``sksep/models`` if it beats its
    baseline on the validation songs (:func:`ship_decision`); its test scores are
    measured again from the shipped (float16) file."""
    import sksep
    from sksep.datasets import load_mir1k
    from sksep.metrics import separation_report

    if args.row not in SHIPPABLE:
        raise SystemExit(f"--row {args.row!r}: expected one of {sorted(SHIPPABLE)}")
    name, adds = SHIPPABLE[args.row]
    folder = args.output / args.budget.folder
    decision = ship_decision(compare_methods.collect(folder), args.row,
                             compare_methods.MODELS / folder.name)
    print(decision["why"], flush=True)
    if not decision["ships"]:
        raise SystemExit(f"{name} not shipped: {decision['why']}")
    run = decision["run"]
    # The kept run's file is already float16: shipped byte for byte, scored as shipped.
    path = args.models_dir / f"{name}.sksep"
    args.models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(decision["model"], path)
    model = sksep.load(path)
    sources = list(model.source_names_)
    data = load_mir1k(args.data, "train")
    valid_index = compare_methods.split(data)[1]
    X_valid, Y_valid = [data.X[i] for i in valid_index], [data.Y[i] for i in valid_index]
    validation = separation_report(Y_valid, model.predict(X_valid), X_valid,
                                   source_names=sources, bss=False)
    test = load_mir1k(args.data, "test")
    X_test, Y_test = list(test.X)[:args.max_test_clips], list(test.Y)[:args.max_test_clips]
    scores = separation_report(Y_test, model.predict(X_test), X_test, source_names=sources,
                               bss=True, n_jobs=1)
    retrained = retrain_note(run, validation)
    entry = {
        "file": path.name,
        "estimator": type(model).__name__,
        "sources": sources,
        "sample_rate": int(model.sample_rate_),
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "description": (f"{run['label']} ({run['parameters'] / 1e6:.2f} M parameters, "
                        f"2 x 128 BLSTM, D=20), vocals / accompaniment, 16 kHz mono, "
                        f"level-normalised input; adds {adds}"),
        "training": (f"MIR-1K training singers abjones + amy minus the songs "
                     f"{' + '.join(run['validation_songs'])} ({run['train_clips']} clips; "
                     f"the {run['validation_clips']} clips of those songs validate), "
                     f"{run['epochs']} epochs in {run['train_wall_seconds'] / 60:.0f} min on "
                     f"1 CPU thread ({run['machine'].get('cpu')}), best validation epoch "
                     f"{run['best_epoch']} kept, seed {run['seed']}; "
                     f"benchmarks/compare_methods.py run {args.budget.option} "
                     f"--seeds {run['seed']} --only {args.row}, then "
                     f"tools/ship_compare_methods.py {args.budget.option} --row {args.row}"
                     + retrained),
        "selection": decision["why"],
        "seed": run["seed"],
        "epochs": run["epochs"],
        "train_seconds": round(run["train_wall_seconds"]),
        "validation": validation,
        "scores": {"test set": f"MIR-1K test singers annar + heycat + tammy "
                               f"({len(X_test)} clips), scored from the shipped float16 file",
                   **scores},
    }
    register_model(name, json_safe(entry), args.models_dir / REGISTRY.name)
    print(f"wrote {path} ({entry['size_mb']} MB) and its entry in "
          f"{args.models_dir / REGISTRY.name}")
    print(json.dumps(scores, indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=float, default=None,
                        help="the comparison's process CPU seconds per run (default 240)")
    budget.add_argument("--epochs", type=int, default=None,
                        help="or the comparison's epochs per run")
    parser.add_argument("--row", default="cc_tied_spherical",
                        help=f"the row whose best model ships (one of {', '.join(SHIPPABLE)})")
    parser.add_argument("--data", type=Path, default=MIR1K, help="MIR-1K folder")
    parser.add_argument("--output", type=Path, default=RESULTS / "compare_methods",
                        help="the comparison's folder of per-run results")
    parser.add_argument("--max-test-clips", type=int, default=None,
                        help="score only the first N test clips (quick checks)")
    parser.add_argument("--models-dir", type=Path, default=SHIPPED,
                        help="where the model file and registry.json go (default: the "
                             "package's sksep/models)")
    args = parser.parse_args(argv)
    if args.budget is not None and args.budget <= 0:
        parser.error("--budget must be > 0 seconds")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    Budget = compare_methods.Budget
    args.budget = (Budget("epochs", float(args.epochs)) if args.epochs is not None
                   else Budget("cpu", 240.0 if args.budget is None else args.budget))
    ship(args)


if __name__ == "__main__":
    sys.exit(main())
