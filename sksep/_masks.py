"""Training targets and oracle masks on the feature grid (pure functions + thin targets)."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import TransformerTags

from ._spectral import grid_magnitudes, grid_phase_sensitive_magnitudes
from ._validation import as_array, check_real
from .exceptions import InvalidInputError

__all__ = [
    "ideal_binary_mask",
    "wiener_mask",
    "phase_sensitive_mask",
    "loudness_weights",
    "magnitude_weights",
    "IdealBinaryMask",
    "WienerMask",
    "PhaseSensitiveMask",
]


def ideal_binary_mask(source_magnitudes):
    """Dominant-source mask: 1 where a source is the loudest, 0 elsewhere.

    Parameters
    ----------
    source_magnitudes : ndarray of shape (n_sources, n_frames, n_bins)

    Returns
    -------
    mask : ndarray of float32, shape (n_sources, n_frames, n_bins)
        One-hot over sources at every bin (ties go to the first source); the
        ``Y`` of the deep-clustering objective.
    """
    magnitudes = np.asarray(source_magnitudes)
    winner = magnitudes.argmax(axis=0)
    return (np.arange(magnitudes.shape[0])[:, None, None] == winner[None]).astype(np.float32)


def wiener_mask(source_magnitudes, *, power=2.0, eps=1e-10):
    """Wiener-like ratio mask ``|S_c|^p / sum_j |S_j|^p`` (Erdogan et al. 2015).

    Parameters
    ----------
    source_magnitudes : ndarray of shape (n_sources, n_frames, n_bins)
    power : float
        2 gives the Wiener-like mask of the mMSA objective, 1 the magnitude ratio mask
        (also the way to renormalise non-negative masks so that they sum to one).
    eps : float
        Bins whose summed ``|S_j|^p`` is at most this are silent.

    Returns
    -------
    mask : ndarray of float32, shape (n_sources, n_frames, n_bins)
        Sums to one over sources; bins where every source is silent get ``1 / n_sources``.
    """
    powered = np.asarray(source_magnitudes, dtype=np.float64) ** power
    total = powered.sum(axis=0, keepdims=True)
    silent = total <= eps
    mask = np.where(silent, 1.0 / powered.shape[0], powered / np.where(silent, 1.0, total))
    return mask.astype(np.float32)


def phase_sensitive_mask(source_spectra, mixture_spectrum, *, eps=1e-12):
    """Truncated phase-sensitive mask ``|S_c| / |X| cos(theta_c - theta_X)`` in [0, 1].

    The part of each source in phase with the mixture, over the mixture's magnitude
    (Erdogan et al. 2015): the best real mask to apply to the mixture with the
    mixture's phase, truncated to [0, 1] as the phase-sensitive objective
    (``mi_objective="psa"``, :func:`sksep.losses.phase_sensitive_spectrum_approximation`)
    truncates its target. Unlike the ratio masks it does not sum to one over sources.

    Parameters
    ----------
    source_spectra : ndarray of complex, shape (n_sources, n_frames, n_bins)
        Each source's STFT ``S_c``.
    mixture_spectrum : ndarray of complex, shape (n_frames, n_bins)
        The mixture's STFT ``X`` on the same grid.
    eps : float, default=1e-12
        Floor of the mixture magnitude divided by: a bin where the sources cancel
        gives a finite mask, never a division by zero.

    Returns
    -------
    mask : ndarray of float32, shape (n_sources, n_frames, n_bins)
        Values in [0, 1].

    Raises
    ------
    sksep.exceptions.InvalidInputError
        The shapes do not match, or ``eps`` is not positive.

    See Also
    --------
    PhaseSensitiveMask : the same mask on a feature grid, from a record and its sources.

    Examples
    --------
    >>> import numpy as np
    >>> sources = np.array([[[1.0 + 0j]], [[1j]]])  # in phase with X, and 90 degrees off
    >>> phase_sensitive_mask(sources, sources.sum(0)).round(3).ravel().tolist()
    [0.5, 0.5]
    """
    sources = as_array(source_spectra, name="source_spectra",
                       expected="a complex array of shape (n_sources, n_frames, n_bins)")
    mixture = as_array(mixture_spectrum, name="mixture_spectrum",
                       expected="a complex array of shape (n_frames, n_bins)")
    for name, array in (("source_spectra", sources), ("mixture_spectrum", mixture)):
        if not np.issubdtype(array.dtype, np.number):
            raise InvalidInputError(f"{name} must be a numeric (complex) array; got dtype "
                                    f"{array.dtype}")
    if sources.ndim != 3:
        raise InvalidInputError(f"source_spectra must have shape (n_sources, n_frames, "
                                f"n_bins); got shape {sources.shape}")
    if mixture.shape != sources.shape[1:]:
        raise InvalidInputError(f"mixture_spectrum must have shape (n_frames, n_bins) = "
                                f"{sources.shape[1:]}, as source_spectra; got shape "
                                f"{mixture.shape}")
    eps = check_real(eps, name="eps", minimum=0.0, exclusive_minimum=True)
    in_phase = np.real(sources * np.exp(-1j * np.angle(mixture))[None])
    return _truncated_ratio(in_phase, np.abs(mixture), eps)


def _truncated_ratio(in_phase_magnitudes, mixture_magnitude, eps):
    """``in_phase / max(|X|, eps)`` clipped to [0, 1], as float32."""
    ratio = in_phase_magnitudes / np.maximum(mixture_magnitude, eps)[None]
    return np.clip(ratio, 0.0, 1.0).astype(np.float32)


def loudness_weights(mixture_magnitude, *, threshold_db=-40.0):
    """Weights that keep only the bins loud enough to matter.

    Parameters
    ----------
    mixture_magnitude : ndarray of shape (n_frames, n_bins)
    threshold_db : float
        Bins quieter than this many dB below the clip's loudest bin get weight 0
        (the deep-clustering loss then ignores them); the others get 1.

    Returns
    -------
    weights : ndarray of float32, shape (n_frames, n_bins)
    """
    magnitude = np.asarray(mixture_magnitude, dtype=np.float32)
    peak = float(magnitude.max()) if magnitude.size else 0.0
    if peak <= 0.0:
        return np.zeros_like(magnitude)
    floor = peak * 10.0 ** (threshold_db / 20.0)
    # ">=": with threshold_db=0 the loudest bins themselves must keep their weight.
    return (magnitude >= floor).astype(np.float32)


class _MaskTarget(BaseEstimator):
    """Shared shell: a target computes masks from a record and its sources."""

    def __init__(self, threshold_db=-40.0):
        self.threshold_db = threshold_db

    def fit(self, records=None, Y=None):
        """Nothing to learn; validates the settings and returns ``self``."""
        self._check_params()
        return self

    def _check_params(self):
        check_real(self.threshold_db, name="threshold_db", maximum=0.0)

    def transform(self, records, Y):
        """Masks of each clip.

        Parameters
        ----------
        records : list of SpectrogramRecord
        Y : list of ndarray, each (n_sources, n_samples)

        Returns
        -------
        masks : list of ndarray, each (n_sources, n_frames, n_bins)
        """
        return [self.masks(record, sources) for record, sources in zip(records, Y)]

    def masks(self, record, sources):
        """Masks of one clip, ``(n_sources, n_frames, n_bins)``."""
        return self.masks_from_magnitudes(grid_magnitudes(record.grid, sources))

    def masks_from_magnitudes(self, source_magnitudes):
        """Masks from source magnitudes already on the feature grid.

        Parameters
        ----------
        source_magnitudes : ndarray of shape (n_sources, n_frames, n_bins)
            E.g. the sources' magnitudes on the feature grid (mel bands by default),
            computed once for several targets.

        Returns
        -------
        masks : ndarray of float32, shape (n_sources, n_frames, n_bins)
        """
        self._check_params()
        return self._masks(source_magnitudes)

    def weights(self, record):
        """Loudness weights of one clip, ``(n_frames, n_bins)``; see :func:`loudness_weights`."""
        self._check_params()
        return loudness_weights(record.magnitude, threshold_db=self.threshold_db)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform(records, Y) maps records and sources to masks: sklearn's checks must
        # know it for a transformer (it is one that needs the sources), and nothing is fit.
        tags.transformer_tags = TransformerTags()
        tags.requires_fit = False
        return tags


class IdealBinaryMask(_MaskTarget):
    """Ideal binary mask target: the dominant source of each bin.

    Parameters
    ----------
    threshold_db : float, default=-40
        Loudness threshold (dB below the clip's maximum) under which bins get
        zero weight in the deep-clustering loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import IdealBinaryMask, MelFeatures
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.normal(scale=0.1, size=(2, 8000)).astype("float32")
    >>> record = MelFeatures().fit_transform([sources.sum(0)])[0]
    >>> mask = IdealBinaryMask().masks(record, sources)
    >>> mask.shape, bool((mask.sum(0) == 1).all())
    ((2, 63, 150), True)
    """

    def _masks(self, magnitudes):
        return ideal_binary_mask(magnitudes)


class WienerMask(_MaskTarget):
    """Wiener-like ratio mask target, the reference mask of the mMSA objective.

    Parameters
    ----------
    power : float, default=2
        Exponent of the ratio mask (2: Wiener-like, 1: magnitude ratio).
    threshold_db : float, default=-40
        Loudness threshold used by :meth:`weights`.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import MelFeatures, WienerMask
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.normal(scale=0.1, size=(2, 8000)).astype("float32")
    >>> record = MelFeatures().fit_transform([sources.sum(0)])[0]
    >>> mask = WienerMask().masks(record, sources)
    >>> bool(np.allclose(mask.sum(0), 1.0))
    True
    """

    def __init__(self, power=2.0, threshold_db=-40.0):
        self.power = power
        self.threshold_db = threshold_db

    def _check_params(self):
        super()._check_params()
        check_real(self.power, name="power", minimum=0.0, exclusive_minimum=True)

    def _masks(self, magnitudes):
        return wiener_mask(magnitudes, power=self.power)


class PhaseSensitiveMask(_MaskTarget):
    """Truncated phase-sensitive mask target: ``|S_c| / |X| cos(theta_c - theta_X)`` in [0, 1].

    The oracle mask of the phase-sensitive objective (``mi_objective="psa"``), computed
    from a record and its true sources on the record's grid, from the complex spectra.
    On a mel grid the in-phase source magnitudes and the mixture magnitude are each the
    filterbank-weighted sums of their STFT bins' values. It needs the
    sources' phases, so unlike the ratio masks it is not computed from magnitudes
    alone (:meth:`masks_from_magnitudes` refuses), and it cannot be a separator's
    ``mi_target``; it gives ceilings (what a real mask applied with the mixture's
    phase can reach at best) and mask analyses.

    Parameters
    ----------
    threshold_db : float, default=-40
        Loudness threshold used by :meth:`weights`.

    See Also
    --------
    WienerMask : the ratio mask of the mMSA objective.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import MelFeatures, PhaseSensitiveMask
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.normal(scale=0.1, size=(2, 8000)).astype("float32")
    >>> record = MelFeatures().fit_transform([sources.sum(0)])[0]
    >>> mask = PhaseSensitiveMask().masks(record, sources)
    >>> mask.shape, bool(mask.min() >= 0 and mask.max() <= 1)
    ((2, 63, 150), True)
    """

    def masks(self, record, sources):
        """Masks of one clip on ``record.grid``.

        Parameters
        ----------
        record : SpectrogramRecord
            The mixture's record (its ``stft`` and ``magnitude`` are read).
        sources : ndarray of shape (n_sources, n_samples)
            The true sources of the clip.

        Returns
        -------
        masks : ndarray of float32, shape (n_sources, n_frames, n_bins)
            Values in [0, 1].
        """
        self._check_params()
        in_phase = grid_phase_sensitive_magnitudes(record.grid, sources, record.stft)
        return _truncated_ratio(in_phase, record.magnitude, 1e-12)

    def masks_from_magnitudes(self, source_magnitudes):
        """Refused: the phase-sensitive mask needs the sources' phases.

        Raises
        ------
        sksep.exceptions.InvalidInputError
            Always; call :meth:`masks` with a record and its sources.
        """
        raise InvalidInputError("PhaseSensitiveMask needs the sources' phases, not their "
                                "magnitudes: call masks(record, sources)")


def magnitude_weights(magnitude):
    """Weights of the bins of one clip by their mixture magnitude, mean 1.

    A loss averaged with these weights counts each bin as much as it weighs in the
    signal, as the spectrum-approximation losses do: an error in a loud bin costs
    more SDR than one in a near-silent bin.

    Parameters
    ----------
    magnitude : ndarray of shape (n_frames, n_bins)
        The mixture's magnitude on the feature grid.

    Returns
    -------
    weights : ndarray of float32, shape (n_frames, n_bins)
        ``magnitude / mean(magnitude)``; all ones for a silent clip.

    Examples
    --------
    >>> import numpy as np
    >>> magnitude_weights(np.array([[0.0, 1.0], [2.0, 1.0]])).tolist()
    [[0.0, 1.0], [2.0, 1.0]]
    """
    magnitude = np.asarray(magnitude, dtype=np.float64)
    mean = magnitude.mean()
    if not mean > 0:
        return np.ones(magnitude.shape, dtype=np.float32)
    return (magnitude / mean).astype(np.float32)
