"""From embeddings to masks: K-means over a clip and the rules that name clusters."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

__all__ = ["kmeans_masks", "name_by_low_frequency", "name_by_reference", "whitened"]


def kmeans_masks(embedding, weights, n_sources, *, whiten=False, max_points=20000,
                 random_state=None):
    """Binary masks from K-means on the embeddings of a whole clip.

    Parameters
    ----------
    embedding : ndarray of shape (n_frames, n_bins, D)
    weights : ndarray of shape (n_frames, n_bins)
        Loudness weights; centres are fitted on the loud bins only (silent bins
        carry no information about the sources), then every bin is assigned.
    n_sources : int
        Number of clusters.
    whiten : bool, default=False
        Cluster the whitened embeddings ``V (V^T W V)^(-1/2)`` (:func:`whitened`, ``W``
        the loud bins' weights) instead of ``V``: the inference matched to the whitened
        k-means objective (:func:`sksep.losses.whitened_kmeans_loss`), which is the
        k-means cost of the ideal partition in that space (Wang, Le Roux and Hershey
        2018 match test-time clustering to the training objective).
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
    if whiten:
        points = whitened(points, np.clip(weights.reshape(-1), 0, None), loud)
    rng = check_random_state(random_state)
    if loud.size > max_points:
        loud = np.sort(rng.choice(loud, size=max_points, replace=False))
    kmeans = KMeans(n_clusters=n_sources, n_init=3, random_state=rng.randint(2**31 - 1))
    kmeans.fit(points[loud])
    labels = kmeans.predict(points).reshape(n_frames, n_bins)
    return (np.arange(n_sources)[:, None, None] == labels[None]).astype(np.float32)


def whitened(points, weights, rows, *, eps=1e-6):
    """Embeddings in the whitened space of a clip: ``V (V^T W V)^(-1/2)``.

    Parameters
    ----------
    points : ndarray of shape (n_points, D)
        Embeddings ``V`` of every time-frequency bin.
    weights : ndarray of shape (n_points,)
        Non-negative weight of each bin (``W``; the rows of ``V`` are scaled by
        ``sqrt(w)`` as in :func:`sksep.losses.whitened_kmeans_loss`). Where the
        chosen rows all weigh zero they count equally.
    rows : ndarray of int
        The bins ``V^T W V`` is computed over (e.g. the loud ones).
    eps : float, default=1e-6
        Eigenvalues of ``V^T W V`` below ``eps`` times their mean are raised to that
        floor, so directions the embeddings never use are not blown up.

    Returns
    -------
    whitened : ndarray of float32, shape (n_points, D)
        Every bin mapped by the same matrix; over ``rows``, weighted by ``weights``,
        their second moment is the identity.
    """
    chosen = points[rows].astype(np.float64)
    w = weights[rows].astype(np.float64)
    if not w.sum() > 0:
        w = np.ones_like(w)
    moment = (chosen * w[:, None]).T @ chosen
    values, vectors = np.linalg.eigh(moment)
    values = np.maximum(values, eps * max(values.mean(), np.finfo(np.float64).tiny))
    inverse_root = (vectors / np.sqrt(values)) @ vectors.T
    return (points.astype(np.float64) @ inverse_root).astype(np.float32)


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
