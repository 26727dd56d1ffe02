"""Score a shipped model again on the MIR-1K test singers and update its registry entry.

For when what a model's scores depend on changes without retraining it (e.g. the
level normalisation of ``MelFeatures``): both heads, SI-SDRi and the MIREX globals
per source, at the 0 dB mixes of the data set (and, with ``--ratios``, with the
vocals scaled to -5 and +5 dB against the accompaniment, as MIR-1K evaluations do).

Run::

    python tools/rescore_shipped_model.py chimera-mir1k [--ratios]

The scores are measured as the benchmarks measure them (``benchmarks/_common.py``'s
:func:`scores_at_ratios`).
"""

import argparse
import json

import torch

import sksep
from _release import REGISTRY  # first: it puts benchmarks/ on sys.path
from _common import MIR1K, atomic_write_text, scores_at_ratios
from sksep.datasets import load_mir1k


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--ratios", action="store_true",
                        help="also score at -5 and +5 dB voice-to-music ratios")
    parser.add_argument("--note", default="", help="why the scores were measured again")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = sksep.load(args.name)
    test = load_mir1k(MIR1K, "test")
    ratios = (0.0, -5.0, 5.0) if args.ratios else (0.0,)
    scores = scores_at_ratios(model, test, ratios)
    for key in scores:
        for head in ("mi", "dc"):
            print(key, head, json.dumps(scores[key][head]), flush=True)
    registry = json.loads(REGISTRY.read_text())
    entry = registry[args.name]["scores"]
    entry["mi"], entry["dc"] = scores["0 dB"]["mi"], scores["0 dB"]["dc"]
    for key in scores:
        if key != "0 dB":
            for head in ("mi", "dc"):
                entry[f"{head} (vocals {key})"] = scores[key][head]
    if args.note:
        entry["note"] = args.note
    atomic_write_text(REGISTRY, json.dumps(registry, indent=2) + "\n")
    print(f"updated {REGISTRY}")


if __name__ == "__main__":
    main()
