"""``sksep separate``: songs into one audio file per stem
(:func:`sksep.separation.separate_file`); its options are in ``_arguments.py``."""

import os
import warnings
from functools import partial
from pathlib import Path

from .. import separation
from .._api import select_stems
from .._atomic import atomic_write, check_folder, check_path_length, remove_stale_temporaries
from .._spectral import resample
from ..audio_io import (READ_SUFFIXES, AudioReader, check_audio_file, check_write_format,
                        file_subtype, load_audio)
from ..exceptions import DamagedAudioWarning, InvalidInputError, OutputLocationError
from ..plotting import check_matplotlib, plot_masks
from ..separators._pipeline import final_step
from ._arguments import BIT_DEPTHS, PLOT_SECONDS
from ._console import plural, result, say, shows_progress, warnings_as_lines
from ._exit import EXIT_OK, UsageError, usage_errors
from ._files import check_outputs
from ._jobs import run_in_processes
from ._prediction import check_cluster_names, load_model

#: The bit depth a stem gets by default from its song's sample encoding (others: 16).
_SONG_DEPTHS = {"FLOAT": "float", "DOUBLE": "float", "PCM_24": "24", "PCM_32": "24"}

#: MUSDB18's song files, ``<song>.stem.mp4``: their stems go to ``OUT/<song>/``.
_STEM_FILE_SUFFIX = ".stem.mp4"

#: In a ``--jobs`` worker process: the command's arguments, the model and its source names.
_worker = {}


def run(args):
    """Separate every song; every output is checked before the first song is separated."""
    check_path_length(args.out, name="--out", folder=True)
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
        check_matplotlib()  # a missing matplotlib fails here, before any work

    model, names = _separating_model(args)
    with usage_errors():
        stems = select_stems(args.stems, names, name="--stems")
    work = [(song, {name: folder / f"{name}.{args.format}" for name in stems},
             folder / "separation.png" if args.plot else None)
            for song, folder in zip(songs, folders)]
    check_outputs(args, [path for _, targets, plot in work
                         for path in [*targets.values(), *([plot] if plot else [])]],
                  inside=args.out)
    jobs = min(args.jobs, len(songs))
    if jobs == 1:
        block_jobs = args.jobs if len(songs) == 1 else None
        for song, targets, plot in work:
            _separate_one(args, model, names, song, targets, plot,
                          progress=shows_progress(args), block_jobs=block_jobs)
        return EXIT_OK

    say(args, f"separating {plural(len(songs), 'song')} in {jobs} processes, one thread each")
    run_in_processes(_separate_in_worker, work, jobs=jobs, setup=_load_worker_model,
                     setup_args=(args,))
    return EXIT_OK


def _separating_model(args):
    """The model that separates the songs, and its stem names: the model of ``--model``,
    or with ``--query`` the separator by its example (stems ``query`` and ``rest``)."""
    model, names = load_model(args)
    check_cluster_names(args, model, names)
    if args.query is None:
        return model, names
    return _by_example(args, model)


def _by_example(args, model):
    """``model``'s :class:`~sksep.separators.class_conditional.QuerySeparator` for the
    example of ``--query``, and its stem names.

    Raises
    ------
    UsageError
        The model does not separate by example (exit code 2).
    FileNotFoundError, sksep.exceptions.InvalidInputError
        The example is missing, not readable audio, too short or silent (exit code 3).
    """
    separator = final_step(model)
    if not hasattr(separator, "query_separator"):
        raise UsageError(
            f"--query: model {str(args.model)!r} ({type(separator).__name__}) does not "
            f"separate by example; expected a class-conditional model with embeddings, "
            f"e.g. --model class-conditional-mir1k")
    try:
        example, _ = load_audio(args.query, sample_rate=separator.grid_.sample_rate)
        by_example = separator.query_separator(example)
    except (FileNotFoundError, InvalidInputError) as error:  # the same exit code, and
        message = str(error).replace("X_query[0]", repr(str(args.query)), 1)  # its name
        raise type(error)(f"--query: {message}") from None
    return by_example, tuple(by_example.source_names_)


def _load_worker_model(args):
    """``--jobs`` worker set-up: load the model once (see :mod:`sksep.cli._jobs`)."""
    model, names = _separating_model(args)
    _worker.update(args=args, model=model, names=names)


def _separate_in_worker(item):
    """``--jobs`` worker task: separate one song, ``(song, targets, plot)``."""
    song, targets, plot = item
    with warnings_as_lines():  # as the command shows them
        # No progress bar: the bars of several processes would overwrite each other.
        _separate_one(_worker["args"], _worker["model"], _worker["names"], song, targets,
                      plot, progress=False)


def _separate_one(args, model, names, song, targets, plot, *, progress, block_jobs=None):
    """Separate ``song``, write the stems of ``targets`` (``{name: path}``) and, unless
    ``plot`` is None, the figure there; ``block_jobs`` blocks of it at once."""
    try:
        _separate_song(args, model, names, song, targets, progress=progress,
                       block_jobs=block_jobs)
        if plot is not None:
            _plot_song(args, model, names, song, plot)
    except BaseException:
        # Ctrl-C or SIGTERM can land between a temporary file's creation and the code
        # that removes it on unwinding; nothing else writes this song's targets.
        for path in [*targets.values(), *([plot] if plot is not None else [])]:
            remove_stale_temporaries(path)
        raise


def _songs(paths):
    """The songs to separate: each file named, and every audio file in each folder named
    (not in its sub-folders), by name."""
    songs = []
    for path in map(Path, paths):
        if not os.path.isdir(path):  # a name too long to exist: an error, not a folder
            songs.append(check_audio_file(path))  # a pipe is refused here, never read
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


def _song_folder(out, song):
    """``out / <the song's file name without extension>`` (``.stem.mp4`` for a MUSDB18
    song file), if that is a plain folder name."""
    name = song.stem  # never holds a separator, but "...wav" gives ".." and "..wav" "."
    if song.name.lower().endswith(_STEM_FILE_SUFFIX):
        name = song.name[:-len(_STEM_FILE_SUFFIX)]
    if name in ("", ".", ".."):
        raise OutputLocationError(
            f"song {str(song)!r} would be written to the folder {name!r} in --out; expected a "
            f"file name that makes a plain folder name (not '.' or '..'): rename the file")
    return out / name


def _check_encoding(args):
    """Refuse, before any work, a format this libsndfile cannot write (exit 5) or a bit
    depth the format cannot hold (exit 2)."""
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


def _separate_song(args, model, names, song, targets, *, progress, block_jobs=None):
    """Separate ``song`` and write the stems of ``targets`` (``{name: path}``); a
    progress bar if ``progress``; ``block_jobs`` blocks at once (``n_jobs`` of
    :func:`sksep.separation.separate_to_files`)."""
    say(args, f"separating {str(song)!r} with {args.model!r} at {model.grid_.sample_rate} Hz")
    song_subtype = file_subtype(song)
    # Unless the format, --bit-depth or a float song fixes it, a WAV stem's encoding
    # depends on its peak (float above full scale): chosen once the stem is complete.
    fixed = (args.format != "wav" or args.bit_depth is not None
             or _SONG_DEPTHS.get(song_subtype) == "float")
    subtype = (_stem_encoding(args, song_subtype, 0.0)[0] if fixed
               else (lambda peak: _stem_encoding(args, song_subtype, peak)[0]))
    with warnings.catch_warnings():  # clipping is told in the note instead
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("default", DamagedAudioWarning)  # but a damaged song is told
        written = separation.separate_to_files(
            model, song, targets, source_names=names, block_seconds=args.block_seconds,
            high_band=args.high_band, wiener_iterations=args.wiener_iterations,
            subtype=subtype, overwrite=args.overwrite, n_jobs=block_jobs, progress=progress)
    for stem in written.values():
        result(f"wrote {stem.path}{_stem_encoding(args, song_subtype, stem.peak)[1]}")


def _plot_song(args, model, names, song, path):
    """Write the figure of the mixture and the masks of the song's first seconds."""
    model_rate = model.grid_.sample_rate
    with AudioReader(song) as reader:  # only the seconds plotted, not the whole song
        head = reader.read(0, min(reader.n_samples, int(PLOT_SECONDS * reader.sample_rate)))
        excerpt = resample(head.mean(axis=0), orig_sr=reader.sample_rate,
                           target_sr=model_rate)
    record = model.features_.transform([excerpt])[0]
    masks = model.predict_masks([record])[0]
    figure = plot_masks(record, masks, source_names=names)
    figure.suptitle(f"{song.name}: first {len(excerpt) / model_rate:.0f} s")
    atomic_write(path, partial(figure.savefig, format="png", dpi=110), overwrite=args.overwrite)
    result(f"wrote {path}")
