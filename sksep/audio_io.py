"""Reading and writing audio files.

:func:`load_audio` reads WAV, FLAC, OGG and MP3 with soundfile (libsndfile) and
AAC in ``.m4a`` / ``.mp4`` / ``.aac`` containers through the ``ffmpeg`` program;
it resamples and down-mixes on request. A file whose header declares a sample
rate outside :data:`FILE_SAMPLE_RATES` is refused. :func:`save_audio` writes
WAV, FLAC, OGG or MP3 (where the installed libsndfile writes MP3, see
:func:`check_write_format`) atomically: the file at the target path is either the
complete new file or untouched, never half-written.

For songs too long to hold, :class:`AudioReader` and :class:`AudioWriter` are the
block-by-block counterparts of the two functions, with the same checks and the same
guarantees; :func:`sksep.separation.separate_to_files` separates a song with them.
"""

import contextlib
import errno
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf

from ._atomic import (atomic_write, check_writable, disk_full_named, file_kind, make_folders,
                      remove_empty_folders, reserve_temporary)
from ._spectral import resample
from ._validation import check_audio, check_choice, check_int
from .exceptions import (DamagedAudioWarning, DiskFullError, InvalidInputError,
                         InvalidParameterTypeError, MissingProgramError)

__all__ = ["load_audio", "save_audio", "check_audio_file", "check_write_format", "file_subtype",
           "AudioReader", "AudioWriter"]

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

#: Held while a decoder's messages on stderr are set aside (:func:`_decoder_messages`):
#: file descriptor 2 is one for every thread of the process.
_STDERR_LOCK = threading.Lock()

#: How the lines mpg123 (libsndfile's MP3 decoder) prints on stderr begin; other lines
#: printed while they are set aside go back to stderr.
_DECODER_LINES = ("Note: ", "Warning: ", "[src/libmpg123/", "[libmpg123/")

#: Frames per read when :class:`AudioReader` skips samples between windows and when
#: :class:`AudioWriter` encodes its float temporary file into the final format (about 6 s
#: at 44.1 kHz: 2 MiB of stereo float32).
_CHUNK_FRAMES = 1 << 18

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
        audio is resampled with soxr's high-quality filter (as ``librosa.resample``);
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
        If ``path`` is a directory, a pipe, a device or another file that is not a
        regular file (:func:`check_audio_file`), or not a readable audio file (empty,
        truncated beyond its header, not audio, an MP3 holding only an ID3
        tag, damaged data the decoder cannot get past), or holds no samples, or its
        header declares a sample rate outside :data:`FILE_SAMPLE_RATES`.
    sksep.exceptions.MissingProgramError
        If an AAC file is read and ``ffmpeg`` is not on ``PATH``.

    Warns
    -----
    sksep.exceptions.DamagedAudioWarning
        A WAV file holds fewer samples than its header announces (a truncated copy),
        or the MP3 decoder skipped data it could not decode; the samples that could
        be read are returned.

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
    check_audio_file(path)

    if path.suffix.lower() in FFMPEG_SUFFIXES:
        with _decoded_by_ffmpeg(path) as decoded:
            audio, file_rate = _read_with_soundfile(decoded, name=path)
    else:
        audio, file_rate = _read_with_soundfile(path)

    if audio.shape[1] == 0:
        raise _no_samples(path)
    _warn_if_truncated(path, audio.shape[1], file_rate)
    _check_finite(audio, path)
    if mono:
        audio = audio.mean(axis=0)
    if sample_rate is not None and sample_rate != file_rate:
        audio = resample(audio, orig_sr=file_rate, target_sr=sample_rate)
        file_rate = sample_rate
    return np.ascontiguousarray(audio, dtype=np.float32), int(file_rate)


def check_audio_file(path):
    """Refuse, before any decoder opens it, a path that is not a regular file.

    A pipe (a FIFO, or ``/dev/stdin`` fed by one) would make a decoder wait for a
    writer, or read a stream it cannot seek back in; a device never ends. Audio from a
    pipe must be saved to a file first.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    sksep.exceptions.InvalidInputError
        ``path`` is a directory, a pipe, a device, a socket or another file that is
        not a regular file (a link to a regular file is one).

    Examples
    --------
    >>> from sksep.audio_io import check_audio_file
    >>> str(check_audio_file("../shared/data/MIR-1K/Wavfile/abjones_1_01.wav"))
    '../shared/data/MIR-1K/Wavfile/abjones_1_01.wav'
    >>> check_audio_file("../shared/data/MIR-1K")
    Traceback (most recent call last):
    ...
    sksep.exceptions.InvalidInputError: path '../shared/data/MIR-1K' is a directory; ...
    """
    path = _as_path(path)
    if not os.path.exists(path):  # False, not an error, for a name too long to exist
        hint = (" (standard input is not read: save the audio to a file and name that "
                "file)" if str(path) == "-" else "")
        raise FileNotFoundError(f"audio file {str(path)!r} does not exist{hint}")
    if os.path.isdir(path):
        raise InvalidInputError(
            f"path {str(path)!r} is a directory; expected an audio file (WAV, FLAC, OGG, MP3, M4A)"
        )
    kind = file_kind(path)
    if kind not in ("a file", "a link to a file"):
        raise InvalidInputError(
            f"{str(path)!r} is {kind}; expected a regular audio file (pipes, devices and "
            f"standard input are not read: save the audio to a file first)")
    return path


def _no_samples(path):
    return InvalidInputError(
        f"{str(path)!r} contains no audio samples; expected a non-empty audio file")


def _check_finite(audio, path):
    if not np.all(np.isfinite(audio)):
        raise InvalidInputError(
            f"{str(path)!r} contains NaN or infinite samples; expected finite audio"
        )


def _read_with_soundfile(path, name=None):
    """Return ``(audio (n_channels, n_samples) float32, sample_rate)``.

    ``name`` is the file as named in messages (``path`` itself by default; the
    original file when ``path`` is ffmpeg's decoded copy).
    """
    name = str(path if name is None else name)
    failure = None  # an error decoding the samples, once the file was opened
    with _decoder_messages(_as_path(path).suffix.lower() == ".mp3") as messages:
        try:
            with sf.SoundFile(_soundfile_name(path)) as file:
                rate = file.samplerate
                _check_file_rate(rate, name)
                try:
                    data = file.read(dtype="float32", always_2d=True)
                except sf.SoundFileError as error:
                    failure = error
        except sf.SoundFileError as error:
            raise InvalidInputError(_unreadable(path, name, error)) from error
    if failure is not None:  # the decoder's messages are known once the block has ended
        raise InvalidInputError(_damaged(name, failure, messages)) from failure
    _warn_if_skipped(name, messages)
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
    """The message for a file libsndfile cannot open."""
    if _is_only_an_id3_tag(path):
        # libsndfile reports an MP3 with a tag and no frames as "File does not exist".
        return (f"{name!r} holds no audio: only an ID3 tag (MP3 metadata) and no MPEG frames "
                f"that can be decoded; expected an audio file with samples")
    # libsndfile's own message ("Format not recognised", "flac decoder lost sync") is
    # kept as the detail, but the caller gets one documented exception type.
    return (f"{name!r} is not a readable audio file ({_short(error)}); expected WAV, FLAC, "
            f"OGG, MP3 or another format libsndfile reads (M4A/AAC through ffmpeg)")


def _damaged(name, error, messages, window=None):
    """The message for a file whose samples stop decoding part way: damaged data.

    ``messages`` are what the decoder printed (:func:`_decoder_messages`), the first of
    which says where; ``window`` the samples ``(start, stop)`` being decoded, if known.
    """
    where = f" in samples {window[0]} to {window[1]}" if window is not None else ""
    detail = "; ".join([*([f"MP3 decoder: {_decoder_line(messages[0])}"] if messages else []),
                        f"libsndfile: {_short(error)}"])
    return (f"{name!r} is not a readable audio file: its data is damaged, decoding "
            f"failed{where} ({detail}); expected an intact audio file")


def _is_only_an_id3_tag(path):
    """Whether the file is an ID3v2 tag (MP3 metadata) and nothing after it but zero
    padding; False if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(10)
            if len(header) < 10 or header[:3] != b"ID3":
                return False
            # The tag's size: four 7-bit bytes, after its 10-byte header (and a 10-byte
            # footer when flag 0x10 says so).
            size = sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(header[6:]))
            handle.seek(size + (10 if header[5] & 0x10 else 0), os.SEEK_CUR)
            rest = handle.read(1 << 16)
            return not rest.strip(b"\0") and not handle.read(1)
    except OSError:
        return False


@contextlib.contextmanager
def _decoder_messages(mp3):
    """Set aside what mpg123, libsndfile's MP3 decoder, prints on stderr while the block
    reads an MP3 file (``mp3`` true: "Note: Illegal Audio-MPEG-Header ... Trying to
    resync"); yields a list that holds those lines once the block ends, to be reported
    as sksep reports damaged files (:func:`_damaged`, :func:`_warn_if_skipped`). Other
    lines printed meanwhile (by other threads) go back to stderr. Where the process has
    no file descriptor 2 (not POSIX), nothing is set aside.
    """
    messages = []
    if not mp3 or os.name != "posix":
        yield messages
        return
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all
            yield messages
            return
        try:
            with tempfile.TemporaryFile() as capture:
                if sys.stderr is not None:
                    sys.stderr.flush()
                os.dup2(capture.fileno(), 2)
                try:
                    yield messages
                finally:
                    os.dup2(saved, 2)
                    capture.seek(0)
                    lines = capture.read().decode("utf-8", "replace").splitlines()
                    messages.extend(line for line in lines if line.startswith(_DECODER_LINES))
                    others = [line for line in lines
                              if line.strip() and not line.startswith(_DECODER_LINES)]
                    if others:
                        os.write(2, ("\n".join(others) + "\n").encode("utf-8", "replace"))
        finally:
            os.close(saved)


def _decoder_line(line):
    """A line of mpg123's without its source location, level and final stop: ``Illegal
    Audio-MPEG-Header 0x4c9b459a at offset 20648``."""
    if line.startswith("["):
        line = line.split("] ", 1)[-1]
    for prefix in ("error: ", "Note: ", "Warning: "):
        line = line.removeprefix(prefix)
    return line.strip().rstrip(".")


def _warn_if_skipped(name, messages):
    """Warn that the decoder had to skip data in ``name`` (it printed ``messages``)."""
    if messages:
        warnings.warn(
            f"{name!r} is damaged: the MP3 decoder skipped data it could not decode "
            f"({_decoder_line(messages[0])}); the stems may have a gap or a click there",
            DamagedAudioWarning, stacklevel=3)


def _declared_wav_frames(path):
    """The samples per channel a RIFF WAVE file's header announces for its data chunk;
    None for another file, or a length left open (0 or 0xFFFFFFFF, as programs that
    write to a pipe leave it)."""
    try:
        with open(path, "rb") as handle:
            riff = handle.read(12)
            if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RIFX") or riff[8:] != b"WAVE":
                return None
            order = "<" if riff[:4] == b"RIFF" else ">"
            block_align = None
            for _ in range(64):  # the chunks before the data: fmt, fact, LIST...
                chunk = handle.read(8)
                if len(chunk) < 8:
                    return None
                kind, size = chunk[:4], struct.unpack(f"{order}I", chunk[4:])[0]
                if kind == b"data":
                    if not block_align or size in (0, 0xFFFFFFFF):
                        return None
                    return size // block_align
                body = handle.read(min(size, 16)) if kind == b"fmt " else b""
                if len(body) >= 14:
                    block_align = struct.unpack(f"{order}H", body[12:14])[0]
                handle.seek(size - len(body) + size % 2, os.SEEK_CUR)  # chunks are even
    except OSError:
        return None
    return None


def _warn_if_truncated(path, n_samples, sample_rate):
    """Warn that the WAV file ``path`` holds fewer samples, ``n_samples``, than its header
    announces (libsndfile reads the ones it holds without a word)."""
    declared = _declared_wav_frames(path)
    if declared is not None and declared > n_samples:
        warnings.warn(
            f"{str(path)!r} is truncated: its header announces {declared} samples "
            f"({declared / sample_rate:.2f} s) and the file holds {n_samples} "
            f"({n_samples / sample_rate:.2f} s); only those are used (an incomplete copy "
            f"or download?)", DamagedAudioWarning, stacklevel=3)


@contextlib.contextmanager
def _decoded_by_ffmpeg(path):
    """Decode ``path`` with ffmpeg to a temporary 32-bit float WAV; yield that file's path.

    The temporary folder (as large as the song in float32) is removed on leaving."""
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
        yield decoded


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
        file libsndfile cannot read (AAC, decoded through ffmpeg, or not audio) and for
        anything but a regular file.

    Examples
    --------
    >>> from sksep.audio_io import file_subtype
    >>> file_subtype("../shared/data/MIR-1K/Wavfile/abjones_1_01.wav")
    'PCM_16'
    """
    path = _as_path(path)
    if file_kind(path) not in ("a file", "a link to a file"):
        return None  # a pipe would make libsndfile wait for a writer
    try:
        return sf.info(_soundfile_name(path)).subtype
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

    file_format = _output_format(path)
    subtype = _check_subtype(subtype, file_format)
    _warn_if_clipped(float(np.abs(data).max()), subtype, file_format, path, stacklevel=2)
    _check_not_a_folder(path)
    return atomic_write(path, partial(_write_samples, audio=data, sample_rate=sample_rate,
                                      subtype=subtype, file_format=file_format),
                        overwrite=overwrite)


def _output_format(path):
    """The soundfile format ``path``'s extension picks; refuses an extension sksep does not
    write (:class:`InvalidInputError`) or a format this libsndfile cannot write
    (:class:`MissingProgramError`)."""
    if path.suffix.lower() not in WRITE_FORMATS:
        raise InvalidInputError(
            f"path {str(path)!r} has extension {path.suffix!r}; expected one of "
            f"{', '.join(WRITE_FORMATS)}"
        )
    return check_write_format(path.suffix)


def _check_subtype(subtype, file_format):
    """``subtype`` (a soundfile subtype name or None) as ``file_format`` stores it."""
    if subtype is None:
        return None
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
    return subtype


def _warn_if_clipped(peak, subtype, file_format, path, *, stacklevel):
    """Warn that samples peaking at ``peak`` will be clipped in an integer-PCM file."""
    effective = subtype or sf.default_subtype(file_format)
    if peak > 1.0 and effective.startswith("PCM"):
        warnings.warn(
            f"audio peaks at {peak:.3f} > 1 and will be clipped in the {effective} file "
            f"{str(path)!r}; scale it down or use subtype='FLOAT' with a .wav file",
            UserWarning, stacklevel=stacklevel + 1,
        )


def _check_not_a_folder(path):
    if os.path.isdir(path):  # False, not an error, for a name too long (check_writable's)
        raise InvalidInputError(f"path {str(path)!r} is a directory; expected a file path")


@contextlib.contextmanager
def _system_errors(temporary):
    """Re-raise libsndfile's "System error." as the :class:`OSError` it stands for.

    libsndfile reports every failed system call alike; the errno tells a full disk
    from the rest."""
    try:
        yield
    except sf.LibsndfileError as error:
        if error.code != _LIBSNDFILE_SYSTEM_ERROR:
            raise
        # soundfile drops the C errno, which cffi still holds right after the failed call.
        code = getattr(getattr(sf, "_ffi", None), "errno", 0) or errno.EIO
        raise OSError(code, f"{os.strerror(code)} (libsndfile: {error.error_string})",
                      str(temporary)) from error


def _write_samples(temporary, *, audio, sample_rate, subtype, file_format):
    """Write ``audio`` ``(n_channels, n_samples)`` to ``temporary`` with soundfile."""
    with _system_errors(temporary):
        sf.write(_soundfile_name(temporary), audio.T, sample_rate, subtype=subtype,
                 format=file_format)




class _ForwardSoundFile(sf.SoundFile):
    """A soundfile reader that never seeks.

    soundfile re-seeks a seekable file to where it stands after every read, and
    libsndfile's seek in an MP3 file is not sample-exact: reads in pieces would then
    skip or repeat samples. Reported as not seekable, the file is read straight on.
    """

    def seekable(self):
        return False


class AudioReader:
    """An audio file read block by block: the streaming counterpart of :func:`load_audio`.

    The file is checked as :func:`load_audio` checks it, and read forwards only, in
    windows ``[start, stop)`` whose starts never go back: no seeking, so every format
    libsndfile decodes (MP3 and OGG included) gives the samples :func:`load_audio`
    gives, and only the window asked for and the samples it shares with the next one
    are held. An M4A/MP4/AAC file is first decoded whole by ``ffmpeg`` into a
    temporary 32-bit float WAV file (on disk, as large as the song in float32,
    removed on :meth:`close`), which is then read block by block.

    Use it as a context manager, or call :meth:`close`.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    sample_rate : int
        Its sample rate in Hz.
    n_channels : int
        Its number of channels.
    n_samples : int
        Its length in samples per channel, as :func:`load_audio` reads it.
    subtype : str or None
        Its sample encoding (:func:`file_subtype`): ``"PCM_16"``, ``"FLOAT"``...;
        None for a file decoded through ffmpeg.

    Raises
    ------
    FileNotFoundError, sksep.exceptions.InvalidInputError, sksep.exceptions.MissingProgramError
        As :func:`load_audio`, for a missing, unreadable or empty file (when opened) and
        for non-finite samples in a window, or a file that ends before its header says
        (when the window holding them is read).

    See Also
    --------
    AudioWriter : Write audio block by block.

    Examples
    --------
    >>> from sksep.audio_io import AudioReader, load_audio
    >>> wav = "../shared/data/MIR-1K/Wavfile/abjones_1_01.wav"  # relative to the repository
    >>> with AudioReader(wav) as reader:
    ...     first = reader.read(0, 16000)        # (n_channels, n) float32
    ...     overlapping = reader.read(8000, 24000)
    >>> reader.sample_rate, reader.n_channels, reader.n_samples, first.shape
    (16000, 2, 185856, (2, 16000))
    >>> bool((overlapping == load_audio(wav, mono=False)[0][:, 8000:24000]).all())
    True
    """

    def __init__(self, path):
        self.path = _as_path(path)
        check_audio_file(self.path)
        self._resources = contextlib.ExitStack()
        try:
            self._source = self.path
            if self.path.suffix.lower() in FFMPEG_SUFFIXES:
                self._source = self._resources.enter_context(_decoded_by_ffmpeg(self.path))
            with self._unreadable_as_invalid(), \
                    _decoder_messages(self.path.suffix.lower() == ".mp3") as messages:
                self._file = self._resources.enter_context(
                    _ForwardSoundFile(_soundfile_name(self._source)))
            _warn_if_skipped(str(self.path), messages)
            _check_file_rate(self._file.samplerate, str(self.path))
        except BaseException:
            self._resources.close()
            raise
        self.sample_rate = int(self._file.samplerate)
        self.n_channels = int(self._file.channels)
        self.n_samples = int(self._file.frames)
        self.subtype = None if self._source != self.path else self._file.subtype
        if self.n_samples == 0:
            self.close()
            raise _no_samples(self.path)
        _warn_if_truncated(self.path, self.n_samples, self.sample_rate)
        self._held = np.zeros((self.n_channels, 0), dtype=np.float32)
        self._held_start = 0  # the first sample of self._held

    @contextlib.contextmanager
    def _unreadable_as_invalid(self):
        try:
            yield
        except sf.SoundFileError as error:
            raise InvalidInputError(_unreadable(self._source, str(self.path), error)) from error

    def read(self, start, stop):
        """The samples ``[start, stop)`` of every channel.

        Parameters
        ----------
        start, stop : int
            ``0 <= start < stop <= n_samples``; ``start`` at least the previous
            window's start (windows move forwards; they may overlap or leave gaps,
            which are decoded and dropped).

        Returns
        -------
        audio : ndarray of float32, shape (n_channels, stop - start)
            Read-only: it may share memory with the next window.
        """
        if not 0 <= start < stop <= self.n_samples:
            raise InvalidInputError(f"window ({start}, {stop}) must satisfy 0 <= start < stop "
                                    f"<= {self.n_samples} (the file's length)")
        if start < self._held_start:
            raise InvalidInputError(f"window ({start}, {stop}) starts before the previous "
                                    f"window's start, {self._held_start}; expected windows "
                                    f"that move forwards")
        position = self._held_start + self._held.shape[1]  # the next sample the file gives
        if start > position:  # a gap: decode and drop it (seeking is not exact in every format)
            for offset in range(position, start, _CHUNK_FRAMES):
                self._read_frames(min(_CHUNK_FRAMES, start - offset), offset)
            position = start
        held = self._held[:, start - self._held_start:]
        if stop > position:
            new = self._read_frames(stop - position, position)
            _check_finite(new, self.path)
            held = np.concatenate([held, new.T], axis=1)
        self._held, self._held_start = held, start
        window = held[:, :stop - start]
        window.flags.writeable = False
        return window

    def _read_frames(self, count, position):
        """The next ``count`` frames, ``(count, n_channels)``, reading from ``position``."""
        failure = None
        with _decoder_messages(self._file.format == "MP3") as messages:
            try:
                frames = self._file.read(count, dtype="float32", always_2d=True)
            except sf.SoundFileError as error:
                failure = error
        if failure is not None:  # the decoder's messages are known once the block has ended
            raise InvalidInputError(_damaged(str(self.path), failure, messages,
                                             (position, position + count))) from failure
        _warn_if_skipped(str(self.path), messages)
        if len(frames) < count:
            raise InvalidInputError(
                f"{str(self.path)!r} ended after {position + len(frames)} samples; its header "
                f"declares {self.n_samples} (a damaged file?)")
        return frames

    def close(self):
        """Close the file (and remove ffmpeg's decoded copy); safe to call twice."""
        self._held = None
        self._resources.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class AudioWriter:
    """An audio file written block by block, atomically: the streaming counterpart of
    :func:`save_audio`.

    Blocks go to a hidden temporary file beside ``path``; :meth:`commit` flushes it
    to disk and renames it onto ``path`` in one step (an atomic replace),
    :meth:`discard` removes it (and the folders made for it, if left empty). As a
    context manager it commits when its block ends normally (unless committed
    already) and discards on any exception, Ctrl-C included: ``path`` is then never
    half-written, and an existing file there is untouched. Only the block being
    written is held in memory.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its extension (``.wav``, ``.flac``, ``.ogg``, ``.mp3``) picks the
        format, as in :func:`save_audio`. Missing parent folders are created.
    sample_rate : int
        Sample rate in Hz.
    n_channels : int
        Channels of every block.
    overwrite : bool, default=False
        Replace an existing file at ``path``; otherwise an existing file is an error
        (checked here, before anything is written, and again at :meth:`commit`).
    subtype : str, None or callable, default="PCM_16"
        Sample encoding, as in :func:`save_audio`. A callable ``subtype(peak) -> str or
        None`` chooses it at :meth:`commit` from the largest absolute sample written
        (e.g. float for a stem that peaks above full scale, which a ``PCM_*`` subtype
        would clip): the blocks then go to a 32-bit float WAV temporary file, encoded
        into the final file in one more pass over the disk when the choice is another
        encoding.

    Attributes
    ----------
    path : pathlib.Path
        The target file.
    peak : float
        Largest absolute sample written so far.
    n_samples : int
        Samples per channel written so far.
    subtype : str
        The file's sample encoding (for a callable ``subtype``, known after
        :meth:`commit`).

    Raises
    ------
    FileExistsError, sksep.exceptions.InvalidInputError,
    sksep.exceptions.MissingProgramError, sksep.exceptions.OutputLocationError
        As :func:`save_audio`, before anything is written.
    sksep.exceptions.DiskFullError
        From :meth:`write` or :meth:`commit` when the disk fills up; ``path`` is then
        not written.

    See Also
    --------
    AudioReader : Read audio block by block.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sksep.audio_io import AudioWriter, load_audio
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with AudioWriter(Path(folder) / "tone.flac", 16000, 1) as writer:
    ...         for start in range(0, 32000, 10000):
    ...             writer.write(tone[None, start:start + 10000])
    ...     audio, sr = load_audio(Path(folder) / "tone.flac")
    >>> audio.shape, writer.subtype, bool(np.abs(audio - tone).max() < 1e-4)
    ((32000,), 'PCM_16', True)
    """

    def __init__(self, path, sample_rate, n_channels, *, overwrite=False, subtype="PCM_16"):
        self.path = _as_path(path)
        check_choice(overwrite, name="overwrite", choices=(True, False))
        self.sample_rate = check_int(sample_rate, name="sample_rate", minimum=1)
        self.n_channels = check_int(n_channels, name="n_channels", minimum=1)
        self._format = _output_format(self.path)
        self._choose_subtype = subtype if callable(subtype) else None
        if self._choose_subtype is None:
            self.subtype = _check_subtype(subtype, self._format) or sf.default_subtype(
                self._format)
            staging = (self._format, self.subtype)
        else:  # lossless until the peak is known
            self.subtype = None
            staging = ("WAV", "FLOAT")
        _check_not_a_folder(self.path)
        self._overwrite = overwrite
        check_writable(self.path, overwrite=overwrite)
        self.peak, self.n_samples = 0.0, 0
        self._staging = self._file = None
        self._created = []  # the folders made for the file, removed if it is discarded
        try:
            with self._disk_full_named():
                self._created = make_folders(self.path.parent)
                self._staging = reserve_temporary(self.path)
            with self._disk_full_named(), _system_errors(self._staging):
                self._file = sf.SoundFile(_soundfile_name(self._staging), "w",
                                          samplerate=self.sample_rate,
                                          channels=self.n_channels, format=staging[0],
                                          subtype=staging[1])
        except BaseException:
            self.discard()
            raise
        self._staged = staging

    def _disk_full_named(self):
        """A full disk as :func:`sksep._atomic.atomic_write` reports it, naming ``path``."""
        return disk_full_named(self.path)

    def write(self, audio):
        """Append samples to the file.

        Parameters
        ----------
        audio : ndarray of shape (n_channels, n_samples)
            Finite float samples, nominally in [-1, 1]; ``(n_samples,)`` for a mono
            file.
        """
        if self._file is None:
            raise InvalidInputError(f"{str(self.path)!r} is already committed or discarded; "
                                    f"expected an open AudioWriter")
        data = check_audio(np.asarray(audio)[None] if np.ndim(audio) == 1 else audio,
                           name="audio", ndim=2, min_samples=0)
        if data.shape[0] != self.n_channels:
            raise InvalidInputError(
                f"audio has shape {data.shape}; expected ({self.n_channels}, n_samples) for "
                f"the {self.n_channels}-channel file {str(self.path)!r}")
        if data.shape[1] == 0:
            return
        self.peak = max(self.peak, float(data.max()), -float(data.min()))
        with self._disk_full_named(), _system_errors(self._staging):
            self._file.write(data.T)
        self.n_samples += data.shape[1]

    def commit(self):
        """Finish the file and rename it onto ``path``.

        Returns
        -------
        path : pathlib.Path
        """
        if self._file is None:
            raise InvalidInputError(f"{str(self.path)!r} is already committed or discarded; "
                                    f"expected an open AudioWriter")
        try:
            if self._choose_subtype is not None:
                self.subtype = _check_subtype(self._choose_subtype(self.peak),
                                              self._format) or sf.default_subtype(self._format)
            _warn_if_clipped(self.peak, self.subtype, self._format, self.path, stacklevel=2)
            path = atomic_write(self.path, self._finish, overwrite=self._overwrite)
            self._created = []  # they hold the file now
            return path
        finally:
            self.discard()

    def _finish(self, temporary):
        """Close the staged file and put it, in its final encoding, at ``temporary``."""
        file, self._file = self._file, None
        with _system_errors(self._staging):
            file.close()
        if self._staged == (self._format, self.subtype):
            os.replace(self._staging, temporary)
            return
        with sf.SoundFile(_soundfile_name(self._staging)) as source, \
                _system_errors(temporary), \
                sf.SoundFile(_soundfile_name(temporary), "w", samplerate=self.sample_rate,
                             channels=self.n_channels, format=self._format,
                             subtype=self.subtype) as target:
            for block in source.blocks(_CHUNK_FRAMES, dtype="float32", always_2d=True):
                target.write(block)

    def discard(self):
        """Remove the temporary file, leaving ``path`` as it was, and the folders made for
        it if nothing else is in them; safe to call twice."""
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(Exception):
                file.close()
        if self._staging is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._staging)
            self._staging = None
        created, self._created = self._created, []
        remove_empty_folders(created)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None and self._file is not None:
            self.commit()
        else:  # an error, or already committed
            self.discard()
