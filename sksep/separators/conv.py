"""Convolutional context-window mask separator (Roma, Green & Tremblay, LVA/ICA 2018)."""

from functools import partial

import numpy as np
import torch

from ..nn.context_cnn import ContextCNN
from .._features import MelFeatures
from .._masks import ideal_binary_mask, wiener_mask
from ._neural import NeuralSeparator
from .._spectral import grid_magnitudes
from .._validation import InvalidInputError, check_choice, check_int, check_real

__all__ = ["ConvMaskSeparator", "soft_mask_objective", "dominant_source_objective",
           "framewise", "normalize_masks"]


def _mean_over_valid_frames(per_frame, valid):
    """Mean of ``(batch, T)`` per-frame losses over the real frames (``valid == 1``)."""
    valid = valid.to(per_frame.dtype)
    return (per_frame * valid).sum() / valid.sum().clamp_min(1.0)


def soft_mask_objective(outputs, targets):
    """Mean squared error of sigmoid masks against the soft ratio mask (eq. 10).

    Parameters
    ----------
    outputs : Tensor of shape (batch, I, T, K)
        Sigmoid outputs ``P``.
    targets : dict of Tensor
        ``ratio (batch, T, I, K)``: ``|S_i| / sum_j |S_j|`` (eq. 8); ``valid (batch, T)``.

    Returns
    -------
    loss : Tensor, scalar
        Mean over sources, bins and real frames.
    """
    reference = targets["ratio"].transpose(1, 2)
    per_frame = (outputs - reference).pow(2).mean(dim=(1, 3))
    return _mean_over_valid_frames(per_frame, targets["valid"])


def dominant_source_objective(outputs, targets):
    """Negative log-likelihood of the dominant source of each bin (eq. 7).

    Parameters
    ----------
    outputs : Tensor of shape (batch, I, T, K)
        Log-probabilities over sources (log-softmax, eq. 6).
    targets : dict of Tensor
        ``labels (batch, T, K)``: index of the loudest source (eq. 4); ``valid (batch, T)``.

    Returns
    -------
    loss : Tensor, scalar
        Mean over bins and real frames.
    """
    labels = targets["labels"].long().unsqueeze(1)  # (batch, 1, T, K)
    per_frame = -outputs.gather(1, labels).squeeze(1).mean(dim=2)
    return _mean_over_valid_frames(per_frame, targets["valid"])


def normalize_masks(masks, eps=1e-12):
    """Rescale masks so that they sum to one over sources at every bin.

    Parameters
    ----------
    masks : ndarray of shape (n_sources, n_frames, n_bins)
        Non-negative, e.g. independent sigmoid outputs.

    Returns
    -------
    masks : ndarray of float32, same shape
        ``masks / masks.sum(0)``; bins where every mask is 0 get ``1 / n_sources``.
        Applied with the mixture phase, the estimates then sum to the mixture.
    """
    masks = np.asarray(masks, dtype=np.float64)
    total = masks.sum(axis=0, keepdims=True)
    empty = total <= eps
    normalized = np.where(empty, 1.0 / masks.shape[0], masks / np.where(empty, 1.0, total))
    return normalized.astype(np.float32)


def framewise(module, features, chunk_frames, *, device="cpu"):
    """Run a :class:`ContextCNN` on a whole clip, every frame with its true context.

    The clip is padded once at its ends (by repeating the end frames, as in training)
    and cut into chunks that carry ``c`` real frames of context on each side, so the
    result does not depend on ``chunk_frames``: no seams.

    Parameters
    ----------
    module : ContextCNN
    features : ndarray of shape (n_frames, n_features)
    chunk_frames : int
        Frames per forward pass (bounds memory).

    Returns
    -------
    outputs : ndarray of shape (n_sources, n_frames, n_bins)
    """
    context = module.context
    padded = np.concatenate([np.repeat(features[:1], context, axis=0), features,
                             np.repeat(features[-1:], context, axis=0)])
    n_frames = features.shape[0]
    pieces = []
    module.eval()
    with torch.no_grad():
        for start in range(0, n_frames, chunk_frames):
            stop = min(start + chunk_frames, n_frames)
            chunk = torch.from_numpy(np.ascontiguousarray(padded[start:stop + 2 * context]))
            pieces.append(module.forward_padded(chunk[None].to(device))[0].cpu().numpy())
    return np.concatenate(pieces, axis=1)


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
    features : transformer, default=None
        Features for raw waveforms. ``None`` is the paper's linear STFT magnitude:
        ``MelFeatures(n_mels=None, n_fft=1024, hop_length=256, deltas=False)``, a 64 ms
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
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "rmsprop"}, default="adam"
        ``torch.optim.Adam`` (the paper's) or ``torch.optim.RMSprop``.
    max_epochs : int or tuple of int, default=100
    batch_size : int, default=8
        Segments per batch (8 x 64 = 512 frames).
    validation_fraction : float, default=0.2
        Share of the training clips held out for early stopping (the paper: 20 %).
    patience : int or None, default=5
        Epochs without improvement of the validation loss before stopping (the paper: 5).
    max_grad_norm : float or None, default=5.0
    device : str, default="cpu"
    random_state : int, RandomState or None
        Seeds the split, the weights and the batch order.
    callbacks : list of skorch callbacks, default=None
    verbose : int, default=0
    checkpoint, accelerator
        As in :class:`DeepClusteringSeparator` (resumable training, Accelerate).

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

    def __init__(self, objective="mse", context=None, conv_layers=2, channels=16, kernel_size=3,
                 fc_layers=2, hidden_size=512, dropout=0.0, features=None, segment_frames=64,
                 lr=1e-3, optimizer="adam", max_epochs=100, batch_size=8,
                 validation_fraction=0.2, patience=5, max_grad_norm=5.0, device="cpu",
                 random_state=None, callbacks=None, verbose=0, checkpoint=None,
                 accelerator=None):
        self.objective = objective
        self.context = context
        self.conv_layers = conv_layers
        self.channels = channels
        self.kernel_size = kernel_size
        self.fc_layers = fc_layers
        self.hidden_size = hidden_size
        self.dropout = dropout
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
        return MelFeatures(n_mels=None, n_fft=1024, hop_length=256, deltas=False)

    def _check_params(self):
        stages = super()._check_params()
        check_choice(self.objective, name="objective", choices=("mse", "nll"))
        check_int(self.context, name="context", minimum=0, allow_none=True)
        check_int(self.conv_layers, name="conv_layers", minimum=0)
        check_int(self.channels, name="channels", minimum=1)
        kernel = check_int(self.kernel_size, name="kernel_size", minimum=1)
        if kernel % 2 == 0:
            raise InvalidInputError(
                f"kernel_size={kernel} must be an odd integer (same padding keeps the size)"
            )
        check_int(self.fc_layers, name="fc_layers", minimum=0)
        check_int(self.hidden_size, name="hidden_size", minimum=1)
        check_real(self.dropout, name="dropout", minimum=0.0, maximum=0.95)
        return stages

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
        magnitudes = grid_magnitudes(record.grid, sources)  # (I, T, K)
        if self.objective == "mse":
            ratio = wiener_mask(magnitudes, power=1.0)  # eq. 8
            return {"ratio": np.ascontiguousarray(ratio.transpose(1, 0, 2))}
        labels = ideal_binary_mask(magnitudes).argmax(axis=0)  # eq. 4
        return {"labels": labels.astype(np.int64)}

    def _objective(self):
        if self.objective == "mse":
            return partial(soft_mask_objective)
        return partial(dominant_source_objective)

    def _network_outputs(self, record, keep=None):
        chunk = self.inference_frames_ * self.batch_size
        return (framewise(self.net_.module_, record.features, chunk, device=self.device),)

    def _masks_from_outputs(self, outputs, record):
        # The trained module, not the (settable) parameter, says what its outputs are.
        if self.net_.module_.output == "sigmoid":
            return normalize_masks(outputs[0])
        winner = outputs[0].argmax(axis=0)
        return (np.arange(outputs[0].shape[0])[:, None, None] == winner[None]).astype(np.float32)
