"""U-Net mask separator, its deep-clustering hybrid (the UH-net, Xi's report) and the
stacked hourglass (Park, Kim, Lee, Kwak, ISMIR 2018).

Long clips are separated patch by patch: :func:`sksep.inference.patchwise` runs the
network on overlapping patches of ``segment_frames`` frames and cross-fades them with a
smooth, strictly positive window, normalised by the sum of the windows, so there are no
seams and the result covers exactly the clip's frames.
"""

from functools import partial

from ..nn.hourglass import HourglassMaskNetwork
from ..nn.unet import HybridUNetNetwork, UNetMaskNetwork
from .._features import MelFeatures
from .._masks import IdealBinaryMask, WienerMask
from ._base import keyword_only_after_first
from ._neural import (NETWORK_CONSTRAINTS, NeuralSeparator, document_training_parameters,
                      training_arguments)
from .._spectral import apply_masks
from ..losses import unet_objective
from ._targets import clip_targets
from ..inference import patchwise
from .._validation import (InvalidInputError, check_choice, check_int, check_mask_target,
                          check_real)

__all__ = ["UNetSeparator"]


def _check_overlap(value, *, name):
    overlap = check_real(value, name=name, minimum=0.0)
    if overlap >= 1:
        raise InvalidInputError(f"{name}={overlap} must be < 1 (a share of the patch)")
    return overlap


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

    With ``architecture="hourglass"`` the network is Park et al.'s stacked hourglass
    (:class:`~sksep.nn.hourglass.StackedHourglass`): a 7x7 and a 3x3 convolution, then
    ``n_stacks`` hourglasses of ``depth`` max-pool / nearest-upsample levels at a
    constant width of ``channels`` feature maps, each followed by a mask head whose
    masks are all supervised (intermediate supervision). Park et al.'s recipe is
    ``objective="l1"`` (L1 between the masked mixture and each source magnitude, summed
    over sources and stacks), ``mask_activation="linear"`` and a fine linear grid::

        UNetSeparator(architecture="hourglass", channels=64, n_stacks=1,
                      objective="l1", mask_activation="linear", optimizer="adam",
                      lr=1e-4, batch_size=4, segment_frames=64,
                      features=MelFeatures(sample_rate=8000, n_fft=1024, hop_length=256,
                                           frequency_scale="linear", deltas=False))

    At predict, patches overlap by ``overlap`` and are cross-faded (see
    :func:`sksep.inference.patchwise`), so clips of any length come back seamless and at their exact
    length. Linear masks are clipped at 0 there.

    Parameters
    ----------
    hybrid : bool, default=False
        Train and predict with the UH-net (``architecture="unet"`` only).
    channels : int, default=16
        U-Net: feature maps of the first stage, doubling at each down-sampling (the
        report does not give its widths; Ronneberger et al. start at 64). Hourglass:
        the constant width of every layer (Park et al.: 256).
    depth : int, default=4
        Down-sampling (and up-sampling) stages of the U-Net, levels of each hourglass.
    architecture : {"unet", "hourglass"}, default="unet"
        Xi's U-Net, or Park et al.'s stacked hourglass.
    n_stacks : int, default=1
        Hourglass: hourglasses in sequence, each supervised (Park et al.: 1 to 4).
    dropout : float, default=0.5
        U-Net: channel dropout in the bottleneck and the up-sampling stages (the report:
        0.5). The hourglass has none (Park et al.).
    mask_activation : {"softmax", "linear"}, default="softmax"
        Softmax over the sources (masks in [0, 1] that sum to one), or the network's
        outputs as they are (Park et al.'s linear masks; negative values are clipped to
        0 at prediction). ``"linear"`` needs ``objective="l1"``.
    embedding_dim : int, default=20
        UH-net: ``D``.
    hidden_size : int, default=500
        UH-net: units per direction of each recurrent layer.
    num_layers : int, default=4
        UH-net: recurrent layers (the report: four Bi-GRU layers).
    rnn_type : {"gru", "lstm"}, default="gru"
        UH-net: the report replaces Luo et al.'s BLSTM by a Bi-GRU.
    objective : {"bce", "l1"}, default="bce"
        ``"bce"``: binary cross-entropy against ``mask_target`` (Xi; masks in [0, 1],
        so ``mask_activation="softmax"``). ``"l1"``: L1 distance between the mixture
        magnitude times each mask and the source's magnitude, summed over the sources
        and the stacks (Park et al.; :func:`sksep.losses.hourglass_objective`).
    alpha : float, default=0.1
        UH-net: weight of the deep-clustering loss in the Chimera loss.
    chimera_weight : float, default=1.0
        UH-net: weight of the Chimera loss beside the U-Net's BCE.
    phase : {"mixture", "griffinlim"}, default="mixture"
        Resynthesis with the mixture phase (masks summing to one give estimates
        summing to the mixture) or with Griffin-Lim phase retrieval (the report's).
    overlap : float, default=0.5
        Share of each inference patch overlapping the next one, in [0, 1).
    mask_target : WienerMask, default=None
        The ratio ("proportion") mask trained towards with ``objective="bce"``; ``None``
        is ``WienerMask()``, the share of each source in the power of every bin.
    features : transformer, default=None
        Features for raw waveforms; ``None`` is ``MelFeatures(n_mels=128, deltas=False)``,
        the report's 128-band log-mel spectrogram at 16 kHz. Grids whose size is not a
        multiple of 16 are zero-padded inside the U-Net.
    segment_frames : int or tuple of int, default=128
        Patch length in frames, for training and inference.
    {training_parameters}

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

    Notes
    -----
    The training defaults are the report's: RMSprop, batches of 32 patches, 50 epochs
    ("50 epochs is enough").

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

    _layer_count_params = ("depth", "n_stacks", "num_layers")

    _parameter_constraints = {
        **NeuralSeparator._parameter_constraints,
        **{name: NETWORK_CONSTRAINTS[name] for name in (
            "dropout", "alpha", "embedding_dim", "hidden_size", "num_layers")},
        "hybrid": partial(check_choice, choices=(True, False)),
        "channels": partial(check_int, minimum=1),
        "depth": partial(check_int, minimum=1, maximum=8),
        "mask_target": partial(check_mask_target, example="WienerMask()"),
        "phase": partial(check_choice, choices=("mixture", "griffinlim")),
        "overlap": _check_overlap,
        "chimera_weight": partial(check_real, minimum=0.0),
        # The report's Bi-GRU first.
        "rnn_type": partial(check_choice, choices=("gru", "lstm")),
        "architecture": partial(check_choice, choices=("unet", "hourglass")),
        "n_stacks": partial(check_int, minimum=1, maximum=8),
        "objective": partial(check_choice, choices=("bce", "l1")),
        "mask_activation": partial(check_choice, choices=("softmax", "linear")),
    }

    def _check_params(self):
        super()._check_params()
        if self.hybrid and self.architecture != "unet":
            raise InvalidInputError(
                f"hybrid=True is the UH-net, a U-Net: it needs architecture='unet', not "
                f"{self.architecture!r}")
        if self.mask_activation == "linear" and self.objective != "l1":
            raise InvalidInputError(
                f"mask_activation='linear' gives masks outside [0, 1], which "
                f"objective={self.objective!r} cannot score: use objective='l1'")

    # Positional calls (deprecated) still fill the parameters in their released order.
    @keyword_only_after_first(former_order=(
            "channels", "depth", "dropout", "mask_target", "phase", "overlap", "alpha",
            "chimera_weight", "embedding_dim", "hidden_size", "num_layers", "rnn_type",
            "features", "segment_frames", "lr", "optimizer", "max_epochs", "batch_size",
            "validation_fraction", "patience", "max_grad_norm", "device", "random_state",
            "callbacks", "verbose", "checkpoint", "accelerator", "weight_decay",
            "architecture", "n_stacks", "objective", "mask_activation"))
    def __init__(self, hybrid=False, *, channels=16, depth=4, architecture="unet",
                 n_stacks=1, dropout=0.5, mask_activation="softmax", embedding_dim=20,
                 hidden_size=500, num_layers=4, rnn_type="gru", objective="bce", alpha=0.1,
                 chimera_weight=1.0, phase="mixture", overlap=0.5, mask_target=None,
                 features=None, segment_frames=128, lr=1e-3, optimizer="rmsprop",
                 max_epochs=50, batch_size=32, validation_fraction=0.1, patience=10,
                 max_grad_norm=5.0, device="cpu", random_state=None, callbacks=None,
                 verbose=0, checkpoint=None, accelerator=None, weight_decay=0.0):
        super().__init__(**training_arguments(locals()))
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
        self.architecture = architecture
        self.n_stacks = n_stacks
        self.objective = objective
        self.mask_activation = mask_activation

    __doc__ = document_training_parameters(__doc__, __init__)

    def _default_features(self):
        return MelFeatures(n_mels=128, deltas=False)

    def _mask_target(self):
        return self.mask_target if self.mask_target is not None else WienerMask()

    def _build_module(self, n_features, n_bins, n_sources):
        if n_features % n_bins:
            raise InvalidInputError(
                f"the features have {n_features} values per frame, not a multiple of the "
                f"{n_bins} bins of their grid; UNetSeparator reads them as image channels "
                f"of that grid (log magnitudes, optionally deltas)"
            )
        if self.architecture == "hourglass":
            return HourglassMaskNetwork(n_features, n_bins, n_sources, channels=self.channels,
                                        n_stacks=self.n_stacks, levels=self.depth,
                                        mask_activation=self.mask_activation)
        settings = dict(channels=self.channels, depth=self.depth, dropout=self.dropout,
                        mask_activation=self.mask_activation)
        if not self.hybrid:
            return UNetMaskNetwork(n_features, n_bins, n_sources, **settings)
        return HybridUNetNetwork(n_features, n_bins, n_sources, embedding_dim=self.embedding_dim,
                                 hidden_size=self.hidden_size, num_layers=self.num_layers,
                                 rnn_type=self.rnn_type, **settings)

    def _clip_targets(self, record, sources):
        # The UH-net adds the Chimera loss's targets, as ChimeraSeparator builds them with
        # its default dc_target: dominant source, loud bins, the level-free mixture.
        # The L1 objective compares magnitudes: the mixture's and each source's.
        dc_target = IdealBinaryMask() if self.hybrid else None
        l1 = self.objective == "l1"
        return clip_targets(record, sources, labels=dc_target, weights=dc_target,
                            mixture=bool(self.hybrid) or l1,
                            reference="magnitudes" if l1 else self._mask_target())

    def _objective(self):
        return partial(unet_objective, hybrid=bool(self.hybrid), alpha=float(self.alpha),
                       chimera_weight=float(self.chimera_weight), objective=self.objective)

    def _predicted_masks(self, output):
        """The masks ``(batch, C, T, F)`` a module output predicts: the U-Net's (of the
        UH-net, the first output), the hourglass's last stack; linear masks clipped at 0."""
        if isinstance(self.net_.module_, HourglassMaskNetwork):
            return HourglassMaskNetwork.predicted_masks(output)
        masks = output[0] if isinstance(self.net_.module_, HybridUNetNetwork) else output
        return masks.clamp(min=0.0) if self.mask_activation == "linear" else masks

    def _network_outputs(self, record, keep=None):
        length = min(self.inference_frames_, record.features.shape[0])
        hop = max(1, round(length * (1.0 - self.overlap)))
        return (patchwise(self.net_.module_, record.features, self.inference_frames_, hop=hop,
                          device=self.device, batch_size=self.batch_size,
                          reduce=self._predicted_masks),)

    def _masks_from_outputs(self, outputs, record):
        return outputs[0]

    def _resynthesise(self, record, masks):
        return apply_masks(record, masks, phase=self.phase)
