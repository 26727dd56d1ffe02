"""Convolutional context-window mask separator (Roma, Green & Tremblay, LVA/ICA 2018)."""

from functools import partial

from ..nn.context_cnn import ContextCNN
from .._features import MelFeatures
from .._masks import (IdealBinaryMask, WienerMask, ideal_binary_mask, magnitude_weights,
                      wiener_mask)
from ._base import keyword_only_after_first
from ._neural import (NETWORK_CONSTRAINTS, NeuralSeparator, document_training_parameters,
                      training_arguments)
from ..losses import dominant_source_objective, soft_mask_objective
from ._targets import clip_targets
from ..inference import framewise
from .._validation import InvalidInputError, check_choice, check_int

__all__ = ["ConvMaskSeparator"]


def _check_kernel_size(value, *, name):
    kernel = check_int(value, name=name, minimum=1)
    if kernel % 2 == 0:
        raise InvalidInputError(
            f"{name}={kernel} must be an odd integer (same padding keeps the size)"
        )
    return kernel


class ConvMaskSeparator(NeuralSeparator):
    """CNN over ``2c + 1`` context frames predicting each frame's masks (Roma et al. 2018).

    For every frame ``n``, the frames ``n - c ... n + c`` of the mixture's features form
    a small image that goes through convolutional layers (same padding, max-pooling,
    batch norm, ReLU) and fully-connected layers (sigmoid between them) to one mask per
    source for frame ``n``. Two objectives:

    * ``"mse"``: sigmoid outputs trained with the mean squared error against the soft
      ratio mask ``|S_i| / sum_j |S_j|`` (eqs. 8-10); at predict the masks are
      renormalised to sum to one, so with the mixture phase the estimated streams sum
      to the mixture (the paper's null-sum test).
    * ``"nll"``: a softmax over sources trained with the negative log-likelihood of the
      dominant source (eqs. 4-7); binary masks at predict, which also sum to one.

    With ``conv_layers=0`` the network is the paper's fully-connected ``dnn`` baseline,
    which sees 5 frames (``context=2``) unless ``context`` is set.

    Parameters
    ----------
    objective : {"mse", "nll"}, default="mse"
    context : int or None, default=None
        ``c``, frames of context on each side. ``None`` is 5 (11 frames: 224 ms with the
        default features, the paper's "about 200 ms") with convolutional layers, and 2
        (5 frames) for the ``dnn`` baseline.
    conv_layers : int, default=2
        Convolutional layers; 0 gives the ``dnn`` baseline.
    channels : int, default=16
        Feature maps of the first convolutional layer; each later one doubles them.
    kernel_size : int, default=3
        Odd square kernel over (time, frequency).
    fc_layers : int, default=2
        Hidden fully-connected layers before the output layer.
    hidden_size : int, default=512
        Units of each hidden fully-connected layer.
    dropout : float, default=0.0
        Dropout before each fully-connected layer.
    bin_weights : {None, "magnitude"}, default=None
        ``None`` averages the loss over bins with equal weights (the paper's eqs. 7
        and 10). ``"magnitude"`` weights each bin by the mixture's magnitude there
        (``magnitude / mean(magnitude)`` per clip), so that loud bins, where errors
        cost SDR, count most. On MIR-1K the unweighted ``"nll"`` learns to pick the
        dominant accompaniment almost everywhere (vocals dominate 14 % of the bins)
        and its binary vocal masks are nearly empty; see ``benchmarks/RESULTS.md``.
    features : transformer, default=None
        Features for raw waveforms. ``None`` is the paper's linear STFT magnitude:
        ``MelFeatures(frequency_scale="linear", n_fft=1024, hop_length=256,
        deltas=False)``, a 64 ms
        window and 16 ms hop at 16 kHz (the paper: 93 ms and 12 ms at 22.05 kHz), so
        11 frames span about 200 ms and masks have the full STFT resolution. Mel
        features (``MelFeatures(n_mels=128, deltas=False)``) are 4 times cheaper but cap
        the separation at the mel oracle. The network reads the log magnitudes,
        standardised; first-order deltas, if asked, become a second input channel.
    segment_frames : int or tuple of int, default=64
        Frames per training segment; every frame of a segment is one training example
        (its window is cut from the segment, whose ends are padded by repetition).
        Inference computes every frame from its true context, in chunks of
        ``segment_frames * batch_size`` frames.
    {training_parameters}

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network (``net_.module_``, a ``ContextCNN``) and its ``history``.
    history_ : skorch.History
    best_epoch_ : int
    n_sources_ : int
    grid_ : FeatureGrid
    features_ : MelFeatures or None

    See Also
    --------
    UNetSeparator : U-Net masks over longer spectrogram patches.
    OracleMaskSeparator : the ceiling, on the same feature grid.

    Notes
    -----
    The training defaults are the paper's: Adam, 20 % of the clips held out for early
    stopping with a patience of 5 epochs; 8 segments of 64 frames make 512 frames per
    batch.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import ConvMaskSeparator
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> cnn = ConvMaskSeparator(channels=4, hidden_size=16, max_epochs=1,
    ...                         random_state=0).fit(data.X, data.Y)
    >>> estimates = cnn.predict(data.X)
    >>> estimates[0].shape == data.Y[0].shape
    True
    >>> bool(np.allclose(estimates[0].sum(axis=0), data.X[0], atol=1e-5))  # null sum
    True
    """

    _layer_count_params = ("conv_layers", "fc_layers")

    _parameter_constraints = {
        **NeuralSeparator._parameter_constraints,
        "objective": partial(check_choice, choices=("mse", "nll")),
        "bin_weights": partial(check_choice, choices=(None, "magnitude")),
        "context": partial(check_int, minimum=0, allow_none=True),
        "conv_layers": partial(check_int, minimum=0),
        "channels": partial(check_int, minimum=1),
        "kernel_size": _check_kernel_size,
        "fc_layers": partial(check_int, minimum=0),
        "hidden_size": NETWORK_CONSTRAINTS["hidden_size"],
        "dropout": NETWORK_CONSTRAINTS["dropout"],
    }

    # Positional calls (deprecated) still fill the parameters in their released order.
    @keyword_only_after_first(former_order=(
            "context", "conv_layers", "channels", "kernel_size", "fc_layers", "hidden_size",
            "dropout", "features", "segment_frames", "lr", "optimizer", "max_epochs",
            "batch_size", "validation_fraction", "patience", "max_grad_norm", "device",
            "random_state", "callbacks", "verbose", "checkpoint", "accelerator",
            "weight_decay", "bin_weights"))
    def __init__(self, objective="mse", *, context=None, conv_layers=2, channels=16,
                 kernel_size=3, fc_layers=2, hidden_size=512, dropout=0.0,
                 bin_weights=None, features=None, segment_frames=64, lr=1e-3,
                 optimizer="adam", max_epochs=100, batch_size=8, validation_fraction=0.2,
                 patience=5, max_grad_norm=5.0, device="cpu", random_state=None,
                 callbacks=None, verbose=0, checkpoint=None, accelerator=None,
                 weight_decay=0.0):
        super().__init__(**training_arguments(locals()))
        self.objective = objective
        self.bin_weights = bin_weights
        self.context = context
        self.conv_layers = conv_layers
        self.channels = channels
        self.kernel_size = kernel_size
        self.fc_layers = fc_layers
        self.hidden_size = hidden_size
        self.dropout = dropout

    __doc__ = document_training_parameters(__doc__, __init__)

    def _default_features(self):
        return MelFeatures(frequency_scale="linear", n_fft=1024, hop_length=256, deltas=False)

    def _context(self):
        if self.context is not None:
            return int(self.context)
        return 5 if self.conv_layers > 0 else 2

    def _build_module(self, n_features, n_bins, n_sources):
        if n_features % n_bins:
            raise InvalidInputError(
                f"the features have {n_features} values per frame, not a multiple of the "
                f"{n_bins} bins of their grid; ConvMaskSeparator reads them as channels "
                f"of that grid (log magnitudes, optionally deltas)"
            )
        return ContextCNN(n_features, n_bins, n_sources, context=self._context(),
                          conv_layers=self.conv_layers, channels=self.channels,
                          kernel_size=self.kernel_size, fc_layers=self.fc_layers,
                          hidden_size=self.hidden_size, dropout=self.dropout,
                          output="sigmoid" if self.objective == "mse" else "log_softmax")

    def _clip_targets(self, record, sources):
        if self.objective == "mse":  # the ratio mask |S_i| / sum_j |S_j| (eq. 8)
            targets = clip_targets(record, sources, reference=WienerMask(power=1.0))
        else:
            targets = clip_targets(record, sources, labels=IdealBinaryMask())  # eq. 4
        if self.bin_weights == "magnitude":
            targets["weights"] = magnitude_weights(record.magnitude)
        return targets

    def _objective(self):
        if self.objective == "mse":
            return soft_mask_objective
        return dominant_source_objective

    def _network_outputs(self, record, keep=None):
        chunk = self.inference_frames_ * self.batch_size
        return (framewise(self.net_.module_, record.features, chunk, device=self.device),)

    def _masks_from_outputs(self, outputs, record):
        # The trained module, not the (settable) parameter, says what its outputs are.
        # Sigmoid masks are renormalised to sum to one (the ratio mask of the outputs);
        # log-probabilities give the binary mask of the most probable source.
        if self.net_.module_.output == "sigmoid":
            return wiener_mask(outputs[0], power=1.0)
        return ideal_binary_mask(outputs[0])
