"""Random remixing of vocal and accompaniment tracks, after silence removal.

The recipe of the DSD100-remix set of Luo et al. (2017): silent parts of every
vocal and accompaniment track are cut out, then random segments of a random vocal
track and a random accompaniment track are mixed at a fixed vocal-to-accompaniment
ratio into fixed-length clips, so that both sources are active throughout.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._validation import check_audio, check_int, check_real
from ..exceptions import InvalidAudioTypeError, InvalidInputError

__all__ = ["remove_silence", "make_remix"]

#: Largest mixture magnitude :func:`make_remix` lets through (headroom below full scale).
_PEAK = 0.99


def _frame_rms(audio, frame_length):
    """RMS of consecutive non-overlapping frames; the last one may be shorter."""
    n_frames = -(-audio.size // frame_length)
    padded = np.zeros(n_frames * frame_length, dtype=np.float64)
    padded[:audio.size] = audio
    energy = np.square(padded).reshape(n_frames, frame_length).sum(axis=1)
    counts = np.full(n_frames, frame_length)
    counts[-1] = audio.size - (n_frames - 1) * frame_length
    return np.sqrt(energy / counts)


def remove_silence(audio, sample_rate, *, frame_seconds=0.05, threshold_db=-40.0):
    """Cut the silent parts out of a track.

    The track is split into consecutive, non-overlapping frames of
    ``frame_seconds``. A frame is silent when its RMS is more than
    ``-threshold_db`` dB below that of the loudest frame; the other frames are
    kept and joined end to end.

    Parameters
    ----------
    audio : ndarray of shape (n_samples,)
        Mono float audio.
    sample_rate : int
        Sample rate in Hz.
    frame_seconds : float, default=0.05
        Frame length in seconds (at least one sample).
    threshold_db : float, default=-40.0
        Silence threshold in dB relative to the loudest frame, <= 0.

    Returns
    -------
    active : ndarray of float32, shape (n_active,)
        The non-silent frames, concatenated; ``n_active <= n_samples``. Empty if
        ``audio`` is all zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import remove_silence
    >>> tone = np.sin(np.arange(8000) / 5.0)
    >>> audio = np.concatenate([tone, np.zeros(8000), tone])  # 0.5 s silent gap at 16 kHz
    >>> remove_silence(audio, 16000).shape
    (16000,)
    """
    audio = check_audio(audio, name="audio")
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1)
    frame_seconds = check_real(frame_seconds, name="frame_seconds", minimum=0,
                               exclusive_minimum=True)
    threshold_db = check_real(threshold_db, name="threshold_db", maximum=0)
    frame_length = max(1, round(frame_seconds * sample_rate))
    rms = _frame_rms(audio, frame_length)
    loudest = rms.max()
    if loudest == 0:
        return np.zeros(0, dtype=np.float32)
    active_frames = rms >= loudest * 10.0 ** (threshold_db / 20.0)
    active_samples = np.repeat(active_frames, frame_length)[:audio.size]
    return audio[active_samples]


def _check_tracks(tracks, name):
    if isinstance(tracks, np.ndarray) and tracks.ndim == 1 and tracks.dtype != object:
        raise InvalidInputError(
            f"{name} is one 1-D array of shape {tracks.shape}; expected a list of 1-D "
            f"tracks (wrap it: [{name}])"
        )
    if isinstance(tracks, (str, bytes)) or not hasattr(tracks, "__len__"):
        raise InvalidAudioTypeError(
            f"{name} must be a list of 1-D float arrays, got {type(tracks).__name__}"
        )
    if len(tracks) == 0:
        raise InvalidInputError(f"{name} holds no tracks; expected at least one")
    return [check_audio(track, name=f"{name}[{i}]") for i, track in enumerate(tracks)]


def _rms(segment):
    return float(np.sqrt(np.mean(np.square(segment, dtype=np.float64))))


def _draw_segment(tracks, clip_length, random_state, max_tries=100):
    """A random non-all-zero ``clip_length`` segment of a random track, as float64."""
    for _ in range(max_tries):
        track = tracks[random_state.randint(len(tracks))]
        start = random_state.randint(track.size - clip_length + 1)
        segment = track[start:start + clip_length].astype(np.float64)
        # Only a clip shorter than a silence-detection frame can land on zeros.
        if np.any(segment):
            return segment
    raise InvalidInputError(
        f"found no segment of {clip_length} samples with non-zero audio in {max_tries} "
        f"draws; expected clips longer than the gaps inside the tracks"
    )


def _snr_range(snr_db):
    """``snr_db`` as a ``(low, high)`` pair of dB values (equal for one number)."""
    if isinstance(snr_db, (tuple, list)):
        if len(snr_db) != 2:
            raise InvalidInputError(
                f"snr_db={snr_db!r} must be a number or a pair (low, high) of dB values"
            )
        low = check_real(snr_db[0], name="snr_db[0]")
        high = check_real(snr_db[1], name="snr_db[1]", minimum=low)
        return low, high
    value = check_real(snr_db, name="snr_db")
    return value, value


def make_remix(vocals, accompaniments, *, n_clips, clip_seconds=3.0, sample_rate=16000,
               snr_db=0.0, threshold_db=-40.0, random_state=None):
    """Mix random segments of vocal and accompaniment tracks into training clips.

    The DSD100-remix recipe of Luo et al. (2017): the silent parts of every track
    are removed with :func:`remove_silence`; then, for each clip, a random vocal
    track and a random accompaniment track are drawn (independently, so usually
    from different songs), a random ``clip_seconds`` segment is cut from each,
    and the vocals are scaled so that their RMS is ``snr_db`` dB relative to the
    accompaniment's. Both sources are thus active throughout every clip. When the
    mixture would peak above 0.99, both sources are scaled down by the same
    factor so that it peaks at 0.99 (the ratio is kept).

    Parameters
    ----------
    vocals, accompaniments : list of ndarray of shape (n_samples_i,)
        Mono float tracks at ``sample_rate``.
    n_clips : int
        Number of clips to make.
    clip_seconds : float, default=3.0
        Clip length in seconds.
    sample_rate : int, default=16000
        Sample rate of the tracks in Hz.
    snr_db : float or (float, float), default=0.0
        Vocals-to-accompaniment RMS ratio of every clip, in dB; a pair ``(low, high)``
        draws each clip's ratio uniformly from that range (random gains per source,
        e.g. ``(-5, 5)`` to cover the -5 / 0 / +5 dB ratios MIR-1K evaluations use).
    threshold_db : float, default=-40.0
        Silence threshold passed to :func:`remove_silence`, dB relative to each
        track's loudest frame.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; an int makes the output reproducible.

    Returns
    -------
    X : ndarray of float32, shape (n_clips, n_samples)
        Mixtures, ``n_samples = round(clip_seconds * sample_rate)``; exactly
        ``Y.sum(axis=1)``.
    Y : ndarray of float32, shape (n_clips, 2, n_samples)
        Sources, rows ``(vocals, accompaniment)``.

    Raises
    ------
    sksep.exceptions.InvalidInputError
        For bad arguments, or a track with fewer non-silent samples than a clip
        (the message names it).

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_remix
    >>> rng = np.random.default_rng(0)
    >>> vocals = [rng.standard_normal(32000) * 0.1 for _ in range(2)]
    >>> accompaniments = [rng.standard_normal(40000) * 0.3]
    >>> X, Y = make_remix(vocals, accompaniments, n_clips=4, clip_seconds=1.0,
    ...                   snr_db=-5.0, random_state=0)
    >>> X.shape, Y.shape, bool(np.array_equal(X, Y.sum(axis=1)))
    ((4, 16000), (4, 2, 16000), True)
    >>> ratio = 10 * np.log10((Y[:, 0] ** 2).sum() / (Y[:, 1] ** 2).sum())
    >>> round(float(ratio), 2)
    -5.0
    """
    vocals = _check_tracks(vocals, "vocals")
    accompaniments = _check_tracks(accompaniments, "accompaniments")
    n_clips = check_int(n_clips, name="n_clips", minimum=1)
    clip_seconds = check_real(clip_seconds, name="clip_seconds", minimum=0,
                              exclusive_minimum=True)
    sample_rate = check_int(sample_rate, name="sample_rate", minimum=1)
    snr_range = _snr_range(snr_db)
    threshold_db = check_real(threshold_db, name="threshold_db", maximum=0)
    clip_length = round(clip_seconds * sample_rate)
    if clip_length < 1:
        raise InvalidInputError(
            f"clip_seconds={clip_seconds} is shorter than one sample at "
            f"sample_rate={sample_rate}; expected at least {1 / sample_rate:g} s"
        )
    random_state = check_random_state(random_state)

    active = {}
    for name, tracks in (("vocals", vocals), ("accompaniments", accompaniments)):
        active[name] = []
        for i, track in enumerate(tracks):
            kept = remove_silence(track, sample_rate, threshold_db=threshold_db)
            if kept.size < clip_length:
                raise InvalidInputError(
                    f"{name}[{i}] has {kept.size / sample_rate:.2f} s ({kept.size} samples) of "
                    f"non-silent audio (threshold_db={threshold_db}); expected at least "
                    f"clip_seconds={clip_seconds} s ({clip_length} samples)"
                )
            active[name].append(kept)

    Y = np.empty((n_clips, 2, clip_length), dtype=np.float32)
    for clip in range(n_clips):
        voice = _draw_segment(active["vocals"], clip_length, random_state)
        music = _draw_segment(active["accompaniments"], clip_length, random_state)
        low, high = snr_range  # a fixed ratio draws nothing (same clips as before)
        gain = 10.0 ** ((random_state.uniform(low, high) if high > low else low) / 20.0)
        voice *= gain * _rms(music) / _rms(voice)
        peak = np.abs(voice + music).max()
        scale = _PEAK / peak if peak > _PEAK else 1.0
        Y[clip, 0] = voice * scale
        Y[clip, 1] = music * scale
    return Y.sum(axis=1), Y
