"""The shipped recipe trained again, several seeds: spread, choice and time to quality.

``train_shipped_model.py`` trains the recipe of ``chimera-mir1k`` (issue 15: again after
the level normalisation, which changes the network's input); run it once per seed into a
folder of its own, one per core::

    python benchmarks/train_shipped_model.py --budget-minutes 55 --remixes 300 \\
        --dropout 0.3 --optimizer adam --threads 1 --seed S \\
        --checkpoint benchmarks/_work/ship/seedS/ckpt --models-dir benchmarks/_work/ship/seedS

This script collects those runs (``benchmarks/_work/ship/seed*/``: the registry entry
each run wrote, with its validation and test scores, and the model file's epoch history)
into ``results/shipped_recipe.{json,md}``:

* every seed's validation scores (the two held-out training songs: what the shipped
  model is chosen on) and test scores (scored once per finished run), with the mean and
  standard deviation over seeds, next to the shipped model;
* time to quality (issue 18): the training time each run took to first reach the
  shipped model's best validation loss (the sum of its epochs' wall times up to then),
  and the same for the shipped model itself. With two torch threads instead of one the
  same epochs take 1/1.72 of the time (``training_speed.md``, paired rounds; the
  numerics are the same up to summation order), which is the "after" column: derived,
  not a separate training.

Run::

    python benchmarks/shipped_recipe.py [--runs benchmarks/_work/ship]
"""

import argparse
import json
import statistics
from pathlib import Path

from _common import MIR1K, REGISTRY, RESULTS, machine_line, write_report

NAME = "chimera-mir1k"


def _history(model_path):
    import sksep

    return [{key: entry[key] for key in ("epoch", "train_loss", "valid_loss", "dur")
             if key in entry} for entry in sksep.load(model_path).epoch_summary_]


def collect(folder):
    """One record per seed folder that holds a finished run."""
    runs = []
    for registry in sorted(Path(folder).glob("seed*/registry.json")):
        entry = json.loads(registry.read_text())[NAME]
        history = _history(registry.parent / entry["file"])
        # A run resumed from its checkpoint reports only its last fit's time: the epochs'
        # own times, summed, are the whole training's.
        runs.append({"seed": entry.get("seed"),
                     "epochs": sum("valid_loss" in e for e in history),
                     "train_seconds": sum(e.get("dur", 0.0) for e in history),
                     "training": entry["training"],
                     "validation": entry.get("validation"), "test": entry["scores"],
                     "history": history, "model": registry.parent / entry["file"]})
    return runs


#: Gains the validation clips are scaled by to check that scores do not depend on level.
GAINS = (0.03, 1.0, 30.0)


def validation_songs():
    """The recipe's validation clips ``(X, Y)`` and source names (the same split as
    ``train_shipped_model.py --remixes``: the held-out songs do not depend on N)."""
    from sksep.datasets import load_mir1k
    from train_shipped_model import _remixed

    train = load_mir1k(MIR1K, "train")
    _, _, validation, _ = _remixed(train, 1)
    return validation, train.source_names


def validation_scores(model_path, validation, names):
    """Vocals / accompaniment SI-SDRi of a model on the validation clips scaled by each of
    :data:`GAINS`: ``{gain: report}``."""
    import numpy as np

    import sksep
    from sksep.metrics import separation_report

    model = sksep.load(model_path)
    scores = {}
    for gain in GAINS:
        X = [np.float32(gain) * x for x in validation[0]]
        Y = [np.float32(gain) * y for y in validation[1]]
        scores[f"{gain:g}"] = separation_report(Y, model.predict(X), X, bss=False,
                                                source_names=names)
    return scores


def time_to(history, target):
    """``(epoch, seconds)`` when the validation loss first reaches ``target`` (seconds:
    the epochs' summed wall time), or None."""
    spent = 0.0
    for entry in history:
        spent += entry.get("dur", 0.0)
        if entry.get("valid_loss", float("inf")) <= target:
            return entry["epoch"], spent
    return None


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else None, "n": len(values)}


def _cell(stats, digits=2):
    if stats is None:
        return ""
    text = f"{stats['mean']:.{digits}f}"
    return text + (f" ± {stats['std']:.{digits}f}" if stats["std"] is not None else "")


def summarize(runs, shipped):
    def score(run, part, head, source, metric):
        scores = run[part] if part == "validation" else run[part].get(head)
        value = (scores or {}).get(source, {}).get(metric)
        return value

    keys = [("validation", None, "vocals", "SI-SDRi"),
            ("validation", None, "accompaniment", "SI-SDRi"),
            ("test", "mi", "vocals", "SI-SDRi"), ("test", "mi", "vocals", "GNSDR"),
            ("test", "mi", "accompaniment", "GNSDR"), ("test", "dc", "vocals", "GNSDR")]
    summary = {" ".join(k for k in key if k): _stats([score(r, *key) for r in runs])
               for key in keys}
    target = min(e["valid_loss"] for e in shipped["history"] if "valid_loss" in e)
    reached = {"shipped": time_to(shipped["history"], target)}
    for run in runs:
        reached[f"seed {run['seed']}"] = time_to(run["history"], target)
    return summary, target, reached


def markdown(result):
    shipped = result["shipped"]
    lines = ["# The shipped recipe, trained again", "",
             "Produced by `python benchmarks/shipped_recipe.py` from runs of "
             "`train_shipped_model.py --remixes 300 --dropout 0.3 --optimizer adam "
             "--threads 1 --seed S` (level-normalised features), one per seed, each on one "
             "core while the other core trained another seed. Validation: the two held-out "
             "training songs (what the shipped model is chosen on); test: the 90 clips, "
             "scored once per run.", "",
             "| run | epochs (best) | training | validation vocals SI-SDRi | test vocals "
             "SI-SDRi (MI) | test vocal GNSDR (MI) | test acc. GNSDR (MI) | test vocal "
             "GNSDR (DC) |", "|---|---|---|---:|---:|---:|---:|---:|"]

    def row(name, run, best):
        test = run["test"]
        valid = (run.get("validation") or {}).get("vocals", {}).get("SI-SDRi")
        lines.append(
            f"| {name} | {run.get('epochs')} ({best}) | {run.get('train_seconds', 0) / 60:.0f}"
            f" min | {'' if valid is None else f'{valid:.2f}'} | "
            f"{test['mi']['vocals']['SI-SDRi']:.2f} | {test['mi']['vocals']['GNSDR']:.2f} | "
            f"{test['mi']['accompaniment']['GNSDR']:.2f} | {test['dc']['vocals']['GNSDR']:.2f} |")

    def best_epoch(history):
        losses = [(e["valid_loss"], e["epoch"]) for e in history if "valid_loss" in e]
        return min(losses)[1] if losses else ""

    row(f"shipped `{NAME}` (trained before the level normalisation)", shipped,
        best_epoch(shipped["history"]))
    for run in result["runs"]:
        row(f"seed {run['seed']}", run, best_epoch(run["history"]))
    s = result["summary"]
    if len(result["runs"]) > 1:
        lines.append(f"| mean ± std over {len(result['runs'])} seeds | | | "
                     f"{_cell(s['validation vocals SI-SDRi'])} | "
                     f"{_cell(s['test mi vocals SI-SDRi'])} | {_cell(s['test mi vocals GNSDR'])}"
                     f" | {_cell(s['test mi accompaniment GNSDR'])} | "
                     f"{_cell(s['test dc vocals GNSDR'])} |")
    lines += ["", "Level: validation vocals SI-SDRi with the clips scaled by "
              + ", ".join(f"{g:g}" for g in GAINS) + " (features are computed at a reference "
              "level, so the masks, and the scores, should not move):", "",
              "| run | " + " | ".join(f"x {g:g}" for g in GAINS) + " |",
              "|---|" + "---:|" * len(GAINS)]
    for name, run in [("shipped", shipped)] + [(f"seed {r['seed']}", r)
                                               for r in result["runs"]]:
        lines.append(f"| {name} | " + " | ".join(
            f"{run['gains'][f'{g:g}']['vocals']['SI-SDRi']:.3f}" for g in GAINS) + " |")
    lines += ["", "## Time to quality", "",
              f"Training time until the validation loss first reaches the shipped model's "
              f"best, {result['target_loss']:.4f} (sum of the epochs' wall times; one torch "
              f"thread, the machine's other core training another run). 'Two threads' is "
              f"that time / {result['two_thread_speedup']:.2f}, the paired per-epoch "
              f"speed-up of two threads (`training_speed.md`): derived, not trained.", "",
              "| run | epoch reached | one thread | two threads (derived) |",
              "|---|---:|---:|---:|"]
    for name, reached in result["time_to_quality"].items():
        if reached is None:
            lines.append(f"| {name} | not reached | | |")
            continue
        epoch, seconds = reached
        lines.append(f"| {name} | {epoch} | {seconds / 60:.0f} min | "
                     f"{seconds / 60 / result['two_thread_speedup']:.0f} min |")
    seed_epochs = [e["dur"] for r in result["runs"] for e in r["history"] if "dur" in e]
    shipped_epochs = [e["dur"] for e in shipped["history"] if "dur" in e]
    lines += ["", f"The shipped model was trained on 2026-11-23, when an epoch took "
              f"{statistics.median(shipped_epochs):.0f} s (median); the seeds here took "
              f"{statistics.median(seed_epochs):.0f} s per epoch (median) on the same shared "
              f"machine, with code of the same speed (one-thread epochs of the shipped "
              f"commit's code against today's, run back to back: within 0.9-1.1 of each "
              f"other), so compare epochs across the two dates, and minutes only within one.",
              ""]
    if result.get("machine"):
        lines += [machine_line(result["machine"]), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path,
                        default=Path(__file__).resolve().parent / "_work" / "ship")
    args = parser.parse_args(argv)
    import sksep
    from _common import machine

    import torch

    torch.set_num_threads(1)
    runs = collect(args.runs)
    if not runs:
        raise SystemExit(f"no finished runs in {args.runs}/seed*/")
    validation, names = validation_songs()
    for run in runs:
        run["gains"] = validation_scores(run.pop("model"), validation, names)
    entry = json.loads(REGISTRY.read_text())[NAME]
    gains = validation_scores(NAME, validation, names)
    shipped = {"epochs": len(sksep.load(NAME).epoch_summary_),
               "train_seconds": 55 * 60, "test": entry["scores"], "validation": gains["1"],
               "gains": gains, "history": _history(REGISTRY.parent / entry["file"])}
    speed = json.loads((RESULTS / "training_speed.json").read_text())
    speedup = speed["rows"]["2 threads"]["ratio_median"]
    summary, target, reached = summarize(runs, shipped)
    result = {"runs": runs, "shipped": shipped, "summary": summary, "target_loss": target,
              "time_to_quality": reached, "two_thread_speedup": speedup,
              "machine": machine()}
    result["summary_line"] = (
        f"The same recipe trained again after the level normalisation, "
        f"{len(runs)} seed{'s' if len(runs) > 1 else ''} "
        f"({', '.join(str(r['seed']) for r in runs)}): test vocal GNSDR "
        f"{_cell(summary['test mi vocals GNSDR'])} dB (MI head), validation vocals SI-SDRi "
        f"{_cell(summary['validation vocals SI-SDRi'])} dB against the shipped model's "
        f"{shipped['validation']['vocals']['SI-SDRi']:.2f} (`shipped_recipe.md`).")
    write_report(RESULTS / "shipped_recipe", result, markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
