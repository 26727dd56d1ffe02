"""Masks of a model at its own rate, mapped onto the STFT of a song at the song's rate.

A network runs at its own sample rate (16 kHz for the shipped model) on its own
feature grid. To give full-band stems at the song's rate, its masks are carried
over to an STFT of the song itself:

* **in frequency**, through the model's mel filterbank evaluated at the song's STFT
  bins (the mel bands are defined in Hz, so the same triangles exist at any rate):
  each song bin takes the filterbank-weighted mean of the masks of the bands that
  cover it, exactly as :meth:`FeatureGrid.projection` does at the model's rate. A
  linear-frequency model's masks are interpolated between its bins;
* **above the model's Nyquist frequency**, where the model heard nothing, each
  song bin takes a mask from the highest bands (``high_band``): ``"top"`` copies
  the top band's mask (what spleeter does above its 11 kHz), ``"octave"`` the mean
  of the masks of the bands in the model's top octave;
* **in time**, by linear interpolation between the model's frames at the times of
  the song's frames.

Every step is a convex combination of masks, so masks in [0, 1] stay in [0, 1]
and masks that sum to one over sources still do: the stems then sum to the song
at full band.

Optionally, a **multichannel Wiener post-filter** (:func:`multichannel_wiener`)
refines the masked stems with a few EM iterations of the local Gaussian model
(Duong, Vincent & Gribonval 2010; Nugraha, Liutkus & Vincent 2016), which uses the
inter-channel covariance of each source; this is what open-unmix does with the
``norbert`` package, which computes it here too.
"""

import warnings
from functools import lru_cache

import librosa.filters  # the mel formulas only: no numba kernel to compile
import numpy as np

from ._constants import HIGH_BAND_RULES
from ._spectral import FeatureGrid, resample
from ._validation import InvalidInputError, check_choice, check_int
from .separators._pipeline import final_step

__all__ = ["HIGH_BAND_RULES", "song_grid", "frequency_projection", "time_interpolation",
           "masks_on_song_grid", "model_masks", "multichannel_wiener", "separate_full_band"]

#: Most EM iterations of the Wiener post-filter (each costs about as much as the
#: masking itself; open-unmix uses 1).
MAX_WIENER_ITERATIONS = 10



def song_grid(grid, sample_rate):
    """The STFT settings for a song at ``sample_rate`` that match the model's ``grid``.

    The window is the longest power of two not longer than the model's window, and
    the hop keeps the model's ratio to it: 512 / 128 samples at 16 kHz (32 / 8 ms)
    become 1024 / 256 at 44.1 kHz (23 / 6 ms) and 512 / 128 at 22.05 kHz. On the
    MUSDB excerpts (``benchmarks/bench_fullband.py``) this gave 0.15 dB more vocal
    SI-SDRi than 2048 / 512 and 0.12 dB more than the exact durations (1411 / 353).

    Parameters
    ----------
    grid : FeatureGrid
        The model's grid.
    sample_rate : int
        The song's rate in Hz.

    Returns
    -------
    FeatureGrid
        Linear-frequency grid (``n_mels=None``) at ``sample_rate``; the model's own
        grid's STFT when the rates match.

    Examples
    --------
    >>> from sksep import FeatureGrid
    >>> g = song_grid(FeatureGrid(), 44100)
    >>> g.sample_rate, g.n_fft, g.hop_length
    (44100, 1024, 256)
    """
    if sample_rate == grid.sample_rate:
        return FeatureGrid(sample_rate=grid.sample_rate, n_fft=grid.n_fft,
                           hop_length=grid.hop_length, n_mels=None, window=grid.window)
    ratio = sample_rate / grid.sample_rate
    n_fft = 1 << int(np.floor(np.log2(grid.n_fft * ratio + 1e-9)))
    hop = max(1, n_fft * grid.hop_length // grid.n_fft)
    return FeatureGrid(sample_rate=int(sample_rate), n_fft=n_fft, hop_length=hop, n_mels=None,
                       window=grid.window)


def _high_band_weights(centres, nyquist, high_band):
    """Weights ``(n_bins,)`` over the model's bins for a song bin above ``nyquist``."""
    weights = np.zeros(len(centres), dtype=np.float64)
    if high_band == "top":
        weights[-1] = 1.0
    else:
        weights[centres >= nyquist / 2] = 1.0
    return weights / weights.sum()


@lru_cache(maxsize=16)
def _projection(grid, target, high_band):
    freqs = np.fft.rfftfreq(target.n_fft, 1.0 / target.sample_rate)
    nyquist = grid.sample_rate / 2
    if grid.n_mels is not None and grid.fmax is not None:
        nyquist = float(grid.fmax)  # the top of the model's bands
    centres = grid.bin_frequencies()
    if grid.n_mels is None:
        # Linear model bins: interpolate between the two nearest bins.
        weights = np.zeros((len(freqs), grid.n_bins))
        below = freqs <= nyquist
        position = np.interp(freqs[below], centres, np.arange(grid.n_bins))
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, grid.n_bins - 1)
        fraction = position - low
        rows = np.flatnonzero(below)
        np.add.at(weights, (rows, low), 1.0 - fraction)
        np.add.at(weights, (rows, high), fraction)
    else:
        with warnings.catch_warnings():
            # Narrow low bands may hold no song bin at a coarser resolution: such a band
            # simply passes its mask to no bin (every song bin is still covered).
            warnings.filterwarnings("ignore", message="Empty filters detected")
            weights = librosa.filters.mel(sr=target.sample_rate, n_fft=target.n_fft,
                                          n_mels=grid.n_mels, fmin=grid.fmin,
                                          fmax=nyquist).T.astype(np.float64)
    totals = weights.sum(axis=1)
    above = freqs > nyquist
    weights[above] = _high_band_weights(centres, nyquist, high_band)
    # Bins below the Nyquist frequency no triangle covers (DC, say) take the nearest band.
    uncovered = np.flatnonzero((totals <= 0) & ~above)
    if uncovered.size:
        nearest = np.abs(freqs[uncovered, None] - centres[None, :]).argmin(axis=1)
        weights[uncovered] = 0.0
        weights[uncovered, nearest] = 1.0
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def frequency_projection(grid, target, *, high_band="top"):
    """Matrix ``(target.n_freq, grid.n_bins)`` taking the model's masks to the song's bins.

    Parameters
    ----------
    grid : FeatureGrid
        The model's feature grid (mel or linear).
    target : FeatureGrid
        The song's STFT grid (:func:`song_grid`).
    high_band : {"top", "octave"}, default="top"
        Rule for the song's bins above the model's Nyquist frequency.

    Returns
    -------
    projection : ndarray of float32
        Non-negative rows that sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import FeatureGrid
    >>> grid = FeatureGrid()
    >>> P = frequency_projection(grid, song_grid(grid, 44100))
    >>> P.shape, bool(np.allclose(P.sum(axis=1), 1))
    ((513, 150), True)
    """
    check_choice(high_band, name="high_band", choices=HIGH_BAND_RULES)
    return _projection(grid, target, high_band)


def time_interpolation(n_frames, hop_seconds, n_target_frames, target_hop_seconds):
    """Where each target frame falls between the model's frames.

    Returns
    -------
    low, high : ndarray of int, shape (n_target_frames,)
        The model frames before and after each target frame's time (clamped to the
        clip).
    fraction : ndarray of float32, shape (n_target_frames,)
        Weight of ``high``; ``1 - fraction`` is the weight of ``low``.
    """
    position = np.arange(n_target_frames) * (target_hop_seconds / hop_seconds)
    position = np.clip(position, 0, n_frames - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n_frames - 1)
    return low, high, (position - low).astype(np.float32)


def masks_on_song_grid(masks, grid, target, n_target_frames, *, high_band="top"):
    """Map a model's masks onto the STFT grid of a song.

    Parameters
    ----------
    masks : ndarray of shape (n_sources, n_frames, n_bins)
        On the model's feature ``grid``.
    grid : FeatureGrid
        The model's grid.
    target : FeatureGrid
        The song's STFT grid (:func:`song_grid`).
    n_target_frames : int
        Frames of the song's STFT.
    high_band : {"top", "octave"}, default="top"
        Rule above the model's Nyquist frequency.

    Returns
    -------
    song_masks : ndarray of float32, shape (n_sources, target.n_freq, n_target_frames)
        Ready to multiply the song's STFT ``(n_freq, n_frames)`` of every channel.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import FeatureGrid
    >>> grid = FeatureGrid()
    >>> masks = np.random.default_rng(0).random((2, 126, 150)).astype("float32")
    >>> masks /= masks.sum(axis=0)
    >>> out = masks_on_song_grid(masks, grid, song_grid(grid, 44100), 173)
    >>> out.shape, bool(np.allclose(out.sum(axis=0), 1, atol=1e-5))
    ((2, 513, 173), True)
    """
    masks = np.asarray(masks, dtype=np.float32)
    if masks.ndim != 3 or masks.shape[2] != grid.n_bins:
        raise InvalidInputError(
            f"masks must have shape (n_sources, n_frames, {grid.n_bins}), got {masks.shape}"
        )
    projection = frequency_projection(grid, target, high_band=high_band)
    low, high, fraction = time_interpolation(
        masks.shape[1], grid.hop_length / grid.sample_rate, n_target_frames,
        target.hop_length / target.sample_rate)
    in_time = (masks[:, low] * (1.0 - fraction)[None, :, None]
               + masks[:, high] * fraction[None, :, None])  # (C, T', n_bins)
    return np.ascontiguousarray(np.swapaxes(in_time @ projection.T, 1, 2))


def _mask_grid(estimator, grid):
    """The grid of the masks of ``estimator`` (``mask_grid_``), ``grid`` if it has none."""
    return getattr(final_step(estimator), "mask_grid_", grid)


def model_masks(estimator, audio):
    """Masks of one mono clip at the model's rate, from a separator or a Pipeline.

    Parameters
    ----------
    estimator : fitted separator, or Pipeline whose last step is one
    audio : ndarray of shape (n_samples,)
        At the model's rate.

    Returns
    -------
    masks : ndarray of shape (n_sources, n_frames, n_bins)
        On the separator's ``mask_grid_``.
    """
    separator = final_step(estimator)
    if separator is not estimator:  # a Pipeline: its steps before the separator first
        return separator.predict_masks(estimator[:-1].transform([audio]))[0]
    return estimator.predict_masks([audio])[0]


def multichannel_wiener(stem_spectra, spectra, iterations):
    """Refine masked stems with the multichannel Wiener filter (EM on the local Gaussian model).

    Each source ``j`` is modelled at every bin as a zero-mean complex Gaussian with
    covariance ``v_j(f, t) R_j(f)``: a power spectral density times a spatial
    covariance matrix between channels. Starting from the masked stems, each EM
    iteration re-estimates ``v_j`` and ``R_j`` from the current stems and replaces
    every stem with its posterior mean given the mixture, ``W_j x`` with
    ``W_j = v_j R_j (sum_k v_k R_k)^-1``. The gains of all sources add up to the
    identity, so the stems still sum to the mixture (up to the regularisation
    ``eps``). Computed by ``norbert.wiener`` (``use_softmask=False``: the masked
    stems' magnitudes are the initial estimates).

    Parameters
    ----------
    stem_spectra : complex ndarray of shape (n_sources, n_channels, n_freq, n_frames)
        Masked STFTs of the stems.
    spectra : complex ndarray of shape (n_channels, n_freq, n_frames)
        STFT of the mixture.
    iterations : int
        EM iterations, 1 to :data:`MAX_WIENER_ITERATIONS` (open-unmix's default is 1).

    Returns
    -------
    complex ndarray of shape (n_sources, n_channels, n_freq, n_frames)
    """
    with warnings.catch_warnings():  # norbert 0.2 imports a deprecated scipy namespace
        warnings.simplefilter("ignore", DeprecationWarning)
        import norbert  # only the Wiener post-filter needs it, and its import warns

    iterations = check_int(iterations, name="wiener_iterations", minimum=1,
                           maximum=MAX_WIENER_ITERATIONS)
    estimates = np.abs(stem_spectra).transpose(3, 2, 1, 0)  # (T, F, C, S)
    mixture = spectra.transpose(2, 1, 0)  # (T, F, C)
    refined = norbert.wiener(estimates.astype(np.float64), mixture.astype(np.complex128),
                             iterations=iterations, use_softmask=False)
    return refined.transpose(3, 2, 1, 0).astype(stem_spectra.dtype)


def separate_full_band(estimator, grid, audio, sample_rate, *, high_band="top",
                       wiener_iterations=0):
    """Separate multichannel audio at its own rate with a model at the model's rate.

    The channels' mean (the mid signal) is resampled to the model's rate and
    analysed once; its masks are mapped onto the STFT of every channel at
    ``sample_rate`` (:func:`masks_on_song_grid`), so all channels share one set of
    masks (the stereo image of each stem stays where it was) and the stems keep
    the whole band of the input.

    Parameters
    ----------
    estimator : fitted separator, or Pipeline whose last step is one
    grid : FeatureGrid
        The model's grid.
    audio : ndarray of shape (n_channels, n_samples)
        Float audio at ``sample_rate``.
    sample_rate : int
        Hz.
    high_band : {"top", "octave"}, default="top"
        Rule above the model's Nyquist frequency.
    wiener_iterations : int, default=0
        EM iterations of the multichannel Wiener post-filter
        (:func:`multichannel_wiener`); 0 keeps the masked stems.

    Returns
    -------
    stems : ndarray of float32, shape (n_sources, n_channels, n_samples)
        Where the masks sum to one, ``stems.sum(axis=0)`` equals ``audio`` to float
        precision (to about 1e-4 of full scale with the Wiener post-filter).
    """
    wiener_iterations = check_int(wiener_iterations, name="wiener_iterations", minimum=0,
                                  maximum=MAX_WIENER_ITERATIONS)
    mid = audio.mean(axis=0)
    if sample_rate != grid.sample_rate:
        mid = resample(mid, orig_sr=sample_rate, target_sr=grid.sample_rate)
    masks = model_masks(estimator, mid)
    target = song_grid(grid, sample_rate)
    spectra = target.stft(audio)  # (n_channels, n_freq, n_frames)
    song_masks = masks_on_song_grid(masks, _mask_grid(estimator, grid), target,
                                    spectra.shape[-1], high_band=high_band)
    stem_spectra = song_masks[:, None] * spectra[None]
    if wiener_iterations:
        stem_spectra = multichannel_wiener(stem_spectra, spectra, wiener_iterations)
    return target.istft(stem_spectra, length=audio.shape[-1])
