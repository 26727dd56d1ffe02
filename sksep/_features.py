"""Mel features of mixtures (Luo et al. 2017, section 3.1) and the record type they produce."""

from dataclasses import dataclass

import librosa
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin

from ._spectral import FeatureGrid
from ._validation import (InvalidInputError, InvalidParameterTypeError, check_choice,
                          check_int, check_mixtures, check_n_jobs, check_real, short_repr)

__all__ = ["MelFeatures", "SpectrogramRecord", "log_mel_features", "level_gain",
           "check_grid", "REFERENCE_RMS"]

#: RMS level every clip is scaled to before its features are computed (about -16 dBFS,
#: the median level of MIR-1K's mixtures), so that what a network reads does not depend
#: on how loud the input is.
REFERENCE_RMS = 0.158


def level_gain(clip):
    """Gain that brings ``clip`` to :data:`REFERENCE_RMS`; 1 for a silent clip.

    Parameters
    ----------
    clip : ndarray of shape (n_samples,)

    Returns
    -------
    gain : float
        ``REFERENCE_RMS / rms(clip)``, or ``1.0`` when the clip is all zeros.

    Examples
    --------
    >>> import numpy as np
    >>> clip = np.full(100, 0.5, dtype="float32")
    >>> round(level_gain(clip) * 0.5, 3)
    0.158
    """
    rms = float(np.sqrt(np.mean(np.square(clip, dtype=np.float64))))
    return REFERENCE_RMS / rms if rms > 0.0 else 1.0


@dataclass
class SpectrogramRecord:
    """One mixture in the time-frequency domain: what separators read and invert.

    Attributes
    ----------
    features : ndarray of float32, shape (n_frames, n_features)
        Network input: log magnitudes on the feature grid, with deltas when asked.
    magnitude : ndarray of float32, shape (n_frames, n_bins)
        Mixture magnitude on the feature grid (the ``S`` of the MSA objectives).
    stft : ndarray of complex64, shape (n_freq, n_frames)
        Complex mixture STFT, whose phase resynthesis reuses.
    n_samples : int
        Length of the mixture in samples; estimates have exactly this length.
    grid : FeatureGrid
        Sample rate and STFT / mel settings that map masks back to the STFT grid.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import MelFeatures
    >>> rng = np.random.default_rng(0)
    >>> record = MelFeatures().fit_transform([rng.normal(size=16000).astype("float32")])[0]
    >>> record
    SpectrogramRecord(n_frames=126, n_features=300, n_samples=16000, sample_rate=16000)
    >>> record.features.shape, record.magnitude.shape, record.stft.shape
    ((126, 300), (126, 150), (257, 126))
    """

    features: np.ndarray
    magnitude: np.ndarray
    stft: np.ndarray
    n_samples: int
    grid: FeatureGrid

    @property
    def sample_rate(self):
        """Sample rate in Hz."""
        return self.grid.sample_rate

    @property
    def n_frames(self):
        """Number of STFT frames."""
        return self.stft.shape[1]

    def __repr__(self):
        return (f"SpectrogramRecord(n_frames={self.n_frames}, "
                f"n_features={self.features.shape[1]}, n_samples={self.n_samples}, "
                f"sample_rate={self.sample_rate})")


def log_mel_features(magnitude, *, deltas=True, delta_width=9, log_floor=1e-6):
    """Log-magnitude features with optional first-order deltas.

    Parameters
    ----------
    magnitude : ndarray of shape (n_frames, n_bins)
        Magnitudes on the feature grid.
    deltas : bool
        Concatenate first-order deltas along time (``librosa.feature.delta``).
    delta_width : int
        Odd number of frames the delta is fitted over.
    log_floor : float
        Added before the natural log so that silence stays finite.

    Returns
    -------
    features : ndarray of float32, shape (n_frames, n_bins * (2 if deltas else 1))
    """
    log_magnitude = np.log(magnitude + log_floor).astype(np.float32)
    if not deltas:
        return log_magnitude
    delta = librosa.feature.delta(log_magnitude, width=delta_width, axis=0, mode="nearest")
    return np.concatenate([log_magnitude, delta.astype(np.float32)], axis=1)


class MelFeatures(TransformerMixin, BaseEstimator):
    """STFT → mel filterbank → log magnitude (+ deltas) of mono mixtures.

    The defaults are Luo et al.'s (2017): 16 kHz audio, 512-sample window,
    128-sample hop, 150 mel bands, first-order deltas. Each clip becomes a
    :class:`SpectrogramRecord` that keeps the complex STFT and the settings that
    map masks back, so separators can resynthesise with the mixture phase.

    Parameters
    ----------
    sample_rate : int, default=16000
        Sample rate of the input audio in Hz, 1000 to 768000.
    n_fft : int, default=512
        STFT window length in samples (32 ms at 16 kHz), at most 65536.
    hop_length : int, default=128
        STFT hop in samples (8 ms at 16 kHz).
    n_mels : int or None, default=150
        Number of mel bands (librosa's Slaney filterbank) when ``frequency_scale`` is
        ``"mel"``. ``None`` is the former spelling of ``frequency_scale="linear"``
        and still means it.
    fmin, fmax : float, default=0, None
        Mel range in Hz; ``fmax=None`` is the Nyquist frequency.
    deltas : bool, default=True
        Concatenate first-order deltas of the log magnitudes.
    delta_width : int, default=9
        Frames over which deltas are fitted.
    normalize_level : bool, default=True
        Compute ``features`` from the clip scaled to a fixed RMS level
        (:data:`REFERENCE_RMS`, about -16 dBFS), so that a clip and the same clip
        scaled by any gain give the same features and are separated the same way.
        ``magnitude`` and ``stft`` keep the clip's own level. ``False`` reads the
        level as it is. Model files saved before this parameter existed load with
        ``True``: the reference is the level they were trained at.
    n_jobs : int, default=None
        Clips transformed in parallel by joblib (``-1``: all cores; ``None``: one,
        unless inside a ``joblib.parallel_config`` context). The records are the
        same as a serial run's, in the same order.
    frequency_scale : {"mel", "linear"}, default="mel"
        ``"mel"``: ``n_mels`` mel bands. ``"linear"``: the STFT bins themselves
        (``n_fft // 2 + 1``, the features of Roma et al. 2018), ignoring ``n_mels``,
        ``fmin`` and ``fmax``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import MelFeatures
    >>> X = np.random.default_rng(0).normal(scale=0.1, size=(2, 16000)).astype("float32")
    >>> records = MelFeatures().fit_transform(X)
    >>> records[0].features.shape
    (126, 300)
    >>> records[0].magnitude.shape
    (126, 150)
    >>> MelFeatures(frequency_scale="linear").fit_transform(X)[0].magnitude.shape
    (126, 257)
    """

    def __init__(self, sample_rate=16000, n_fft=512, hop_length=128, n_mels=150, fmin=0.0,
                 fmax=None, deltas=True, delta_width=9, normalize_level=True, n_jobs=None,
                 frequency_scale="mel"):
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.deltas = deltas
        self.delta_width = delta_width
        self.normalize_level = normalize_level
        self.n_jobs = n_jobs
        self.frequency_scale = frequency_scale

    def _grid(self):
        # The rates audio files may have (sksep.audio_io.FILE_SAMPLE_RATES).
        sample_rate = check_int(self.sample_rate, name="sample_rate", minimum=1000,
                                maximum=768000)
        n_fft = check_int(self.n_fft, name="n_fft", minimum=16, maximum=65536)
        hop_length = check_int(self.hop_length, name="hop_length", minimum=1, maximum=n_fft)
        n_mels = check_int(self.n_mels, name="n_mels", minimum=2, maximum=1024, allow_none=True)
        if check_choice(self.frequency_scale, name="frequency_scale",
                        choices=("mel", "linear")) == "linear":
            n_mels = None  # the linear grid of FeatureGrid
        fmin = check_real(self.fmin, name="fmin", minimum=0.0, maximum=sample_rate / 2)
        fmax = check_real(self.fmax, name="fmax", minimum=fmin, maximum=sample_rate / 2,
                          exclusive_minimum=True, allow_none=True)
        check_choice(self.deltas, name="deltas", choices=(True, False))
        width = check_int(self.delta_width, name="delta_width", minimum=3)
        if width % 2 == 0:
            raise InvalidInputError(f"delta_width={width} must be an odd integer >= 3")
        check_choice(self.normalize_level, name="normalize_level", choices=(True, False))
        check_n_jobs(self.n_jobs)
        return FeatureGrid(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length,
                           n_mels=n_mels, fmin=fmin, fmax=fmax)

    @property
    def min_samples(self):
        """Shortest clip accepted: one STFT window."""
        return int(self.n_fft)

    def fit(self, X, y=None):
        """Validate the settings and ``X``; nothing is learned.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or list of 1-D arrays
            Mono mixtures at ``sample_rate``.
        y : ignored
            The sources, passed through by a Pipeline.
        """
        self.fit_settings()
        check_mixtures(X, name="X", min_samples=self.grid_.n_fft)
        return self

    def fit_settings(self):
        """Validate the settings and set the fitted attributes without any audio.

        Returns
        -------
        self
        """
        self.grid_ = self._grid()
        self.n_features_out_ = self.grid_.n_bins * (2 if self.deltas else 1)
        return self

    def transform(self, X):
        """Compute one :class:`SpectrogramRecord` per clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or list of 1-D arrays

        Returns
        -------
        records : list of SpectrogramRecord
            ``features`` of shape ``(n_frames, n_features_out_)`` with
            ``n_frames = 1 + n_samples // hop_length``.
        """
        grid = getattr(self, "grid_", None) or self._grid()
        n_jobs = check_n_jobs(self.n_jobs)
        clips, _ = check_mixtures(X, name="X", min_samples=grid.n_fft)
        return Parallel(n_jobs=n_jobs)(delayed(self._record)(clip, grid) for clip in clips)

    def _record(self, clip, grid):
        spectrum = grid.stft(clip)
        magnitude = grid.to_grid(np.abs(spectrum))
        gain = level_gain(clip) if self.normalize_level else 1.0
        # In float64: the gain of a clip at silence level (samples near 1e-40, below
        # float32's normal range) is itself beyond float32 (inf, then NaN features).
        levelled = (magnitude.astype(np.float64) * gain).astype(np.float32)
        features = log_mel_features(levelled, deltas=self.deltas,
                                    delta_width=self.delta_width)
        return SpectrogramRecord(features=features, magnitude=magnitude, stft=spectrum,
                                 n_samples=clip.shape[0], grid=grid)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def check_grid(grid, *, name="grid"):
    """Validate a :class:`FeatureGrid` as :class:`MelFeatures` validates its settings.

    Parameters
    ----------
    grid : FeatureGrid
        E.g. a fitted separator's ``grid_`` read from a model file.
    name : str
        How the message names it.

    Returns
    -------
    grid : FeatureGrid

    Raises
    ------
    sksep.exceptions.InvalidInputError
        A field ``MelFeatures`` would refuse (``hop_length=0``, a sample rate below
        1000 Hz, ...) or a window other than its ``"hann"``; the message names the field.
    """
    if not isinstance(grid, FeatureGrid):
        raise InvalidParameterTypeError(f"{name}={short_repr(grid)} must be a FeatureGrid")
    settings = MelFeatures(sample_rate=grid.sample_rate, n_fft=grid.n_fft,
                           hop_length=grid.hop_length, n_mels=grid.n_mels, fmin=grid.fmin,
                           fmax=grid.fmax,
                           frequency_scale="linear" if grid.n_mels is None else "mel")
    try:
        settings._grid()
        check_choice(grid.window, name="window", choices=("hann",))
    except InvalidInputError as error:
        raise type(error)(f"{name}: {error}") from None
    return grid
