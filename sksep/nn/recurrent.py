"""torch modules: the recurrent body and the two heads of the Chimera network."""

import math

import torch
from torch import nn

from .standardize import StandardizedNetwork

__all__ = ["RecurrentBody", "EmbeddingHead", "MaskInferenceHead", "ChimeraNetwork"]


class RecurrentBody(nn.Module):
    """Stacked bidirectional LSTM or GRU over frames.

    Input ``(batch, T, n_features)``, output ``(batch, T, 2 * hidden_size)``.
    """

    def __init__(self, n_features, *, hidden_size=500, num_layers=4, rnn_type="lstm",
                 dropout=0.0):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[rnn_type]
        self.rnn = rnn(n_features, hidden_size, num_layers=num_layers, batch_first=True,
                       bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.output_size = 2 * hidden_size

    def forward(self, features):
        hidden, _ = self.rnn(features)
        return self.dropout(hidden)


class EmbeddingHead(nn.Module):
    """Deep-clustering head: ``V = unit_norm(tanh(Z))`` per time-frequency bin.

    Input ``Z`` of shape ``(batch, T, F, D)``, output of the same shape.
    """

    def forward(self, z):
        return nn.functional.normalize(torch.tanh(z), dim=-1, eps=1e-8)


class MaskInferenceHead(nn.Module):
    """``F`` per-frequency ``D x C`` layers with a softmax (or sigmoid) over sources.

    Input ``Z`` of shape ``(batch, T, F, D)``, masks ``(batch, C, T, F)``.
    """

    def __init__(self, n_bins, embedding_dim, n_sources, *, activation="softmax"):
        super().__init__()
        bound = 1.0 / math.sqrt(embedding_dim)
        self.weight = nn.Parameter(torch.empty(n_bins, embedding_dim, n_sources)
                                   .uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_bins, n_sources).uniform_(-bound, bound))
        self.activation = activation

    def forward(self, z):
        logits = torch.einsum("btfd,fdc->bctf", z, self.weight) + self.bias.T[None, :, None, :]
        if self.activation == "softmax":
            return torch.softmax(logits, dim=1)
        return torch.sigmoid(logits)


class ChimeraNetwork(StandardizedNetwork):
    """Recurrent body, linear layer to ``F x D``, embedding and mask-inference heads.

    Parameters
    ----------
    n_features : int
        Input features per frame, standardised with the statistics set by
        :meth:`~sksep.nn.standardize.StandardizedNetwork.set_feature_statistics`.
    n_bins : int
        ``F``: bins of the feature grid that get an embedding and a mask.
    n_sources : int
        ``C``: number of masks.
    embedding_dim : int
        ``D``.

    ``forward(features (batch, T, n_features))`` returns ``(embedding, masks)`` of shapes
    ``(batch, T, F, D)`` and ``(batch, C, T, F)``.
    """

    def __init__(self, n_features, n_bins, n_sources, *, embedding_dim=20, hidden_size=500,
                 num_layers=4, rnn_type="lstm", dropout=0.0, mask_activation="softmax"):
        super().__init__(n_features)
        self.n_bins = n_bins
        self.embedding_dim = embedding_dim
        self.body = RecurrentBody(n_features, hidden_size=hidden_size, num_layers=num_layers,
                                  rnn_type=rnn_type, dropout=dropout)
        self.linear = nn.Linear(self.body.output_size, n_bins * embedding_dim)
        self.embedding_head = EmbeddingHead()
        self.mask_head = MaskInferenceHead(n_bins, embedding_dim, n_sources,
                                           activation=mask_activation)

    def _z(self, features):
        hidden = self.body(self.standardize(features))
        return self.linear(hidden).unflatten(-1, (self.n_bins, self.embedding_dim))

    def forward(self, features):
        z = self._z(features)
        return self.embedding_head(z), self.mask_head(z)

    def masks(self, features):
        """The mask-inference head's masks ``(batch, C, T, F)`` alone (no embeddings)."""
        return self.mask_head(self._z(features))
