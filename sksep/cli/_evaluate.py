"""``sksep evaluate``: separate every clip of a folder of stems and score the estimates
with :func:`sksep.metrics.separation_scores`; its options are in ``_arguments.py``."""

import csv
import io
import json
import math

import numpy as np

from ..datasets import load_stems_folder, stems_folder_layout
from ..exceptions import InvalidInputError
from ..metrics import separation_scores
from ..metrics._bss_eval import silent_sources
from ..separation import separate_long
from ..separators._pipeline import sources_named
from ._console import decibels, markdown_table, plural, progress, say, shows_progress, warn
from ._exit import EXIT_OK, UsageError
from ._files import check_outputs, write_text
from ._prediction import load_model

#: Per-clip columns: SI-SDRi, then BSS Eval's (left out of the printed table with --no-bss).
CLIP_METRICS = ("SI-SDRi", "SDR", "SIR", "SAR", "NSDR")

#: Per-source columns of the overall table: length-weighted SI-SDRi, then the MIREX globals.
GLOBAL_METRICS = ("SI-SDRi", "GNSDR", "GSIR", "GSAR")

#: Largest share of a mixture's energy that may differ from the sum of its stems (1 %,
#: -20 dB): more, and the mixture is taken for another recording (another song's
#: ``mixture.wav``), against which the scores mean nothing. Resampling, 16-bit files and
#: the MUSDB excerpts stay far below it.
MIXTURE_TOLERANCE = 0.01


def run(args):
    """Separate and score the clips; print the tables and write the reports asked for."""
    outputs = [path for path in (args.out_csv, args.out_json) if path is not None]
    check_outputs(args, outputs)
    if len(set(outputs)) < len(outputs):
        raise UsageError("--out-csv and --out-json name the same file")
    model, names = load_model(args)
    rate = model.grid_.sample_rate
    layout = stems_folder_layout(args.data_dir, name="DATA_DIR")

    permutation_invariant = not sources_named(model)
    data, names = _load_clips(args, layout, names, rate)
    X, Y = data.X, data.Y
    residuals = [mixture_residual(x, y) for x, y in zip(X, Y)]
    for clip, residual in zip(data.names, residuals):
        if residual > MIXTURE_TOLERANCE:
            warn(f"{str(clip)!r}: {_mismatch(residual)}, more than "
                 f"{100 * MIXTURE_TOLERANCE:g} %: is its mixture another recording's (another "
                 f"song's mixture.wav)? Its scores mean nothing; they are marked in the "
                 f"note column")
    if permutation_invariant:
        say(args, f"note: the deep-clustering head does not name the clusters of "
                  f"{plural(len(names), 'source')}; each clip's clusters are matched to the "
                  f"true stems that fit them best (permutation-invariant scores)")

    estimates = [separate_long(model, x, block_seconds=args.block_seconds)
                 for x in progress(X, total=len(X), description="separating",
                                   enabled=shows_progress(args))]
    if not args.no_bss:
        say(args, f"BSS Eval of {plural(len(X), 'clip')} (slow; --no-bss skips it)")
    scores = separation_scores(Y, estimates, X, source_names=list(names),
                               bss=not args.no_bss, permutation_invariant=permutation_invariant)
    notes = [clip_notes(Y[i], estimates[i], X[i], residuals[i],
                        {key: values[i] for key, values in scores["per_clip"].items()})
             for i in range(len(X))]
    rows = [{"clip": str(clip), "source": name, "n_samples": len(X[i]),
             "seconds": len(X[i]) / rate,
             **{key: (float(scores["per_clip"][key][i, j]) if key in scores["per_clip"]
                      else None) for key in CLIP_METRICS}, "note": notes[i][j]}
            for i, clip in enumerate(data.names) for j, name in enumerate(names)]
    total = sum(len(x) for x in X) / rate
    _print_tables(args, rows, scores["overall"], names, total)
    mismatched = sum(residual > MIXTURE_TOLERANCE for residual in residuals)
    if mismatched:
        print(f"\nThe mixture of {plural(mismatched, 'clip')} is not the sum of its stems "
              f"(see the note column); the overall scores include "
              f"{'it' if mismatched == 1 else 'them'}.", flush=True)

    if args.out_csv is not None:
        print(f"wrote {write_text(args.out_csv, _csv(rows), overwrite=args.overwrite)}")
    if args.out_json is not None:
        report = {
            "model": str(args.model), "estimator": type(model).__name__,
            "data": str(args.data_dir), "layout": layout,
            "split": (args.split or "test") if layout == "mir1k" else None,
            "sample_rate": int(rate), "source_names": list(names), "n_clips": len(X),
            "seconds": total, "bss": not args.no_bss,
            "permutation_invariant": permutation_invariant,
            "clips": [{key: (_json_number(value) if isinstance(value, float) else
                             value if key != "note" else value or None)
                       for key, value in row.items()} for row in rows],
            "mixture_mismatch": [str(clip) for clip, residual in zip(data.names, residuals)
                                 if residual > MIXTURE_TOLERANCE],
            "overall": {name: {key: _json_number(value) for key, value in metrics.items()}
                        for name, metrics in scores["overall"].items()},
        }
        text = json.dumps(report, indent=2) + "\n"
        print(f"wrote {write_text(args.out_json, text, overwrite=args.overwrite)}")
    return EXIT_OK


def mixture_residual(mixture, sources):
    """How far a mixture is from the sum of its stems.

    Parameters
    ----------
    mixture : ndarray of shape (n_samples,)
    sources : ndarray of shape (n_sources, n_samples)

    Returns
    -------
    residual : float
        The energy of ``mixture - sources.sum(axis=0)`` over that of the mixture: 0 for
        a mixture that is the sum of its stems, about 1 or more for another recording;
        ``inf`` for a silent mixture whose stems are not.
    """
    difference = np.asarray(mixture, np.float64) - np.sum(sources, axis=0, dtype=np.float64)
    energy = float(np.sum(np.square(mixture, dtype=np.float64)))
    left = float(np.sum(np.square(difference)))
    if energy == 0.0:
        return 0.0 if left == 0.0 else math.inf
    return left / energy


def _mismatch(residual):
    """What a residual above the tolerance says, for the warning and the note."""
    if math.isinf(residual):
        return "the mixture is silent but its stems are not"
    return (f"the mixture is not the sum of its stems ({100 * residual:.3g} % of its energy "
            f"differs)")


def clip_notes(reference, estimate, mixture, residual, values):
    """The note of each source of one clip: a mixture that is not the sum of its stems,
    and why any of its scores is blank.

    Parameters
    ----------
    reference, estimate : ndarray of shape (n_sources, n_samples)
    mixture : ndarray of shape (n_samples,)
    residual : float
        :func:`mixture_residual` of the clip.
    values : dict of str to ndarray of shape (n_sources,)
        The clip's scores by metric (:data:`CLIP_METRICS` that were computed), NaN
        where undefined.

    Returns
    -------
    notes : list of str
        One per source, ``""`` when there is nothing to say.
    """
    silent = silent_sources(reference)
    alone = silent_sources(mixture[None, :] - reference)  # the other sources are silent
    muted = ~np.any(np.reshape(estimate, (len(estimate), -1)), axis=1)
    notes = []
    for j in range(len(reference)):
        parts = [_mismatch(residual)] if residual > MIXTURE_TOLERANCE else []
        blank = [metric for metric in CLIP_METRICS
                 if metric in values and not np.isfinite(values[metric][j])]
        if blank:
            cause = ("reference silent" if silent[j] else
                     "the other sources are silent, nothing to separate" if alone[j] else
                     "estimate silent" if muted[j] else "undefined")
            parts.append(f"{cause}: {', '.join(blank)} undefined" if cause != "undefined"
                         else f"{', '.join(blank)} undefined")
        notes.append("; ".join(parts))
    return notes


def _load_clips(args, layout, names, rate):
    """The clips of ``DATA_DIR`` at ``rate`` with their sources in the model's order, and
    the source names to report (the folder's, for a model that does not name its own)."""
    generic = all(name == f"source{i}" for i, name in enumerate(names))
    if layout == "mir1k":
        data = load_stems_folder(args.data_dir, split=args.split or "test",
                                 max_clips=args.max_clips, sample_rate=rate)
    else:
        if args.split is not None:
            raise UsageError("--split applies to MIR-1K-style folders only")
        stems = names
        if generic:
            if len(names) != 2:
                raise InvalidInputError(
                    f"model {args.model!r} does not name its {len(names)} sources, so the stems "
                    f"to compare with cannot be chosen; train it with `sksep train`")
            stems = ("vocals", "accompaniment")
        data = load_stems_folder(args.data_dir, sources=stems, max_songs=args.max_clips,
                                 sample_rate=rate)
    data_names = tuple(data.source_names)
    if len(data_names) != len(names):
        raise InvalidInputError(
            f"model {args.model!r} separates {len(names)} sources ({', '.join(names)}); "
            f"{str(args.data_dir)!r} has {len(data_names)} ({', '.join(data_names)})")
    if set(names) == set(data_names):
        order = [data_names.index(name) for name in names]
    elif generic:
        say(args, f"note: the model does not name its sources; reading them as "
                  f"{', '.join(data_names)} in that order")
        order, names = list(range(len(names))), data_names
    else:
        raise InvalidInputError(
            f"model {args.model!r} separates {', '.join(names)}; {str(args.data_dir)!r} holds "
            f"{', '.join(data_names)}")
    data.X, data.Y = list(data.X), [y[order] for y in data.Y]
    return data, names


def _print_tables(args, rows, overall, names, total):
    """The per-clip table and the per-source summary, in Markdown, on stdout."""
    # Printed tables leave out the BSS Eval columns with --no-bss; the CSV keeps them empty.
    clip_metrics = CLIP_METRICS[:1] if args.no_bss else CLIP_METRICS
    global_metrics = GLOBAL_METRICS[:1] if args.no_bss else GLOBAL_METRICS
    notes = ["note"] if any(row["note"] for row in rows) else []
    table = markdown_table(
        ["clip", "source", "seconds", *clip_metrics, *notes],
        [[row["clip"], row["source"], f"{row['seconds']:.1f}",
          *[decibels(row[key]) for key in clip_metrics], *[row["note"] for _ in notes]]
         for row in rows], text_columns=(0, 1, 3 + len(clip_metrics)))
    summary = markdown_table(
        ["source", *global_metrics],
        [[name, *[decibels(overall[name].get(key)) for key in global_metrics]]
         for name in names])
    print(f"Model {args.model!r} on {plural(len(rows) // len(names), 'clip')} ({total:.0f} s) "
          f"of {str(args.data_dir)!r}, dB (higher is better):\n")
    print(table)
    print("\nOverall, length-weighted over clips"
          + ("" if args.no_bss else " (GNSDR/GSIR/GSAR: MIREX globals)") + ":\n")
    print(summary, flush=True)


def _csv(rows):
    """The per-clip rows as CSV text; undefined values are empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["clip", "source", "n_samples", "seconds", *CLIP_METRICS, "note"]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row[key]) for key in columns])
    return buffer.getvalue()


def _csv_value(value):
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else ""
    return "" if value is None else value


def _json_number(value):
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None
