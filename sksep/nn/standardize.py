"""Feature standardisation: what every network of :mod:`sksep.nn` needs from its separator.

Each network standardises its input with the mean and scale of the features it was
trained on. The separator computes them from its training features and hands them to
the network with :meth:`StandardizedNetwork.set_feature_statistics` before training;
they are buffers, so a model file stores them with the weights
(``standardize.mean``, ``standardize.scale``).
"""

import torch
from torch import nn

__all__ = ["Standardize", "StandardizedNetwork"]


class Standardize(nn.Module):
    """``(features - mean) / scale`` per feature, with statistics learned at fit.

    Parameters
    ----------
    n_features : int
        Size of the last axis of the input. ``mean`` and ``scale``, buffers of shape
        ``(n_features,)``, start at zeros and ones (the identity).
    """

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def set_statistics(self, mean, scale):
        """Set ``mean`` and ``scale``, each array-like of shape ``(n_features,)``."""
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(mean))
            self.scale.copy_(torch.as_tensor(scale))

    def forward(self, features):
        return (features - self.mean) / self.scale


class StandardizedNetwork(nn.Module):
    """Base of the separators' networks: input ``(batch, T, n_features)`` is standardised.

    A subclass calls ``super().__init__(n_features)`` and reads its input through
    ``self.standardize``.

    Parameters
    ----------
    n_features : int
        Input features per frame.
    """

    def __init__(self, n_features):
        super().__init__()
        self.standardize = Standardize(n_features)

    def set_feature_statistics(self, mean, scale):
        """Standardise with the statistics of the training features.

        Parameters
        ----------
        mean : array-like of shape (n_features,)
            Mean of each feature over every training frame.
        scale : array-like of shape (n_features,)
            Positive scale of each feature (its standard deviation, floored).
        """
        self.standardize.set_statistics(mean, scale)
