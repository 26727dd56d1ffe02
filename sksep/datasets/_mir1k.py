"""Loader for MIR-1K-style folders: stereo karaoke clips, accompaniment left, vocals right."""

import csv
from pathlib import Path

import numpy as np
import soundfile as sf
from sklearn.utils import Bunch

from .._validation import check_choice, check_int
from ..audio_io import load_audio
from ..exceptions import InvalidInputError

__all__ = ["load_mir1k", "is_mir1k_folder"]

#: Native sample rate of MIR-1K, in Hz.
MIR1K_SAMPLE_RATE = 16000

#: Training singers of Huang et al. (2014), used when a folder has no ``split.csv``.
HUANG_TRAIN_SINGERS = ("abjones", "amy")

SPLITS = ("train", "test", "all")


def _clip_parts(stem):
    """``"abjones_1_01"`` -> ``("abjones", "abjones_1")``, or None if not ``singer_song_clip``."""
    parts = stem.rsplit("_", 2)
    if len(parts) != 3 or not all(parts):
        return None
    singer, song, _ = parts
    return singer, f"{singer}_{song}"


def is_mir1k_folder(root):
    """Whether the existing folder ``root`` (a :class:`pathlib.Path`) is MIR-1K style: it
    has a ``Wavfile/`` sub-folder, or its first ``<singer>_<song>_<clip>.wav`` file (by
    name) is a stereo audio file."""
    if (root / "Wavfile").is_dir():
        return True
    for file in sorted(root.glob("*.wav")):
        if _clip_parts(file.stem) is not None:
            try:
                return sf.info(file).channels == 2
            except sf.SoundFileError:
                return False
    return False


def _wav_folder(root):
    """The folder holding the clips: ``root/Wavfile`` if it exists, else ``root`` itself."""
    wavfile = root / "Wavfile"
    return wavfile if wavfile.is_dir() else root


def _read_split_csv(csv_path):
    """Map clip id -> "train" / "test" from a ``clip,singer,split`` CSV file."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"clip", "split"} - set(reader.fieldnames or ())
        if missing:
            raise InvalidInputError(
                f"{str(csv_path)!r} has columns {reader.fieldnames}; expected clip,singer,split"
            )
        splits = {}
        for line, row in enumerate(reader, start=2):
            value = (row["split"] or "").strip()
            if value not in ("train", "test"):
                raise InvalidInputError(
                    f"{str(csv_path)!r} line {line}: split={value!r}; expected 'train' or 'test'"
                )
            splits[(row["clip"] or "").strip()] = value
    return splits


def load_mir1k(root, split="train", *, max_clips=None, return_X_y=False, sample_rate=None):
    """Load a MIR-1K-style folder of karaoke clips as mono mixtures and their two sources.

    Each clip is a stereo WAV with the accompaniment in the left channel and the
    singing voice in the right one; the mixture is their sum (0 dB in MIR-1K).

    Parameters
    ----------
    root : str or os.PathLike
        The dataset folder, holding ``Wavfile/<singer>_<song>_<clip>.wav`` (or the
        WAV files directly) and optionally ``split.csv`` with columns
        ``clip,singer,split`` (split = ``train`` or ``test``).
    split : {"train", "test", "all"}, default="train"
        Which clips to load. Without ``split.csv`` the split of Huang et al. (2014)
        is used: train = singers ``abjones`` and ``amy``, test = every other singer.
    max_clips : int, optional
        Keep only the first ``max_clips`` clips of the split, in name order
        (deterministic, for quick experiments).
    return_X_y : bool, default=False
        Return ``(X, Y)`` instead of a Bunch.
    sample_rate : int, optional
        Resample to this rate in Hz (soxr, high quality, as
        :func:`sksep.audio_io.load_audio`); ``None`` keeps MIR-1K's 16000 Hz.

    Returns
    -------
    data : sklearn.utils.Bunch
        - ``X``: list of ndarray of float32, ``(n_samples_i,)``, mixtures
          ``left + right`` (exactly ``Y[i].sum(axis=0)``).
        - ``Y``: list of ndarray of float32, ``(2, n_samples_i)``: row 0 the
          vocals (right channel), row 1 the accompaniment (left channel).
        - ``groups``: ndarray of str, the song of each clip (``"abjones_1"``),
          for :class:`~sklearn.model_selection.GroupKFold`.
        - ``names``: ndarray of str, clip ids (``"abjones_1_01"``), sorted.
        - ``singers``: ndarray of str, the singer of each clip.
        - ``source_names``: ``("vocals", "accompaniment")``.
        - ``sample_rate``: int, Hz.
    (X, Y) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    sksep.exceptions.InvalidInputError
        If ``split`` is unknown, the folder holds no WAV files, a file name is not
        ``<singer>_<song>_<clip>.wav``, a file is not a stereo audio file, or
        ``split.csv`` does not cover the clips.

    See Also
    --------
    load_musdb : Four-stem MUSDB-style folders.
    load_stems_folder : Detects the layout and calls the right loader.

    Examples
    --------
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> data.names.tolist(), data.groups.tolist()
    (['abjones_1_01', 'abjones_1_02'], ['abjones_1', 'abjones_1'])
    >>> data.X[0].shape, data.Y[0].shape, data.source_names, data.sample_rate
    ((185856,), (2, 185856), ('vocals', 'accompaniment'), 16000)
    """
    root = Path(root)
    check_choice(split, name="split", choices=SPLITS)
    max_clips = check_int(max_clips, name="max_clips", minimum=1, allow_none=True)
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1, allow_none=True)
    if not root.exists():
        raise FileNotFoundError(f"MIR-1K folder root={str(root)!r} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"root={str(root)!r} is a file; expected a MIR-1K folder")

    folder = _wav_folder(root)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav" and p.is_file())
    if not files:
        raise InvalidInputError(
            f"no .wav files in {str(folder)!r}; expected a MIR-1K folder with "
            f"Wavfile/<singer>_<song>_<clip>.wav"
        )
    clips = []
    for file in files:
        parts = _clip_parts(file.stem)
        if parts is None:
            raise InvalidInputError(
                f"{str(file)!r} is not named <singer>_<song>_<clip>.wav as MIR-1K clips are"
            )
        clips.append((file.stem, *parts, file))

    if split != "all":
        csv_path = root / "split.csv"
        if csv_path.is_file():
            splits = _read_split_csv(csv_path)
            unlisted = [name for name, *_ in clips if name not in splits]
            if unlisted:
                raise InvalidInputError(
                    f"{len(unlisted)} clips are not listed in {str(csv_path)!r} "
                    f"(first: {unlisted[0]!r}); add them or use split='all'"
                )
            clips = [clip for clip in clips if splits[clip[0]] == split]
        else:
            in_train = [clip for clip in clips if clip[1] in HUANG_TRAIN_SINGERS]
            clips = in_train if split == "train" else [
                clip for clip in clips if clip[1] not in HUANG_TRAIN_SINGERS]
        if not clips:
            raise InvalidInputError(f"split={split!r} holds no clips in {str(root)!r}")
    clips = clips[:max_clips]

    rate = sample_rate or MIR1K_SAMPLE_RATE
    X, Y = [], []
    for name, _, _, file in clips:
        stereo, _ = load_audio(file, sample_rate=rate, mono=False)
        if stereo.shape[0] != 2:
            raise InvalidInputError(
                f"{str(file)!r} has {stereo.shape[0]} channel(s); expected 2 "
                f"(left accompaniment, right vocals)"
            )
        sources = np.ascontiguousarray(stereo[::-1])  # (vocals = right, accompaniment = left)
        Y.append(sources)
        X.append(sources.sum(axis=0))
    if return_X_y:
        return X, Y
    return Bunch(
        X=X,
        Y=Y,
        groups=np.array([song for _, _, song, _ in clips]),
        names=np.array([name for name, *_ in clips]),
        singers=np.array([singer for _, singer, _, _ in clips]),
        source_names=("vocals", "accompaniment"),
        sample_rate=rate,
    )
