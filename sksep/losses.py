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
* :func:`magnitude_spectrum_approximation`, :func:`masked_magnitude_spectrum_approximation`
  and :func:`l1_spectrogram_loss` return their sum over sources of the mean over bins,
  ``L_mi / TF``.

so ``alpha * deep_clustering_loss + (1 - alpha) * masked_magnitude_spectrum_approximation``
is eq. 3 divided by ``TF``: the balance ``alpha`` sets is the paper's.
Every function averages over the batch.
"""

import torch

__all__ = [
    "deep_clustering_loss",
    "naive_deep_clustering_loss",
    "magnitude_spectrum_approximation",
    "masked_magnitude_spectrum_approximation",
    "l1_spectrogram_loss",
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
    _check_rank("embedding", embedding, 3, "(batch, TF, D)")
    _check_rank("assignments", assignments, 3, "(batch, TF, C)")
    if embedding.shape[:2] != assignments.shape[:2]:
        raise ValueError(
            f"embedding {tuple(embedding.shape)} and assignments {tuple(assignments.shape)} "
            f"must share (batch, TF)"
        )
    assignments = assignments.to(embedding.dtype)
    if weights is None:
        norm = torch.full(embedding.shape[:1], float(embedding.shape[1]),
                          dtype=embedding.dtype, device=embedding.device)
    else:
        _check_rank("weights", weights, 2, "(batch, TF)")
        weights = weights.to(embedding.dtype)
        root = weights.clamp_min(0).sqrt().unsqueeze(-1)
        embedding = embedding * root
        assignments = assignments * root
        norm = weights.sum(dim=1)
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
