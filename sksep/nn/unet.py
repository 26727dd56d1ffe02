"""torch modules of the U-Net separators (Xi's report).

* :class:`UNet` and :class:`UNetMaskNetwork`: a U-Net (Ronneberger et al. 2015) with four
  down- and four up-sampling stages over (time x frequency) patches, as in Xi's report;
  :class:`HybridUNetNetwork` is the report's UH-net, a Chimera network whose mask-head
  output is stacked with the spectrogram as extra U-Net input channels.

Feature tensors are ``(batch, T, n_features)`` with ``n_features = n_channels * n_bins``;
masks are ``(batch, n_sources, T, n_bins)``, like
:class:`~sksep.nn.recurrent.ChimeraNetwork`'s.
"""

import torch
from torch import nn

from .recurrent import ChimeraNetwork
from .standardize import StandardizedNetwork

__all__ = ["UNet", "UNetMaskNetwork", "HybridUNetNetwork"]


class _DoubleConvolution(nn.Sequential):
    """Two 3x3 convolutions with batch norm and ReLU: one U-Net stage."""

    def __init__(self, in_channels, out_channels, dropout=0.0):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Dropout2d(dropout),
        )


class UNet(nn.Module):
    """U-Net over images ``(batch, in_channels, T, F)`` -> logits ``(batch, out_channels, T, F)``.

    ``depth`` down-sampling stages (2x2 max-pooling after a double convolution) and as many
    up-sampling stages (2x2 transposed convolution, concatenation with the skip connection
    of the same resolution, double convolution), then a 1x1 convolution. Feature maps
    double at each down-sampling, from ``channels``. Inputs whose sides are not multiples
    of ``2 ** depth`` are zero-padded at the end and the output is cropped back.

    Parameters
    ----------
    in_channels, out_channels : int
    channels : int
        Feature maps of the first stage.
    depth : int
        Down-sampling (and up-sampling) stages; 4 in Xi's report.
    dropout : float
        Channel dropout after the bottleneck and the up-sampling stages but the last
        (Xi: 0.5, "to prevent overfitting").
    """

    def __init__(self, in_channels, out_channels, *, channels=16, depth=4, dropout=0.5):
        super().__init__()
        self.depth = depth
        widths = [channels * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        previous = in_channels
        for width in widths[:-1]:
            self.down.append(_DoubleConvolution(previous, width))
            previous = width
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = _DoubleConvolution(widths[-2], widths[-1], dropout)
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for level in reversed(range(depth)):
            self.upsample.append(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2))
            self.up.append(_DoubleConvolution(2 * widths[level], widths[level],
                                              dropout if level > 0 else 0.0))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, image):
        height, width = image.shape[-2:]
        multiple = 2 ** self.depth
        pad_height, pad_width = -height % multiple, -width % multiple
        hidden = nn.functional.pad(image, (0, pad_width, 0, pad_height))
        skips = []
        for stage in self.down:
            hidden = stage(hidden)
            skips.append(hidden)
            hidden = self.pool(hidden)
        hidden = self.bottleneck(hidden)
        for upsample, stage, skip in zip(self.upsample, self.up, reversed(skips)):
            hidden = stage(torch.cat([upsample(hidden), skip], dim=1))
        return self.head(hidden)[..., :height, :width]


class UNetMaskNetwork(StandardizedNetwork):
    """Standardised features as image channels -> U-Net -> softmax masks over sources.

    With two sources the softmax over two logits is a sigmoid of their difference: the
    single "proportion mask" of Xi's report and its complement.

    Parameters
    ----------
    n_features, n_bins, n_sources : int
        As in :class:`~sksep.nn.context_cnn.ContextCNN`; the features form
        ``n_features // n_bins`` channels, standardised with the statistics set by
        :meth:`~sksep.nn.standardize.StandardizedNetwork.set_feature_statistics`.
    channels, depth, dropout
        Of the :class:`UNet`.
    extra_channels : int
        Input channels beside the features' (the UH-net's masks).
    mask_activation : {"softmax", "linear"}
        Softmax over the sources, or the logits themselves as masks (clipped at 0 only
        at prediction, as :class:`~sksep.nn.hourglass.HourglassMaskNetwork`'s).

    ``forward(features (batch, T, n_features))`` returns masks ``(batch, C, T, F)``.
    """

    def __init__(self, n_features, n_bins, n_sources, *, channels=16, depth=4, dropout=0.5,
                 extra_channels=0, mask_activation="softmax"):
        if n_features % n_bins:
            raise ValueError(f"n_features={n_features} must be a multiple of n_bins={n_bins}")
        if mask_activation not in ("softmax", "linear"):
            raise ValueError(f"mask_activation={mask_activation!r} must be 'softmax' or 'linear'")
        super().__init__(n_features)
        self.n_channels = n_features // n_bins
        self.n_bins = n_bins
        self.mask_activation = mask_activation
        self.unet = UNet(self.n_channels + extra_channels, n_sources, channels=channels,
                         depth=depth, dropout=dropout)

    def _image(self, standardized):
        # (batch, T, channels * F) -> (batch, channels, T, F)
        return standardized.unflatten(-1, (self.n_channels, self.n_bins)).transpose(1, 2)

    def _masks(self, logits):
        return torch.softmax(logits, dim=1) if self.mask_activation == "softmax" else logits

    def forward(self, features):
        image = self._image(self.standardize(features))
        return self._masks(self.unet(image))


class HybridUNetNetwork(UNetMaskNetwork):
    """UH-net: a Chimera network whose mask-head output joins the U-Net's input channels.

    The Chimera network (recurrent body, deep-clustering and mask-inference heads) reads
    the same standardised features; its ``C`` soft masks are stacked with the feature
    channels, so the U-Net sees ``n_channels + C`` channels (Xi: spectrogram + two masks
    = three). Both are trained together, gradients of the U-Net loss flowing into the
    Chimera network too.

    ``forward`` returns ``(masks (batch, C, T, F), embedding (batch, T, F, D),
    chimera_masks (batch, C, T, F))``.
    """

    def __init__(self, n_features, n_bins, n_sources, *, channels=16, depth=4, dropout=0.5,
                 embedding_dim=20, hidden_size=500, num_layers=4, rnn_type="gru",
                 rnn_dropout=0.0, mask_activation="softmax"):
        super().__init__(n_features, n_bins, n_sources, channels=channels, depth=depth,
                         dropout=dropout, extra_channels=n_sources,
                         mask_activation=mask_activation)
        # The Chimera network reads features standardised here; its own Standardize
        # keeps its identity buffers.
        self.chimera = ChimeraNetwork(n_features, n_bins, n_sources, embedding_dim=embedding_dim,
                                      hidden_size=hidden_size, num_layers=num_layers,
                                      rnn_type=rnn_type, dropout=rnn_dropout)

    def forward(self, features):
        standardized = self.standardize(features)
        embedding, chimera_masks = self.chimera(standardized)
        image = torch.cat([self._image(standardized), chimera_masks], dim=1)
        return self._masks(self.unet(image)), embedding, chimera_masks
