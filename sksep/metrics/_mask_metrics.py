"""How close estimated masks are to the ideal ones (Xi's report): IoU and PSNR."""

import numpy as np

from .._validation import check_real
from ..exceptions import InvalidAudioTypeError, InvalidInputError

__all__ = ["mask_iou", "mask_psnr"]


def _as_mask_pairs(estimated, ideal):
    """Flatten ``estimated`` and ``ideal`` (arrays or lists of arrays) into float64 vectors."""
    def as_list(masks, name):
        if isinstance(masks, (str, bytes)) or masks is None:
            raise InvalidAudioTypeError(f"{name} must be an array of masks, got {masks!r}")
        if isinstance(masks, np.ndarray) or not isinstance(masks, (list, tuple)):
            return [masks]
        if not masks:
            raise InvalidInputError(f"{name} is an empty list; expected masks")
        return list(masks)

    estimated, ideal = as_list(estimated, "estimated"), as_list(ideal, "ideal")
    if len(estimated) != len(ideal):
        raise InvalidInputError(
            f"estimated has {len(estimated)} mask arrays but ideal has {len(ideal)}; "
            f"expected one ideal array per estimated one"
        )
    flat_estimated, flat_ideal = [], []
    for i, (a, b) in enumerate(zip(estimated, ideal)):
        label = "" if len(estimated) == 1 else f"[{i}]"
        arrays = []
        for name, mask in ((f"estimated{label}", a), (f"ideal{label}", b)):
            array = np.asarray(mask)
            if array.dtype.kind not in "fiub":
                raise InvalidAudioTypeError(
                    f"{name} must be a real numeric array, got dtype {array.dtype}"
                )
            array = array.astype(np.float64)
            if array.size == 0:
                raise InvalidInputError(f"{name} is empty; expected masks")
            if not np.all(np.isfinite(array)):
                raise InvalidInputError(f"{name} contains NaN or infinite values")
            arrays.append(array)
        if arrays[0].shape != arrays[1].shape:
            raise InvalidInputError(
                f"estimated{label} has shape {arrays[0].shape} but ideal{label} has "
                f"{arrays[1].shape}; expected masks of the same shape"
            )
        flat_estimated.append(arrays[0].ravel())
        flat_ideal.append(arrays[1].ravel())
    return np.concatenate(flat_estimated), np.concatenate(flat_ideal)


def mask_iou(estimated, ideal, threshold=0.5):
    """Intersection over union of binarised masks (Xi's report, eq. 1).

    Both masks are binarised (a bin is "on" where its value exceeds ``threshold``);
    the score is the number of bins on in both over the number of bins on in either.

    Parameters
    ----------
    estimated : ndarray or list of ndarray
        Estimated masks of any shape, e.g. ``(n_sources, n_frames, n_bins)`` or the
        vocal mask ``(n_frames, n_bins)`` alone; a list (one array per clip) is pooled
        over all its bins.
    ideal : ndarray or list of ndarray
        The ideal masks, the same shapes (e.g. :class:`~sksep.IdealBinaryMask`'s).
    threshold : float, default=0.5
        Values strictly above it count as on.

    Returns
    -------
    iou : float
        In [0, 1], higher is better; 1.0 when neither mask has a bin on.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import mask_iou
    >>> ideal = np.array([[1.0, 1.0, 0.0, 0.0]])
    >>> estimated = np.array([[0.9, 0.4, 0.7, 0.1]])
    >>> mask_iou(estimated, ideal)
    0.3333333333333333
    """
    threshold = check_real(threshold, name="threshold")
    estimated, ideal = _as_mask_pairs(estimated, ideal)
    estimated_on, ideal_on = estimated > threshold, ideal > threshold
    union = np.count_nonzero(estimated_on | ideal_on)
    if union == 0:
        return 1.0
    return float(np.count_nonzero(estimated_on & ideal_on) / union)


def mask_psnr(estimated, ideal):
    """Peak signal-to-noise ratio (dB) of soft masks, peak 1 (Xi's report).

    ``PSNR = 10 log10(R^2 / MSE)`` with ``R = 1``, the largest value a mask takes, and
    ``MSE`` the mean squared difference over all bins.

    Parameters
    ----------
    estimated : ndarray or list of ndarray
        Estimated masks with values in [0, 1], any shape; a list (one array per clip)
        is pooled over all its bins.
    ideal : ndarray or list of ndarray
        The ideal (e.g. ratio) masks, the same shapes.

    Returns
    -------
    psnr : float
        dB, higher is better; ``inf`` when the masks are equal.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import mask_psnr
    >>> ideal = np.array([0.0, 0.5, 0.8, 0.25])
    >>> round(mask_psnr(ideal + 0.1, ideal), 2)
    20.0
    """
    estimated, ideal = _as_mask_pairs(estimated, ideal)
    for name, values in (("estimated", estimated), ("ideal", ideal)):
        if values.min() < 0 or values.max() > 1:
            raise InvalidInputError(
                f"{name} has values in [{values.min():.3g}, {values.max():.3g}]; "
                f"expected masks in [0, 1] (PSNR uses a peak of 1)"
            )
    mse = float(np.mean((estimated - ideal) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(1.0 / mse))
