"""Training objectives as pure torch functions.

Normalisation
-------------
Luo et al. (2017, eq. 3) weigh the two heads of the Chimera network as
``alpha * L_dc / TF + (1 - alpha) * L_mi`` where ``L_dc = ||VV^T - YY^T||_F^2``
sums over the ``(TF)^2`` pairs of bins and ``L_mi`` over the ``TF`` bins. sksep
divides that whole expression once more by ``TF`` so that losses do not grow with
the segment length:

* :func:`deep_clustering_loss` returns ``L_dc / (TF)^2``, the mean over pairs of bins
  (with weights ``w``: ``sum_ij w_i w_j (v_i.v_j - y_i.y_j)^2 / (sum_i w_i)^2``);
* :func:`magnitude_spectrum_approximation`, :func:`masked_magnitude_spectrum_approximation`,
  :func:`phase_sensitive_spectrum_approximation` and :func:`l1_spectrogram_loss` return
  their sum over sources of the mean over bins, ``L_mi / TF``.

so ``alpha * deep_clustering_loss + (1 - alpha) * masked_magnitude_spectrum_approximation``
is eq. 3 divided by ``TF``: the balance ``alpha`` sets is the paper's.

:func:`whitened_kmeans_loss` (Wang, Le Roux, Hershey 2018) is the exception: it is a
trace of projections, between ``D - C`` and ``D`` whatever ``TF``, so it needs no
division.

Every function averages over the batch.
"""

import torch

__all__ = [
    "deep_clustering_loss",
    "naive_deep_clustering_loss",
    "magnitude_spectrum_approximation",
    "masked_magnitude_spectrum_approximation",
    "phase_sensitive_spectrum_approximation",
    "l1_spectrogram_loss",
    "whitened_kmeans_loss",
    "naive_whitened_kmeans_loss",
]


def _check_rank(name, tensor, rank, shape):
    if tensor.dim() != rank:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(tensor.shape)}")


def deep_clustering_loss(embedding, assignments, weights=None):
    """Low-rank deep-clustering loss ``||V^T V||^2 - 2 ||V^T Y||^2 + ||Y^T Y||^2``.

    Never forms the ``TF x TF`` affinity: the cost is ``O(TF * D * C)``.

    Parameters
    ----------
    embedding : Tensor of shape (batch, TF, D)
        Embeddings ``V`` of every time-frequency bin (unit norm in a DC network).
    assignments : Tensor of shape (batch, TF, C)
        One-hot dominant-source indicators ``Y``.
    weights : Tensor of shape (batch, TF), optional
        Non-negative weight of each bin (e.g. 0 for silent bins); pairs are weighted
        by ``w_i * w_j``.

    Returns
    -------
    loss : Tensor, scalar
        Batch mean of ``L_dc / (sum_i w_i)^2`` (``L_dc / (TF)^2`` without weights).

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import deep_clustering_loss
    >>> labels = torch.tensor([[0, 0, 1, 1]])                   # dominant source of 4 bins
    >>> Y = torch.nn.functional.one_hot(labels, 2).float()      # (batch, TF, C)
    >>> float(deep_clustering_loss(Y, Y))                       # V = Y: nothing to learn
    0.0
    >>> V = torch.nn.functional.normalize(torch.ones(1, 4, 3), dim=-1)  # one cluster
    >>> round(float(deep_clustering_loss(V, Y)), 4)             # 8 of 16 pairs wrong
    0.5
    """
    _check_pair(embedding, assignments)
    embedding, assignments = _weighted(embedding, assignments, weights)
    if weights is None:
        norm = torch.full(embedding.shape[:1], float(embedding.shape[1]),
                          dtype=embedding.dtype, device=embedding.device)
    else:
        norm = weights.to(embedding.dtype).clamp_min(0).sum(dim=1)
    vtv = torch.bmm(embedding.transpose(1, 2), embedding)
    vty = torch.bmm(embedding.transpose(1, 2), assignments)
    yty = torch.bmm(assignments.transpose(1, 2), assignments)
    loss = (vtv.pow(2).sum((1, 2)) - 2 * vty.pow(2).sum((1, 2)) + yty.pow(2).sum((1, 2)))
    return (loss / norm.clamp_min(1e-8).pow(2)).mean()


def naive_deep_clustering_loss(embedding, assignments, weights=None):
    """Reference implementation through the full ``TF x TF`` affinities (tests, small sizes).

    Same arguments, result and normalisation as :func:`deep_clustering_loss`.

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import deep_clustering_loss, naive_deep_clustering_loss
    >>> V = torch.nn.functional.normalize(torch.randn(2, 6, 3), dim=-1)
    >>> Y = torch.nn.functional.one_hot(torch.randint(0, 2, (2, 6)), 2)
    >>> bool(torch.isclose(naive_deep_clustering_loss(V, Y), deep_clustering_loss(V, Y)))
    True
    """
    assignments = assignments.to(embedding.dtype)
    estimated = torch.bmm(embedding, embedding.transpose(1, 2))
    ideal = torch.bmm(assignments, assignments.transpose(1, 2))
    squared = (estimated - ideal).pow(2)
    if weights is None:
        return (squared.sum((1, 2)) / embedding.shape[1] ** 2).mean()
    weights = weights.to(embedding.dtype)
    pair = weights.unsqueeze(2) * weights.unsqueeze(1)
    return ((squared * pair).sum((1, 2)) / weights.sum(1).pow(2)).mean()


def _check_pair(embedding, assignments):
    _check_rank("embedding", embedding, 3, "(batch, TF, D)")
    _check_rank("assignments", assignments, 3, "(batch, TF, C)")
    if embedding.shape[:2] != assignments.shape[:2]:
        raise ValueError(
            f"embedding {tuple(embedding.shape)} and assignments {tuple(assignments.shape)} "
            f"must share (batch, TF)"
        )


def _weighted(embedding, assignments, weights):
    """``V`` and ``Y`` with each row scaled by ``sqrt(w)``, so that pairs weigh ``w_i w_j``."""
    assignments = assignments.to(embedding.dtype)
    if weights is None:
        return embedding, assignments
    _check_rank("weights", weights, 2, "(batch, TF)")
    root = weights.to(embedding.dtype).clamp_min(0).sqrt().unsqueeze(-1)
    return embedding * root, assignments * root


def whitened_kmeans_loss(embedding, assignments, weights=None, *, eps=1e-6):
    """Whitened k-means objective ``D - tr((V^T V)^-1 V^T Y (Y^T Y)^-1 Y^T V)``.

    Wang, Le Roux and Hershey, "Alternative objective functions for deep
    clustering" (ICASSP 2018): the k-means cost of the ideal assignments ``Y`` in
    the whitened embedding space ``V (V^T V)^(-1/2)``, i.e.
    ``||V (V^T V)^(-1/2) - Y (Y^T Y)^-1 Y^T V (V^T V)^(-1/2)||_F^2``. Whitening takes
    away the pull of the plain loss (:func:`deep_clustering_loss`) towards
    embeddings that ignore some directions. Like it, it never forms the ``TF x TF``
    affinity: the cost is ``O(TF * D * (D + C))``.

    Parameters
    ----------
    embedding : Tensor of shape (batch, TF, D)
        Embeddings ``V``.
    assignments : Tensor of shape (batch, TF, C)
        One-hot dominant-source indicators ``Y``.
    weights : Tensor of shape (batch, TF), optional
        Non-negative weight of each bin; rows of ``V`` and ``Y`` are scaled by
        ``sqrt(w)``, as in :func:`deep_clustering_loss`.
    eps : float
        Added to the diagonal of ``V^T V`` (relative to its mean diagonal) so that
        it stays invertible; sources with no (weighted) bin in a segment drop out
        through the pseudo-inverse of ``Y^T Y``.

    Returns
    -------
    loss : Tensor, scalar
        Batch mean, between ``D - min(D, C)`` (every bin at its source's centroid) and
        ``D``.

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import whitened_kmeans_loss
    >>> labels = torch.tensor([[0, 0, 1, 1]])
    >>> Y = torch.nn.functional.one_hot(labels, 2).float()       # (batch, TF, C)
    >>> round(float(whitened_kmeans_loss(Y, Y)), 4)              # V = Y, D = C = 2
    0.0
    """
    _check_pair(embedding, assignments)
    V, Y = _weighted(embedding, assignments, weights)
    dim = V.shape[-1]
    vtv = torch.bmm(V.transpose(1, 2), V)
    ridge = eps * vtv.diagonal(dim1=1, dim2=2).mean(-1).clamp_min(eps)
    vtv = vtv + ridge[:, None, None] * torch.eye(dim, dtype=V.dtype, device=V.device)
    vty = torch.bmm(V.transpose(1, 2), Y)  # (batch, D, C)
    yty_pinv = torch.linalg.pinv(torch.bmm(Y.transpose(1, 2), Y))
    inner = torch.bmm(torch.bmm(vty, yty_pinv), vty.transpose(1, 2))  # (batch, D, D)
    trace = torch.linalg.solve(vtv, inner).diagonal(dim1=1, dim2=2).sum(-1)
    return (dim - trace).mean()


def naive_whitened_kmeans_loss(embedding, assignments, weights=None):
    """Reference :func:`whitened_kmeans_loss` from its definition (tests, small sizes).

    Whitens ``V`` with an eigendecomposition of ``V^T V``, projects the whitened
    embeddings onto their source centroids and sums the squared distances.

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import naive_whitened_kmeans_loss, whitened_kmeans_loss
    >>> V = torch.randn(2, 12, 3, dtype=torch.float64)
    >>> Y = torch.nn.functional.one_hot(torch.arange(12).remainder(2).expand(2, 12), 2)
    >>> bool(torch.isclose(naive_whitened_kmeans_loss(V, Y), whitened_kmeans_loss(V, Y)))
    True
    """
    V, Y = _weighted(embedding, assignments, weights)
    losses = []
    for v, y in zip(V, Y):
        values, vectors = torch.linalg.eigh(v.T @ v)
        white = v @ vectors @ torch.diag(values.rsqrt()) @ vectors.T  # V (V^T V)^(-1/2)
        centroids = y @ torch.linalg.pinv(y.T @ y) @ y.T @ white
        losses.append((white - centroids).pow(2).sum())
    return torch.stack(losses).mean()


def _mean_over_bins(per_bin, valid):
    """Sum over sources, mean over (valid) bins, mean over the batch.

    per_bin : (batch, C, T, F); valid : (batch, T) or None.
    """
    summed = per_bin.sum(1)  # (batch, T, F)
    if valid is None:
        return summed.mean()
    valid = valid.to(summed.dtype)
    count = valid.sum(1).clamp_min(1.0) * summed.shape[-1]
    return ((summed * valid.unsqueeze(-1)).sum((1, 2)) / count).mean()


def magnitude_spectrum_approximation(masks, mixture, sources, valid=None):
    """MSA objective ``sum_c ||R_c - M_c * S||^2`` (Luo et al. 2017, eq. 2), per bin.

    Parameters
    ----------
    masks : Tensor of shape (batch, C, T, F)
        Estimated masks ``M``.
    mixture : Tensor of shape (batch, T, F)
        Mixture magnitude ``S``.
    sources : Tensor of shape (batch, C, T, F)
        Source magnitudes ``R``.
    valid : Tensor of shape (batch, T), optional
        1 for real frames, 0 for padding.

    Returns
    -------
    loss : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import magnitude_spectrum_approximation
    >>> S = torch.ones(1, 2, 3)                                  # (batch, T, F)
    >>> R = torch.stack([0.25 * S, 0.75 * S], dim=1)             # (batch, C, T, F)
    >>> float(magnitude_spectrum_approximation(R / S.unsqueeze(1), S, R))  # ideal masks
    0.0
    >>> float(magnitude_spectrum_approximation(torch.full_like(R, 0.5), S, R))
    0.125
    """
    return _mean_over_bins((sources - masks * mixture.unsqueeze(1)).pow(2), valid)


def masked_magnitude_spectrum_approximation(masks, mixture, reference_masks, valid=None):
    """mMSA objective ``sum_c ||(O_c - M_c) * S||^2`` (Luo et al. 2017 manuscript, eq. 3).

    Parameters
    ----------
    masks : Tensor of shape (batch, C, T, F)
    mixture : Tensor of shape (batch, T, F)
    reference_masks : Tensor of shape (batch, C, T, F)
        Reference masks ``O`` (the Wiener-like mask).
    valid : Tensor of shape (batch, T), optional

    Returns
    -------
    loss : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import masked_magnitude_spectrum_approximation
    >>> S = 2 * torch.ones(1, 2, 3)                              # (batch, T, F)
    >>> O = torch.stack([torch.full_like(S, 0.25), torch.full_like(S, 0.75)], dim=1)
    >>> float(masked_magnitude_spectrum_approximation(torch.full_like(O, 0.5), S, O))
    0.5
    """
    return _mean_over_bins(((reference_masks - masks) * mixture.unsqueeze(1)).pow(2), valid)


def phase_sensitive_spectrum_approximation(masks, mixture, phase_sensitive_sources,
                                           valid=None, *, truncation=1.0):
    """Truncated phase-sensitive objective ``sum_c ||M_c * S - T(|R_c| cos(theta_c))||^2``.

    The tPSA objective of Erdogan et al. (2015), as used for the mask-inference head
    of Chimera++ (Wang, Le Roux, Hershey 2018): the target is the part of each source
    in phase with the mixture (:func:`sksep._spectral.grid_phase_sensitive_magnitudes`),
    truncated to ``[0, truncation * S]`` so that a mask in ``[0, truncation]`` can
    reach it.

    Parameters
    ----------
    masks : Tensor of shape (batch, C, T, F)
    mixture : Tensor of shape (batch, T, F)
        Mixture magnitude ``S``.
    phase_sensitive_sources : Tensor of shape (batch, C, T, F)
        ``|R_c| cos(theta_c - theta_S)``, may be negative.
    valid : Tensor of shape (batch, T), optional
    truncation : float
        Upper bound of the target as a multiple of ``S`` (1: masks in [0, 1]).

    Returns
    -------
    loss : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import phase_sensitive_spectrum_approximation
    >>> S = torch.ones(1, 1, 2)                                  # (batch, T, F)
    >>> P = torch.tensor([[[[0.5, -0.2]], [[0.5, 1.4]]]])         # (batch, C, T, F)
    >>> M = torch.tensor([[[[0.5, 0.0]], [[0.5, 1.0]]]])          # the best masks
    >>> float(phase_sensitive_spectrum_approximation(M, S, P))
    0.0
    """
    mixture = mixture.unsqueeze(1)
    target = torch.minimum(phase_sensitive_sources.clamp_min(0.0), truncation * mixture)
    return _mean_over_bins((masks * mixture - target).pow(2), valid)


def l1_spectrogram_loss(masks, mixture, sources, valid=None):
    """L1 spectrogram loss ``sum_c |M_c * S - R_c|`` (Seetharaman et al. 2019), per bin.

    Same shapes as :func:`magnitude_spectrum_approximation`.

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import l1_spectrogram_loss
    >>> S = torch.ones(1, 2, 3)                                  # (batch, T, F)
    >>> R = torch.stack([0.25 * S, 0.75 * S], dim=1)             # (batch, C, T, F)
    >>> float(l1_spectrogram_loss(torch.full_like(R, 0.5), S, R))
    0.5
    """
    return _mean_over_bins((masks * mixture.unsqueeze(1) - sources).abs(), valid)
