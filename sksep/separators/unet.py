"""U-Net mask separator and its deep-clustering hybrid, the UH-net (Xi's report).

Long clips are separated patch by patch: :func:`patchwise` runs the network on
overlapping patches of ``segment_frames`` frames and cross-fades them with a smooth,
strictly positive window, normalised by the sum of the windows, so there are no seams
and the result covers exactly the clip's frames.
"""

from functools import partial

import numpy as np
import torch

from .chimera import chimera_objective
from ..nn.unet import HybridUNetNetwork, UNetMaskNetwork
from .._features import MelFeatures
from .._masks import WienerMask, ideal_binary_mask, loudness_weights
from ._neural import NeuralSeparator
from .._spectral import apply_masks, grid_magnitudes
from ._training import segment_starts
from .._validation import InvalidInputError, check_choice, check_int, check_real

__all__ = ["UNetSeparator", "unet_objective", "patchwise", "patch_starts", "crossfade_window"]


def patch_starts(n_frames, patch_frames, hop):
    """First frames of patches of ``patch_frames`` frames every ``hop`` frames that cover
    ``n_frames``; the last patch is aligned to the end of the clip.

    Examples
    --------
    >>> patch_starts(300, 128, 64)
    [0, 64, 128, 172]
    """
    return segment_starts(n_frames, patch_frames, hop=hop)


def crossfade_window(length):
    """Smooth, strictly positive weights ``(length,)`` peaking at the patch centre.

    A Hann window with its two zero end points cut off: patch edges, where the U-Net's
    zero padding is felt, count least, and no frame has zero total weight.
    """
    return np.hanning(length + 2)[1:-1]


def patchwise(module, features, patch_frames, *, hop, device="cpu", batch_size=16,
              reduce=None):
    """Run ``module`` on overlapping patches of one clip and cross-fade them together.

    Parameters
    ----------
    module : torch.nn.Module
        Maps ``(batch, L, n_features)`` to masks ``(batch, C, L, n_bins)`` (or to a tuple
        that ``reduce`` turns into them).
    features : ndarray of shape (n_frames, n_features)
    patch_frames : int
        ``L``; clips shorter than that are one patch of their own length.
    hop : int
        Frames between patch starts (``L // 2``: each frame is seen by two patches).
    reduce : callable, optional
        ``reduce(module_output) -> Tensor (batch, C, L, n_bins)``.

    Returns
    -------
    outputs : ndarray of shape (C, n_frames, n_bins)
        The weighted mean over the patches covering each frame, weights
        :func:`crossfade_window`; exactly ``n_frames`` frames.
    """
    n_frames = features.shape[0]
    length = min(patch_frames, n_frames)
    starts = patch_starts(n_frames, length, hop)
    window = crossfade_window(length)
    total, weight = None, np.zeros(n_frames)
    module.eval()
    with torch.no_grad():
        for first in range(0, len(starts), batch_size):
            batch_starts = starts[first:first + batch_size]
            batch = torch.from_numpy(np.stack([features[s:s + length] for s in batch_starts]))
            output = module(batch.to(device))
            masks = (reduce(output) if reduce is not None else output).cpu().numpy()
            if total is None:
                total = np.zeros((masks.shape[1], n_frames, masks.shape[3]))
            for patch, start in zip(masks, batch_starts):
                total[:, start:start + length] += window[None, :, None] * patch
                weight[start:start + length] += window
    return (total / weight[None, :, None]).astype(np.float32)


def _binary_cross_entropy(masks, reference, valid):
    """Mean BCE over sources, bins and real frames; ``masks``, ``reference`` (B, C, T, F)."""
    per_bin = torch.nn.functional.binary_cross_entropy(masks, reference, reduction="none")
    per_frame = per_bin.mean(dim=(1, 3))
    valid = valid.to(per_frame.dtype)
    return (per_frame * valid).sum() / valid.sum().clamp_min(1.0)


def unet_objective(outputs, targets, *, hybrid=False, alpha=0.1, chimera_weight=1.0):
    """Binary cross-entropy against the ratio mask, plus the Chimera loss for the UH-net.

    Parameters
    ----------
    outputs : Tensor or tuple of Tensor
        U-Net masks ``(batch, C, T, F)``; for the UH-net also the Chimera network's
        ``embedding (batch, T, F, D)`` and ``masks (batch, C, T, F)``.
    targets : dict of Tensor
        ``reference (batch, T, C, F)`` the ratio ("proportion") mask, ``valid (batch, T)``;
        for the UH-net also ``labels``, ``weights`` and ``mixture`` (see
        :func:`~sksep.separators.chimera.chimera_objective`).
    hybrid : bool
        Whether ``outputs`` come from the UH-net.
    alpha : float
        Weight of the deep-clustering loss inside the Chimera loss (mMSA for its
        mask-inference head, against the same reference mask).
    chimera_weight : float
        Weight of the Chimera loss beside the U-Net's BCE.

    Returns
    -------
    loss : Tensor, scalar
    """
    masks = outputs[0] if hybrid else outputs
    loss = _binary_cross_entropy(masks, targets["reference"].transpose(1, 2), targets["valid"])
    if hybrid and chimera_weight > 0:
        loss = loss + chimera_weight * chimera_objective(outputs[1:], targets, alpha=alpha,
                                                         mi_objective="mmsa")
    return loss


class UNetSeparator(NeuralSeparator):
    """U-Net masks over spectrogram patches; ``hybrid=True`` is the UH-net (Xi's report).

    The log-mel spectrogram is cut into (time x frequency) patches of
    ``segment_frames`` x 128 bins (about one second at the default 8 ms hop). A U-Net
    with four down-sampling and four up-sampling stages and skip connections maps each
    patch to one mask per source (softmax over sources: with two sources, the report's
    sigmoid "proportion mask" of the vocals and its complement), trained with binary
    cross-entropy against the ratio mask of ``mask_target``.

    With ``hybrid=True`` a Chimera network (Bi-GRU body, deep-clustering and
    mask-inference heads, :class:`ChimeraSeparator`'s) reads the same patch; its soft
    masks are stacked with the spectrogram as extra U-Net input channels (three channels
    for two sources), and both are trained together on
    ``BCE + chimera_weight * (alpha * L_dc + (1 - alpha) * L_mMSA)``.

    At predict, patches overlap by ``overlap`` and are cross-faded (see
    :func:`patchwise`), so clips of any length come back seamless and at their exact
    length.

    Parameters
    ----------
    hybrid : bool, default=False
        Train and predict with the UH-net.
    channels : int, default=16
        Feature maps of the U-Net's first stage, doubling at each down-sampling (the
        report does not give its widths; Ronneberger et al. start at 64).
    depth : int, default=4
        Down-sampling (and up-sampling) stages.
    dropout : float, default=0.5
        Channel dropout in the bottleneck and the up-sampling stages (the report: 0.5).
    mask_target : WienerMask, default=None
        The ratio ("proportion") mask trained towards; ``None`` is ``WienerMask()``,
        the share of each source in the power of every bin.
    phase : {"mixture", "griffinlim"}, default="mixture"
        Resynthesis with the mixture phase (masks summing to one give estimates
        summing to the mixture) or with Griffin-Lim phase retrieval (the report's).
    overlap : float, default=0.5
        Share of each inference patch overlapping the next one, in [0, 1).
    alpha : float, default=0.1
        UH-net: weight of the deep-clustering loss in the Chimera loss.
    chimera_weight : float, default=1.0
        UH-net: weight of the Chimera loss beside the U-Net's BCE.
    embedding_dim : int, default=20
        UH-net: ``D``.
    hidden_size : int, default=500
        UH-net: units per direction of each recurrent layer.
    num_layers : int, default=4
        UH-net: recurrent layers (the report: four Bi-GRU layers).
    rnn_type : {"gru", "lstm"}, default="gru"
        UH-net: the report replaces Luo et al.'s BLSTM by a Bi-GRU.
    features : transformer, default=None
        Features for raw waveforms; ``None`` is ``MelFeatures(n_mels=128, deltas=False)``,
        the report's 128-band log-mel spectrogram at 16 kHz. Grids whose size is not a
        multiple of 16 are zero-padded inside the U-Net.
    segment_frames : int or tuple of int, default=128
        Patch length in frames, for training and inference.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"rmsprop", "adam"}, default="rmsprop"
        ``torch.optim.RMSprop`` (the report's optimiser) or ``torch.optim.Adam``.
    max_epochs : int or tuple of int, default=50
        The report: "50 epochs is enough".
    batch_size : int, default=32
        Patches per batch (the report's).
    validation_fraction, patience, max_grad_norm, device, random_state, callbacks, verbose, \
checkpoint, accelerator
        As in :class:`ChimeraSeparator`.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network (``net_.module_``) and its ``history``.
    history_ : skorch.History
    best_epoch_ : int
    n_sources_ : int
    grid_ : FeatureGrid
    features_ : MelFeatures or None

    See Also
    --------
    ChimeraSeparator : the network the UH-net takes its extra channels from.
    ConvMaskSeparator : frame-wise CNN masks over short context windows.

    Examples
    --------
    >>> from sksep import UNetSeparator
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> unet = UNetSeparator(channels=4, depth=2, max_epochs=1, random_state=0)
    >>> estimates = unet.fit(data.X, data.Y).predict(data.X)
    >>> estimates[0].shape == data.Y[0].shape
    True
    >>> uh_net = UNetSeparator(hybrid=True, channels=4, depth=2, hidden_size=8, num_layers=1,
    ...                        embedding_dim=4, max_epochs=1, random_state=0)
    >>> uh_net.fit(data.X, data.Y).predict_masks(data.X)[0].shape[0]
    2
    """

    def __init__(self, hybrid=False, channels=16, depth=4, dropout=0.5, mask_target=None,
                 phase="mixture", overlap=0.5, alpha=0.1, chimera_weight=1.0, embedding_dim=20,
                 hidden_size=500, num_layers=4, rnn_type="gru", features=None,
                 segment_frames=128, lr=1e-3, optimizer="rmsprop", max_epochs=50, batch_size=32,
                 validation_fraction=0.1, patience=10, max_grad_norm=5.0, device="cpu",
                 random_state=None, callbacks=None, verbose=0, checkpoint=None,
                 accelerator=None):
        self.hybrid = hybrid
        self.channels = channels
        self.depth = depth
        self.dropout = dropout
        self.mask_target = mask_target
        self.phase = phase
        self.overlap = overlap
        self.alpha = alpha
        self.chimera_weight = chimera_weight
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.features = features
        self.segment_frames = segment_frames
        self.lr = lr
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.accelerator = accelerator

    def _default_features(self):
        return MelFeatures(n_mels=128, deltas=False)

    def _check_params(self):
        stages = super()._check_params()
        check_choice(self.hybrid, name="hybrid", choices=(True, False))
        check_int(self.channels, name="channels", minimum=1)
        check_int(self.depth, name="depth", minimum=1, maximum=8)
        check_real(self.dropout, name="dropout", minimum=0.0, maximum=0.95)
        if self.mask_target is not None and not hasattr(self.mask_target, "masks"):
            raise InvalidInputError(
                f"mask_target={self.mask_target!r} must be a mask target such as WienerMask()"
            )
        check_choice(self.phase, name="phase", choices=("mixture", "griffinlim"))
        overlap = check_real(self.overlap, name="overlap", minimum=0.0)
        if overlap >= 1:
            raise InvalidInputError(f"overlap={overlap} must be < 1 (a share of the patch)")
        check_real(self.alpha, name="alpha", minimum=0.0, maximum=1.0)
        check_real(self.chimera_weight, name="chimera_weight", minimum=0.0)
        check_int(self.embedding_dim, name="embedding_dim", minimum=1)
        check_int(self.hidden_size, name="hidden_size", minimum=1)
        check_int(self.num_layers, name="num_layers", minimum=1)
        check_choice(self.rnn_type, name="rnn_type", choices=("gru", "lstm"))
        return stages

    def _mask_target(self):
        return self.mask_target if self.mask_target is not None else WienerMask()

    def _build_module(self, n_features, n_bins, n_sources):
        if n_features % n_bins:
            raise InvalidInputError(
                f"the features have {n_features} values per frame, not a multiple of the "
                f"{n_bins} bins of their grid; UNetSeparator reads them as image channels "
                f"of that grid (log magnitudes, optionally deltas)"
            )
        settings = dict(channels=self.channels, depth=self.depth, dropout=self.dropout)
        if not self.hybrid:
            return UNetMaskNetwork(n_features, n_bins, n_sources, **settings)
        return HybridUNetNetwork(n_features, n_bins, n_sources, embedding_dim=self.embedding_dim,
                                 hidden_size=self.hidden_size, num_layers=self.num_layers,
                                 rnn_type=self.rnn_type, **settings)

    def _clip_targets(self, record, sources):
        magnitudes = grid_magnitudes(record.grid, sources)  # (C, T, F)
        reference = self._mask_target()._masks(magnitudes)
        targets = {"reference": np.ascontiguousarray(reference.transpose(1, 0, 2),
                                                     dtype=np.float32)}
        if self.hybrid:
            # The Chimera loss's targets, as ChimeraSeparator builds them: dominant source,
            # loud bins, and the mixture scaled to unit mean square per clip.
            scale = float(np.sqrt(np.mean(record.magnitude ** 2))) + 1e-8
            targets["labels"] = ideal_binary_mask(magnitudes).argmax(axis=0).astype(np.int64)
            targets["weights"] = loudness_weights(record.magnitude)
            targets["mixture"] = (record.magnitude / scale).astype(np.float32)
        return targets

    def _objective(self):
        return partial(unet_objective, hybrid=bool(self.hybrid), alpha=float(self.alpha),
                       chimera_weight=float(self.chimera_weight))

    def _network_outputs(self, record, keep=None):
        length = min(self.inference_frames_, record.features.shape[0])
        hop = max(1, round(length * (1.0 - self.overlap)))
        hybrid = isinstance(self.net_.module_, HybridUNetNetwork)
        return (patchwise(self.net_.module_, record.features, self.inference_frames_, hop=hop,
                          device=self.device, batch_size=self.batch_size,
                          reduce=(lambda output: output[0]) if hybrid else None),)

    def _masks_from_outputs(self, outputs, record):
        return outputs[0]

    def _resynthesise(self, record, masks):
        return apply_masks(record, masks, phase=self.phase)
