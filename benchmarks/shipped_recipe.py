"""The shipped recipe trained again, several seeds: spread, choice and time to quality.

``tools/train_shipped_model.py`` trains the recipe of ``chimera-mir1k`` (issue 15: again after
the level normalisation, which changes the network's input); run it once per seed into a
folder of its own, one per core::

    python tools/train_shipped_model.py --budget-minutes 55 --remixes 300 \\
        --dropout 0.3 --optimizer adam --threads 1 --seed S \\
        --checkpoint benchmarks/_work/ship/seedS/ckpt --models-dir benchmarks/_work/ship/seedS

A lever of the recipe (issue 15) is a run into a folder named ``<lever>-seed<S>`` (e.g.
``benchmarks/_work/levers/vmr-seed0``, trained with ``--snr-db=-5,5``), paired with the
recipe's run of the same seed.

This script collects those runs (``--runs`` folders: ``seed<S>/`` and ``<lever>-seed<S>/``,
each with the registry entry its run wrote, its validation and test scores and the model
file's epoch history), scores each model once more (the validation songs at three gains,
the test clips at -5 and +5 dB voice-to-music ratio) and keeps the result as
``results/shipped_recipe/<run>.json``: the trained models live in an ignored folder that
a new checkout does not have, the records stay in git. Every record there goes into
``results/shipped_recipe.{json,md}``:

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

    python benchmarks/shipped_recipe.py [--runs benchmarks/_work/ship benchmarks/_work/levers]
"""

import argparse
import json
import re
import statistics
from pathlib import Path

import numpy as np

from _common import MIR1K, RESULTS, machine_line, write_report

NAME = "chimera-mir1k"

#: One JSON record per finished run (kept in git; the models are not).
RECORDS = RESULTS / "shipped_recipe"

#: Where ``tools/train_shipped_model.py`` runs go by default: the recipe's seeds and its levers.
WORK = Path(__file__).resolve().parent / "_work"

#: What each lever changes in the recipe (the ``<lever>`` of a ``<lever>-seed<S>`` run).
LEVERS = {"vmr": "remixes at voice-to-music ratios drawn uniformly from -5 to +5 dB "
                 "(`--snr-db=-5,5`) instead of 0 dB",
          "bf16": "bfloat16 mixed precision on two threads (`--bf16 --threads 2`; a speed "
                  "lever: is the quality the same?)",
          "psa": "the MI head's truncated phase-sensitive target (`--mi-objective psa`) "
                 "instead of mMSA",
          "stft": "MI masks on the 257 STFT bins from the mel features (`--mask-grid stft`)"}

#: The lever table's columns (:func:`lever_rows`).
LEVER_COLUMNS = ("validation", "test", "test -5 dB", "test +5 dB", "MUSDB")

#: Voice-to-music ratios (dB) the test clips are scored at besides the data set's 0 dB.
RATIOS = (-5.0, 5.0)


def run_name(name):
    """``(lever, seed)`` of a run folder's name: ``"seed2"`` is ``(None, 2)``, the recipe
    itself; ``"vmr-seed0"`` is ``("vmr", 0)``."""
    match = re.fullmatch(r"(?:([a-z0-9_]+)-)?seed(\d+)", name)
    if match is None:
        raise ValueError(f"run folder {name!r} is not named seed<S> or <lever>-seed<S>")
    return match.group(1), int(match.group(2))


def _history(model):
    import sksep

    return [{key: entry[key] for key in ("epoch", "train_loss", "valid_loss", "dur")
             if key in entry} for entry in sksep.load(model).epoch_summary_]


def collect(folder):
    """One record per run folder (``seed<S>`` or ``<lever>-seed<S>``) of ``folder`` that
    holds a finished run."""
    runs = []
    for registry in sorted(Path(folder).glob("*seed*/registry.json")):
        lever, seed = run_name(registry.parent.name)
        entry = json.loads(registry.read_text())[NAME]
        history = _history(registry.parent / entry["file"])
        # A run resumed from its checkpoint reports only its last fit's time: the epochs'
        # own times, summed, are the whole training's.
        runs.append({"name": registry.parent.name, "lever": lever, "seed": seed,
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
    ``tools/train_shipped_model.py --remixes``, :func:`sksep.datasets.hold_out_songs` with its
    defaults)."""
    from sksep.datasets import hold_out_songs, load_mir1k

    train = load_mir1k(MIR1K, "train")
    valid = hold_out_songs(train.groups)[1]
    return ([train.X[i] for i in valid], [train.Y[i] for i in valid]), train.source_names


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


def ratio_scores(model_path):
    """Both heads' scores on the test clips with the vocals at each of :data:`RATIOS` dB
    against the accompaniment: ``{"-5 dB": {"mi": report, "dc": report}, ...}``."""
    import sksep
    from _common import scores_at_ratios
    from sksep.datasets import load_mir1k

    return scores_at_ratios(sksep.load(model_path), load_mir1k(MIR1K, "test"), RATIOS)


def musdb_song_scores(model_path, root=None):
    """``{song: (vocals, accompaniment)}``: SI-SDRi (dB) on each MUSDB excerpt (folders of
    ``root``, default the shared excerpts), full band at 44.1 kHz stereo
    (``separate_audio``, as ``sksep separate`` does), mean over the two channels."""
    import sksep
    from _common import MUSDB_EXCERPTS
    from bench_fullband import scores, song
    from sksep.separation import separate_audio

    model = sksep.load(model_path)
    folders = sorted(path for path in Path(root or MUSDB_EXCERPTS).iterdir() if path.is_dir())
    per_song = {}
    for folder in folders:
        mixture, rate, references = song(folder)
        per_song[folder.name] = tuple(scores(separate_audio(model, mixture, rate), references,
                                             mixture))
    return per_song


def musdb_scores(model_path):
    """Vocals / accompaniment SI-SDRi (dB) on the MUSDB excerpts
    (:func:`musdb_song_scores`), mean over the songs: how the model transfers to music
    unlike MIR-1K's."""
    per_song = musdb_song_scores(model_path)
    vocals, accompaniment = np.mean(list(per_song.values()), axis=0)
    return {"vocals": float(vocals), "accompaniment": float(accompaniment),
            "songs": list(per_song)}


def save_record(run, folder=RECORDS):
    """Keep a scored run as ``folder/<run name>.json`` (no model path: the model stays
    where it was trained)."""
    from _common import atomic_write_text, json_safe

    folder.mkdir(parents=True, exist_ok=True)
    record = {key: value for key, value in run.items() if key != "model"}
    atomic_write_text(folder / f"{run['name']}.json", json.dumps(json_safe(record), indent=2)
                      + "\n")


def load_records(folder=RECORDS):
    """Every kept run, ``(recipe, levers)``: the recipe's seeds and the levers' runs, each
    sorted by seed."""
    runs = [json.loads(path.read_text()) for path in sorted(Path(folder).glob("*.json"))]
    runs.sort(key=lambda run: (run.get("lever") or "", run["seed"]))
    return ([run for run in runs if not run.get("lever")],
            [run for run in runs if run.get("lever")])


def lever_rows(levers, recipe):
    """Each lever run against the recipe's run of the same seed: ``[{"lever", "seed",
    "validation", "test", "test -5 dB", "test +5 dB", "MUSDB"}]``, each value ``(lever,
    recipe, difference)`` in dB (vocals SI-SDRi on validation and on the MUSDB excerpts,
    vocal GNSDR of the MI head on test; the recipe value is None where that seed's record
    lacks it)."""
    by_seed = {run["seed"]: run for run in recipe}

    def values(run):
        ratios = run.get("ratios") or {}
        return {"validation": ((run.get("validation") or {}).get("vocals") or {})
                .get("SI-SDRi"),
                "test": run["test"]["mi"]["vocals"]["GNSDR"],
                **{f"test {key}": ratios[key]["mi"]["vocals"]["GNSDR"] for key in ratios},
                "MUSDB": (run.get("musdb") or {}).get("vocals")}

    rows = []
    for run in levers:
        own = values(run)
        paired = values(by_seed[run["seed"]]) if run["seed"] in by_seed else {}
        row = {"lever": run["lever"], "seed": run["seed"],
               "description": LEVERS.get(run["lever"], run["lever"])}
        for key in LEVER_COLUMNS:
            mine, theirs = own.get(key), paired.get(key)
            row[key] = (mine, theirs,
                        None if mine is None or theirs is None else mine - theirs)
        rows.append(row)
    return rows


def time_to(history, target):
    """``(epoch, seconds)`` when the validation loss first reaches ``target`` (seconds:
    the epochs' summed wall time), or None."""
    spent = 0.0
    for entry in history:
        spent += entry.get("dur", 0.0)
        if entry.get("valid_loss", float("inf")) <= target:
            return entry["epoch"], spent
    return None


def recipe_quality(runs, levers):
    """Time to the recipe's quality: the target is the highest of the recipe seeds' best
    validation losses (a loss every seed reached); ``(target, {run: (epoch, seconds) or
    None})`` for every recipe seed and lever run."""
    bests = [min(e["valid_loss"] for e in run["history"] if "valid_loss" in e)
             for run in runs]
    target = max(bests)
    reached = {run["name"]: time_to(run["history"], target) for run in runs + levers}
    return target, reached


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


def _threads(command):
    """The torch threads of a ``tools/train_shipped_model.py`` command line."""
    match = re.search(r"--threads (\d+)", command)
    if match is None:
        return "torch's default threads"
    return f"{match.group(1)} thread{'' if match.group(1) == '1' else 's'}"


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
             "GNSDR (DC) | test vocal GNSDR (MI), vocals -5 / +5 dB | MUSDB vocals / acc. "
             "SI-SDRi |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]

    def musdb(run):
        scores = run.get("musdb")
        return ("-" if not scores else
                f"{scores['vocals']:.2f} / {scores['accompaniment']:.2f}")

    def at(run, key):
        value = (((run.get("ratios") or {}).get(key) or {}).get("mi") or {}).get(
            "vocals", {}).get("GNSDR")
        return "-" if value is None else f"{value:.2f}"

    def row(name, run, best):
        test = run["test"]
        valid = (run.get("validation") or {}).get("vocals", {}).get("SI-SDRi")
        lines.append(
            f"| {name} | {run.get('epochs')} ({best}) | {run.get('train_seconds', 0) / 60:.0f}"
            f" min | {'' if valid is None else f'{valid:.2f}'} | "
            f"{test['mi']['vocals']['SI-SDRi']:.2f} | {test['mi']['vocals']['GNSDR']:.2f} | "
            f"{test['mi']['accompaniment']['GNSDR']:.2f} | {test['dc']['vocals']['GNSDR']:.2f} "
            f"| {at(run, '-5 dB')} / {at(run, '+5 dB')} | {musdb(run)} |")

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
                     f"{_cell(s['test dc vocals GNSDR'])} | | |")
    unscored = [str(run["seed"]) for run in result["runs"] if not run.get("ratios")]
    lines += ["", "Test scores at -5 / +5 dB: the 90 clips with the vocals scaled by -5 or "
              "+5 dB against the accompaniment, as MIR-1K evaluations do. MUSDB: the three "
              "MUSDB18 excerpts (vocals against drums + bass + other), separated full band "
              "at 44.1 kHz stereo as `sksep separate` does, SI-SDRi at 44.1 kHz, mean over "
              "songs and channels: music unlike MIR-1K's karaoke"
              + (f"; '-': the model of seed {', '.join(unscored)} was gone (an ignored folder "
                 f"of an earlier checkout) before this script scored these."
                 if unscored else ".")]
    if result.get("levers"):
        lines += ["", "## Levers at the full recipe", "",
                  "Each run changes one thing in the recipe and trains the same number of "
                  "epochs; it is paired with the recipe's run of the same seed: lever / "
                  "recipe (difference), dB. Chosen on validation (vocals SI-SDRi, the two "
                  "held-out songs); test: vocal GNSDR of the MI head, scored once.", "",
                  "| lever | seed | validation | test 0 dB | test -5 dB | test +5 dB | "
                  "MUSDB vocals |", "|---|---:|---:|---:|---:|---:|---:|"]

        def pair(cell):
            mine, theirs, diff = cell
            if mine is None:
                return ""
            if diff is None:
                return f"{mine:.2f} / - "
            return f"{mine:.2f} / {theirs:.2f} ({diff:+.2f})"

        for lever in result["levers"]:
            lines.append(f"| {LEVERS.get(lever['lever'], lever['lever'])} | {lever['seed']} | "
                         + " | ".join(pair(lever[key]) for key in LEVER_COLUMNS)
                         + " |")
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
    if result.get("recipe_quality"):
        target, reached = result["recipe_quality"]["target"], result["recipe_quality"]["runs"]
        threads = {run["name"]: run.get("training", "") for run in
                   result["runs"] + result.get("lever_runs", [])}
        lines += ["", f"Time to the recipe's quality: until the validation loss first reaches "
                  f"{target:.4f}, the highest of the recipe seeds' best losses (a loss every "
                  f"seed reached), in the run's own epochs' wall times. Measured, not "
                  f"derived; the shared machine's speed changes from day to day, so compare "
                  f"runs whose epochs took alike on the same settings (last column).", "",
                  "| run | epoch reached | wall time | trained with | s per epoch (median) |",
                  "|---|---:|---:|---|---:|"]
        durations = {run["name"]: statistics.median(
            [e["dur"] for e in run["history"] if "dur" in e] or [0.0])
            for run in result["runs"] + result.get("lever_runs", [])}
        for name, hit in reached.items():
            how = (f"{_threads(threads[name])}, "
                   f"{'bfloat16' if '--bf16' in threads[name] else 'float32'}")
            lines.append(f"| {name} | {hit[0] if hit else 'not reached'} | "
                         f"{'' if hit is None else f'{hit[1] / 60:.0f} min'} | {how} | "
                         f"{durations[name]:.0f} |")
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


def score_new_runs(folders, validation, names, records=RECORDS, rescore=False):
    """Score the finished runs of ``folders`` that have no record yet (all of them with
    ``rescore``) and keep each as a record; the names of the runs scored. ``validation``
    and ``names``: :func:`validation_songs`."""
    scored = []
    for folder in folders:
        for run in collect(folder):
            if (records / f"{run['name']}.json").exists() and not rescore:
                continue
            model = run.pop("model")
            run["gains"] = validation_scores(model, validation, names)
            run["ratios"] = ratio_scores(model)
            run["musdb"] = musdb_scores(model)
            save_record(run, records)
            scored.append(run["name"])
    return scored


def shipped_record(validation, names):
    """The shipped model as a record: its registry scores (0 dB and the ratios) and its
    validation scores at :data:`GAINS`."""
    import sksep

    entry = sksep.available_models()[NAME]
    scores = entry["scores"]
    gains = validation_scores(NAME, validation, names)
    ratios = {f"{ratio:+g} dB": {head: scores[f"{head} (vocals {ratio:+g} dB)"]
                                 for head in ("mi", "dc")}
              for ratio in RATIOS if f"mi (vocals {ratio:+g} dB)" in scores}
    return {"epochs": len(sksep.load(NAME).epoch_summary_), "train_seconds": 55 * 60,
            "test": scores, "validation": gains["1"], "gains": gains, "ratios": ratios,
            "musdb": musdb_scores(NAME),
            "history": _history(NAME)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, nargs="+",
                        default=[WORK / "ship", WORK / "levers"],
                        help="folders of run folders (seed<S>, <lever>-seed<S>)")
    parser.add_argument("--rescore", action="store_true",
                        help="score runs again even where a record exists")
    args = parser.parse_args(argv)
    import torch

    from _common import machine

    torch.set_num_threads(1)
    validation, names = validation_songs()
    scored = score_new_runs([folder for folder in args.runs if folder.exists()],
                            validation, names, rescore=args.rescore)
    print(f"scored {', '.join(scored) or 'no new run'}")
    runs, levers = load_records()
    if not runs:
        raise SystemExit(f"no recipe runs (seed<S>) in {RECORDS} or {args.runs}")
    shipped = shipped_record(validation, names)
    speed = json.loads((RESULTS / "training_speed.json").read_text())
    speedup = speed["rows"]["2 threads"]["ratio_median"]
    summary, target, reached = summarize(runs, shipped)
    quality_target, quality_reached = recipe_quality(runs, levers)
    result = {"runs": runs, "levers": lever_rows(levers, runs), "lever_runs": levers,
              "recipe_quality": {"target": quality_target, "runs": quality_reached},
              "shipped": shipped, "summary": summary, "target_loss": target,
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
