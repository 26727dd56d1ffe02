"""Score a shipped model again on the MIR-1K test singers and update its registry entry.

For when what a model's scores depend on changes without retraining it (e.g. the
level normalisation of ``MelFeatures``): both heads, SI-SDRi and the MIREX globals
per source, at the 0 dB mixes of the data set (and, with ``--ratios``, with the
vocals scaled to -5 and +5 dB against the accompaniment, as MIR-1K evaluations do).

Run::

    python benchmarks/rescore_shipped_model.py chimera-mir1k [--ratios]
"""

import argparse
import json

import numpy as np
import torch

import sksep
from _common import MIR1K, REGISTRY, atomic_write_text
from sksep.datasets import load_mir1k
from sksep.metrics import separation_report


def at_ratio(test, ratio_db):
    """Test mixtures and sources with the vocals scaled by ``ratio_db`` dB."""
    gain = np.float32(10 ** (ratio_db / 20))
    Y = [np.stack([y[0] * gain, y[1]]) for y in test.Y]
    return [y.sum(axis=0) for y in Y], Y


def scores_at_ratios(model, test, ratios, n_jobs=2):
    """Both heads' scores on the test clips with the vocals at each of ``ratios`` dB
    against the accompaniment (0: the data set's own mixes):
    ``{"0 dB" or "+5 dB" ...: {"mi": report, "dc": report}}``. Leaves the MI head set."""
    scores = {}
    for ratio in ratios:
        X, Y = (test.X, test.Y) if ratio == 0 else at_ratio(test, ratio)
        key = "0 dB" if ratio == 0 else f"{ratio:+g} dB"
        for head in ("mi", "dc"):
            model.set_params(head=head)
            scores.setdefault(key, {})[head] = separation_report(
                Y, model.predict(X), X, source_names=test.source_names, n_jobs=n_jobs)
    model.set_params(head="mi")
    return scores


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
