"""From embeddings to masks: K-means over a clip and the rules that name clusters."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

__all__ = ["kmeans_masks", "name_by_low_frequency", "name_by_reference"]


def kmeans_masks(embedding, weights, n_sources, *, max_points=20000, random_state=None):
    """Binary masks from K-means on the embeddings of a whole clip.

    Parameters
    ----------
    embedding : ndarray of shape (n_frames, n_bins, D)
    weights : ndarray of shape (n_frames, n_bins)
        Loudness weights; centres are fitted on the loud bins only (silent bins
        carry no information about the sources), then every bin is assigned.
    n_sources : int
        Number of clusters.
    max_points : int
        Centres are fitted on at most this many loud bins (drawn at random),
        which bounds the cost on long songs.

    Returns
    -------
    masks : ndarray of float32, shape (n_sources, n_frames, n_bins)
        One-hot over clusters; the cluster order is arbitrary.
    """
    n_frames, n_bins, dim = embedding.shape
    points = embedding.reshape(-1, dim)
    loud = np.flatnonzero(weights.reshape(-1) > 0)
    if loud.size < n_sources:
        loud = np.arange(points.shape[0])
    rng = check_random_state(random_state)
    if loud.size > max_points:
        loud = np.sort(rng.choice(loud, size=max_points, replace=False))
    kmeans = KMeans(n_clusters=n_sources, n_init=3, random_state=rng.randint(2**31 - 1))
    kmeans.fit(points[loud])
    labels = kmeans.predict(points).reshape(n_frames, n_bins)
    return (np.arange(n_sources)[:, None, None] == labels[None]).astype(np.float32)


def name_by_low_frequency(masks, weights, bin_frequencies, *, low_frequency_source=-1,
                          cutoff_hz=200.0):
    """Order two cluster masks by the MIREX 2016 rule of Luo et al. (2017).

    The cluster that owns more than half of the active bins below ``cutoff_hz``
    is the accompaniment; the other is the vocals.

    Parameters
    ----------
    masks : ndarray of shape (2, n_frames, n_bins)
    weights : ndarray of shape (n_frames, n_bins)
        Loudness weights; only loud ("active") bins count.
    bin_frequencies : ndarray of shape (n_bins,)
        Centre frequency of each bin in Hz.
    low_frequency_source : int
        Index of the source that owns the low frequencies (the accompaniment).

    Returns
    -------
    masks : ndarray of shape (2, n_frames, n_bins)
        Reordered so that ``masks[low_frequency_source]`` is the accompaniment.
    """
    low = bin_frequencies < cutoff_hz
    if not low.any():
        low = bin_frequencies <= bin_frequencies.min()
    active = weights[:, low] > 0
    counts = np.array([(m[:, low] > 0.5)[active].sum() for m in masks])
    owner = int(counts.argmax())
    order = [1 - owner, owner]  # (vocals, accompaniment)
    if low_frequency_source % 2 == 0:
        order = order[::-1]
    return masks[order]


def name_by_reference(masks, reference):
    """Order cluster masks to best match reference masks (e.g. the mask-inference head).

    Parameters
    ----------
    masks : ndarray of shape (C, n_frames, n_bins)
    reference : ndarray of shape (C, n_frames, n_bins)

    Returns
    -------
    masks : ndarray of shape (C, n_frames, n_bins)
        ``masks[perm]`` maximising the total overlap with ``reference``.
    """
    overlap = np.einsum("itf,jtf->ij", reference, masks)
    _, columns = linear_sum_assignment(-overlap)
    return masks[columns]
