"""``sksep models``: the trained models shipped with sksep (:func:`sksep.available_models`).

Without a name, one line per model with one headline score; ``sksep models NAME``
prints the model's whole registry entry, every score included.
"""

import difflib
import importlib
import json

from .._constants import SEPARATORS
from .._models import available_models
from ._console import markdown_table
from ._exit import EXIT_OK, UsageError

#: The listing's one score per model: the source and metric, read from the registry's
#: scores of the prediction the model makes by default (its first head).
HEADLINE = ("vocals", "SI-SDRi")

#: Registry fields ``models NAME`` prints first, in this order, and how it labels them
#: (other fields follow, labelled by their key).
_FIELDS = {"estimator": "estimator", "sources": "sources", "sample_rate": "sample rate",
           "size_mb": "size", "description": "description", "training": "training",
           "train_seconds": "training time"}


def run(args):
    """Print the compact table of the shipped models, or one model's record; as JSON
    with ``--json``."""
    registry = available_models()
    if args.name is not None:
        entry = _entry(registry, args.name)
        print(json.dumps(entry, indent=2) if args.json else _record(args.name, entry))
        return EXIT_OK
    if args.json:
        print(json.dumps(registry, indent=2))
        return EXIT_OK
    if not registry:
        print("No trained models are shipped with this copy of sksep. Train one with "
              "`sksep train STEMS_DIR --out model.sksep`.")
        return EXIT_OK
    print(_listing(registry))
    return EXIT_OK


def _entry(registry, name):
    """The registry entry of ``name``; a name that is not there is bad usage."""
    if name in registry:
        return registry[name]
    close = difflib.get_close_matches(name, list(registry), n=1)
    raise UsageError(
        f"models {name!r}: no shipped model of that name"
        + (f" (did you mean {close[0]!r}?)" if close else "")
        + f"; the shipped models: {', '.join(registry) or 'none'}")


def _listing(registry):
    """The table of every model, with a line on its headline score and how to go on."""
    source, metric = HEADLINE
    rows = [[name, entry.get("estimator", ""), ", ".join(entry.get("sources", ())),
             _purpose(entry),
             f"{entry['sample_rate'] / 1000:g} kHz" if "sample_rate" in entry else "",
             f"{entry['size_mb']:.1f} MB" if "size_mb" in entry else "",
             _decibels(headline_score(entry))]
            for name, entry in registry.items()]
    table = markdown_table(["name", "estimator", "sources", "for", "rate", "size",
                            f"{source} {metric}"], rows, text_columns=4)
    return (f"{table}\n\n{source} {metric}: dB on the MIR-1K test singers (90 clips), as "
            f"the model predicts by default.\n`sksep models NAME` prints a model's whole "
            f"record (every head and score);\nuse one with `sksep separate SONG --model "
            f"NAME`.")


def headline_score(entry):
    """The registry entry's :data:`HEADLINE` score, or None.

    ``scores`` is ``{source: {metric: value}}``, or per prediction head (and mix)
    ``{head: {source: {metric: value}}}``, the default head first.
    """
    source, metric = HEADLINE
    scores = entry.get("scores") or {}
    if source not in scores:
        scores = next((value for value in scores.values() if isinstance(value, dict)
                       and source in value), {})
    value = (scores.get(source) or {}).get(metric)
    return value if isinstance(value, (int, float)) else None


def _purpose(entry):
    """What a model is for: real songs if it heard some (the MUSDB excerpts), else
    MIR-1K's karaoke clips; and query by example if its estimator has it."""
    use = "real songs" if entry.get("musdb_songs") else "MIR-1K-style clips"
    module = SEPARATORS.get(str(entry.get("estimator")))
    estimator = getattr(importlib.import_module(module), entry["estimator"]) if module else None
    return use + (", --query" if hasattr(estimator, "query") else "")


def _decibels(value):
    return "" if value is None else f"{value:.2f} dB"


def _record(name, entry):
    """Every field of a registry entry as text: the known fields, then the others,
    then each set of scores as a table."""
    lines = [name]
    for key in [*_FIELDS, *(key for key in entry if key not in _FIELDS)]:
        if key in entry and key not in ("file", "scores", "validation"):
            lines.append(f"  {_FIELDS.get(key, key.replace('_', ' '))}: "
                         f"{_field_text(key, entry[key])}")
    for key, title in (("validation", "validation scores"), ("scores", "test scores")):
        scores = entry.get(key) or {}
        rows = _score_rows(scores)
        if not rows:
            continue
        if isinstance(scores.get("test set"), str):
            title += f" on {scores['test set']}"
        metrics = list(dict.fromkeys(metric for _, values in rows for metric in values))
        lines += ["", f"{title}, dB (higher is better):", markdown_table(
            ["scores of", *metrics],
            [[label, *(_number(values.get(metric)) for metric in metrics)]
             for label, values in rows])]
        lines += [f"{label}: {value}" for label, value in scores.items()  # e.g. a note
                  if not isinstance(value, dict) and label != "test set"]
    return "\n".join(lines)


def _field_text(key, value):
    if key == "sample_rate":
        return f"{value} Hz"
    if key == "size_mb":
        return f"{value:.1f} MB"
    if key == "train_seconds":
        return f"{value:.0f} s"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def _number(value):
    return f"{value:.2f}" if isinstance(value, (int, float)) else ""


def _score_rows(scores, path=()):
    """``(label, {metric: value})`` rows of nested scores: ``{source: {metric: value}}``
    or per head ``{head: {source: {...}}}``, labelled ``"head, source"``."""
    numbers = {key: value for key, value in scores.items() if isinstance(value, (int, float))}
    rows = [(", ".join(path), numbers)] if numbers and path else []
    for key, value in scores.items():
        if isinstance(value, dict):
            rows += _score_rows(value, path + (str(key),))
    return rows
