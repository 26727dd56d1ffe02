"""Loader for MUSDB-style folders: one folder per song with one audio file per stem, or
MUSDB18's own ``.stem.mp4`` files (every stem an AAC stream of one file)."""

import shutil
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._spectral import resample
from .._validation import check_choice, check_int
from ..audio_io import FILE_SAMPLE_RATES, load_audio
from ..exceptions import InvalidInputError, InvalidParameterTypeError, MissingProgramError

__all__ = ["load_musdb", "musdb_songs", "read_stem_file", "STEM_FILE_SUFFIX",
           "STEM_FILE_STREAMS"]

#: Extensions a stem file of a song folder may have.
STEM_EXTENSIONS = (".wav", ".flac")

#: Suffix of a song file holding every stem, as MUSDB18 ships them (Native Instruments' stem
#: format: an MP4 file with one AAC stream per stem).
STEM_FILE_SUFFIX = ".stem.mp4"

#: The streams of a MUSDB18 ``.stem.mp4`` file, in the order the file holds them.
STEM_FILE_STREAMS = ("mixture", "drums", "bass", "other", "vocals")

MUSDB_SOURCES = ("vocals", "drums", "bass", "other")

#: AAC decoders pad the last frame of 1024 samples: a decoded stream may run this much
#: past the length its container declares; one that falls short by more is truncated.
_AAC_PADDING = 2048

_LAYOUT = ("<song>/{mixture,vocals,drums,bass,other}.{wav,flac} or <song>.stem.mp4 files "
           "(MUSDB18)")


def _stem_files(song_folder):
    """Map stem name -> file for the audio files of one song folder."""
    stems = {}
    for file in sorted(song_folder.iterdir()):
        if file.suffix.lower() not in STEM_EXTENSIONS or not file.is_file():
            continue
        stem = file.stem.lower()
        if stem in stems:
            raise InvalidInputError(
                f"song {song_folder.name!r} has two files for stem {stem!r}: "
                f"{stems[stem].name!r} and {file.name!r}; expected one"
            )
        stems[stem] = file
    return stems


def is_stem_file(path):
    """Whether ``path`` (a :class:`pathlib.Path`) is named as a MUSDB18 song file,
    ``<song>.stem.mp4`` (any case)."""
    return (path.name.lower().endswith(STEM_FILE_SUFFIX)
            and len(path.name) > len(STEM_FILE_SUFFIX))


def musdb_songs(root):
    """The songs of the existing folder ``root`` (a :class:`pathlib.Path`), sorted by name.

    A song is a sub-folder that holds at least one stem file (``<song>/vocals.wav``...),
    or a ``<song>.stem.mp4`` file; hidden entries are skipped.

    Returns
    -------
    songs : list of (str, pathlib.Path)
        Each song's name (the folder's name, or the file's without ``.stem.mp4``) and
        path; empty if ``root`` is not MUSDB style.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        Two songs have one name (``a/`` and ``a.stem.mp4``), or a song folder has two
        files for one stem.
    """
    songs = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and _stem_files(entry):
            name = entry.name
        elif entry.is_file() and is_stem_file(entry):
            name = entry.name[:-len(STEM_FILE_SUFFIX)]
        else:
            continue
        if name in songs:
            raise InvalidInputError(
                f"song {name!r} in {str(root)!r} is both {songs[name].name!r} and "
                f"{entry.name!r}; expected one song folder or one {STEM_FILE_SUFFIX} file "
                f"per song")
        songs[name] = entry
    return sorted(songs.items())


def split_folders_hint(root):
    """A hint for a folder that holds songs one level down, in ``train/`` and ``test/``
    (how MUSDB18 and MUSDB18-HQ unpack); empty if it does not."""
    splits = [name for name in ("train", "test")
              if (root / name).is_dir() and musdb_songs(root / name)]
    if not splits:
        return ""
    return (f" (its songs are in {' and '.join(f'{name}/' for name in splits)}: pass "
            f"{str(root / splits[0])!r})")


def _check_sources(sources):
    if isinstance(sources, str) or not hasattr(sources, "__iter__"):
        raise InvalidParameterTypeError(
            f"sources={sources!r} must be a tuple of stem names, e.g. {MUSDB_SOURCES}"
        )
    sources = tuple(sources)
    if not sources or not all(isinstance(s, str) and s for s in sources):
        raise InvalidInputError(
            f"sources={sources!r} must be a non-empty tuple of stem names, e.g. {MUSDB_SOURCES}"
        )
    if len(set(sources)) != len(sources):
        raise InvalidInputError(f"sources={sources!r} names a stem twice; expected distinct stems")
    if "mixture" in sources:
        raise InvalidInputError(
            f"sources={sources!r} includes 'mixture'; the mixture is returned as X, not a source"
        )
    overlapping = [s for s in sources if s not in ("vocals", "accompaniment")]
    if "accompaniment" in sources and overlapping:
        raise InvalidInputError(
            f"sources={sources!r} holds 'accompaniment' and {overlapping}, which it already "
            f"contains; expected e.g. ('vocals', 'accompaniment') or {MUSDB_SOURCES}"
        )
    return sources


def load_musdb(root, *, sources=MUSDB_SOURCES, sample_rate=None, mono=True, max_songs=None):
    """Load a MUSDB-style folder of songs and their stems.

    Parameters
    ----------
    root : str or os.PathLike
        A folder of songs, each either a song folder
        ``<song>/{mixture,vocals,drums,bass,other}.{wav,flac}`` (MUSDB18-HQ, or MUSDB18
        decoded with ``musdb``'s stem export) or a ``<song>.stem.mp4`` file as MUSDB18
        ships them (one AAC stream per stem: mixture, drums, bass, other, vocals;
        decoded by ``ffmpeg`` through the ``stempeg`` package). A folder may hold both
        kinds. MUSDB18 unpacks into ``train/`` and ``test/``: pass one of those.
    sources : tuple of str, default=("vocals", "drums", "bass", "other")
        The stems to return, in this order; any stem file name works in song folders,
        the four MUSDB18 stems in ``.stem.mp4`` files. ``"accompaniment"`` is the file
        ``accompaniment.*`` when a song has one, else the sum of every stem present
        except the mixture and the vocals.
    sample_rate : int, optional
        Resample every file to this rate in Hz (soxr, high quality, as
        :func:`~sksep.audio_io.load_audio`; e.g. 16000 for the 16 kHz separators).
        ``None`` keeps the rate of the first file read; files at another rate are
        resampled to it.
    mono : bool, default=True
        Down-mix each file to mono by averaging its channels.
    max_songs : int, optional
        Keep only the first ``max_songs`` songs in name order.

    Returns
    -------
    data : sklearn.utils.Bunch
        - ``X``: list of ndarray of float32, the mixtures: ``(n_samples_i,)`` if
          ``mono`` else ``(n_channels, n_samples_i)``. The file ``mixture.*`` (or the
          mixture stream) when the song has one, else the sum of the requested sources.
        - ``Y``: list of ndarray of float32, the sources: ``(n_sources, n_samples_i)``
          if ``mono`` else ``(n_sources, n_channels, n_samples_i)``.
        - ``names``: ndarray of str, the song names (folder names, or file names
          without ``.stem.mp4``), sorted.
        - ``groups``: ndarray of str, the song of each item (same as ``names``).
        - ``source_names``: tuple of str, ``sources``.
        - ``sample_rate``: int, Hz.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    sksep.exceptions.InvalidInputError
        If ``root`` holds no songs, a song lacks a requested stem, the files of one
        song differ in length or channel count, or a ``.stem.mp4`` file is unreadable
        or does not hold MUSDB18's five streams.
    sksep.exceptions.MissingProgramError
        A ``.stem.mp4`` file is read and ``ffmpeg``/``ffprobe`` are not on ``PATH``
        or the ``stempeg`` package is not installed.

    Notes
    -----
    In MUSDB18 proper the mixture is not exactly the sum of the stems (mastering);
    in the excerpts under ``../shared/data/MUSDB18-excerpts`` it is, to 16-bit
    rounding (6.1e-5). The streams of a ``.stem.mp4`` file are AAC, a lossy code:
    a decoded stem differs from the studio stem by the coding noise, and each stream
    is cut to the length its container declares (AAC decoders pad the last frame).

    See Also
    --------
    load_mir1k : MIR-1K-style folders of stereo karaoke clips.
    load_stems_folder : Detects the layout and calls the right loader.

    Examples
    --------
    >>> from sksep.datasets import load_musdb
    >>> data = load_musdb("../shared/data/MUSDB18-excerpts", sample_rate=16000,
    ...                   sources=("vocals", "accompaniment"), max_songs=1)
    >>> data.names.tolist(), data.source_names, data.sample_rate
    (['AM Contra - Heart Peripheral'], ('vocals', 'accompaniment'), 16000)
    >>> data.X[0].shape, data.Y[0].shape
    ((474059,), (2, 474059))
    """
    root = Path(root)
    sources = _check_sources(sources)
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1, allow_none=True)
    check_choice(mono, name="mono", choices=(True, False))
    max_songs = check_int(max_songs, name="max_songs", minimum=1, allow_none=True)
    if not root.exists():
        raise FileNotFoundError(f"MUSDB-style folder root={str(root)!r} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"root={str(root)!r} is a file; expected a folder of songs")
    songs = musdb_songs(root)
    if not songs:
        raise InvalidInputError(
            f"{str(root)!r} holds no song folders with stems; expected the layout {_LAYOUT}"
            + split_folders_hint(root)
        )
    songs = songs[:max_songs]

    X, Y = [], []
    rate = sample_rate
    for name, song in songs:
        stems = _song_stems(song)
        parts = {}  # source -> the stems it is made of
        for source in sources:
            if source in stems:
                parts[source] = [source]
            elif source == "accompaniment" and _non_vocal(stems):
                parts[source] = _non_vocal(stems)
            else:
                raise InvalidInputError(_missing_stem(root, name, song, source, stems))
        needed = sorted({stem for stems_of in parts.values() for stem in stems_of}
                        | ({"mixture"} & set(stems)))
        # The first file read fixes the rate when sample_rate is None.
        audio, rate = _read_song(song, stems, needed, sample_rate=rate, mono=mono)
        _check_same_shape(name, audio)
        sources_array = np.stack([np.sum([audio[stem] for stem in parts[source]], axis=0)
                                  for source in sources]).astype(np.float32, copy=False)
        mixture = audio["mixture"] if "mixture" in audio else sources_array.sum(axis=0)
        X.append(np.ascontiguousarray(mixture, dtype=np.float32))
        Y.append(np.ascontiguousarray(sources_array))

    names = np.array([name for name, _ in songs])
    return Bunch(X=X, Y=Y, names=names, groups=names.copy(), source_names=sources,
                 sample_rate=int(rate))


def _song_stems(song):
    """The stems of a song: ``{name: file}`` for a song folder, ``{name: stream position}``
    for a ``.stem.mp4`` file."""
    if song.is_dir():
        return _stem_files(song)
    return {name: position for position, name in enumerate(STEM_FILE_STREAMS)}


def _missing_stem(root, name, song, source, stems):
    """The message for a song that lacks a requested source."""
    if song.is_dir():
        return (f"song {name!r} in {str(root)!r} has no {source!r} stem "
                f"({source}.wav or {source}.flac); found {sorted(stems)}")
    return (f"song {name!r} in {str(root)!r} ({song.name}) has no {source!r} stem; a "
            f"{STEM_FILE_SUFFIX} file holds {', '.join(STEM_FILE_STREAMS)} (and "
            f"'accompaniment' is every stem but the vocals)")


def _read_song(song, stems, needed, *, sample_rate, mono):
    """``({stem: audio}, rate)`` for the ``needed`` stems of a song, as
    :func:`~sksep.audio_io.load_audio` returns audio."""
    if not song.is_dir():
        return read_stem_file(song, needed, sample_rate=sample_rate, mono=mono)
    audio, rate = {}, sample_rate
    for stem in needed:
        audio[stem], rate = load_audio(stems[stem], sample_rate=rate, mono=mono)
    return audio, rate


def read_stem_file(path, stems, *, sample_rate=None, mono=True):
    """Decode streams of a MUSDB18 ``.stem.mp4`` file with ``stempeg`` (``ffmpeg``).

    Parameters
    ----------
    path : pathlib.Path
        The file; it must hold the five streams of :data:`STEM_FILE_STREAMS`.
    stems : sequence of str
        The streams to decode, by name (a subset of :data:`STEM_FILE_STREAMS`).
    sample_rate : int, optional
        Resample to this rate in Hz (soxr, high quality), as
        :func:`~sksep.audio_io.load_audio` does; None keeps the file's.
    mono : bool, default=True
        Average the channels.

    Returns
    -------
    audio : dict of str to ndarray of float32
        Each stem, ``(n_samples,)`` if ``mono`` else ``(n_channels, n_samples)``; every
        stem has the same length.
    sample_rate : int
        The rate of ``audio`` in Hz.
    """
    stempeg, probe_error = _import_stempeg(path)
    try:
        info = stempeg.Info(str(path))
    except probe_error as error:
        detail = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        raise InvalidInputError(
            f"{str(path)!r} is not a readable stem file (ffprobe: "
            f"{detail[-1] if detail else error}); expected an MP4 file with MUSDB18's "
            f"{len(STEM_FILE_STREAMS)} streams") from None
    file_rate = _check_streams(path, info)
    declared = [_declared_samples(info, k, file_rate) for k in range(info.nb_audio_streams)]
    decoded = {}
    for stem in stems:
        position = STEM_FILE_STREAMS.index(stem)
        stream, _ = stempeg.read_stems(
            str(path), stem_id=info.audio_stream_idx()[position], always_3d=True,
            dtype=np.float32, info=info, sample_rate=file_rate)
        decoded[stem] = stream[0].T  # (n_channels, n_samples)
        if declared[position] is not None and (
                decoded[stem].shape[1] < declared[position] - _AAC_PADDING):
            raise InvalidInputError(
                f"{str(path)!r}: the {stem} stream decodes to {decoded[stem].shape[1]} "
                f"samples, its container declares {declared[position]}; the file is "
                f"truncated or damaged")
    length = min([track.shape[1] for track in decoded.values()]
                 + [n for n in declared if n is not None])
    if length == 0:
        raise InvalidInputError(f"{str(path)!r} contains no audio samples; expected a "
                                f"non-empty stem file")
    audio = {}
    for stem, track in decoded.items():
        track = track[:, :length]
        if not np.all(np.isfinite(track)):
            raise InvalidInputError(f"{str(path)!r}: the {stem} stream contains NaN or "
                                    f"infinite samples; expected finite audio")
        if mono:
            track = track.mean(axis=0)
        if sample_rate is not None and sample_rate != file_rate:
            track = resample(track, orig_sr=file_rate, target_sr=sample_rate)
        audio[stem] = np.ascontiguousarray(track, dtype=np.float32)
    return audio, int(sample_rate or file_rate)


def _import_stempeg(path):
    """``stempeg`` and the error ``ffmpeg.probe`` raises, after checking that ``ffmpeg``
    and ``ffprobe`` are on ``PATH``."""
    for program in ("ffmpeg", "ffprobe"):
        if shutil.which(program) is None:
            raise MissingProgramError(
                f"reading {str(path)!r} ({STEM_FILE_SUFFIX} stems) needs the {program} "
                f"program, which was not found on PATH; install ffmpeg (Debian/Ubuntu: "
                f"`sudo apt-get install ffmpeg`, macOS: `brew install ffmpeg`) or unpack "
                f"the stems to WAV files with `musdb`")
    try:
        import ffmpeg  # optional dependency: the ffmpeg-python package, which stempeg calls
        import stempeg  # optional dependency (sksep[musdb])
    except ImportError as error:
        raise MissingProgramError(
            f"reading {str(path)!r} ({STEM_FILE_SUFFIX} stems) needs the stempeg package "
            f"({error}); install it with `pip install stempeg` or `pip install "
            f"'sksep[eval]'`") from None
    return stempeg, ffmpeg.Error


def _check_streams(path, info):
    """Refuse a file without MUSDB18's streams, or whose streams differ in channels or
    rate; return the rate in Hz."""
    n_streams = info.nb_audio_streams
    if n_streams != len(STEM_FILE_STREAMS):
        raise InvalidInputError(
            f"{str(path)!r} holds {n_streams} audio stream{'' if n_streams == 1 else 's'}; "
            f"expected MUSDB18's {len(STEM_FILE_STREAMS)} "
            f"({', '.join(STEM_FILE_STREAMS)}, in that order)")
    channels = set(info.channels_streams)
    rates = {info.sample_rate(k) for k in range(n_streams)}
    if len(channels) > 1 or len(rates) > 1:
        raise InvalidInputError(
            f"{str(path)!r} has streams with different channel counts {sorted(channels)} "
            f"or sample rates {sorted(rates)} Hz; expected one of each, as in MUSDB18")
    rate = rates.pop()
    low, high = FILE_SAMPLE_RATES
    if not low <= rate <= high:
        raise InvalidInputError(
            f"{str(path)!r} declares a sample rate of {rate} Hz; expected {low} to {high} "
            f"Hz (a damaged or mislabelled file?)")
    return rate


def _declared_samples(info, position, rate):
    """The length of stream ``position`` its container declares, in samples (None if
    it declares none)."""
    try:
        return round(float(info.audio_streams[position]["duration"]) * rate)
    except (KeyError, TypeError, ValueError):
        return None


def _non_vocal(stems):
    return [name for name in stems if name not in ("mixture", "vocals", "accompaniment")]


def _check_same_shape(song, audio):
    shapes = {name: track.shape for name, track in audio.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise InvalidInputError(
            f"song {song!r} has stem files of different shapes ({listed}); expected every "
            f"file of a song to have the same length and number of channels"
        )
