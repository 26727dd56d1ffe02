"""MUSDB stems as extra training data (issue 15's data lever), scored on songs left out.

Does a MIR-1K model transfer better to real songs when it also hears some of them? The
MUSDB excerpts are three songs only, so each is left out in turn: ``musdb_out<i>``
trains the recipe on MIR-1K plus the vocal / rest stems of the other two songs
(``tools/train_shipped_model.py --musdb-songs``) and is scored on song ``i``, which it never
heard; ``mir1k`` is the same recipe, same seed and budget, on MIR-1K alone, scored on
every song. The difference per song is the lever's gain on music the model was not
trained on. Epochs are chosen on the MIR-1K validation songs as always, and the
MIR-1K test clips are scored once per model, to show what the extra data costs there.
These are second models: the MIR-1K figure of the shipped model never comes from one.

Train (four runs, one per core at a time; resumable)::

    python benchmarks/musdb_transfer.py train --jobs 2

then score and write ``results/musdb_transfer.{json,md}``::

    python benchmarks/musdb_transfer.py score

Each finished run is kept as ``results/musdb_transfer/<run>.json`` (the models live in
the ignored ``benchmarks/_work/musdb``, which a new checkout does not have).

When every left-out song gains, ``tools/ship_musdb_transfer.py`` trains the same recipe
on MIR-1K plus all the excerpts and ships it as a second model (its MUSDB figure is the
left-out estimate above: it heard every excerpt); this script writes nothing into the
package.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

from _common import MUSDB_EXCERPTS, RESULTS, ROOT, machine_line, write_report

#: Where the runs are trained, one folder each.
WORK = Path(__file__).resolve().parent / "_work" / "musdb"

#: One JSON record per scored run (kept in git; the models are not).
RECORDS = RESULTS / "musdb_transfer"

#: The recipe of every run (the shipped recipe's settings at a smaller epoch budget).
RECIPE = ("--remixes 300 --dropout 0.3 --optimizer adam --bf16 --threads 1 "
          "--budget-minutes 300 --max-epochs 15 --musdb-remixes 100")

#: The lever runs' name prefix: ``musdb_out<i>`` leaves song ``i`` out.
HELD_OUT = "musdb_out"

#: The baseline run's lever name: MIR-1K only.
BASELINE = "mir1k"

def musdb_song_names(root=MUSDB_EXCERPTS):
    """The MUSDB excerpts' song folders, sorted: song ``i`` of a ``musdb_out<i>`` run."""
    return sorted(path.name for path in Path(root).iterdir() if path.is_dir())


def _training_argv(folder, seed, songs=(), extra=()):
    """``tools/train_shipped_model.py`` with :data:`RECIPE` and ``seed``, the MUSDB
    ``songs`` added to its data, trained into ``folder``."""
    script = ROOT / "tools" / "train_shipped_model.py"
    return [sys.executable, str(script), *RECIPE.split(), "--seed", str(seed),
            *(["--musdb-songs", *songs] if songs else []), *extra,
            "--checkpoint", str(folder / "ckpt"), "--models-dir", str(folder)]


def training_commands(songs, seed=0, work=WORK):
    """``{run name: argv}``: the trainings of the baseline and of one run per left-out
    song, each into ``work/<run name>``."""
    runs = {f"{BASELINE}-seed{seed}": []}
    for index in range(len(songs)):
        runs[f"{HELD_OUT}{index}-seed{seed}"] = [s for i, s in enumerate(songs) if i != index]
    return {name: _training_argv(work / name, seed, extra)
            for name, extra in runs.items()}


def train(commands, jobs, work=WORK):
    """Run ``commands`` (:func:`training_commands`), ``jobs`` at a time, each logging to
    ``work/<run name>.log``; a run that finished already (its folder has a registry) is
    skipped, an interrupted one resumes from its checkpoint. The names of the runs that
    failed."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    work.mkdir(parents=True, exist_ok=True)

    def run(item):
        name, argv = item
        if (work / name / "registry.json").exists():
            return None
        with open(work / f"{name}.log", "a") as log:
            done = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=False)
        return None if done.returncode == 0 else name

    with ThreadPoolExecutor(jobs) as pool:
        return [name for name in pool.map(run, commands.items()) if name]


def held_out_song(lever, songs):
    """The song a run never heard: ``None`` for the baseline (it heard none)."""
    if lever == BASELINE:
        return None
    if not lever.startswith(HELD_OUT) or not lever[len(HELD_OUT):].isdigit():
        raise ValueError(f"run {lever!r} is neither {BASELINE!r} nor {HELD_OUT}<i>")
    index = int(lever[len(HELD_OUT):])
    if index >= len(songs):
        raise ValueError(f"run {lever!r} leaves out song {index}; there are {len(songs)}")
    return songs[index]


def transfer_table(records, songs):
    """Per left-out song: the baseline's and the lever run's SI-SDRi there, and the gain.

    ``records``: scored runs (``lever``, ``seed``, ``musdb`` as ``{song: [vocals,
    accompaniment]}``). Returns ``(rows, summary)``: a row per song a lever run left out,
    ``{"song", "seed", "baseline": [v, a], "lever": [v, a], "gain": [v, a], "mir1k_gain":
    [validation, test]}`` (:func:`mir1k_scores`, lever - baseline), paired with the
    baseline of the same seed; ``summary`` the mean and standard deviation of the
    gains over those rows (``None`` with fewer than two).
    """
    baselines = {run["seed"]: run for run in records if run["lever"] == BASELINE}
    rows = []
    for run in sorted(records, key=lambda run: (run["lever"], run["seed"])):
        song = held_out_song(run["lever"], songs)
        if song is None or run["seed"] not in baselines:
            continue
        base = baselines[run["seed"]]["musdb"][song]
        ours = run["musdb"][song]
        rows.append({"song": song, "seed": run["seed"], "baseline": list(base),
                     "lever": list(ours), "gain": [b - a for a, b in zip(base, ours)],
                     "mir1k_gain": [b - a for a, b in zip(
                         mir1k_scores(baselines[run["seed"]]), mir1k_scores(run))]})
    summary = None
    if len(rows) >= 2:
        summary = {name: {"mean": statistics.mean(row["gain"][k] for row in rows),
                          "std": statistics.stdev(row["gain"][k] for row in rows)}
                   for k, name in enumerate(("vocals", "accompaniment"))}
    return rows, summary


def mir1k_scores(run):
    """``(validation vocals SI-SDRi, test vocal GNSDR with the MI head)`` of a run."""
    return run["validation"]["vocals"]["SI-SDRi"], run["test"]["mi"]["vocals"]["GNSDR"]


def render(result):
    rows, summary = result["rows"], result["summary"]
    lines = ["# MUSDB stems as extra training data (issue 15)", "",
             "Leave one song out: each `musdb_out<i>` run trains the recipe on MIR-1K plus the "
             "vocal / rest stems of the other two MUSDB excerpts (each channel a track, 16 kHz: "
             "4-s clips of the songs and 100 4-s remixes of their stems) and is scored on the "
             "song it never heard; `mir1k` is the same recipe, seed and epochs on MIR-1K alone. "
             "SI-SDRi in dB, full band at 44.1 kHz stereo (`separate_audio`), mean of the two "
             "channels. Three 29.6-s excerpts: far too little to train on, and one song per "
             "row, so read the gains as a sign, not a size.", "",
             f"Recipe: `train_shipped_model.py {RECIPE}`; every run one CPU thread, two at a "
             f"time on the 2-core machine.", "",
             "| left-out song | seed | vocals: MIR-1K only | with the other songs | gain | "
             "accompaniment: MIR-1K only | with | gain |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        (bv, ba), (lv, la), (gv, ga) = row["baseline"], row["lever"], row["gain"]
        lines.append(f"| {row['song']} | {row['seed']} | {bv:.2f} | {lv:.2f} | {gv:+.2f} | "
                     f"{ba:.2f} | {la:.2f} | {ga:+.2f} |")
    if summary:
        lines += ["", f"Gain over the {len(rows)} left-out songs (mean ± std): vocals "
                  f"{summary['vocals']['mean']:+.2f} ± {summary['vocals']['std']:.2f} dB, "
                  f"accompaniment {summary['accompaniment']['mean']:+.2f} ± "
                  f"{summary['accompaniment']['std']:.2f} dB."]
    lines += ["", "What the extra data costs on MIR-1K (validation: the two held-out training "
              "songs, vocals SI-SDRi; test: the 90 test clips, vocal GNSDR of the MI head, "
              "scored once per model) and each model's scores on every song (a song it "
              "trained on is marked *trained*, not a transfer figure):", "",
              "| run | epochs | minutes | MIR-1K validation | MIR-1K test GNSDR | "
              + " | ".join(f"{song} (vocals)" for song in result["songs"]) + " |",
              "|---|---:|---:|---:|---:|" + "---:|" * len(result["songs"])]
    for run in result["runs"]:
        valid, test = mir1k_scores(run)
        heard = set(run.get("musdb_songs") or ())
        cells = [f"{run['musdb'][song][0]:.2f}" + (" *trained*" if song in heard else "")
                 for song in result["songs"]]
        lines.append(f"| {run['name']} | {run['epochs']} | {run['train_seconds'] / 60:.0f} | "
                     f"{valid:.2f} | {test:.2f} | " + " | ".join(cells) + " |")
    if result.get("machine"):
        lines += ["", machine_line(result["machine"])]
    return "\n".join(lines) + "\n"


def score(work=WORK, records=RECORDS, rescore=False):
    """Score every finished run of ``work`` without a record (all with ``rescore``), keep
    the records, and write the report from every record."""
    import torch

    from _common import atomic_write_text, json_safe, machine
    from shipped_recipe import collect, musdb_song_scores

    torch.set_num_threads(1)
    records.mkdir(parents=True, exist_ok=True)
    for run in collect(work) if Path(work).exists() else []:
        path = records / f"{run['name']}.json"
        if path.exists() and not rescore:
            continue
        model = run.pop("model")
        entry = json.loads((Path(model).parent / "registry.json").read_text())
        run["musdb_songs"] = next(iter(entry.values())).get("musdb_songs", [])
        run["musdb"] = musdb_song_scores(model)
        atomic_write_text(path, json.dumps(json_safe(run), indent=2) + "\n")
        print(f"scored {run['name']}", flush=True)
    runs = [json.loads(path.read_text()) for path in sorted(records.glob("*.json"))]
    songs = musdb_song_names()
    rows, summary = transfer_table(runs, songs)
    result = {"songs": songs, "recipe": RECIPE, "rows": rows, "summary": summary,
              "runs": [{key: value for key, value in run.items() if key != "history"}
                       for run in runs], "machine": machine(threads=1)}
    write_report(RESULTS / "musdb_transfer", result, render(result))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("train", "score"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time")
    parser.add_argument("--rescore", action="store_true")
    args = parser.parse_args(argv)
    if args.action == "train":
        failed = train(training_commands(musdb_song_names(), args.seed), args.jobs)
        if failed:
            print(f"failed: {failed} (see {WORK}/<run>.log)")
        return 1 if failed else 0
    print(render(score(rescore=args.rescore)))
    return 0

if __name__ == "__main__":
    sys.exit(main())
