"""``sksep models``: the trained models shipped with sksep (:func:`sksep.available_models`)."""

import json

from ._console import markdown_table
from ._exit import EXIT_CODES_HELP, EXIT_OK
from ._options import formatter, paragraphs


def add_parser(commands, parents):
    """The ``models`` subcommand and its options."""
    models = commands.add_parser(
        "models", parents=parents, formatter_class=formatter,
        help="list the trained models shipped with sksep",
        description=paragraphs(
            "List the trained models shipped with sksep: estimator, sources, sample rate, "
            "size, training data and scores measured on the MIR-1K test singers."),
        epilog=EXIT_CODES_HELP)
    models.add_argument("--json", action="store_true", help="print the model registry as JSON")
    models.set_defaults(run=run)


def run(args):
    """Print the registry as a table with each model's scores, or as JSON."""
    from .._models import available_models

    registry = available_models()
    if args.json:
        print(json.dumps(registry, indent=2))
        return EXIT_OK
    if not registry:
        print("No trained models are shipped with this copy of sksep. Train one with "
              "`sksep train STEMS_DIR --out model.sksep`.")
        return EXIT_OK
    rows = [[name, entry.get("estimator", ""), ", ".join(entry.get("sources", ())),
             f"{entry['sample_rate']} Hz" if "sample_rate" in entry else "",
             f"{entry['size_mb']:.1f} MB" if "size_mb" in entry else ""]
            for name, entry in registry.items()]
    print(markdown_table(["name", "estimator", "sources", "sample rate", "size"], rows,
                         text_columns=3))
    for name, entry in registry.items():
        print(f"\n{name}")
        if entry.get("description"):
            print(f"  {entry['description']}")
        if entry.get("training"):
            print(f"  training: {entry['training']}")
        for label, source, scores in _score_lines(entry.get("scores") or {}):
            if not isinstance(scores, dict):
                print(f"  {source}: {scores}")
                continue
            listed = ", ".join(f"{metric} {value:.2f} dB" for metric, value in scores.items()
                               if isinstance(value, (int, float)))
            print(f"  {label}{source}: {listed}")
    print("\nUse one with `sksep separate SONG --model NAME`; scores are measured on the "
          "MIR-1K test singers.")
    return EXIT_OK


def _score_lines(scores):
    """``(label, source, {metric: value})`` rows of a registry entry's scores, which are
    ``{source: {metric: value}}`` or, per prediction head, ``{head: {source: {...}}}``
    (other keys, such as a description of the test set, are printed as they are)."""
    for key, value in scores.items():
        if not isinstance(value, dict):
            yield "", key, value
            continue
        if all(isinstance(v, dict) for v in value.values()):
            for source, metrics in value.items():
                yield f"{key} head, ", source, metrics
        else:
            yield "", key, value
