"""torch modules of the stacked hourglass separator (Park, Kim, Lee, Kwak, ISMIR 2018).

* :class:`Hourglass`: one hourglass of constant width: at each of ``levels`` levels a
  skip branch at the input's resolution and a branch that max-pools, recurses and
  upsamples (nearest neighbour) back, summed.
* :class:`StackedHourglass`: a stem (7x7 then 3x3 convolutions), ``n_stacks``
  hourglasses, each followed by a 1x1 head that predicts the masks; the features and
  the masks of every stack but the last are mapped back (1x1 convolutions) and added
  to the next stack's input, so every stack can be supervised (intermediate
  supervision).
* :class:`HourglassMaskNetwork`: standardised features as image channels ->
  :class:`StackedHourglass` -> masks of every stack.

Feature tensors are ``(batch, T, n_features)`` with ``n_features = n_channels * n_bins``;
masks are ``(batch, n_stacks, n_sources, T, n_bins)``: the last stack's are the
prediction.
"""

import torch
from torch import nn

from .standardize import StandardizedNetwork

__all__ = ["Hourglass", "StackedHourglass", "HourglassMaskNetwork", "MASK_ACTIVATIONS"]

#: How the heads' outputs become masks: ``"linear"`` keeps them as they are (Park et
#: al.: negative values are clipped to 0 at prediction), ``"softmax"`` normalises them
#: over the sources (masks in [0, 1] that sum to one).
MASK_ACTIVATIONS = ("linear", "softmax")


def _convolution(in_channels, out_channels, kernel_size=3):
    """Convolution (same padding, no bias), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU())


class Hourglass(nn.Module):
    """One hourglass of constant width over ``(batch, channels, T, F)``.

    ``forward(x) = skip(x) + upsample(up(inner(down(maxpool(x)))))``, with ``inner``
    the hourglass of ``levels - 1`` levels (a 3x3 convolution at the bottom); every
    branch is a 3x3 convolution, batch norm and ReLU at ``channels`` feature maps.
    Both sides of the input must be multiples of ``2 ** levels``.

    Parameters
    ----------
    channels : int
        Feature maps at every level (constant width, as Park et al.).
    levels : int
        Max-pooling levels (Park et al.: 4).
    """

    def __init__(self, channels, levels):
        super().__init__()
        self.skip = _convolution(channels, channels)
        self.down = _convolution(channels, channels)
        self.inner = (Hourglass(channels, levels - 1) if levels > 1
                      else _convolution(channels, channels))
        self.up = _convolution(channels, channels)
        self.pool = nn.MaxPool2d(2)

    def forward(self, hidden):
        low = self.up(self.inner(self.down(self.pool(hidden))))
        return self.skip(hidden) + nn.functional.interpolate(low, scale_factor=2.0,
                                                             mode="nearest")


class StackedHourglass(nn.Module):
    """Stem, ``n_stacks`` hourglasses and a mask head after each.

    Parameters
    ----------
    in_channels, out_channels : int
        Image channels in; masks out (one per source).
    channels : int
        Constant width of the stem and every hourglass (Park et al.: 256).
    n_stacks : int
        Hourglasses in sequence; the output of each is supervised.
    levels : int
        Levels of each hourglass. Inputs whose sides are not multiples of
        ``2 ** levels`` are zero-padded at the end and the outputs cropped back.

    ``forward(image (batch, in_channels, T, F))`` returns the heads' outputs
    ``(batch, n_stacks, out_channels, T, F)``, before any mask activation.
    """

    #: Run the convolutions on channels-last (NHWC) tensors, which oneDNN computes
    #: faster on CPUs (``benchmarks/bench_conv_throughput.py``); the results are the
    #: same up to float rounding.
    channels_last = True

    def __init__(self, in_channels, out_channels, *, channels=64, n_stacks=1, levels=4):
        super().__init__()
        self.levels = levels
        self.stem = nn.Sequential(_convolution(in_channels, channels, kernel_size=7),
                                  _convolution(channels, channels))
        self.hourglasses = nn.ModuleList(Hourglass(channels, levels) for _ in range(n_stacks))
        self.features = nn.ModuleList(_convolution(channels, channels) for _ in range(n_stacks))
        self.heads = nn.ModuleList(nn.Conv2d(channels, out_channels, 1) for _ in range(n_stacks))
        # Stack i's features and masks re-enter the input of stack i + 1.
        self.feature_merges = nn.ModuleList(nn.Conv2d(channels, channels, 1)
                                            for _ in range(n_stacks - 1))
        self.mask_merges = nn.ModuleList(nn.Conv2d(out_channels, channels, 1)
                                         for _ in range(n_stacks - 1))

    def forward(self, image):
        height, width = image.shape[-2:]
        multiple = 2 ** self.levels
        padded = nn.functional.pad(image, (0, -width % multiple, 0, -height % multiple))
        if self.channels_last:
            padded = padded.contiguous(memory_format=torch.channels_last)
        hidden = self.stem(padded)
        outputs = []
        for index, (hourglass, features, head) in enumerate(
                zip(self.hourglasses, self.features, self.heads)):
            stack_features = features(hourglass(hidden))
            output = head(stack_features)
            outputs.append(output[..., :height, :width])
            if index < len(self.feature_merges):
                hidden = (hidden + self.feature_merges[index](stack_features)
                          + self.mask_merges[index](output))
        return torch.stack(outputs, dim=1)


class HourglassMaskNetwork(StandardizedNetwork):
    """Standardised features as image channels -> stacked hourglass -> masks of every stack.

    Parameters
    ----------
    n_features, n_bins, n_sources : int
        As in :class:`~sksep.nn.unet.UNetMaskNetwork`: the features form
        ``n_features // n_bins`` channels of ``n_bins`` bins.
    channels, n_stacks, levels
        Of the :class:`StackedHourglass`.
    mask_activation : {"linear", "softmax"}
        See :data:`MASK_ACTIVATIONS`. Linear masks are clipped at 0 only in
        :meth:`predicted_masks`: training sees them as they are.

    ``forward(features (batch, T, n_features))`` returns masks
    ``(batch, n_stacks, n_sources, T, n_bins)``.
    """

    def __init__(self, n_features, n_bins, n_sources, *, channels=64, n_stacks=1, levels=4,
                 mask_activation="linear"):
        if n_features % n_bins:
            raise ValueError(f"n_features={n_features} must be a multiple of n_bins={n_bins}")
        if mask_activation not in MASK_ACTIVATIONS:
            raise ValueError(f"mask_activation={mask_activation!r} must be one of "
                             f"{MASK_ACTIVATIONS}")
        super().__init__(n_features)
        self.n_channels = n_features // n_bins
        self.n_bins = n_bins
        self.mask_activation = mask_activation
        self.hourglass = StackedHourglass(self.n_channels, n_sources, channels=channels,
                                          n_stacks=n_stacks, levels=levels)

    def forward(self, features):
        standardized = self.standardize(features)
        # (batch, T, channels * F) -> (batch, channels, T, F)
        image = standardized.unflatten(-1, (self.n_channels, self.n_bins)).transpose(1, 2)
        outputs = self.hourglass(image)
        if self.mask_activation == "softmax":
            return torch.softmax(outputs, dim=2)
        return outputs

    @staticmethod
    def predicted_masks(outputs):
        """The prediction from :meth:`forward`'s output: the last stack's masks, >= 0.

        Parameters
        ----------
        outputs : Tensor of shape (batch, n_stacks, n_sources, T, n_bins)

        Returns
        -------
        masks : Tensor of shape (batch, n_sources, T, n_bins)
        """
        return outputs[:, -1].clamp(min=0.0)
