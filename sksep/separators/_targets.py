"""What the neural separators train towards, per clip: :func:`clip_targets`.

Every neural separator's ``_clip_targets`` hook is one call of :func:`clip_targets`
with its settings; :class:`~sksep.separators._training.SegmentDataset` cuts the arrays
it returns into segments and the objectives of :mod:`sksep.losses` read them:

================================  ==========================================================
separator                         targets
================================  ==========================================================
Chimera, deep clustering          ``labels`` and ``weights`` of ``dc_target``, ``mixture``,
                                  ``reference`` (``mi_target``'s masks, or source
                                  magnitudes, or phase-sensitive ones)
class-conditional                 ``mixture`` and source magnitudes as ``reference`` on the
                                  STFT grid, ``labels`` and ``weights`` of ``dc_target``
context CNN                       the ratio mask as ``reference``, or ``labels``
U-Net, UH-net                     ``mask_target``'s masks as ``reference``; the UH-net adds
                                  the Chimera loss's ``labels``, ``weights``, ``mixture``
================================  ==========================================================

It lives beside the estimators rather than in :mod:`sksep._masks` because what it
builds is their training layout (time first, sources second, level-free magnitudes);
the masks themselves come from the mask targets of :mod:`sksep._masks`.
"""

import numpy as np

from .._masks import IdealBinaryMask
from .._spectral import grid_magnitudes, grid_phase_sensitive_magnitudes, linear_grid

__all__ = ["clip_targets", "deep_clustering_target", "unit_mean_square_scale"]

#: References that are source magnitudes, scaled like the mixture.
MAGNITUDE_REFERENCES = ("magnitudes", "phase_sensitive")


def unit_mean_square_scale(magnitude):
    """The divisor that brings a clip's magnitudes to unit mean square.

    Magnitudes are scaled per clip so that a loss on them, and with it the balance
    with a deep-clustering loss, does not depend on how loud the clip is.

    Parameters
    ----------
    magnitude : ndarray of shape (n_frames, n_bins)
        The mixture's magnitude.

    Returns
    -------
    scale : float
        ``sqrt(mean(magnitude ** 2)) + 1e-8``.

    Examples
    --------
    >>> import numpy as np
    >>> magnitude = np.full((4, 3), 2.0, dtype=np.float32)
    >>> float(np.mean((magnitude / unit_mean_square_scale(magnitude)) ** 2))
    1.0
    """
    return float(np.sqrt(np.mean(magnitude ** 2))) + 1e-8


def deep_clustering_target(dc_target):
    """A separator's ``dc_target`` parameter, ``IdealBinaryMask()`` when None: the
    dominant-source labels and loudness weights of its deep-clustering loss."""
    return dc_target if dc_target is not None else IdealBinaryMask()


def _time_first(array):
    """``(C, T, F)`` -> contiguous float32 ``(T, C, F)``: time first, for segmenting."""
    return np.ascontiguousarray(array.transpose(1, 0, 2), dtype=np.float32)


def clip_targets(record, sources, *, labels=None, weights=None, mixture=False, reference=None,
                 grid="features"):
    """Training targets of one clip, each an array whose first axis is time.

    Parameters
    ----------
    record : SpectrogramRecord
        The mixture's features, magnitude and STFT (``MelFeatures.transform``).
    sources : ndarray of shape (n_sources, n_samples)
        The sources of the mixture.
    labels : mask target, optional
        Adds ``labels (n_frames, n_bins)``: the index of the source with the largest
        mask of this target (``IdealBinaryMask()``: the dominant source, the ``Y`` of
        deep clustering), uint8 for up to 256 sources.
    weights : mask target, optional
        Adds ``weights (n_frames, n_bins)`` float32, its loudness weights
        (:meth:`sksep.IdealBinaryMask.weights`).
    mixture : bool, default=False
        Adds ``mixture (n_frames, n_grid)`` float32: the mixture magnitude on ``grid``,
        divided by :func:`unit_mean_square_scale` of itself.
    reference : mask target, {"magnitudes", "phase_sensitive"}, optional
        Adds ``reference (n_frames, n_sources, n_grid)`` float32 on ``grid``: the
        target's masks, or the source magnitudes, or their parts in phase with the
        mixture (:func:`sksep._spectral.grid_phase_sensitive_magnitudes`), both scaled
        like the mixture.
    grid : {"features", "stft"}, default="features"
        The grid of ``mixture`` and ``reference``: the feature grid (``n_grid =
        n_bins``) or the linear STFT grid (``n_grid = n_freq``). Labels and weights
        are always on the feature grid.

    Returns
    -------
    targets : dict of str to ndarray
        The arrays asked for, ``n_frames`` first.

    Raises
    ------
    ValueError
        An unknown ``grid`` or ``reference``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import IdealBinaryMask, MelFeatures, WienerMask
    >>> rng = np.random.default_rng(0)
    >>> sources = rng.normal(scale=0.1, size=(2, 8000)).astype("float32")
    >>> record = MelFeatures().fit_transform([sources.sum(0)])[0]
    >>> targets = clip_targets(record, sources, labels=IdealBinaryMask(),
    ...                        weights=IdealBinaryMask(), mixture=True, reference=WienerMask())
    >>> {name: array.shape for name, array in targets.items()}
    {'labels': (63, 150), 'weights': (63, 150), 'mixture': (63, 150), 'reference': (63, 2, 150)}
    >>> round(float(np.mean(targets["mixture"] ** 2)), 3)
    1.0
    """
    if grid not in ("features", "stft"):
        raise ValueError(f"grid={grid!r} must be 'features' or 'stft'")
    is_target = reference is not None and not isinstance(reference, str)
    if not (reference is None or is_target or reference in MAGNITUDE_REFERENCES):
        raise ValueError(f"reference={reference!r} must be a mask target, 'magnitudes', "
                         f"'phase_sensitive' or None")
    reference_grid = record.grid if grid == "features" else linear_grid(record.grid)

    targets = {}
    needs_magnitudes = is_target or reference == "magnitudes"
    magnitudes = None  # the sources on the feature grid, (C, T, F), computed once
    if labels is not None or (needs_magnitudes and grid == "features"):
        magnitudes = grid_magnitudes(record.grid, sources)
    if labels is not None:
        dtype = np.uint8 if magnitudes.shape[0] <= 256 else np.int64
        targets["labels"] = labels.masks_from_magnitudes(magnitudes).argmax(axis=0).astype(dtype)
    if needs_magnitudes and grid == "stft":  # (C, T, n_freq)
        magnitudes = grid_magnitudes(reference_grid, sources)
    if weights is not None:
        targets["weights"] = weights.weights(record)

    if mixture or reference in MAGNITUDE_REFERENCES:
        # (T, F) on the feature grid, (T, n_freq) on the STFT grid.
        mixture_magnitude = record.magnitude if grid == "features" else np.abs(record.stft).T
        scale = unit_mean_square_scale(mixture_magnitude)
    if mixture:
        targets["mixture"] = np.ascontiguousarray(mixture_magnitude / scale, dtype=np.float32)
    if is_target:
        targets["reference"] = _time_first(reference.masks_from_magnitudes(magnitudes))
    elif reference == "phase_sensitive":
        targets["reference"] = _time_first(
            grid_phase_sensitive_magnitudes(reference_grid, sources, record.stft) / scale)
    elif reference == "magnitudes":
        targets["reference"] = _time_first(magnitudes / scale)
    return targets
