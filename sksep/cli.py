"""The ``sksep`` command line: separate songs, train and evaluate models, list shipped models.

Run ``sksep --help`` or ``sksep COMMAND --help`` (``python -m sksep`` is the same).

Exit codes, for scripts:

====  ==========================================================================
0     success
1     unexpected error (a bug, or an environment problem such as a failing disk)
2     bad usage: unknown option, bad option value, conflicting arguments, a
      ``--stems`` name the model does not have, ``--device cuda`` without CUDA
3     bad input: missing, unreadable or non-audio file, a sample rate outside
      1 kHz..768 kHz, a folder with neither supported layout, a file that is not
      a valid sksep model or a model that needs the true sources (an oracle)
4     refused to overwrite an existing output (pass ``--overwrite``)
5     a missing external program or optional package (``ffmpeg``, ``matplotlib``),
      or a libsndfile that cannot write the ``--format`` asked (MP3 before 1.1.0)
6     cannot write an output: ``--out`` is a file or read-only, a file stands
      where a song's folder goes, a folder is read-only, a song's name would
      put its stems outside ``--out`` (``..wav``), or the disk is full
130   interrupted (Ctrl-C); 143: terminated (SIGTERM). No partial file is left.
====  ==========================================================================

Every output target is checked before any work is done, so codes 4 and 6 (but
for a full disk) come before a song is separated. Errors print one line to
stderr, ``sksep: error: ...``; ``--debug`` adds the traceback.
"""

import argparse
import contextlib
import csv
import io
import json
import math
import re
import signal
import sys
import textwrap
import threading
import traceback
from functools import partial
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_EXISTS = 4
EXIT_MISSING_PROGRAM = 5
EXIT_CANNOT_WRITE = 6
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 128 + signal.SIGTERM

DEFAULT_MODEL = "chimera-mir1k"  # as sksep._api's, which is not imported: it imports sklearn

#: ``--high-band`` choices, sksep._fullband.HIGH_BAND_RULES (not imported: it imports librosa).
HIGH_BAND_RULES = ("top", "octave")

#: Sample rate the ``train`` command resamples to (the papers' 16 kHz).
TRAIN_SAMPLE_RATE = 16000

#: Longest stretch of a song drawn by ``separate --plot``, in seconds.
PLOT_SECONDS = 30.0

_EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  unexpected error
  2  bad usage (unknown option, bad option value, unknown --stems name, --device cuda
     without CUDA)
  3  bad input: missing, unreadable or non-audio file, bad data folder, bad model file
  4  refused to overwrite an existing output (pass --overwrite)
  5  missing external program or optional package (ffmpeg for M4A/MP4, matplotlib for --plot,
     a libsndfile that writes MP3 for --format mp3)
  6  cannot write an output (--out is a file or read-only, a file where a folder goes,
     a song name that leaves --out) or the disk is full
  130  interrupted (Ctrl-C); 143: terminated (SIGTERM); no partial file is left
"""

_NUMBER = re.compile(r"-?[0-9.]+(e-?[0-9]+)?")


class UsageError(Exception):
    """Arguments that parse but do not fit together; exit code 2."""


class _Terminated(BaseException):
    """SIGTERM arrived; unwinding like Ctrl-C removes the temporary file being written."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors point file names that start with '-' to '--'."""

    def parse_known_args(self, args=None, namespace=None):
        self._arguments = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        if "unrecognized arguments: " in message:
            candidates = message.split("unrecognized arguments: ", 1)[1].split()
        elif "the following arguments are required" in message:
            candidates = getattr(self, "_arguments", [])
        else:
            candidates = []
        dashed = next((token for token in candidates if self._is_dashed_name(token)), None)
        if dashed is not None:
            message += (f" (a file name that starts with '-' must follow '--', after every "
                        f"option: `-- {dashed}`)")
        super().error(message)

    def _is_dashed_name(self, token):
        """Whether ``token`` looks like a file name argparse took for an unknown option."""
        option = token.split("=", 1)[0]
        return (token.startswith("-") and token not in ("-", "--")
                and not _NUMBER.fullmatch(token)
                and not any(known.startswith(option) for known in self._option_string_actions))


# -- helpers ---------------------------------------------------------------------------------


def _say(args, message):
    """A status message on stderr, silenced by --quiet (results go to stdout)."""
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _number_type(parse, kind, accept, requirement):
    """An argparse ``type`` that parses a number and checks its range."""
    def convert(text):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {requirement}")
        return value
    return convert


_positive_float = _number_type(float, "a number", lambda v: v > 0 and math.isfinite(v),
                               "a positive number")
_positive_int = _number_type(int, "an integer", lambda v: v >= 1, "a positive integer")
_fraction = _number_type(float, "a number", lambda v: 0.0 <= v <= 0.9, "between 0 and 0.9")
_unit_interval = _number_type(float, "a number", lambda v: 0.0 <= v <= 1.0, "between 0 and 1")


def _name_list(text):
    """Comma-separated names, e.g. ``vocals,accompaniment``."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"{text!r} must be comma-separated stem names, e.g. vocals,accompaniment")
    return names


def _source_list(text):
    names = _name_list(text)
    if len(names) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be at least two comma-separated stem names, e.g. vocals,accompaniment")
    return names


def _load_model(args):
    """The fitted separator, with ``--head`` and ``--device`` applied, and its source names."""
    from ._api import configured, named_model

    model, names = named_model(args.model)
    with _usage_errors():
        model = configured(model, head=args.head, device=args.device, copy_first=False)
    return model, names


@contextlib.contextmanager
def _usage_errors():
    """Option values the library refuses (a stem, head or device) are bad usage: exit 2."""
    from .exceptions import InvalidInputError

    try:
        yield
    except InvalidInputError as error:
        raise UsageError(str(error)) from None


def _is_generic(names):
    return all(name == f"source{i}" for i, name in enumerate(names))


def _folder_layout(root):
    """``"mir1k"`` or ``"musdb"`` for a data folder (errors for anything else)."""
    from .datasets import _is_mir1k
    from .exceptions import InvalidInputError

    if not root.exists():
        raise FileNotFoundError(f"data folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"{str(root)!r} is a file; expected a folder of stems")
    return "mir1k" if _is_mir1k(root) else "musdb"


def _check_outputs(args, paths, *, inside=None):
    """Refuse before any work is done, so a refusal leaves nothing half-written.

    Each path must be writable (:func:`sksep._atomic.check_writable`) and, when
    ``inside`` is given, lie inside that folder once links are resolved. Then the
    hidden temporary files that killed runs left beside these paths are removed.
    """
    from ._atomic import check_writable, remove_stale_temporaries

    for path in paths:
        if inside is not None:
            _check_inside(path, inside)
        check_writable(path, overwrite=args.overwrite)
    stale = [removed for path in paths for removed in remove_stale_temporaries(path)]
    if stale:
        _say(args, f"removed {_plural(len(stale), 'temporary file')} left by an interrupted "
                   f"run: {', '.join(repr(str(path)) for path in stale)}")


def _check_inside(path, folder):
    """Refuse an output ``path`` that lies outside ``--out`` once links are resolved."""
    from .exceptions import OutputLocationError

    resolved = path.resolve()
    if folder.resolve() not in resolved.parents:
        raise OutputLocationError(
            f"{str(path)!r} resolves to {str(resolved)!r}, outside --out {str(folder)!r}; "
            f"expected every output inside --out (a link to another folder or file?)")


def _song_folder(out, song):
    """``out / <the song's file name without extension>``, if that is a plain folder name."""
    from .exceptions import OutputLocationError

    name = song.stem  # never holds a separator, but "...wav" gives ".." and "..wav" "."
    if name in ("", ".", ".."):
        raise OutputLocationError(
            f"song {str(song)!r} would be written to the folder {name!r} in --out; expected a "
            f"file name that makes a plain folder name (not '.' or '..'): rename the file")
    return out / name


def _write_text(path, text, overwrite):
    from ._atomic import atomic_write
    return atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"),
                        overwrite=overwrite)


def _progress(iterable, *, total, description, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=description, leave=False)


def _markdown_table(header, rows, *, text_columns=1):
    """Markdown table: the first ``text_columns`` columns left-aligned, numbers right-aligned."""
    widths = [max(len(str(row[c])) for row in [header] + rows) for c in range(len(header))]

    def line(cells):
        padded = [str(cell).ljust(width) if c < text_columns else str(cell).rjust(width)
                  for c, (cell, width) in enumerate(zip(cells, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) if c < text_columns else "-" * (width + 1) + ":"
                          for c, width in enumerate(widths)) + "|"
    return "\n".join([line(header), rule] + [line(row) for row in rows])


def _plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _number(value, digits=2):
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _json_number(value):
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


# -- separate --------------------------------------------------------------------------------


#: ``--bit-depth`` choices and the soundfile subtype of each.
BIT_DEPTHS = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}

#: ``--format`` choices: the stems' file extensions.
OUTPUT_FORMATS = ("wav", "flac", "mp3")

#: The bit depth a stem gets by default from its song's sample encoding (others: 16).
_SONG_DEPTHS = {"FLOAT": "float", "DOUBLE": "float", "PCM_24": "24", "PCM_32": "24"}


def _cmd_separate(args):
    from ._api import select_stems
    from ._atomic import check_folder

    songs = _songs(args.songs)
    folders = [_song_folder(args.out, song) for song in songs]
    repeated = sorted({folder for folder in folders if folders.count(folder) > 1})
    if repeated:
        raise UsageError(
            f"several songs would be written to the same folder {str(repeated[0])!r}; "
            f"separate songs with the same name in separate runs or rename them")
    if args.out.exists():
        check_folder(args.out, name="--out")
    _check_encoding(args)
    if args.plot:
        from .plotting import _figure_class
        _figure_class()  # a missing matplotlib fails here, before any work

    model, names = _load_model(args)
    with _usage_errors():
        stems = select_stems(args.stems, names, name="--stems")
    targets = {song: [folder / f"{name}.{args.format}" for name in stems]
               + ([folder / "separation.png"] if args.plot else [])
               for song, folder in zip(songs, folders)}
    _check_outputs(args, [path for paths in targets.values() for path in paths],
                   inside=args.out)
    for song in songs:
        _separate_song(args, model, names, song, dict(zip(stems, targets[song])))
        if args.plot:
            _plot_song(args, model, names, song, targets[song][-1])
    return EXIT_OK


def _songs(paths):
    """The songs to separate: each file named, and every audio file in each folder named
    (not in its sub-folders), by name."""
    from .audio_io import READ_SUFFIXES
    from .exceptions import InvalidInputError

    songs = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"audio file {str(path)!r} does not exist")
        if not path.is_dir():
            songs.append(path)
            continue
        found = sorted(entry for entry in path.iterdir() if entry.is_file()
                       and not entry.name.startswith(".")
                       and entry.suffix.lower() in READ_SUFFIXES)
        if not found:
            raise InvalidInputError(
                f"folder {str(path)!r} holds no audio files; expected files ending in "
                f"{', '.join(READ_SUFFIXES)} (sub-folders are not searched)")
        songs.extend(found)
    return songs


def _check_encoding(args):
    """Refuse, before any work, a format this libsndfile cannot write (exit 5) or a bit
    depth the format cannot hold (exit 2)."""
    from .audio_io import check_write_format

    check_write_format(f".{args.format}")
    if args.bit_depth is not None and args.format == "mp3":
        raise UsageError(f"--bit-depth {args.bit_depth} applies to --format wav and flac; "
                         f"MP3 is lossy and has no bit depth")
    if args.bit_depth == "float" and args.format == "flac":
        raise UsageError("--bit-depth float: FLAC holds integer samples only; expected "
                         "--bit-depth 16 or 24, or --format wav")


def _stem_encoding(args, song_subtype, peak):
    """The soundfile subtype of a stem peaking at ``peak`` (None: the format's own) and a
    note for its ``wrote`` line.

    Unless ``--bit-depth`` says otherwise, a stem keeps its song's depth (float, 24 or
    16 bits; FLAC: 24 for float), and a WAV stem that peaks above full scale (the
    mixture's phase can push a stem a little past it) is written as float, not clipped.
    """
    if args.format == "mp3":
        depth = None
    elif args.bit_depth is not None:
        depth = args.bit_depth
    else:
        depth = _SONG_DEPTHS.get(song_subtype, "16")
        if depth == "float" and args.format == "flac":
            depth = "24"
        if depth != "float" and peak > 1.0 and args.format == "wav":
            return BIT_DEPTHS["float"], f" (32-bit float: peaks at {peak:.2f})"
    clipped = peak > 1.0 and depth != "float"
    return BIT_DEPTHS.get(depth), f" (clipped: peaks at {peak:.2f})" if clipped else ""


def _separate_song(args, model, names, song, targets):
    """Separate ``song`` and write the stems of ``targets`` (``{name: path}``)."""
    import warnings

    from . import separation
    from .audio_io import file_subtype, save_audio

    _say(args, f"separating {str(song)!r} with {args.model!r} at "
               f"{model.grid_.sample_rate} Hz")
    estimates, rate = separation.separate_file(
        model, song, source_names=names, block_seconds=args.block_seconds,
        high_band=args.high_band, progress=not args.quiet)
    song_subtype = file_subtype(song)
    for name, path in targets.items():
        estimate = estimates[names.index(name)]
        peak = max(float(estimate.max()), -float(estimate.min()))  # no |x| copy
        subtype, note = _stem_encoding(args, song_subtype, peak)
        with warnings.catch_warnings():  # clipping is told in the note instead
            warnings.simplefilter("ignore", UserWarning)
            save_audio(path, estimate, rate, overwrite=args.overwrite, subtype=subtype)
        print(f"wrote {path}{note}", flush=True)


def _plot_song(args, model, names, song, path):
    """Write the figure of the mixture and the masks of the song's first seconds."""
    from ._atomic import atomic_write
    from .audio_io import load_audio
    from .plotting import plot_masks

    model_rate = model.grid_.sample_rate
    mixture, _ = load_audio(song, sample_rate=model_rate, mono=True)
    excerpt = mixture[:int(PLOT_SECONDS * model_rate)]
    record = model.features_.transform([excerpt])[0]
    masks = model.predict_masks([record])[0]
    figure = plot_masks(record, masks, source_names=names)
    figure.suptitle(f"{song.name}: first {len(excerpt) / model_rate:.0f} s")
    atomic_write(path, partial(figure.savefig, format="png", dpi=110), overwrite=args.overwrite)
    print(f"wrote {path}", flush=True)


# -- train -----------------------------------------------------------------------------------


def _cmd_train(args):
    from .datasets import load_stems_folder

    _check_outputs(args, [args.out])
    model = _make_estimator(args)  # bad option combinations fail before the data is read
    layout = _folder_layout(args.stems_dir)
    options = {"sample_rate": TRAIN_SAMPLE_RATE, "max_clips": args.max_clips}
    if layout == "mir1k":
        if args.sources is not None and args.sources != ("vocals", "accompaniment"):
            raise UsageError(
                f"--sources {','.join(args.sources)}: a MIR-1K-style folder holds only "
                f"vocals,accompaniment")
        options["split"] = args.split or "train"
    else:
        if args.split is not None:
            raise UsageError("--split applies to MIR-1K-style folders only")
        options.update(sources=args.sources or ("vocals", "accompaniment"),
                       max_songs=options.pop("max_clips"))
    data = load_stems_folder(args.stems_dir, **options)
    seconds = sum(len(x) for x in data.X) / data.sample_rate
    _say(args, f"training on {_plural(len(data.X), 'clip')} ({seconds:.0f} s at "
               f"{data.sample_rate} Hz) from {str(args.stems_dir)!r}, sources "
               f"{', '.join(data.source_names)}")

    model.fit(data.X, data.Y)
    model.source_names_ = tuple(data.source_names)
    model.set_params(callbacks=None)  # the progress bar is not part of the model
    path = model.save(args.out, overwrite=args.overwrite)
    best = next((row for row in model.epoch_summary_ if row["epoch"] == model.best_epoch_), {})
    loss = best.get("valid_loss", best.get("train_loss"))
    _say(args, f"kept the weights of epoch {model.best_epoch_} of {len(model.epoch_summary_)}"
               + (f" (loss {loss:.4f})" if loss is not None else ""))
    print(f"wrote {path}", flush=True)
    return EXIT_OK


def _make_estimator(args):
    from . import ChimeraSeparator, DeepClusteringSeparator

    params = {"max_epochs": args.epochs, "hidden_size": args.hidden_size,
              "num_layers": args.layers, "embedding_dim": args.embedding_dim,
              "segment_frames": args.segment_frames, "lr": args.lr,
              "optimizer": args.optimizer,
              "batch_size": args.batch_size, "device": args.device,
              "validation_fraction": args.validation_fraction,
              "random_state": args.random_state}
    params = {key: value for key, value in params.items() if value is not None}
    if args.quiet:
        params.update(verbose=0)
    else:
        from skorch.callbacks import ProgressBar
        params.update(verbose=1, callbacks=[ProgressBar()])
    if args.estimator == "chimera":
        if args.alpha is not None:
            params["alpha"] = args.alpha
        return ChimeraSeparator(**params)
    if args.alpha is not None:
        raise UsageError("--alpha applies to --estimator chimera only")
    return DeepClusteringSeparator(**params)


# -- evaluate --------------------------------------------------------------------------------


_CLIP_METRICS = ("SI-SDRi", "SDR", "SIR", "SAR", "NSDR")
_GLOBAL_METRICS = ("SI-SDRi", "GNSDR", "GSIR", "GSAR")


def _cmd_evaluate(args):
    import numpy as np

    from .datasets import load_stems_folder
    from .exceptions import InvalidInputError
    from .metrics import best_permutation, mirex_globals, separation_report
    from .metrics._aggregate import _si_sdri_table
    from .separation import separate_long

    outputs = [path for path in (args.out_csv, args.out_json) if path is not None]
    _check_outputs(args, outputs)
    if len(set(outputs)) < len(outputs):
        raise UsageError("--out-csv and --out-json name the same file")
    model, names = _load_model(args)
    rate = model.grid_.sample_rate

    layout = _folder_layout(args.data_dir)
    if layout == "mir1k":
        data = load_stems_folder(args.data_dir, split=args.split or "test",
                                 max_clips=args.max_clips, sample_rate=rate)
    else:
        if args.split is not None:
            raise UsageError("--split applies to MIR-1K-style folders only")
        stems = names
        if _is_generic(names):
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
    elif _is_generic(names):
        _say(args, f"note: the model does not name its sources; reading them as "
                   f"{', '.join(data_names)} in that order")
        order, names = list(range(len(names))), data_names
    else:
        raise InvalidInputError(
            f"model {args.model!r} separates {', '.join(names)}; {str(args.data_dir)!r} holds "
            f"{', '.join(data_names)}")
    X = list(data.X)
    Y = [y[order] for y in data.Y]

    estimates = []
    for x in _progress(X, total=len(X), description="separating", enabled=not args.quiet):
        estimates.append(separate_long(model, x, block_seconds=args.block_seconds))
    if getattr(model, "permutation_invariant_", False):
        estimates = [e[list(best_permutation(y, e))] for y, e in zip(Y, estimates)]

    si_sdri = _si_sdri_table([np.asarray(y, np.float64) for y in Y],
                             [np.asarray(e, np.float64) for e in estimates],
                             [np.asarray(x, np.float64) for x in X])
    overall = separation_report(Y, estimates, X, source_names=list(names), bss=False)
    per_clip = None
    if not args.no_bss:
        _say(args, f"BSS Eval of {_plural(len(X), 'clip')} (slow; --no-bss skips it)")
        scores = mirex_globals(Y, estimates, X, source_names=list(names))
        per_clip = scores["per_clip"]
        for j, name in enumerate(names):
            for key in ("GNSDR", "GSIR", "GSAR"):
                overall[name][key] = float(scores[key][j])

    rows = []
    for i, clip in enumerate(data.names):
        for j, name in enumerate(names):
            row = {"clip": str(clip), "source": name, "n_samples": len(X[i]),
                   "seconds": len(X[i]) / rate, "SI-SDRi": float(si_sdri[i, j])}
            for key in ("SDR", "SIR", "SAR", "NSDR"):
                row[key] = float(per_clip[key.lower()][i, j]) if per_clip is not None else None
            rows.append(row)

    # Printed tables leave out the BSS Eval columns with --no-bss; the CSV keeps them empty.
    clip_metrics = _CLIP_METRICS[:1] if args.no_bss else _CLIP_METRICS
    global_metrics = _GLOBAL_METRICS[:1] if args.no_bss else _GLOBAL_METRICS
    table = _markdown_table(
        ["clip", "source", "seconds", *clip_metrics],
        [[row["clip"], row["source"], f"{row['seconds']:.1f}",
          *[_number(row[key]) for key in clip_metrics]] for row in rows], text_columns=2)
    total = sum(len(x) for x in X) / rate
    summary = _markdown_table(
        ["source", *global_metrics],
        [[name, *[_number(overall[name].get(key)) for key in global_metrics]]
         for name in names])
    print(f"Model {args.model!r} on {_plural(len(X), 'clip')} ({total:.0f} s) of "
          f"{str(args.data_dir)!r}, dB (higher is better):\n")
    print(table)
    print("\nOverall, length-weighted over clips"
          + ("" if args.no_bss else " (GNSDR/GSIR/GSAR: MIREX globals)") + ":\n")
    print(summary, flush=True)

    if args.out_csv is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        columns = ["clip", "source", "n_samples", "seconds", *_CLIP_METRICS]
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row[key]) for key in columns])
        print(f"wrote {_write_text(args.out_csv, buffer.getvalue(), args.overwrite)}")
    if args.out_json is not None:
        report = {
            "model": str(args.model),
            "estimator": type(model).__name__,
            "data": str(args.data_dir),
            "layout": layout,
            "split": (args.split or "test") if layout == "mir1k" else None,
            "sample_rate": int(rate),
            "source_names": list(names),
            "n_clips": len(X),
            "seconds": total,
            "bss": not args.no_bss,
            "clips": [{key: (_json_number(value) if isinstance(value, float) else value)
                       for key, value in row.items()} for row in rows],
            "overall": {name: {key: _json_number(value) for key, value in metrics.items()}
                        for name, metrics in overall.items()},
        }
        text = json.dumps(report, indent=2) + "\n"
        print(f"wrote {_write_text(args.out_json, text, args.overwrite)}")
    return EXIT_OK


def _csv_value(value):
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else ""
    return "" if value is None else value


# -- models ----------------------------------------------------------------------------------


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


def _cmd_models(args):
    from ._models import available_models

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
    print(_markdown_table(["name", "estimator", "sources", "sample rate", "size"], rows,
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


# -- parser ----------------------------------------------------------------------------------


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _paragraphs(text):
    """Wrap each blank-line-separated paragraph (the raw formatter keeps the epilogs' layout)."""
    return "\n\n".join(textwrap.fill(" ".join(paragraph.split()), width=79)
                       for paragraph in text.split("\n\n"))


def build_parser():
    """The ``sksep`` argument parser (exposed for documentation tools)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given after the command they override, not reset, the top-level flags.
    common.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars or status messages (results still go to stdout)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the full traceback of an error")

    prediction = argparse.ArgumentParser(add_help=False)
    prediction.add_argument("--head", choices=("mi", "dc"), default=None,
                            help="Chimera models: predict with the mask-inference head (mi, "
                                 "soft masks) or deep-clustering head (dc, K-means binary "
                                 "masks); default: the model's own setting")
    prediction.add_argument("--device", choices=("cpu", "cuda"), default=None,
                            help="where the network runs (default cpu); cuda needs a GPU "
                                 "and a CUDA build of torch, else exit code 2")

    parser = _Parser(
        prog="sksep", formatter_class=_formatter,
        description=_paragraphs(
            "Music source separation with scikit-learn-style models: separate songs into "
            "stems, train a model on your own stems, evaluate it."),
        epilog="examples:\n"
               "  sksep separate song.mp3    # ./separated/song/{vocals,accompaniment}.wav\n"
               "  sksep train ../MIR-1K --out my.sksep --epochs 20\n"
               "  sksep evaluate --model my.sksep ../MIR-1K --out-csv scores.csv\n"
               "  sksep models\n\n" + _EXIT_CODES_HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--quiet", "-q", action="store_true", default=False,
                        help="no progress bars or status messages")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="print the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    separate = commands.add_parser(
        "separate", parents=[common, prediction], formatter_class=_formatter,
        help="separate songs into stems (vocals, accompaniment)",
        description=_paragraphs("Separate songs into one audio file per source.\n\n"
                    "Reads WAV, FLAC, OGG and MP3 (M4A/MP4/AAC through ffmpeg); a folder "
                    "stands for every audio file in it (not in its sub-folders). The network "
                    "hears the mid signal of each song once, at the model's rate (16 kHz for "
                    "the shipped model), in overlapping blocks (memory stays bounded for long "
                    "songs); its masks are applied to every channel at the song's own rate, so "
                    "the stems are full-band, keep the song's sample rate, channel count, "
                    "length and stereo image, and sum to the song. Writes OUT/<song>/<source>."
                    "wav (or .flac, .mp3) and never overwrites an existing file unless "
                    "--overwrite is given; every target of every song is checked before "
                    "anything is written."),
        epilog="examples:\n  sksep separate song.mp3 other.flac --out stems --plot\n"
               "  sksep separate album/ --stems vocals --format flac --bit-depth 24\n\n"
               + _EXIT_CODES_HELP)
    separate.add_argument("songs", nargs="+", metavar="SONG", type=Path,
                          help="audio files, or folders of audio files, to separate")
    separate.add_argument("--model", "-m", default=DEFAULT_MODEL, metavar="NAME_OR_PATH",
                          help=f"shipped model name (see `sksep models`) or model file "
                               f"(default: {DEFAULT_MODEL})")
    separate.add_argument("--out", "-o", type=Path, default=Path("separated"), metavar="DIR",
                          help="output folder (default: ./separated)")
    separate.add_argument("--stems", type=_name_list, default=None, metavar="A[,B]",
                          help="write only these stems, e.g. vocals (default: every source "
                               "of the model)")
    separate.add_argument("--format", choices=OUTPUT_FORMATS, default="wav",
                          help="stem file format (default wav); mp3 where the installed "
                               "libsndfile writes it (1.1.0 or newer), else exit code 5")
    separate.add_argument("--bit-depth", choices=tuple(BIT_DEPTHS), default=None,
                          help="wav: 16, 24 or float; flac: 16 or 24 (default: the song's, "
                               "16 for compressed songs and 24 for float songs in FLAC; a "
                               "WAV stem peaking above full scale is float, not clipped)")
    separate.add_argument("--high-band", choices=HIGH_BAND_RULES, default="top",
                          help="masks above the model's Nyquist frequency: the top band's "
                               "(top, default) or the mean of its top octave (octave)")
    separate.add_argument("--overwrite", action="store_true",
                          help="replace existing output files")
    separate.add_argument("--plot", action="store_true",
                          help="also write OUT/<song>/separation.png: the mixture spectrogram "
                               f"and the masks of the first {PLOT_SECONDS:.0f} s (needs "
                               f"matplotlib: pip install 'sksep[plots]')")
    separate.add_argument("--block-seconds", type=_positive_float, default=60.0, metavar="S",
                          help="separate in blocks of S seconds, cross-faded over "
                               "min(4, S/2) s; smaller blocks use less memory (default: 60)")
    separate.set_defaults(run=_cmd_separate)

    train = commands.add_parser(
        "train", parents=[common], formatter_class=_formatter,
        help="train a separator on a folder of stems",
        description=_paragraphs(
                    "Train a separator on a folder of stems and save it as a model file.\n\n"
                    "STEMS_DIR is MIR-1K style (stereo <singer>_<song>_<clip>.wav, "
                    "accompaniment left, vocals right, optionally in Wavfile/ with a "
                    "split.csv) or MUSDB style (<song>/{mixture,vocals,drums,bass,other}."
                    "{wav,flac}). Audio is down-mixed to mono and resampled to 16 kHz. A "
                    "validation part of the clips (--validation-fraction) picks the epoch "
                    "whose weights are kept. Unset options keep the estimator's defaults "
                    "(the paper's: 4 x 500 BLSTM, embedding 20, alpha 0.1, 100 epochs)."),
        epilog="example:\n  sksep train ../shared/data/MIR-1K --out chimera.sksep --epochs 20 "
               "--hidden-size 300 --layers 2\n\n" + _EXIT_CODES_HELP)
    train.add_argument("stems_dir", type=Path, metavar="STEMS_DIR", help="folder of stems")
    train.add_argument("--out", "-o", type=Path, required=True, metavar="MODEL",
                       help="model file to write (e.g. my-model.sksep)")
    train.add_argument("--estimator", choices=("chimera", "dc"), default="chimera",
                       help="chimera: ChimeraSeparator; dc: DeepClusteringSeparator "
                            "(default: chimera)")
    train.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                       help="maximum training epochs (default 100; stops early after 10 "
                            "epochs without improvement)")
    train.add_argument("--hidden-size", type=_positive_int, default=None, metavar="H",
                       help="BLSTM units per direction (default 500)")
    train.add_argument("--layers", type=_positive_int, default=None, metavar="L",
                       help="BLSTM layers (default 4)")
    train.add_argument("--embedding-dim", type=_positive_int, default=None, metavar="D",
                       help="embedding dimension D (default 20)")
    train.add_argument("--alpha", type=_unit_interval, default=None, metavar="A",
                       help="chimera: weight of the deep-clustering loss, 0..1 (default 0.1)")
    train.add_argument("--segment-frames", type=_positive_int, default=None, metavar="F",
                       help="training segment length in STFT frames (default 100 = 0.8 s)")
    train.add_argument("--sources", type=_source_list, default=None, metavar="A,B",
                       help="MUSDB-style folders: stems to separate, in order (default "
                            "vocals,accompaniment; accompaniment = every stem but the vocals)")
    train.add_argument("--split", choices=("train", "test", "all"), default=None,
                       help="MIR-1K-style folders: clips to train on (default train: the "
                            "split.csv train clips, or singers abjones and amy)")
    train.add_argument("--max-clips", type=_positive_int, default=None, metavar="N",
                       help="use only the first N clips (songs), for quick experiments")
    train.add_argument("--validation-fraction", type=_fraction, default=None, metavar="V",
                       help="share of clips held out to pick the best epoch (default 0.1)")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default 1e-3)")
    train.add_argument("--optimizer", choices=("rmsprop", "adam"), default=None,
                       help="torch optimizer (default rmsprop, as Luo et al.)")
    train.add_argument("--batch-size", type=_positive_int, default=None, metavar="B",
                       help="segments per batch (default 16)")
    train.add_argument("--device", default=None, help="torch device, e.g. cuda (default cpu)")
    train.add_argument("--random-state", type=int, default=0, metavar="SEED",
                       help="seed of the split, weights and batch order (default 0)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    train.set_defaults(run=_cmd_train)

    evaluate = commands.add_parser(
        "evaluate", parents=[common, prediction], formatter_class=_formatter,
        help="score a model on a folder of stems",
        description=_paragraphs(
                    "Separate every clip of a folder of stems and score the estimates.\n\n"
                    "Prints per clip and source the SI-SDR improvement (SI-SDRi) and BSS Eval "
                    "SDR/SIR/SAR/NSDR, then per source the length-weighted SI-SDRi and the "
                    "MIREX globals GNSDR/GSIR/GSAR. All in dB, higher is better. Audio is "
                    "read at the model's sample rate, mono."),
        epilog="example:\n  sksep evaluate --model chimera-mir1k ../shared/data/MIR-1K "
               "--out-json scores.json\n\n" + _EXIT_CODES_HELP)
    evaluate.add_argument("data_dir", type=Path, metavar="DATA_DIR",
                          help="folder of stems, MIR-1K or MUSDB style (see `sksep train -h`)")
    evaluate.add_argument("--model", "-m", required=True, metavar="NAME_OR_PATH",
                          help="shipped model name or model file")
    evaluate.add_argument("--split", choices=("train", "test", "all"), default=None,
                          help="MIR-1K-style folders: clips to score (default test)")
    evaluate.add_argument("--max-clips", type=_positive_int, default=None, metavar="N",
                          help="score only the first N clips (songs)")
    evaluate.add_argument("--no-bss", action="store_true",
                          help="skip BSS Eval (SDR/SIR/SAR, GNSDR...): only SI-SDRi, much faster")
    evaluate.add_argument("--out-csv", type=Path, default=None, metavar="FILE",
                          help="write the per-clip scores as CSV")
    evaluate.add_argument("--out-json", type=Path, default=None, metavar="FILE",
                          help="write per-clip and overall scores as JSON")
    evaluate.add_argument("--block-seconds", type=_positive_float, default=60.0, metavar="S",
                          help="separate long clips in blocks of S seconds (default: 60)")
    evaluate.add_argument("--overwrite", action="store_true",
                          help="replace existing CSV/JSON files")
    evaluate.set_defaults(run=_cmd_evaluate)

    models = commands.add_parser(
        "models", parents=[common], formatter_class=_formatter,
        help="list the trained models shipped with sksep",
        description=_paragraphs(
                    "List the trained models shipped with sksep: estimator, sources, sample "
                    "rate, size, training data and scores measured on the MIR-1K test "
                    "singers."),
        epilog=_EXIT_CODES_HELP)
    models.add_argument("--json", action="store_true", help="print the model registry as JSON")
    models.set_defaults(run=_cmd_models)
    return parser


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("sksep")
    except PackageNotFoundError:
        return "unknown"


def _exit_code(error):
    """The documented exit code of an exception."""
    from .exceptions import (DiskFullError, InvalidInputError, MissingProgramError,
                             OutputLocationError)

    if isinstance(error, (OutputLocationError, DiskFullError)):
        return EXIT_CANNOT_WRITE
    if isinstance(error, UsageError):
        return EXIT_USAGE
    if isinstance(error, FileExistsError):
        return EXIT_EXISTS
    if isinstance(error, (MissingProgramError, ImportError)):
        return EXIT_MISSING_PROGRAM
    if isinstance(error, (FileNotFoundError, IsADirectoryError, NotADirectoryError,
                          InvalidInputError)):
        return EXIT_BAD_INPUT
    return EXIT_ERROR


def main(argv=None):
    """Run the ``sksep`` command line; returns the exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with code 2 on bad usage
    try:
        with _unwind_on_sigterm(), _escaped_stdout():
            return args.run(args)
    except KeyboardInterrupt:
        print("sksep: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print("sksep: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as error:  # noqa: BLE001 -- every error becomes one line and an exit code
        if args.debug:
            traceback.print_exc()
        code = _exit_code(error)
        message = str(error) or type(error).__name__
        if code == EXIT_ERROR:
            message = f"{type(error).__name__}: {message}"
        elif code == EXIT_EXISTS:
            message = message.replace("pass overwrite=True", "pass --overwrite")
        print(f"sksep: error: {message.splitlines()[0] if message else ''}", file=sys.stderr)
        return code


def _raise_terminated(signum, frame):
    """SIGTERM handler: unwind the stack as Ctrl-C does."""
    raise _Terminated


@contextlib.contextmanager
def _unwind_on_sigterm():
    """Turn SIGTERM into an exception, so that the file being written is cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _escaped_stdout():
    """Print file names that are not valid UTF-8 with escapes, as stderr does, not fail."""
    errors = getattr(sys.stdout, "errors", None)
    if errors is None or not hasattr(sys.stdout, "reconfigure"):
        yield
        return
    sys.stdout.reconfigure(errors="backslashreplace")
    try:
        yield
    finally:
        sys.stdout.reconfigure(errors=errors)
