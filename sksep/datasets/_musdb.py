"""Loader for MUSDB-style folders: one folder per song, one audio file per stem."""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._validation import check_choice, check_int
from ..audio_io import load_audio
from ..exceptions import InvalidInputError, InvalidParameterTypeError

__all__ = ["load_musdb", "song_folders"]

#: Extensions a stem file may have.
STEM_EXTENSIONS = (".wav", ".flac")

MUSDB_SOURCES = ("vocals", "drums", "bass", "other")

_LAYOUT = "<song>/{mixture,vocals,drums,bass,other}.{wav,flac}"


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


def song_folders(root):
    """The song folders of the existing folder ``root`` (a :class:`pathlib.Path`), sorted:
    its sub-folders, but hidden ones, that hold at least one stem file; empty if ``root``
    is not MUSDB style."""
    return [folder for folder in sorted(root.iterdir())
            if folder.is_dir() and not folder.name.startswith(".") and _stem_files(folder)]


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
        A folder of song folders, ``<song>/{mixture,vocals,drums,bass,other}.{wav,flac}``
        (the layout of MUSDB18 decoded with ``musdb``'s stem export, or MUSDB18-HQ).
    sources : tuple of str, default=("vocals", "drums", "bass", "other")
        The stems to return, in this order; any stem file name works.
        ``"accompaniment"`` is the file ``accompaniment.*`` when a song has one,
        else the sum of every stem present except the mixture and the vocals.
    sample_rate : int, optional
        Resample every file to this rate in Hz with :func:`librosa.resample`
        (e.g. 16000 for the 16 kHz separators). ``None`` keeps the rate of the
        first file read; files at another rate are resampled to it.
    mono : bool, default=True
        Down-mix each file to mono by averaging its channels.
    max_songs : int, optional
        Keep only the first ``max_songs`` songs in name order.

    Returns
    -------
    data : sklearn.utils.Bunch
        - ``X``: list of ndarray of float32, the mixtures: ``(n_samples_i,)`` if
          ``mono`` else ``(n_channels, n_samples_i)``. The file ``mixture.*``
          when the song has one, else the sum of the requested sources.
        - ``Y``: list of ndarray of float32, the sources: ``(n_sources, n_samples_i)``
          if ``mono`` else ``(n_sources, n_channels, n_samples_i)``.
        - ``names``: ndarray of str, the song folder names, sorted.
        - ``groups``: ndarray of str, the song of each item (same as ``names``).
        - ``source_names``: tuple of str, ``sources``.
        - ``sample_rate``: int, Hz.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    sksep.exceptions.InvalidInputError
        If ``root`` holds no song folder with stems, a song lacks a requested stem,
        or the files of one song differ in length or channel count.

    Notes
    -----
    In MUSDB18 proper the mixture is not exactly the sum of the stems (mastering);
    in the excerpts under ``../shared/data/MUSDB18-excerpts`` it is, to 16-bit
    rounding (6.1e-5).

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
    songs = song_folders(root)
    if not songs:
        raise InvalidInputError(
            f"{str(root)!r} holds no song folders with stems; expected the layout {_LAYOUT}"
        )
    songs = songs[:max_songs]

    X, Y = [], []
    rate = sample_rate
    for song in songs:
        stems = _stem_files(song)
        parts = {}  # source -> the stem files it is made of
        for source in sources:
            if source in stems:
                parts[source] = [source]
            elif source == "accompaniment" and _non_vocal(stems):
                parts[source] = _non_vocal(stems)
            else:
                raise InvalidInputError(
                    f"song {song.name!r} in {str(root)!r} has no {source!r} stem "
                    f"({source}.wav or {source}.flac); found {sorted(stems)}"
                )
        needed = sorted({name for names in parts.values() for name in names}
                        | ({"mixture"} & set(stems)))
        audio = {}
        for name in needed:
            # The first file read fixes the rate when sample_rate is None.
            audio[name], rate = load_audio(stems[name], sample_rate=rate, mono=mono)
        _check_same_shape(song, audio)
        sources_array = np.stack([np.sum([audio[name] for name in parts[source]], axis=0)
                                  for source in sources]).astype(np.float32, copy=False)
        mixture = audio["mixture"] if "mixture" in audio else sources_array.sum(axis=0)
        X.append(np.ascontiguousarray(mixture, dtype=np.float32))
        Y.append(np.ascontiguousarray(sources_array))

    names = np.array([song.name for song in songs])
    return Bunch(X=X, Y=Y, names=names, groups=names.copy(), source_names=sources,
                 sample_rate=int(rate))


def _non_vocal(stems):
    return [name for name in stems if name not in ("mixture", "vocals", "accompaniment")]


def _check_same_shape(song, audio):
    shapes = {name: track.shape for name, track in audio.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise InvalidInputError(
            f"song {song.name!r} has stem files of different shapes ({listed}); expected every "
            f"file of a song to have the same length and number of channels"
        )
