"""torch modules: the recurrent body and the two heads of the Chimera network."""

import math

import torch
from torch import nn

from .standardize import StandardizedNetwork

__all__ = ["RecurrentBody", "EmbeddingHead", "MaskInferenceHead", "LinearGridMaskHead",
           "ChimeraNetwork"]


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

    def forward(self, z, hidden=None):
        """``hidden``, the body's output, is not read (it is for
        :class:`LinearGridMaskHead`, which takes the same arguments)."""
        logits = torch.einsum("btfd,fdc->bctf", z, self.weight) + self.bias.T[None, :, None, :]
        if self.activation == "none":  # logits, for heads built on this one
            return logits
        if self.activation == "softmax":
            return torch.softmax(logits, dim=1)
        return torch.sigmoid(logits)


class LinearGridMaskHead(nn.Module):
    """Masks on the linear STFT grid from a network that reads a coarser (mel) grid.

    The per-frequency layers of :class:`MaskInferenceHead` give logits on the ``F``
    feature bins; a linear map over frequency takes them to the ``n_freq`` STFT bins
    (:meth:`set_frequency_map`: the mel-to-STFT projection, so the head starts as the
    feature-grid head with its masks spread over the STFT bins), and a linear layer
    from the recurrent body adds what the coarse grid cannot say (harmonics finer than
    a mel band, where the body knows the pitch). Softmax (or sigmoid) per STFT bin.

    Input ``Z (batch, T, F, D)`` and the body's output ``(batch, T, hidden)``; masks
    ``(batch, C, T, n_freq)``.
    """

    def __init__(self, n_bins, n_freq, hidden_size, embedding_dim, n_sources, *,
                 activation="softmax"):
        super().__init__()
        self.n_freq = n_freq
        self.n_sources = n_sources
        self.feature_logits = MaskInferenceHead(n_bins, embedding_dim, n_sources,
                                                activation="none")
        self.frequency_map = nn.Parameter(torch.zeros(n_freq, n_bins))
        self.detail = nn.Linear(hidden_size, n_freq * n_sources)
        nn.init.zeros_(self.detail.weight)
        nn.init.zeros_(self.detail.bias)
        self.activation = activation

    @torch.no_grad()
    def set_frequency_map(self, projection):
        """Set the frequency map to ``projection (n_freq, n_bins)``, e.g.
        :meth:`sksep.FeatureGrid.projection`."""
        self.frequency_map.copy_(torch.as_tensor(projection, dtype=self.frequency_map.dtype))

    def forward(self, z, hidden):
        logits = torch.einsum("bctf,gf->bctg", self.feature_logits(z), self.frequency_map)
        detail = self.detail(hidden).unflatten(-1, (self.n_sources, self.n_freq))
        logits = logits + detail.transpose(1, 2)
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
    n_mask_bins : int, optional
        Bins of the masks when they are not the feature grid's: the ``n_freq`` bins of
        the linear STFT grid, through a :class:`LinearGridMaskHead`.

    ``forward(features (batch, T, n_features))`` returns ``(embedding, masks)`` of shapes
    ``(batch, T, F, D)`` and ``(batch, C, T, F)`` (``(batch, C, T, n_mask_bins)`` with
    ``n_mask_bins``).
    """

    def __init__(self, n_features, n_bins, n_sources, *, embedding_dim=20, hidden_size=500,
                 num_layers=4, rnn_type="lstm", dropout=0.0, mask_activation="softmax",
                 n_mask_bins=None):
        super().__init__(n_features)
        self.n_bins = n_bins
        self.embedding_dim = embedding_dim
        self.body = RecurrentBody(n_features, hidden_size=hidden_size, num_layers=num_layers,
                                  rnn_type=rnn_type, dropout=dropout)
        self.linear = nn.Linear(self.body.output_size, n_bins * embedding_dim)
        self.embedding_head = EmbeddingHead()
        if n_mask_bins is None or n_mask_bins == n_bins:
            self.mask_head = MaskInferenceHead(n_bins, embedding_dim, n_sources,
                                               activation=mask_activation)
        else:
            self.mask_head = LinearGridMaskHead(n_bins, n_mask_bins, self.body.output_size,
                                                embedding_dim, n_sources,
                                                activation=mask_activation)

    def _hidden_z(self, features):
        hidden = self.body(self.standardize(features))
        return hidden, self.linear(hidden).unflatten(-1, (self.n_bins, self.embedding_dim))

    def forward(self, features):
        hidden, z = self._hidden_z(features)
        return self.embedding_head(z), self.mask_head(z, hidden)

    def masks(self, features):
        """The mask-inference head's masks ``(batch, C, T, F)`` alone (no embeddings)."""
        hidden, z = self._hidden_z(features)
        return self.mask_head(z, hidden)
