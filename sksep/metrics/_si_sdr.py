"""Scale-invariant signal-to-distortion ratio (SI-SDR) and its improvement over the mixture."""

import numpy as np

from .._validation import check_audio, check_real
from ..exceptions import InvalidAudioTypeError, InvalidInputError

__all__ = ["si_sdr", "si_sdr_improvement"]


def as_signals(signal, *, name):
    """Validate float audio of any shape ``(..., n_samples)`` and return it as float64."""
    if signal is None or isinstance(signal, (str, bytes)):
        check_audio(signal, name=name)  # raises, worded like every other entry point
    try:
        array = np.asarray(signal)
    except ValueError:
        raise InvalidAudioTypeError(
            f"{name} must be a float array of shape (..., n_samples), got ragged nested "
            f"sequences of type {type(signal).__name__}"
        ) from None
    if array.ndim == 0:
        raise InvalidInputError(
            f"{name} must be an array of shape (..., n_samples), got a scalar {signal!r}"
        )
    check_audio(array, name=name, ndim=array.ndim)
    return np.asarray(array, dtype=np.float64)


def si_sdr(reference, estimate, *, zero_mean=True, eps=1e-8):
    """Scale-invariant signal-to-distortion ratio, in dB.

    The estimate is split into a scaled copy of the reference (the target) and
    the rest (the distortion), as in Le Roux et al. (2019)::

        alpha  = <estimate, reference> / ||reference||^2
        target = alpha * reference
        SI-SDR = 10 log10(||target||^2 / ||estimate - target||^2)

    Rescaling the estimate leaves the value unchanged, so a separator is not
    rewarded or punished for getting the gain wrong.

    Parameters
    ----------
    reference : array-like of shape (..., n_samples)
        True source signals.
    estimate : array-like of shape (..., n_samples)
        Estimated signals; the leading dimensions broadcast against those of
        ``reference`` (e.g. one mixture ``(n_samples,)`` against sources
        ``(n_sources, n_samples)``).
    zero_mean : bool, default=True
        Remove each signal's mean first, so a DC offset counts for nothing.
    eps : float, default=1e-8
        Added to the reference energy and to both energies of the ratio. It
        keeps silent inputs finite: a silent estimate scores 0 dB and a silent
        reference scores ``10 log10(eps / (||estimate||^2 + eps))`` (very
        negative), never NaN.

    Returns
    -------
    si_sdr : ndarray of float64, shape (...)
        One value in dB per signal (a NumPy scalar for 1-D inputs). Computed in
        float64 whatever the input dtype.

    Raises
    ------
    InvalidInputError
        If the inputs are not float arrays, contain NaN or inf, have different
        numbers of samples, or do not broadcast.

    See Also
    --------
    si_sdr_improvement : SI-SDR of the estimate minus that of the mixture.

    References
    ----------
    J. Le Roux, S. Wisdom, H. Erdogan and J. R. Hershey, "SDR - half-baked or
    well done?", ICASSP 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import si_sdr
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.standard_normal(16000)
    >>> noise = rng.standard_normal(16000)
    >>> estimate = reference + 0.1 * noise            # noise 20 dB below the signal
    >>> round(float(si_sdr(reference, estimate)), 1)
    20.0
    >>> round(float(si_sdr(reference, 3.7 * estimate)), 1)  # scale does not matter
    20.0
    >>> si_sdr(np.stack([reference, noise]), estimate).shape
    (2,)
    """
    reference = as_signals(reference, name="reference")
    estimate = as_signals(estimate, name="estimate")
    if reference.shape[-1] != estimate.shape[-1]:
        raise InvalidInputError(
            f"reference has {reference.shape[-1]} samples (shape {reference.shape}) but "
            f"estimate has {estimate.shape[-1]} (shape {estimate.shape}); expected the "
            f"same number of samples on the last axis"
        )
    try:
        np.broadcast_shapes(reference.shape, estimate.shape)
    except ValueError:
        raise InvalidInputError(
            f"reference of shape {reference.shape} and estimate of shape {estimate.shape} "
            f"do not broadcast; expected shapes (..., n_samples) with compatible leading "
            f"dimensions"
        ) from None
    if not isinstance(zero_mean, (bool, np.bool_)):
        raise InvalidInputError(f"zero_mean={zero_mean!r} must be True or False")
    eps = check_real(eps, name="eps", minimum=0.0, exclusive_minimum=True)

    if zero_mean:
        reference = reference - reference.mean(axis=-1, keepdims=True)
        estimate = estimate - estimate.mean(axis=-1, keepdims=True)
    reference_energy = np.sum(reference**2, axis=-1)
    alpha = np.sum(estimate * reference, axis=-1) / (reference_energy + eps)
    target = alpha[..., None] * reference
    distortion = estimate - target
    ratio = (np.sum(target**2, axis=-1) + eps) / (np.sum(distortion**2, axis=-1) + eps)
    return (10.0 * np.log10(ratio))[()]


def si_sdr_improvement(reference, estimate, mixture, **kwargs):
    """SI-SDR improvement (SI-SDRi) of an estimate over the mixture, in dB.

    ``si_sdr(reference, estimate) - si_sdr(reference, mixture)``: how much
    closer to the reference the separation brought us than doing nothing. This
    is the "SDRi" of the deep-clustering and Chimera papers.

    Parameters
    ----------
    reference : array-like of shape (..., n_samples)
        True sources, e.g. ``(n_sources, n_samples)``.
    estimate : array-like of shape (..., n_samples)
        Estimated sources, same shape as ``reference`` (or broadcastable).
    mixture : array-like of shape (..., n_samples)
        The mixture, e.g. ``(n_samples,)``; it broadcasts against ``reference``.
    **kwargs
        ``zero_mean`` and ``eps``, passed to :func:`si_sdr`.

    Returns
    -------
    improvement : ndarray of float64, shape (...)
        One value in dB per source; 0 when the estimate is the mixture.

    See Also
    --------
    si_sdr
    mean_si_sdr_improvement : length-weighted mean over a set of clips.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import si_sdr_improvement
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.standard_normal((2, 16000))
    >>> mixture = sources.sum(axis=0)
    >>> si_sdr_improvement(sources, np.stack([mixture, mixture]), mixture)
    array([0., 0.])
    >>> estimate = sources + 0.1 * rng.standard_normal((2, 16000))
    >>> np.round(si_sdr_improvement(sources, estimate, mixture))  # 20 dB better than x
    array([20., 20.])
    """
    for signal, name in ((reference, "reference"), (estimate, "estimate"), (mixture, "mixture")):
        as_signals(signal, name=name)  # so that an error names the mixture as the mixture
    return si_sdr(reference, estimate, **kwargs) - si_sdr(reference, mixture, **kwargs)
