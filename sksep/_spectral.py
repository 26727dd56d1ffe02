"""Pure spectral functions: STFT, mel filterbank, mask projection and resynthesis.

Masks live on a *feature grid* of ``n_bins`` frequency bins per frame: the
``n_mels`` mel bands of :class:`~sksep.MelFeatures`, or the ``n_fft // 2 + 1``
linear bins when no mel filterbank is used. :func:`apply_masks` is the one place
where such masks are brought back to the STFT grid, applied to the complex
mixture STFT and inverted with the mixture phase.
"""

from dataclasses import dataclass, replace
from functools import lru_cache

import librosa  # its submodules load on first use (librosa.filters: no numba kernel)
import numpy as np
import scipy.signal
import soxr

from ._validation import InvalidInputError

__all__ = ["FeatureGrid", "stft", "istft", "resample", "apply_masks", "grid_magnitudes",
           "grid_phase_sensitive_magnitudes", "linear_grid", "on_feature_grid"]

# The STFT, its inverse and resampling are computed here with numpy, scipy and soxr
# rather than through librosa.stft / istft / resample: those import librosa's core,
# whose numba kernels are compiled on first use (about a minute the first time a
# fresh installation separates a song). The conventions are librosa's: centred
# frames, zero padding, periodic window, least-squares overlap-add (Griffin & Lim).


@lru_cache(maxsize=32)
def _window(window, n_fft):
    """The periodic analysis window of length ``n_fft`` (float64, read-only)."""
    values = scipy.signal.get_window(window, n_fft, fftbins=True).astype(np.float64)
    values.flags.writeable = False
    return values


#: Bytes of frames transformed at once by :func:`stft` and :func:`istft`: memory stays a
#: few blocks of this size over the output, however long the signal.
_CHUNK_BYTES = 1 << 22


def _frames_per_chunk(n_fft, n_signals):
    return max(1, _CHUNK_BYTES // (16 * n_fft * max(1, n_signals)))


def stft(audio, *, n_fft=512, hop_length=128, window="hann"):
    """Complex STFT of mono audio, frames centred on multiples of ``hop_length``.

    The signal is padded with ``n_fft // 2`` zeros at both ends, so frame ``t`` is
    centred on sample ``t * hop_length``; each frame is multiplied by the periodic
    ``window`` and transformed with a real FFT (librosa's ``stft`` with
    ``center=True, pad_mode="constant"``). Frames are transformed a chunk at a time.

    Parameters
    ----------
    audio : ndarray of shape (..., n_samples)
    n_fft, hop_length : int
        Window length and hop in samples.
    window : str
        A window name of :func:`scipy.signal.get_window`.

    Returns
    -------
    spectrum : ndarray of complex64, shape (..., n_fft // 2 + 1, n_frames)
        ``n_frames = 1 + n_samples // hop_length``.
    """
    audio = np.asarray(audio, dtype=np.float32)
    half = n_fft // 2
    padded = np.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(half, half)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[..., ::hop_length, :]
    n_frames = frames.shape[-2]
    spectrum = np.empty(audio.shape[:-1] + (n_fft // 2 + 1, n_frames), dtype=np.complex64)
    step = _frames_per_chunk(n_fft, int(np.prod(audio.shape[:-1])))
    for start in range(0, n_frames, step):
        chunk = np.fft.rfft(frames[..., start:start + step, :] * _window(window, n_fft), axis=-1)
        spectrum[..., start:start + step] = np.swapaxes(chunk, -1, -2)
    return spectrum


def _overlap_add_into(total, frames, hop_length, first_frame):
    """Add ``frames (..., n_frames, n_fft)`` into ``total (..., n_samples)``, frame ``t``
    starting at sample ``(first_frame + t) * hop_length``; ``total`` must reach
    ``hop_length`` samples past the last frame's end rounded up to a hop."""
    n_frames, n_fft = frames.shape[-2:]
    for offset in range(0, n_fft, hop_length):  # the part of every frame in one hop
        width = min(hop_length, n_fft - offset)
        begin = first_frame * hop_length + offset
        target = total[..., begin:begin + n_frames * hop_length]
        target = target.reshape(target.shape[:-1] + (n_frames, hop_length))  # a view
        target[..., :width] += frames[..., offset:offset + width]


def istft(spectrum, *, n_fft=512, hop_length=128, window="hann", length):
    """Inverse of :func:`stft`, cut or padded to exactly ``length`` samples.

    Each frame's inverse FFT is windowed and overlap-added; the sum is divided by the
    overlap-added squared window where that is not negligible (the least-squares
    inverse of Griffin and Lim, librosa's ``istft`` with ``center=True``, accumulated
    in float32 as librosa does). Frames are inverted a chunk at a time.

    Parameters
    ----------
    spectrum : ndarray of complex, shape (..., n_fft // 2 + 1, n_frames)
    n_fft, hop_length : int
        Window length and hop in samples.
    window : str
        A window name of :func:`scipy.signal.get_window`.
    length : int
        Samples of the output.

    Returns
    -------
    audio : ndarray of float32, shape (..., length)
    """
    spectrum = np.asarray(spectrum)
    lead, n_frames = spectrum.shape[:-2], spectrum.shape[-1]
    n_total = (n_frames + -(-n_fft // hop_length)) * hop_length
    signal = np.zeros(lead + (n_total,), dtype=np.float32)
    window_values = _window(window, n_fft)
    step = _frames_per_chunk(n_fft, int(np.prod(lead)))
    for start in range(0, n_frames, step):
        frames = np.fft.irfft(np.swapaxes(spectrum[..., start:start + step], -1, -2), n=n_fft,
                              axis=-1)
        _overlap_add_into(signal, (frames * window_values).astype(np.float32), hop_length,
                          start)
    power = np.zeros(n_total, dtype=np.float32)
    squared = (window_values ** 2).astype(np.float32)
    _overlap_add_into(power, np.broadcast_to(squared, (n_frames, n_fft)), hop_length, 0)
    loud = power > np.finfo(np.float32).tiny
    signal[..., loud] /= power[loud]
    start = n_fft // 2
    signal = signal[..., start:start + length]
    if signal.shape[-1] < length:
        signal = np.pad(signal, [(0, 0)] * (signal.ndim - 1)
                        + [(0, length - signal.shape[-1])])
    return np.ascontiguousarray(signal)


def resample(audio, *, orig_sr, target_sr):
    """Resample along the last axis with soxr's high-quality filter.

    The output has ``ceil(n_samples * target_sr / orig_sr)`` samples (cut or padded
    with zeros) and the input's dtype, as ``librosa.resample`` with its default
    ``res_type="soxr_hq"`` returns.

    Parameters
    ----------
    audio : ndarray of float, shape (..., n_samples)
    orig_sr, target_sr : int
        Sample rates in Hz.

    Returns
    -------
    audio : ndarray, shape (..., ceil(n_samples * target_sr / orig_sr))
    """
    audio = np.asarray(audio)
    if orig_sr == target_sr:
        return audio
    n_samples = int(np.ceil(audio.shape[-1] * float(target_sr) / orig_sr))
    flat = audio.reshape(-1, audio.shape[-1])
    # soxr reads (n_samples, n_channels): every row is one channel.
    resampled = soxr.resample(np.ascontiguousarray(flat.T), orig_sr, target_sr,
                              quality="soxr_hq").T
    fixed = np.zeros((flat.shape[0], n_samples), dtype=audio.dtype)
    kept = min(n_samples, resampled.shape[-1])
    fixed[:, :kept] = resampled[:, :kept]
    return fixed.reshape(audio.shape[:-1] + (n_samples,))


@lru_cache(maxsize=16)
def _filterbank(sample_rate, n_fft, n_mels, fmin, fmax):
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                               fmax=fmax).astype(np.float32)


def _row_means(weights, row_hz, column_hz):
    """``weights`` with each row divided by its sum; an all-zero row takes the column
    nearest in frequency (``row_hz``, ``column_hz``: the Hz of rows and columns)."""
    weights = weights.copy()
    empty = np.flatnonzero(weights.sum(axis=1) <= 0)
    if empty.size:
        weights[empty, np.abs(row_hz[empty, None] - column_hz[None, :]).argmin(axis=1)] = 1.0
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _bin_and_band_hz(sample_rate, n_fft, n_mels, fmin, fmax):
    """Hz of the STFT bins and of the mel band centres."""
    return (librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft),
            librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=fmax)[1:-1])


@lru_cache(maxsize=16)
def _projection(sample_rate, n_fft, n_mels, fmin, fmax):
    # Bins outside every triangle (DC, Nyquist, beyond fmax) take the nearest band's mask.
    bins, bands = _bin_and_band_hz(sample_rate, n_fft, n_mels, fmin, fmax)
    return _row_means(_filterbank(sample_rate, n_fft, n_mels, fmin, fmax).T, bins, bands)


@dataclass(frozen=True)
class FeatureGrid:
    """The time-frequency grid that features, targets and masks share.

    Parameters
    ----------
    sample_rate : int
        Hz.
    n_fft, hop_length : int
        STFT window and hop in samples.
    n_mels : int or None
        Number of mel bands; ``None`` keeps the ``n_fft // 2 + 1`` linear STFT bins.
    fmin, fmax : float
        Mel filterbank range in Hz (``fmax=None`` is Nyquist).
    window : str
        STFT window.

    Examples
    --------
    >>> from sksep import FeatureGrid
    >>> grid = FeatureGrid()                    # the grid of MelFeatures() at 16 kHz
    >>> grid.n_freq, grid.n_bins                # STFT bins, mel bands
    (257, 150)
    >>> grid.projection().shape                 # maps a mel-band mask to the STFT bins
    (257, 150)
    """

    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 128
    n_mels: int | None = 150
    fmin: float = 0.0
    fmax: float | None = None
    window: str = "hann"

    @property
    def n_freq(self):
        """Number of linear STFT bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def n_bins(self):
        """Number of bins of the feature grid (mel bands or STFT bins)."""
        return self.n_freq if self.n_mels is None else self.n_mels

    def bin_frequencies(self):
        """Centre frequency in Hz of each feature-grid bin, shape ``(n_bins,)``."""
        if self.n_mels is None:
            return librosa.fft_frequencies(sr=self.sample_rate, n_fft=self.n_fft)
        return librosa.mel_frequencies(n_mels=self.n_mels + 2, fmin=self.fmin,
                                       fmax=self._fmax)[1:-1]

    @property
    def _fmax(self):
        return self.sample_rate / 2 if self.fmax is None else float(self.fmax)

    def filterbank(self):
        """Mel filterbank ``(n_mels, n_freq)`` (librosa, Slaney), or ``None`` for linear bins."""
        if self.n_mels is None:
            return None
        return _filterbank(self.sample_rate, self.n_fft, self.n_mels, float(self.fmin),
                           self._fmax)

    def projection(self):
        """Matrix ``(n_freq, n_bins)`` that maps a feature-grid mask to the STFT grid.

        Each STFT bin takes the filterbank-weighted average of the masks of the
        mel bands that cover it, so masks in [0, 1] stay in [0, 1] and masks that
        sum to one over sources still sum to one. ``None`` for linear bins.
        """
        if self.n_mels is None:
            return None
        return _projection(self.sample_rate, self.n_fft, self.n_mels, float(self.fmin),
                           self._fmax)

    def to_grid(self, magnitude):
        """Map STFT magnitudes ``(..., n_freq, n_frames)`` to ``(..., n_frames, n_bins)``."""
        magnitude = np.swapaxes(np.asarray(magnitude, dtype=np.float32), -1, -2)
        if self.n_mels is None:
            return np.ascontiguousarray(magnitude)
        return magnitude @ self.filterbank().T

    def stft(self, audio):
        """:func:`stft` with this grid's settings."""
        return stft(audio, n_fft=self.n_fft, hop_length=self.hop_length, window=self.window)

    def istft(self, spectrum, length):
        """:func:`istft` with this grid's settings."""
        return istft(spectrum, n_fft=self.n_fft, hop_length=self.hop_length,
                     window=self.window, length=length)


def linear_grid(grid):
    """The linear STFT grid of ``grid``: the same STFT, ``n_freq`` bins and no mel bands.

    Parameters
    ----------
    grid : FeatureGrid

    Returns
    -------
    FeatureGrid
        ``n_mels=None`` (and the unused mel range at its defaults), so two grids with
        the same STFT have equal linear grids.

    Examples
    --------
    >>> from sksep import FeatureGrid
    >>> linear_grid(FeatureGrid()).n_bins
    257
    """
    return replace(grid, n_mels=None, fmin=0.0, fmax=None)


@lru_cache(maxsize=16)
def _band_means(sample_rate, n_fft, n_mels, fmin, fmax):
    # Bands narrower than an STFT bin take the nearest bin; (n_freq, n_mels).
    bins, bands = _bin_and_band_hz(sample_rate, n_fft, n_mels, fmin, fmax)
    return _row_means(_filterbank(sample_rate, n_fft, n_mels, fmin, fmax), bands, bins).T


def on_feature_grid(masks, grid):
    """Map masks on the linear STFT bins of ``grid`` to its feature grid.

    Each mel band takes the filterbank-weighted mean of the masks of its STFT bins
    (a band narrower than one bin, the nearest bin's), so masks in [0, 1] stay in
    [0, 1] and masks that sum to one over sources still do.

    Parameters
    ----------
    masks : ndarray of shape (..., n_frames, n_freq)
    grid : FeatureGrid

    Returns
    -------
    masks : ndarray of float32, shape (..., n_frames, n_bins)
        ``masks`` itself on a linear grid.
    """
    masks = np.asarray(masks, dtype=np.float32)
    if masks.shape[-1] != grid.n_freq:
        raise InvalidInputError(
            f"masks must have {grid.n_freq} STFT bins on their last axis, got {masks.shape}")
    if grid.n_mels is None:
        return masks
    return masks @ _band_means(grid.sample_rate, grid.n_fft, grid.n_mels, float(grid.fmin),
                               grid._fmax)


def grid_magnitudes(grid, sources):
    """Magnitudes of each source on the feature grid.

    Parameters
    ----------
    grid : FeatureGrid
    sources : ndarray of shape (n_sources, n_samples)

    Returns
    -------
    magnitudes : ndarray of float32, shape (n_sources, n_frames, n_bins)
    """
    return grid.to_grid(np.abs(grid.stft(sources)))


def grid_phase_sensitive_magnitudes(grid, sources, mixture_stft):
    """Phase-sensitive source magnitudes ``|R_c| cos(theta_c - theta_S)`` on the feature grid.

    The part of each source in phase with the mixture (Erdogan et al. 2015): what a
    mask applied to the mixture, with the mixture's phase, can reconstruct at best.
    Negative where a source is out of phase with the mixture; the phase-sensitive
    loss truncates it (:func:`sksep.losses.phase_sensitive_spectrum_approximation`).

    Parameters
    ----------
    grid : FeatureGrid
    sources : ndarray of shape (n_sources, n_samples)
    mixture_stft : ndarray of complex, shape (n_freq, n_frames)
        The mixture's STFT on ``grid``.

    Returns
    -------
    magnitudes : ndarray of float32, shape (n_sources, n_frames, n_bins)
        On a mel grid, the filterbank-weighted sums of the STFT bins' values.
    """
    spectra = grid.stft(sources)  # (C, n_freq, T)
    mixture_phase = np.exp(-1j * np.angle(mixture_stft))
    return grid.to_grid(np.real(spectra * mixture_phase[None]))


def apply_masks(record, masks, *, phase="mixture", n_iter=32, grid=None):
    """Apply feature-grid masks to a mixture and resynthesise the sources.

    Parameters
    ----------
    record : SpectrogramRecord
        The mixture, as returned by :meth:`MelFeatures.transform`.
    masks : ndarray of shape (n_sources, n_frames, n_bins)
        One mask per source on ``grid``, values in [0, 1].
    phase : {"mixture", "griffinlim"}
        Resynthesis with the mixture phase (default; masks summing to one then
        give estimates summing to the mixture), or Griffin-Lim phase retrieval
        of each masked magnitude (``n_iter`` iterations), as in Xi's report.
    grid : FeatureGrid, optional
        The masks' grid: the record's feature grid (default) or its linear STFT grid
        (:func:`linear_grid`), for separators whose masks are on the STFT bins.

    Returns
    -------
    estimates : ndarray of float32, shape (n_sources, n_samples)
        As long as the mixture.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import MelFeatures, WienerMask, apply_masks
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.normal(scale=0.1, size=(2, 16000)).astype("float32")
    >>> record = MelFeatures().fit_transform([sources.sum(axis=0)])[0]
    >>> estimates = apply_masks(record, WienerMask().masks(record, sources))
    >>> estimates.shape
    (2, 16000)
    >>> bool(np.allclose(estimates.sum(axis=0), sources.sum(axis=0), atol=1e-5))  # null sum
    True
    """
    if grid is None:
        grid = record.grid
    elif grid not in (record.grid, linear_grid(record.grid)):
        raise InvalidInputError(
            f"grid={grid} must be the record's grid {record.grid} or its linear STFT grid")
    masks = np.asarray(masks, dtype=np.float32)
    n_frames = record.stft.shape[1]
    if masks.ndim != 3 or masks.shape[1:] != (n_frames, grid.n_bins):
        raise InvalidInputError(
            f"masks must have shape (n_sources, {n_frames}, {grid.n_bins}), got {masks.shape}"
        )
    projection = grid.projection()
    linear = masks if projection is None else masks @ projection.T  # (C, T, n_freq)
    masked = np.swapaxes(linear, -1, -2) * record.stft[None]
    if phase == "mixture":
        return grid.istft(masked, length=record.n_samples)
    if phase == "griffinlim":
        return np.stack([
            librosa.griffinlim(np.abs(m), n_iter=n_iter, hop_length=grid.hop_length,
                               n_fft=grid.n_fft, window=grid.window, length=record.n_samples,
                               init=None, random_state=0).astype(np.float32)
            for m in masked
        ])
    raise InvalidInputError(f"phase={phase!r} must be one of 'mixture', 'griffinlim'")
