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

Training objectives
-------------------
The separators train with an ``objective(outputs, targets) -> loss``: ``outputs`` is
what their network returns for a batch of segments, ``targets`` the dict of batch
tensors that the separators build per clip from the true sources (time on
axis 1: ``labels (batch, T, F)``, ``weights (batch, T, F)``, ``mixture (batch, T, F)``,
``reference (batch, T, C, F)``) plus ``valid (batch, T)``, 1 for the real frames of a
segment and 0 for its padding. Each objective is a combination of the losses above:

=====================================  ===========================================
:func:`chimera_objective`              ``alpha * L_dc + (1 - alpha) * L_mi``
                                       (Luo et al. 2017; deep clustering alone with
                                       ``alpha=1``)
:func:`class_conditional_objective`    ``L1 + dc_weight * L_dc`` on the STFT grid
                                       (Seetharaman et al. 2019)
:func:`soft_mask_objective`            MSE of sigmoid masks (Roma et al. 2018, eq. 10)
:func:`dominant_source_objective`      NLL of the dominant source (Roma et al., eq. 7)
:func:`unet_objective`                 binary cross-entropy, plus the Chimera loss for
                                       the UH-net (Xi); or L1 of the masked mixture
:func:`hourglass_objective`            L1 of the masked mixture summed over the stacks
                                       (Park et al. 2018)
=====================================  ===========================================

They all average over the real frames with :func:`masked_mean`: per segment, then over
the batch, for the spectrum approximations above (a segment's loss does not depend on
its padding); pooled over the real frames of the batch for the per-frame losses of the
convolutional separators (each real frame counts once).
"""

import math

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
    "masked_mean",
    "binary_cross_entropy",
    "deep_clustering_objective",
    "chimera_objective",
    "class_conditional_objective",
    "soft_mask_objective",
    "dominant_source_objective",
    "unet_objective",
    "hourglass_objective",
    "DC_OBJECTIVES",
    "MI_OBJECTIVES",
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


def masked_mean(values, valid=None, *, per_example=False, weights=None):
    """Mean of ``values`` over the real frames of a batch of segments.

    Parameters
    ----------
    values : Tensor of shape (batch, T, ...)
        A value per frame, or per frame and any further axes (e.g. bins).
    valid : Tensor of shape (batch, T), optional
        1 for the real frames of a segment, 0 for its padding; ``None``: all real.
    per_example : bool, default=False
        ``False``: the mean over all real frames of the batch (and the further axes),
        each real frame counting once. ``True``: the mean over each segment's real
        frames, then the mean over the batch, each segment counting once (a segment
        without real frames counts 0).
    weights : Tensor of the shape of ``values``, optional
        Weights of the values in a pooled (``per_example=False``) mean,
        ``sum(w * values) / sum(w)`` over the real frames, e.g. the mixture
        magnitude of each bin; ``None``: equal weights.

    Returns
    -------
    mean : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import masked_mean
    >>> values = torch.tensor([[1.0, 2.0, 9.0], [4.0, 6.0, 8.0]])   # (batch, T)
    >>> valid = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])    # frame 2 of 0 is padding
    >>> round(float(masked_mean(values, valid)), 4)                 # 21 / 5
    4.2
    >>> float(masked_mean(values, valid, per_example=True))         # (1.5 + 6) / 2
    3.75
    """
    if weights is not None:
        if per_example:
            raise ValueError("masked_mean: weights apply to the pooled mean (per_example=False)")
        weights = weights.to(values.dtype)
        if valid is not None:
            weights = weights * valid.to(values.dtype).reshape(
                valid.shape + (1,) * (values.dim() - 2))
        return (values * weights).sum() / weights.sum().clamp_min(1e-12)
    if valid is None:
        return values.mean()
    valid = valid.to(values.dtype)
    if per_example:
        total = (values * valid.reshape(valid.shape + (1,) * (values.dim() - 2)))
        count = valid.sum(1).clamp_min(1.0) * math.prod(values.shape[2:])
        return (total.sum(tuple(range(1, values.dim()))) / count).mean()
    if values.dim() > 2:
        values = values.mean(dim=tuple(range(2, values.dim())))
    return (values * valid).sum() / valid.sum().clamp_min(1.0)


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
    per_bin = (sources - masks * mixture.unsqueeze(1)).pow(2)
    return masked_mean(per_bin.sum(1), valid, per_example=True)


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
    per_bin = ((reference_masks - masks) * mixture.unsqueeze(1)).pow(2)
    return masked_mean(per_bin.sum(1), valid, per_example=True)


def phase_sensitive_spectrum_approximation(masks, mixture, phase_sensitive_sources,
                                           valid=None, *, truncation=1.0):
    """Truncated phase-sensitive objective ``sum_c ||M_c * S - T(|R_c| cos(theta_c))||^2``.

    The tPSA objective of Erdogan et al. (2015), as used for the mask-inference head
    of Chimera++ (Wang, Le Roux, Hershey 2018): the target is the part of each source
    in phase with the mixture (``|S| cos(angle(S) - angle(X))`` on the mask grid),
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
    return masked_mean((masks * mixture - target).pow(2).sum(1), valid, per_example=True)


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
    per_bin = (masks * mixture.unsqueeze(1) - sources).abs()
    return masked_mean(per_bin.sum(1), valid, per_example=True)


def binary_cross_entropy(masks, reference_masks, valid=None):
    """Binary cross-entropy of masks against reference masks, per bin.

    ``-(O log M + (1 - O) log(1 - M))`` averaged over sources, bins and real frames
    (the U-Net's loss against the ratio mask, Xi's report).

    Parameters
    ----------
    masks : Tensor of shape (batch, C, T, F)
        Estimated masks ``M`` in [0, 1].
    reference_masks : Tensor of shape (batch, C, T, F)
        Reference masks ``O`` in [0, 1].
    valid : Tensor of shape (batch, T), optional
        1 for real frames, 0 for padding.

    Returns
    -------
    loss : Tensor, scalar
        The mean over sources and bins of each frame, then over the real frames of the
        batch (:func:`masked_mean`).

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import binary_cross_entropy
    >>> O = torch.tensor([1.0, 0.0]).reshape(1, 2, 1, 1)          # (batch, C, T, F)
    >>> round(float(binary_cross_entropy(torch.full_like(O, 0.5), O)), 4)   # log 2
    0.6931
    """
    per_bin = torch.nn.functional.binary_cross_entropy(masks, reference_masks,
                                                       reduction="none")
    return masked_mean(per_bin.mean(dim=(1, 3)), valid)


#: The deep-clustering head's losses: the low-rank loss of Hershey et al. (Luo et al.'s)
#: and the whitened k-means objective of Wang, Le Roux and Hershey (2018, Chimera++).
DC_OBJECTIVES = {"dc": deep_clustering_loss, "wkm": whitened_kmeans_loss}
#: The mask-inference head's losses (Luo et al. 2017; tPSA: Erdogan et al. 2015, Chimera++).
MI_OBJECTIVES = {"mmsa": masked_magnitude_spectrum_approximation,
                 "msa": magnitude_spectrum_approximation,
                 "psa": phase_sensitive_spectrum_approximation}


def deep_clustering_objective(embedding, labels, weights=None, valid=None, *, n_sources,
                              dc_objective="dc"):
    """Deep-clustering loss of a batch of segments on their time-frequency grid.

    Flattens the ``T x F`` bins, turns the dominant-source labels into the one-hot
    ``Y`` and leaves the padding frames out through the weights, then calls
    :func:`deep_clustering_loss` (or :func:`whitened_kmeans_loss`).

    Parameters
    ----------
    embedding : Tensor of shape (batch, T, F, D)
        Embedding of every bin.
    labels : Tensor of int, shape (batch, T, F)
        Index of the dominant source of every bin.
    weights : Tensor of shape (batch, T, F), optional
        Loudness weight of every bin (e.g. 1 for bins within ``threshold_db`` of the
        clip's loudest bin, 0 for the quieter ones, as ``IdealBinaryMask`` sets it).
    valid : Tensor of shape (batch, T), optional
        1 for real frames, 0 for padding (weight 0).
    n_sources : int
        ``C``, the number of sources (columns of ``Y``).
    dc_objective : {"dc", "wkm"}, default="dc"
        Key of :data:`DC_OBJECTIVES`.

    Returns
    -------
    loss : Tensor, scalar
        See :func:`deep_clustering_loss` for its normalisation.

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import deep_clustering_objective
    >>> labels = torch.tensor([[[0, 1], [1, 0]]])                 # (batch, T, F)
    >>> V = torch.nn.functional.one_hot(labels, 2).float()        # (batch, T, F, D = C)
    >>> float(deep_clustering_objective(V, labels, n_sources=2))
    0.0
    """
    batch, n_frames, n_bins, dim = embedding.shape
    assignments = torch.nn.functional.one_hot(labels.long(), n_sources)
    if valid is not None:
        frames = valid[:, :, None]
        weights = frames.expand(-1, -1, n_bins) if weights is None else weights * frames
    return DC_OBJECTIVES[dc_objective](
        embedding.reshape(batch, n_frames * n_bins, dim),
        assignments.reshape(batch, n_frames * n_bins, n_sources),
        None if weights is None else weights.reshape(batch, n_frames * n_bins))


def chimera_objective(outputs, targets, *, alpha, mi_objective, dc_objective="dc"):
    """Chimera loss ``alpha * L_dc / TF + (1 - alpha) * L_mi`` (eq. 3), divided by ``TF``.

    Luo et al. (2017): the deep-clustering loss of the embeddings plus a
    mask-inference loss of the masks; ``alpha=1`` is deep clustering alone.

    Parameters
    ----------
    outputs : tuple of Tensor
        ``embedding (batch, T, F, D)`` and ``masks (batch, C, T, F)``.
    targets : dict of Tensor
        ``labels (batch, T, F)`` dominant source, ``weights (batch, T, F)`` loudness,
        ``mixture (batch, T, F)`` magnitude, ``reference (batch, T, C, F)`` (Wiener-like
        mask for mMSA, source magnitudes for MSA, phase-sensitive source magnitudes for
        PSA), ``valid (batch, T)``.
    alpha : float
        Weight of the deep-clustering loss.
    mi_objective : {"mmsa", "msa", "psa"}
        Key of :data:`MI_OBJECTIVES`.
    dc_objective : {"dc", "wkm"}
        Key of :data:`DC_OBJECTIVES`.

    Returns
    -------
    loss : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import chimera_objective
    >>> labels = torch.tensor([[[0, 1], [1, 0]]])                 # (batch, T, F)
    >>> reference = torch.nn.functional.one_hot(labels, 2).float()
    >>> masks = reference.permute(0, 3, 1, 2)                     # (batch, C, T, F)
    >>> targets = {"labels": labels, "weights": torch.ones(1, 2, 2),
    ...            "mixture": torch.ones(1, 2, 2), "valid": torch.ones(1, 2),
    ...            "reference": reference.transpose(2, 3)}        # (batch, T, C, F)
    >>> float(chimera_objective((reference, masks), targets, alpha=0.1, mi_objective="mmsa"))
    0.0
    """
    embedding, masks = outputs
    valid = targets["valid"]
    loss = embedding.new_zeros(())
    if alpha > 0:
        loss = loss + alpha * deep_clustering_objective(
            embedding, targets["labels"], targets["weights"], valid,
            n_sources=masks.shape[1], dc_objective=dc_objective)
    if alpha < 1:
        reference = targets["reference"].transpose(1, 2)
        loss = loss + (1 - alpha) * MI_OBJECTIVES[mi_objective](
            masks, targets["mixture"], reference, valid)
    return loss


def class_conditional_objective(outputs, targets, *, dc_weight, projection=None):
    """``L1 + dc_weight * L_dc``, both per bin (Seetharaman et al. 2019, section 4.1).

    The L1 term compares the masked mixture with the sources on the linear STFT grid:
    masks are projected from the feature (mel) grid, clamped to [0, 1] and applied to
    the mixture magnitude, as at inference. The deep-clustering term regularises the
    same embeddings the GMM reads, on the loud bins only.

    Parameters
    ----------
    outputs : tuple of Tensor
        ``embedding (batch, T, F, D)`` and ``masks (batch, C, T, F)``.
    targets : dict of Tensor
        ``mixture (batch, T, n_freq)`` and ``reference (batch, T, C, n_freq)`` linear
        magnitudes of the mixture and the sources (scaled per clip to unit mean square),
        ``valid (batch, T)``; with ``dc_weight > 0`` also ``labels (batch, T, F)``
        (dominant source) and ``weights (batch, T, F)`` (loudness).
    dc_weight : float
        Weight of the deep-clustering loss (1: the paper's equal weighting).
    projection : Tensor of shape (n_freq, F), optional
        Feature-grid to STFT-grid mask projection (``FeatureGrid.projection``); ``None``
        when the feature grid is the STFT grid.

    Returns
    -------
    loss : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import class_conditional_objective
    >>> masks = torch.tensor([0.25, 0.75]).reshape(1, 2, 1, 1)    # (batch, C, T, F)
    >>> targets = {"mixture": torch.ones(1, 1, 1), "valid": torch.ones(1, 1),
    ...            "reference": torch.tensor([0.5, 0.5]).reshape(1, 1, 2, 1)}
    >>> float(class_conditional_objective((None, masks), targets, dc_weight=0.0))
    0.5
    """
    embedding, masks = outputs
    valid = targets["valid"]
    if projection is not None:
        masks = masks @ projection.to(masks).T
    masks = masks.clamp(0.0, 1.0)
    loss = l1_spectrogram_loss(masks, targets["mixture"], targets["reference"].transpose(1, 2),
                               valid)
    if dc_weight > 0:
        loss = loss + dc_weight * deep_clustering_objective(
            embedding, targets["labels"], targets["weights"], valid,
            n_sources=outputs[1].shape[1])
    return loss


def soft_mask_objective(outputs, targets):
    """Mean squared error of sigmoid masks against the soft ratio mask (Roma et al., eq. 10).

    Parameters
    ----------
    outputs : Tensor of shape (batch, I, T, K)
        Sigmoid outputs ``P``.
    targets : dict of Tensor
        ``reference (batch, T, I, K)``: the ratio mask ``|S_i| / sum_j |S_j|`` (eq. 8);
        ``valid (batch, T)``; optional ``weights (batch, T, K)``: the bins' weights in
        the mean (none: equal).

    Returns
    -------
    loss : Tensor, scalar
        Mean over sources, bins and the real frames of the batch.

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import soft_mask_objective
    >>> reference = torch.tensor([0.25, 0.75]).reshape(1, 1, 2, 1)  # (batch, T, I, K)
    >>> outputs = torch.full((1, 2, 1, 1), 0.5)                    # (batch, I, T, K)
    >>> float(soft_mask_objective(outputs, {"reference": reference, "valid": torch.ones(1, 1)}))
    0.0625
    """
    reference = targets["reference"].transpose(1, 2)
    if "weights" in targets:
        return masked_mean((outputs - reference).pow(2).mean(dim=1), targets["valid"],
                           weights=targets["weights"])
    per_frame = (outputs - reference).pow(2).mean(dim=(1, 3))
    return masked_mean(per_frame, targets["valid"])


def dominant_source_objective(outputs, targets):
    """Negative log-likelihood of the dominant source of each bin (Roma et al., eq. 7).

    Parameters
    ----------
    outputs : Tensor of shape (batch, I, T, K)
        Log-probabilities over sources (log-softmax, eq. 6).
    targets : dict of Tensor
        ``labels (batch, T, K)``: index of the loudest source (eq. 4); ``valid (batch, T)``;
        optional ``weights (batch, T, K)``: the bins' weights in the mean (none: equal).

    Returns
    -------
    loss : Tensor, scalar
        Mean over bins and the real frames of the batch.

    Examples
    --------
    >>> import math, torch
    >>> from sksep.losses import dominant_source_objective
    >>> outputs = torch.full((1, 2, 1, 3), math.log(0.5))          # (batch, I, T, K)
    >>> targets = {"labels": torch.zeros(1, 1, 3, dtype=torch.long), "valid": torch.ones(1, 1)}
    >>> round(float(dominant_source_objective(outputs, targets)), 4)   # log 2
    0.6931
    """
    labels = targets["labels"].long().unsqueeze(1)  # (batch, 1, T, K)
    if "weights" in targets:
        return masked_mean(-outputs.gather(1, labels).squeeze(1), targets["valid"],
                           weights=targets["weights"])
    per_frame = -outputs.gather(1, labels).squeeze(1).mean(dim=2)
    return masked_mean(per_frame, targets["valid"])


def unet_objective(outputs, targets, *, hybrid=False, alpha=0.1, chimera_weight=1.0,
                   objective="bce"):
    """Binary cross-entropy against the ratio mask (or L1), plus the Chimera loss for the UH-net.

    Parameters
    ----------
    outputs : Tensor or tuple of Tensor
        U-Net masks ``(batch, C, T, F)``, or the masks of every stack of a stacked
        hourglass ``(batch, n_stacks, C, T, F)``; for the UH-net also the Chimera
        network's ``embedding (batch, T, F, D)`` and ``masks (batch, C, T, F)``.
    targets : dict of Tensor
        ``reference (batch, T, C, F)`` the ratio ("proportion") mask (``objective="bce"``)
        or the source magnitudes (``"l1"``), ``valid (batch, T)``; ``mixture (batch, T,
        F)`` for ``"l1"``; for the UH-net also ``labels``, ``weights`` and ``mixture``
        (see :func:`chimera_objective`).
    hybrid : bool
        Whether ``outputs`` come from the UH-net.
    alpha : float
        Weight of the deep-clustering loss inside the Chimera loss (mMSA for its
        mask-inference head, against the same reference mask).
    chimera_weight : float
        Weight of the Chimera loss beside the U-Net's BCE.
    objective : {"bce", "l1"}
        ``"bce"``: :func:`binary_cross_entropy` of the masks (in [0, 1]) against the
        reference mask; ``"l1"``: :func:`hourglass_objective`, the L1 distance between
        the masked mixture and each source (one stack for a U-Net).

    Returns
    -------
    loss : Tensor, scalar
        The mask loss ``+ chimera_weight *`` :func:`chimera_objective` (UH-net).

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import unet_objective
    >>> reference = torch.tensor([1.0, 0.0]).reshape(1, 1, 2, 1)   # (batch, T, C, F)
    >>> masks = torch.full((1, 2, 1, 1), 0.5)                      # (batch, C, T, F)
    >>> targets = {"reference": reference, "valid": torch.ones(1, 1)}
    >>> round(float(unet_objective(masks, targets)), 4)            # log 2
    0.6931
    """
    masks = outputs[0] if hybrid else outputs
    if objective == "l1":
        loss = hourglass_objective(masks if masks.dim() == 5 else masks.unsqueeze(1), targets)
    else:
        loss = binary_cross_entropy(masks, targets["reference"].transpose(1, 2),
                                    targets["valid"])
    if hybrid and chimera_weight > 0:
        loss = loss + chimera_weight * chimera_objective(outputs[1:], targets, alpha=alpha,
                                                         mi_objective="mmsa")
    return loss


def hourglass_objective(outputs, targets):
    """L1 between the masked mixture and each source, summed over the stacks (Park et al.).

    ``sum_s sum_c |M_{s,c} * S - R_c|``: :func:`l1_spectrogram_loss` of the masks of
    every stack of a stacked hourglass network, summed over the stacks (intermediate
    supervision, Park, Kim, Lee, Kwak, ISMIR 2018, section 3.2).

    Parameters
    ----------
    outputs : Tensor of shape (batch, n_stacks, C, T, F)
        The masks ``M`` of every stack (linear masks may be negative).
    targets : dict of Tensor
        ``mixture (batch, T, F)`` the mixture magnitude ``S``, ``reference (batch, T, C,
        F)`` the source magnitudes ``R`` (scaled like the mixture), ``valid (batch, T)``.

    Returns
    -------
    loss : Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sksep.losses import hourglass_objective
    >>> S = torch.ones(1, 2, 3)                                      # (batch, T, F)
    >>> R = torch.stack([0.25 * S, 0.75 * S], dim=2)                 # (batch, T, C, F)
    >>> masks = torch.full((1, 2, 2, 2, 3), 0.5)                     # 2 stacks
    >>> targets = {"mixture": S, "reference": R, "valid": torch.ones(1, 2)}
    >>> float(hourglass_objective(masks, targets))                   # 2 x 0.5
    1.0
    """
    sources = targets["reference"].transpose(1, 2)
    return sum(l1_spectrogram_loss(outputs[:, stack], targets["mixture"], sources,
                                   targets["valid"])
               for stack in range(outputs.shape[1]))
