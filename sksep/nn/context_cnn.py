"""torch module of the convolutional mask separator (the context CNN and its DNN baseline).

* :class:`ContextCNN`: Roma, Green & Tremblay (2018): the ``2c + 1`` frames around each
  frame go through convolutional layers (same padding, batch norm, ReLU, max-pooling) and
  fully-connected layers (sigmoid between them) to the masks of that one frame.
  Without convolutional layers it is the paper's fully-connected ``dnn`` baseline.

Feature tensors are ``(batch, T, n_features)`` with ``n_features = n_channels * n_bins``
(e.g. log magnitudes and their deltas are two channels of the same ``n_bins`` grid);
masks are ``(batch, n_sources, T, n_bins)``, like
:class:`~sksep.nn.recurrent.ChimeraNetwork`'s.
"""

import torch
from torch import nn

from .standardize import StandardizedNetwork

__all__ = ["ContextCNN", "context_windows", "pad_context"]


def context_windows(frames, context):
    """The ``2c + 1`` frames around each frame, edges padded by repeating the end frames.

    Parameters
    ----------
    frames : Tensor of shape (batch, T + 2c, n_channels, n_bins)
        Frames already padded with ``context`` frames of context on each side.
    context : int
        ``c``.

    Returns
    -------
    windows : Tensor of shape (batch * T, n_channels, 2c + 1, n_bins)
        Window ``b * T + n`` holds padded frames ``n ... n + 2c`` of clip ``b``, i.e. the
        context of frame ``n``.
    """
    n_channels, n_bins = frames.shape[2:]
    width = 2 * context + 1
    windows = frames.unfold(1, width, 1)  # (batch, T, n_channels, n_bins, 2c + 1)
    return windows.permute(0, 1, 2, 4, 3).reshape(-1, n_channels, width, n_bins)


def pad_context(frames, context):
    """Repeat the first and last frame ``context`` times: ``(B, T, ...) -> (B, T + 2c, ...)``."""
    if context == 0:
        return frames
    first = frames[:, :1].expand(-1, context, *frames.shape[2:])
    last = frames[:, -1:].expand(-1, context, *frames.shape[2:])
    return torch.cat([first, frames, last], dim=1)


class ContextCNN(StandardizedNetwork):
    """Frame-wise mask network over a window of ``2c + 1`` context frames.

    Parameters
    ----------
    n_features : int
        Input features per frame, ``n_channels * n_bins``, standardised with the
        statistics set by
        :meth:`~sksep.nn.standardize.StandardizedNetwork.set_feature_statistics`.
    n_bins : int
        ``K``: bins of the feature grid, one mask value per bin and source.
    n_sources : int
        ``I``.
    context : int
        ``c``: frames of context on each side.
    conv_layers : int
        Convolutional layers; 0 gives the fully-connected ``dnn`` baseline.
    channels : int
        Feature maps of the first convolutional layer; each later layer doubles them.
    kernel_size : int
        Odd square kernel (time x frequency), same padding.
    fc_layers : int
        Hidden fully-connected layers after the convolutional ones.
    hidden_size : int
        Units of each hidden fully-connected layer.
    output : {"sigmoid", "log_softmax"}
        Sigmoid masks (MSE objective) or log-probabilities over sources (NLL objective).
    dropout : float
        Dropout before each fully-connected layer.

    ``forward(features (batch, T, n_features))`` returns ``(batch, I, T, K)``: each frame's
    output is computed from its own window, the clip edges padded by repeating the end
    frames. ``forward_padded`` takes input already padded with ``c`` real context frames on
    each side (exact inference on long clips, chunk by chunk).
    """

    def __init__(self, n_features, n_bins, n_sources, *, context=5, conv_layers=2, channels=16,
                 kernel_size=3, fc_layers=2, hidden_size=512, output="sigmoid", dropout=0.0):
        if n_features % n_bins:
            raise ValueError(f"n_features={n_features} must be a multiple of n_bins={n_bins}")
        super().__init__(n_features)
        self.n_channels = n_features // n_bins
        self.n_bins = n_bins
        self.n_sources = n_sources
        self.context = context
        self.output = output

        layers = []
        in_channels, height, width = self.n_channels, 2 * context + 1, n_bins
        for index in range(conv_layers):
            out_channels = channels * 2 ** index
            # Pool by 2 along each axis that still has 2 or more entries.
            pool = (2 if height >= 2 else 1, 2 if width >= 2 else 1)
            # Max-pooling before batch norm and ReLU (the maximum commutes with the ReLU):
            # a quarter of the values then go through them, about twice as fast on a CPU,
            # where these per-window maps dominate the cost (the windows overlap).
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size,
                                 padding=kernel_size // 2),
                       nn.MaxPool2d(pool), nn.BatchNorm2d(out_channels), nn.ReLU()]
            in_channels, height, width = out_channels, height // pool[0], width // pool[1]
        self.convolutions = nn.Sequential(*layers)

        fully_connected = []
        size = in_channels * height * width
        for _ in range(fc_layers):
            fully_connected += [nn.Dropout(dropout), nn.Linear(size, hidden_size), nn.Sigmoid()]
            size = hidden_size
        fully_connected += [nn.Dropout(dropout), nn.Linear(size, n_sources * n_bins)]
        self.fully_connected = nn.Sequential(*fully_connected)

    def forward(self, features):
        return self.forward_padded(pad_context(features, self.context))

    def forward_padded(self, features):
        """Outputs of the ``T`` inner frames of ``(batch, T + 2c, n_features)``."""
        batch, padded, _ = features.shape
        n_frames = padded - 2 * self.context
        frames = self.standardize(features).unflatten(-1, (self.n_channels, self.n_bins))
        windows = context_windows(frames, self.context)
        hidden = self.convolutions(windows).flatten(1)
        logits = self.fully_connected(hidden).view(batch, n_frames, self.n_sources, self.n_bins)
        logits = logits.transpose(1, 2)  # (batch, I, T, K)
        if self.output == "sigmoid":
            return torch.sigmoid(logits)
        return torch.log_softmax(logits, dim=1)
