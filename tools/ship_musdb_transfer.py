"""Ship ``chimera-mir1k-musdb``: the recipe on MIR-1K and every MUSDB excerpt (issue 15).

``benchmarks/musdb_transfer.py`` measures whether MUSDB stems as extra training data pay
on songs a model never heard (one song left out at a time). When every left-out song
gains (:func:`worth_shipping`), this tool scores those runs (the benchmark's report),
trains the same recipe on MIR-1K plus all the excerpts (``tools/train_shipped_model.py``,
into the ignored ``benchmarks/_work/musdb/ship``), copies it into ``sksep/models`` and
registers it with the left-out estimate (it heard every excerpt, so it has no MUSDB
figure of its own)::

    python benchmarks/musdb_transfer.py train --jobs 2
    python tools/ship_musdb_transfer.py
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

# _release first: it puts benchmarks/ on sys.path.
from _release import MODELS, ROOT, register_model
from musdb_transfer import WORK, _training_argv, musdb_song_names, render, score, train

#: The second model: the recipe on MIR-1K and every MUSDB excerpt.
SHIPPED = "chimera-mir1k-musdb"


def ship_command(songs, seed=0, work=WORK):
    """The training of :data:`SHIPPED`: the recipe with every song, into ``work/ship``."""
    return _training_argv(work / "ship", seed, songs, extra=("--name", SHIPPED))


def worth_shipping(rows):
    """Whether the lever pays on music the model did not hear: at least two left-out songs,
    and the vocals gain on every one of them."""
    return len(rows) >= 2 and all(row["gain"][0] > 0 for row in rows)


def ship_entry(entry, result):
    """The registry entry of :data:`SHIPPED`: its run's entry and the left-out estimate."""
    summary = result["summary"]
    gains = ", ".join(f"{row['song']} {row['gain'][0]:+.2f}" for row in result["rows"])
    training = (entry["training"].replace(f"{ROOT}/", "")  # the command, from the repository
                + "; reproduced by python benchmarks/musdb_transfer.py train, then python "
                  "tools/ship_musdb_transfer.py")
    return {**entry, "training": training, "description": (
        f"{entry['description']}; trained on MIR-1K and the vocal / rest stems of the three "
        f"MUSDB excerpts in ../shared: for real songs rather than MIR-1K's karaoke. Left "
        f"out one song at a time, the extra songs raised the left-out song's vocals "
        f"SI-SDRi by {summary['vocals']['mean']:+.2f} ± {summary['vocals']['std']:.2f} dB "
        f"({gains}; accompaniment {summary['accompaniment']['mean']:+.2f} ± "
        f"{summary['accompaniment']['std']:.2f}) over the same recipe on MIR-1K alone "
        f"(benchmarks/results/musdb_transfer.md); this model heard all three, so it has "
        f"no MUSDB figure of its own")}


def ship(result, work=WORK, models=None):
    """Copy :data:`SHIPPED` from ``work/ship`` into ``models`` (default the package's) and
    register it there; refused unless :func:`worth_shipping`."""
    if not worth_shipping(result["rows"]):
        raise SystemExit(f"not shipped: the vocals gain is not positive on every left-out "
                         f"song ({[round(row['gain'][0], 2) for row in result['rows']]})")
    folder = work / "ship"
    if not (folder / "registry.json").exists():
        raise SystemExit(f"no trained {SHIPPED} in {folder}: run "
                         f"`tools/ship_musdb_transfer.py` after `musdb_transfer.py train` "
                         f"(it trains it)")
    entry = json.loads((folder / "registry.json").read_text())[SHIPPED]
    models = Path(models or MODELS)
    shutil.copyfile(folder / entry["file"], models / entry["file"])
    return register_model(SHIPPED, ship_entry(entry, result), models / "registry.json")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rescore", action="store_true",
                        help="score the left-out runs again before deciding")
    args = parser.parse_args(argv)
    result = score(rescore=args.rescore)
    print(render(result))
    if worth_shipping(result["rows"]):
        failed = train({"ship": ship_command(musdb_song_names(), args.seed)}, 1)
        if failed:
            print(f"failed: see {WORK}/ship.log")
            return 1
    print(f"registered {SHIPPED} in {ship(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
