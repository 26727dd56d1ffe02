"""Reading and writing audio files.

:func:`load_audio` reads WAV, FLAC, OGG and MP3 with soundfile (libsndfile) and
AAC in ``.m4a`` / ``.mp4`` / ``.aac`` containers through the ``ffmpeg`` program;
it resamples and down-mixes on request. A file whose header declares a sample
rate outside :data:`FILE_SAMPLE_RATES` is refused. :func:`save_audio` writes
WAV, FLAC, OGG or MP3 (where the installed libsndfile writes MP3, see
:func:`check_write_format`) atomically: the file at the target path is either the
complete new file or untouched, never half-written.
"""

import errno
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from functools import partial
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from ._atomic import atomic_write
from ._validation import check_audio, check_choice, check_int
from .exceptions import InvalidInputError, InvalidParameterTypeError, MissingProgramError

__all__ = ["load_audio", "save_audio", "check_write_format", "file_subtype"]

#: Suffixes libsndfile cannot read, decoded through ffmpeg instead.
FFMPEG_SUFFIXES = (".m4a", ".mp4", ".aac")

#: Suffixes of the audio files a folder of songs is searched for (``sksep separate DIR``).
READ_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                 *FFMPEG_SUFFIXES)

#: Suffixes :func:`save_audio` writes, and the soundfile format of each.
WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}

#: The one sample encoding of each lossy format, which takes the place of a ``PCM_*`` subtype.
LOSSY_SUBTYPES = {"OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}

#: Lowest and highest sample rate, in Hz, that :func:`load_audio` accepts in a file's
#: header: from well below telephone audio (8 kHz) to the highest studio rates. A rate
#: outside is a damaged or mislabelled header; taken at its word, a 1 Hz header makes
#: seconds of samples into hours of audio once resampled to a model's rate.
FILE_SAMPLE_RATES = (1000, 768000)

#: libsndfile's error code for a failed system call (``SF_ERR_SYSTEM``, "System error.").
_LIBSNDFILE_SYSTEM_ERROR = 2

_FFMPEG_INSTALL_HINT = (
    "install it (Debian/Ubuntu: `sudo apt-get install ffmpeg`, macOS: `brew install ffmpeg`, "
    "conda: `conda install -c conda-forge ffmpeg`) or convert the file to WAV or FLAC first"
)


def _as_path(path, name="path"):
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterTypeError(
            f"{name} must be a str or os.PathLike file path, got {type(path).__name__}"
        )
    return Path(path)


def _soundfile_name(path):
    """``path`` as soundfile can open it.

    soundfile encodes ``str`` names strictly, so a name that is not valid in the file
    system's encoding (non-UTF-8 bytes, held by Python as surrogates) is passed as bytes.
    """
    text = os.fspath(path)
    try:
        text.encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        return os.fsencode(text)
    return text


def load_audio(path, *, sample_rate=None, mono=True):
    """Read an audio file into a float32 array.

    WAV, FLAC, OGG/Vorbis, MP3 and the other formats of libsndfile are read
    with soundfile. AAC files (``.m4a``, ``.mp4``, ``.aac``) are decoded by the
    ``ffmpeg`` program, run in a subprocess, which must be on ``PATH``.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sample_rate : int, optional
        Sample rate in Hz to return. When it differs from the file's rate the
        audio is resampled with :func:`librosa.resample` (soxr, high quality);
        ``None`` keeps the file's rate.
    mono : bool, default=True
        Down-mix to one channel by averaging the channels. Otherwise keep
        every channel.

    Returns
    -------
    audio : ndarray of float32
        Samples in [-1, 1] for integer-PCM files: shape ``(n_samples,)`` when
        ``mono=True``, else ``(n_channels, n_samples)`` (a mono file gives
        ``(1, n_samples)``).
    sample_rate : int
        The sample rate of ``audio`` in Hz.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    sksep.exceptions.InvalidInputError
        If ``path`` is a directory, or not a readable audio file (empty,
        truncated beyond its header, not audio, an MP3 holding only an ID3
        tag), or holds no samples, or its header declares a sample rate
        outside :data:`FILE_SAMPLE_RATES`.
    sksep.exceptions.MissingProgramError
        If an AAC file is read and ``ffmpeg`` is not on ``PATH``.

    See Also
    --------
    save_audio : Write audio atomically.

    Examples
    --------
    >>> from sksep.audio_io import load_audio
    >>> wav = "../shared/data/MIR-1K/Wavfile/abjones_1_01.wav"  # relative to the repository
    >>> audio, sr = load_audio(wav, mono=False)
    >>> audio.shape, audio.dtype, sr
    ((2, 185856), dtype('float32'), 16000)
    >>> audio, sr = load_audio(wav, sample_rate=8000)
    >>> audio.shape, sr
    ((92928,), 8000)
    """
    path = _as_path(path)
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1, allow_none=True)
    check_choice(mono, name="mono", choices=(True, False))
    if not path.exists():
        raise FileNotFoundError(f"audio file {str(path)!r} does not exist")
    if path.is_dir():
        raise InvalidInputError(
            f"path {str(path)!r} is a directory; expected an audio file (WAV, FLAC, OGG, MP3, M4A)"
        )

    if path.suffix.lower() in FFMPEG_SUFFIXES:
        audio, file_rate = _read_with_ffmpeg(path)
    else:
        audio, file_rate = _read_with_soundfile(path)

    if audio.shape[1] == 0:
        raise InvalidInputError(
            f"{str(path)!r} contains no audio samples; expected a non-empty audio file"
        )
    if not np.all(np.isfinite(audio)):
        raise InvalidInputError(
            f"{str(path)!r} contains NaN or infinite samples; expected finite audio"
        )
    if mono:
        audio = audio.mean(axis=0)
    if sample_rate is not None and sample_rate != file_rate:
        audio = librosa.resample(audio, orig_sr=file_rate, target_sr=sample_rate, axis=-1)
        file_rate = sample_rate
    return np.ascontiguousarray(audio, dtype=np.float32), int(file_rate)


def _read_with_soundfile(path, name=None):
    """Return ``(audio (n_channels, n_samples) float32, sample_rate)``.

    ``name`` is the file as named in messages (``path`` itself by default; the
    original file when ``path`` is ffmpeg's decoded copy).
    """
    name = str(path if name is None else name)
    try:
        with sf.SoundFile(_soundfile_name(path)) as file:
            rate = file.samplerate
            _check_file_rate(rate, name)
            data = file.read(dtype="float32", always_2d=True)
    except sf.SoundFileError as error:
        raise InvalidInputError(_unreadable(path, name, error)) from error
    return np.ascontiguousarray(data.T), int(rate)


def _check_file_rate(rate, name):
    """Refuse a header's sample rate outside :data:`FILE_SAMPLE_RATES`, before reading."""
    low, high = FILE_SAMPLE_RATES
    if not low <= rate <= high:
        raise InvalidInputError(
            f"{name!r} declares a sample rate of {rate} Hz in its header; expected {low} to "
            f"{high} Hz (a damaged or mislabelled file?)"
        )


def _unreadable(path, name, error):
    """The message for a file libsndfile cannot read."""
    if _starts_with_id3_tag(path):
        # libsndfile reports an MP3 with a tag and no frames as "File does not exist".
        return (f"{name!r} holds no audio: only an ID3 tag (MP3 metadata) and no MPEG frames "
                f"that can be decoded; expected an audio file with samples")
    # libsndfile's own message ("Format not recognised", "flac decoder lost sync") is
    # kept as the detail, but the caller gets one documented exception type.
    return (f"{name!r} is not a readable audio file ({_short(error)}); expected WAV, FLAC, "
            f"OGG, MP3 or another format libsndfile reads (M4A/AAC through ffmpeg)")


def _starts_with_id3_tag(path):
    """Whether the file begins with an ID3v2 tag (MP3 metadata); False if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(3) == b"ID3"
    except OSError:
        return False


def _read_with_ffmpeg(path):
    """Decode with ffmpeg to a temporary 32-bit float WAV and read that."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MissingProgramError(
            f"reading {str(path)!r} ({path.suffix} audio) needs the ffmpeg program, which was "
            f"not found on PATH; {_FFMPEG_INSTALL_HINT}"
        )
    with tempfile.TemporaryDirectory(prefix="sksep-ffmpeg-") as folder:
        decoded = Path(folder) / "decoded.wav"
        command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
                   "-vn", "-sn", "-dn", "-map", "0:a:0", "-c:a", "pcm_f32le", "-f", "wav",
                   str(decoded)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not decoded.exists():
            detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else (
                f"exit status {result.returncode}")
            raise InvalidInputError(
                f"{str(path)!r} is not a readable audio file (ffmpeg: {detail}); expected an "
                f"audio file ffmpeg can decode"
            )
        return _read_with_soundfile(decoded, name=path)


def _short(error):
    text = str(error)
    return text.split(": ", 1)[-1] if text.startswith("Error opening") else text


def check_write_format(suffix):
    """The soundfile format that writes files ending in ``suffix``, if libsndfile can.

    Parameters
    ----------
    suffix : str
        A file extension with its dot, e.g. ``".flac"`` (any case).

    Returns
    -------
    file_format : str
        The soundfile format name, e.g. ``"FLAC"``.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        ``suffix`` is not one of :data:`WRITE_FORMATS`.
    sksep.exceptions.MissingProgramError
        The installed libsndfile cannot write that format (MP3 needs libsndfile
        1.1.0 or newer, built with LAME and mpg123).

    Examples
    --------
    >>> from sksep.audio_io import check_write_format
    >>> check_write_format(".FLAC")
    'FLAC'
    """
    file_format = WRITE_FORMATS.get(str(suffix).lower())
    if file_format is None:
        raise InvalidInputError(
            f"extension {suffix!r} is not a format sksep writes; expected one of "
            f"{', '.join(WRITE_FORMATS)}")
    if file_format not in sf.available_formats():
        raise MissingProgramError(
            f"the installed libsndfile ({sf.__libsndfile_version__}) cannot write "
            f"{file_format} files; {file_format} needs libsndfile 1.1.0 or newer built with "
            f"LAME and mpg123 (`pip install -U soundfile` brings one), or write WAV or FLAC")
    return file_format


def file_subtype(path):
    """The sample encoding of an audio file as soundfile names it, e.g. ``"PCM_24"``.

    Parameters
    ----------
    path : str or os.PathLike
        An audio file.

    Returns
    -------
    subtype : str or None
        ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ``"MPEG_LAYER_III"``...; None for a
        file libsndfile cannot read (AAC, decoded through ffmpeg, or not audio).

    Examples
    --------
    >>> from sksep.audio_io import file_subtype
    >>> file_subtype("../shared/data/MIR-1K/Wavfile/abjones_1_01.wav")
    'PCM_16'
    """
    try:
        return sf.info(_soundfile_name(_as_path(path))).subtype
    except (sf.SoundFileError, RuntimeError):
        return None


def save_audio(path, audio, sample_rate, *, overwrite=False, subtype="PCM_16"):
    """Write audio to a WAV, FLAC, OGG or MP3 file, atomically.

    The samples go to a temporary file in the same directory, which is
    flushed to disk (``fsync``) and then renamed onto ``path`` with
    :func:`os.replace`. If anything fails the temporary file is removed, so
    ``path`` is never left half-written, and an existing file there is
    untouched. Missing parent directories are created.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its extension (``.wav``, ``.flac``, ``.ogg``, ``.mp3``) picks
        the format. MP3 needs a libsndfile that writes it (:func:`check_write_format`).
    audio : ndarray of shape (n_samples,) or (n_channels, n_samples)
        Finite float samples, nominally in [-1, 1].
    sample_rate : int
        Sample rate in Hz.
    overwrite : bool, default=False
        Replace an existing file at ``path``. Otherwise an existing file is an error.
    subtype : str or None, default="PCM_16"
        Sample encoding, a soundfile subtype (e.g. ``"PCM_16"``, ``"PCM_24"``,
        ``"FLOAT"`` for WAV). ``None`` uses the format's default. OGG and MP3
        files hold one lossy encoding (:data:`LOSSY_SUBTYPES`), which takes the
        place of a ``PCM_*`` subtype there.
        Integer subtypes clip samples outside [-1, 1] (with a warning); use
        ``"FLOAT"`` in a WAV file to keep them.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    sksep.exceptions.InvalidInputError
        For non-finite or badly shaped audio, a bad sample rate, an unknown
        extension or a subtype the format cannot store.
    sksep.exceptions.MissingProgramError
        If the installed libsndfile cannot write MP3 and ``path`` ends in ``.mp3``.
    sksep.exceptions.OutputLocationError
        If a file stands where a folder of ``path`` must go, or its folder is
        read-only (found before anything is written).
    sksep.exceptions.DiskFullError
        If the disk fills up; ``path`` is then not written.

    See Also
    --------
    load_audio : Read audio files.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from sksep.audio_io import load_audio, save_audio
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = save_audio(Path(folder) / "tone.flac", tone, 16000)
    ...     audio, sr = load_audio(written)
    >>> audio.shape, sr, bool(np.abs(audio - tone).max() < 1e-4)
    ((16000,), 16000, True)
    """
    path = _as_path(path)
    check_choice(overwrite, name="overwrite", choices=(True, False))
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1)
    ndim = np.ndim(audio) if np.ndim(audio) in (1, 2) else 1
    data = check_audio(audio, name="audio", ndim=ndim)
    if data.ndim == 2 and data.shape[0] > data.shape[1]:
        raise InvalidInputError(
            f"audio has shape {data.shape}, i.e. {data.shape[0]} channels of {data.shape[1]} "
            f"samples; expected (n_channels, n_samples) (transpose with audio.T?)"
        )

    if path.suffix.lower() not in WRITE_FORMATS:
        raise InvalidInputError(
            f"path {str(path)!r} has extension {path.suffix!r}; expected one of "
            f"{', '.join(WRITE_FORMATS)}"
        )
    file_format = check_write_format(path.suffix)
    if subtype is not None:
        if not isinstance(subtype, str):
            raise InvalidParameterTypeError(f"subtype={subtype!r} must be a str or None")
        subtype = subtype.upper()
        if file_format in LOSSY_SUBTYPES and subtype.startswith("PCM"):
            subtype = LOSSY_SUBTYPES[file_format]
        if not sf.check_format(file_format, subtype):
            choices = ", ".join(repr(s) for s in sf.available_subtypes(file_format))
            raise InvalidInputError(
                f"subtype={subtype!r} cannot be stored in a {file_format} file; expected one "
                f"of {choices} or None"
            )
    effective = subtype or sf.default_subtype(file_format)
    peak = float(np.abs(data).max())
    if peak > 1.0 and effective.startswith("PCM"):
        warnings.warn(
            f"audio peaks at {peak:.3f} > 1 and will be clipped in the {effective} file "
            f"{str(path)!r}; scale it down or use subtype='FLOAT' with a .wav file",
            UserWarning, stacklevel=2,
        )

    if path.is_dir():
        raise InvalidInputError(f"path {str(path)!r} is a directory; expected a file path")
    return atomic_write(path, partial(_write_samples, audio=data, sample_rate=sample_rate,
                                      subtype=subtype, file_format=file_format),
                        overwrite=overwrite)


def _write_samples(temporary, *, audio, sample_rate, subtype, file_format):
    """Write ``audio`` ``(n_channels, n_samples)`` to ``temporary`` with soundfile.

    libsndfile reports every failed system call as "System error."; it is re-raised
    as the :class:`OSError` it stands for, so that a full disk is recognised as one.
    """
    try:
        sf.write(_soundfile_name(temporary), audio.T, sample_rate, subtype=subtype,
                 format=file_format)
    except sf.LibsndfileError as error:
        if error.code != _LIBSNDFILE_SYSTEM_ERROR:
            raise
        # soundfile drops the C errno, which cffi still holds right after the failed call.
        code = getattr(getattr(sf, "_ffi", None), "errno", 0) or errno.EIO
        raise OSError(code, f"{os.strerror(code)} (libsndfile: {error.error_string})",
                      str(temporary)) from error


