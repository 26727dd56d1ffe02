"""Deep clustering and Chimera separators (Luo, Chen, Hershey, Le Roux, Mesgarani 2017)."""

from functools import partial

import torch
from sklearn.utils.validation import check_is_fitted

from .._clustering import kmeans_masks, name_by_low_frequency, name_by_reference
from .._masks import WienerMask
from .._spectral import linear_grid, on_feature_grid
from ..nn.recurrent import ChimeraNetwork
from ._base import keyword_only_after_first
from ._neural import (NETWORK_CONSTRAINTS, NeuralSeparator, document_training_parameters,
                      training_arguments)
from ._targets import clip_targets, deep_clustering_target
from .._constants import HEADS
from ..inference import segmentwise
from .._validation import InvalidInputError, check_choice, check_mask_target
from ..losses import DC_OBJECTIVES, MI_OBJECTIVES, chimera_objective

__all__ = ["ChimeraSeparator", "DeepClusteringSeparator"]


class _MasksOnly(torch.nn.Module):
    """Inference adapter: a :class:`ChimeraNetwork` that returns ``(None, masks)``."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, features):
        return None, self.network.masks(features)


class _ChimeraBase(NeuralSeparator):
    """What the deep-clustering and Chimera separators share."""

    _alpha = 1.0
    _mi_objective = "mmsa"
    _layer_count_params = ("num_layers",)

    _parameter_constraints = {
        **NeuralSeparator._parameter_constraints,
        **{name: NETWORK_CONSTRAINTS[name] for name in (
            "embedding_dim", "hidden_size", "num_layers", "rnn_type", "dropout",
            "low_frequency_source")},
        "dc_objective": partial(check_choice, choices=tuple(DC_OBJECTIVES)),
        "dc_target": partial(check_mask_target, example="IdealBinaryMask()"),
    }

    def _build_module(self, n_features, n_bins, n_sources):
        return ChimeraNetwork(n_features, n_bins, n_sources, embedding_dim=self.embedding_dim,
                              hidden_size=self.hidden_size, num_layers=self.num_layers,
                              rnn_type=self.rnn_type, dropout=self.dropout,
                              n_mask_bins=self._mi_grid(self.grid_).n_bins)

    def _standardized_module(self, features):
        module = super()._standardized_module(features)
        if self._mi_on_stft():  # start as the mel head, spread over the STFT bins
            module.mask_head.set_frequency_map(self.grid_.projection())
        return module

    def _mi_grid(self, grid):
        """The grid of the mask-inference head's masks for the feature grid ``grid``."""
        return grid

    def _mi_on_stft(self):
        """Whether the fitted mask-inference head predicts on a grid of its own."""
        return self._mi_grid(self.grid_) != self.grid_

    def _clip_targets(self, record, sources):
        reference = None
        if self._alpha_value() < 1:  # what the MI head's loss compares its masks with
            reference = {"mmsa": self._mi_target_value(), "msa": "magnitudes",
                         "psa": "phase_sensitive"}[self._mi_objective_value()]
        dc_target = deep_clustering_target(self.dc_target)
        grid = "features" if self._mi_grid(record.grid) == record.grid else "stft"
        return clip_targets(record, sources, labels=dc_target, weights=dc_target,
                            mixture=True, reference=reference, grid=grid)

    # Hooks: the training settings of the mask-inference head, which only
    # ChimeraSeparator has as parameters (deep clustering alone has alpha = 1).
    def _alpha_value(self):
        return self._alpha

    def _mi_objective_value(self):
        return self._mi_objective

    def _mi_target_value(self):
        return WienerMask()

    def _objective(self):
        return partial(chimera_objective, alpha=self._alpha_value(),
                       mi_objective=self._mi_objective_value(),
                       dc_objective=self.dc_objective)

    def _fit(self, records, sources, *, n_validation=0):
        naming = self._naming()
        if naming == "low_frequency" and self.n_sources_ != 2:
            raise InvalidInputError(
                f"cluster_naming='low_frequency' (the MIREX rule) needs 2 sources, "
                f"Y has {self.n_sources_}; use cluster_naming=None"
            )
        self.permutation_invariant_ = self.prediction_head() == "dc" and naming is None
        super()._fit(records, sources, n_validation=n_validation)
        return self

    def embed(self, X):
        """Unit-norm embeddings of every time-frequency bin.

        Parameters
        ----------
        X : mixtures, as for :meth:`predict`

        Returns
        -------
        embeddings : list of ndarray, each (n_frames, n_bins, embedding_dim)
        """
        check_is_fitted(self, "net_")
        records, _ = self._as_records(X)
        return [self._network_outputs(r, keep=("embedding",))[0] for r in records]

    def _network_outputs(self, record, keep=None):
        # Predicting with the MI head needs no embeddings: skip the embedding head
        # (tanh + normalisation of T x F x D values, about a tenth of separation time).
        if ("embedding" in (keep or self._needed_outputs())
                or not hasattr(self.net_.module_, "masks")):
            return super()._network_outputs(record, keep=keep)
        return segmentwise(_MasksOnly(self.net_.module_), record.features,
                           self.inference_frames_, device=self.device,
                           batch_size=self.batch_size,
                           reduce=partial(self._reduce_outputs, keep=("masks",)))

    _output_names = ("embedding", "masks")

    def _needed_outputs(self):
        if self.prediction_head() == "mi":
            return ("masks",)
        if self._naming() == "mask_head":
            return ("embedding", "masks")
        return ("embedding",)

    def _masks_from_outputs(self, outputs, record):
        if self.prediction_head() == "mi":
            return outputs[0]
        weights = deep_clustering_target(self.dc_target).weights(record)
        masks = kmeans_masks(outputs[0], weights, self.n_sources_,
                             whiten=self.dc_objective == "wkm", random_state=self.seed_)
        naming = self._naming()
        if naming == "low_frequency":
            return name_by_low_frequency(masks, weights, self.grid_.bin_frequencies(),
                                         low_frequency_source=self.low_frequency_source)
        if naming == "mask_head":
            reference = outputs[1]
            if self._mi_on_stft():
                reference = on_feature_grid(reference, self.grid_)
            return name_by_reference(masks, reference)
        return masks

    def sources_are_named(self):
        """Whether each output of :meth:`predict` is reliably the source of its index in
        ``Y``, so that it may carry that source's name.

        True when the mask-inference head predicts. K-means clusters of the
        deep-clustering head get reliable names for two sources only (the
        low-frequency rule, or the mask-inference head's masks): matched to the
        mask-inference head's masks, four clusters were misnamed in 5 of 6 trials on the
        MUSDB excerpts (drums as bass); unnamed clusters (``permutation_invariant_``)
        come in no fixed order at all.

        Returns
        -------
        bool
        """
        check_is_fitted(self, "n_sources_")
        if self.prediction_head() != "dc":
            return True
        return self.n_sources_ == 2 and not self.permutation_invariant_

    @property
    def mask_grid_(self):
        """The grid of :meth:`predict_masks`' masks: the mask-inference head's when it
        predicts, else the feature grid."""
        check_is_fitted(self, "grid_")
        return self._mi_grid(self.grid_) if self.prediction_head() == "mi" else self.grid_


class DeepClusteringSeparator(_ChimeraBase):
    """Deep clustering (Hershey et al. 2016) for music, as in Luo et al. (2017).

    A stacked BLSTM maps log-mel features to a ``D``-dimensional unit-norm
    embedding of every time-mel bin, trained with the low-rank deep-clustering
    loss on loud bins. At predict, K-means over the embeddings of the whole clip
    gives binary masks, named by the MIREX rule (the cluster owning more than
    half of the active bins below 200 Hz is the accompaniment) or left unnamed.

    Parameters
    ----------
    embedding_dim : int, default=20
        ``D``.
    hidden_size : int, default=500
        Units per direction of each recurrent layer.
    num_layers : int, default=4
    rnn_type : {"lstm", "gru"}, default="lstm"
    dropout : float, default=0.0
        Between recurrent layers and after the body (the MIREX system used 0.2).
    dc_objective : {"dc", "wkm"}, default="dc"
        Loss of the embeddings: the low-rank deep-clustering loss
        (:func:`sksep.losses.deep_clustering_loss`) or the whitened k-means objective
        of Wang, Le Roux and Hershey (2018, :func:`sksep.losses.whitened_kmeans_loss`),
        which lies between ``D - C`` and ``D``, so ``alpha`` balances it differently.
        With ``"wkm"`` the deep-clustering head clusters the whitened embeddings
        (``V (V^T W V)^(-1/2)`` over the loud bins), the inference matched to that objective.
    cluster_naming : {"low_frequency", None}, default="low_frequency"
        How clusters become named sources: the MIREX low-frequency rule (two
        sources; the source at index ``low_frequency_source`` is the accompaniment)
        or no naming (outputs in arbitrary order, ``score`` permutation-invariant).
    low_frequency_source : int, default=-1
        Index in ``Y`` of the accompaniment (``Y = (vocals, accompaniment)``).
    dc_target : IdealBinaryMask, default=None
        Assignment target and loudness threshold of the loss; ``None`` is
        ``IdealBinaryMask(threshold_db=-40)``.
    features : transformer, default=None
        Features for raw waveforms; ``None`` is ``MelFeatures()`` (150 mel + deltas).
    segment_frames : int or tuple of int, default=100
        Training segment length in frames; a tuple such as ``(100, 500)`` is a
        curriculum, one stage after the other. Inference runs on segments of the
        last length.
    {training_parameters}

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network (``net_.module_``) and its ``history``.
    history_ : skorch.History
    best_epoch_ : int
        Epoch whose weights were kept.
    n_sources_ : int
    grid_ : FeatureGrid
    features_ : MelFeatures or None
        Fitted copy of ``features`` (None when fitted on records).
    permutation_invariant_ : bool
        True when outputs are not named (``score`` is then permutation-invariant).

    Notes
    -----
    Luo et al. train with RMSprop, the default ``optimizer``.

    Examples
    --------
    >>> from sksep import DeepClusteringSeparator
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> dc = DeepClusteringSeparator(hidden_size=8, num_layers=1, max_epochs=1,
    ...                              random_state=0).fit(data.X, data.Y)
    >>> [y.shape[0] for y in dc.predict(data.X)]
    [2, 2]
    """

    _parameter_constraints = {
        **_ChimeraBase._parameter_constraints,
        "cluster_naming": partial(check_choice, choices=("low_frequency", None)),
    }

    # Positional calls (deprecated) still fill the parameters in their released order.
    @keyword_only_after_first(former_order=(
            "hidden_size", "num_layers", "rnn_type", "dropout", "features", "dc_target",
            "dc_objective", "cluster_naming", "low_frequency_source", "segment_frames",
            "lr", "optimizer", "max_epochs", "batch_size", "validation_fraction",
            "patience", "max_grad_norm", "device", "random_state", "callbacks", "verbose",
            "checkpoint", "accelerator", "weight_decay"))
    def __init__(self, embedding_dim=20, *, hidden_size=500, num_layers=4, rnn_type="lstm",
                 dropout=0.0, dc_objective="dc", cluster_naming="low_frequency",
                 low_frequency_source=-1, dc_target=None, features=None,
                 segment_frames=100, lr=1e-3, optimizer="rmsprop", max_epochs=100,
                 batch_size=16, validation_fraction=0.1, patience=10, max_grad_norm=5.0,
                 device="cpu", random_state=None, callbacks=None, verbose=0,
                 checkpoint=None, accelerator=None, weight_decay=0.0):
        super().__init__(**training_arguments(locals()))
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.dropout = dropout
        self.dc_target = dc_target
        self.dc_objective = dc_objective
        self.cluster_naming = cluster_naming
        self.low_frequency_source = low_frequency_source

    __doc__ = document_training_parameters(__doc__, __init__)

    def prediction_head(self):
        """The head whose masks :meth:`predict` returns: always ``"dc"`` (K-means on
        the embeddings).

        Returns
        -------
        str
        """
        return "dc"

    def _naming(self):
        return self.cluster_naming


class ChimeraSeparator(_ChimeraBase):
    """Chimera network: deep clustering + mask inference on one BLSTM body (Luo et al. 2017).

    The body and linear layer give ``Z`` (``F x D`` per frame). The deep-clustering
    head turns it into unit-norm embeddings, the mask-inference head into one
    softmax mask per source through ``F`` per-frequency ``D x C`` layers. Trained
    with ``alpha * L_dc / TF + (1 - alpha) * L_mi``: ``alpha=1`` is pure deep
    clustering, ``alpha=0`` a pure mask-inference network.

    Parameters
    ----------
    alpha : float, default=0.1
        Weight of the deep-clustering loss (the paper's best hybrid: 0.1).
    embedding_dim : int, default=20
        ``D`` (the manuscript's Table 3 finds 10 slightly better).
    hidden_size, num_layers, rnn_type, dropout
        As in :class:`DeepClusteringSeparator`.
    mi_objective : {"mmsa", "msa", "psa"}, default="mmsa"
        Masked magnitude spectrum approximation against ``mi_target`` (Wiener-like
        mask), plain magnitude spectrum approximation, or the truncated
        phase-sensitive approximation of Chimera++ (Wang et al. 2018), whose target is
        the part of each source in phase with the mixture
        (:func:`sksep.losses.phase_sensitive_spectrum_approximation`).
    dc_objective
        As in :class:`DeepClusteringSeparator`.
    head : {"mi", "dc"}, default="mi"
        Which head predicts: the mask-inference head's soft masks, or K-means on the
        embeddings (named by matching the mask-inference head when ``alpha < 1``, by
        the MIREX low-frequency rule otherwise). With ``alpha=1`` the mask-inference
        head is untrained, so the DC head predicts whatever ``head`` says (this keeps a
        grid search over ``alpha`` including 1 working).
    low_frequency_source, dc_target
        As in :class:`DeepClusteringSeparator`.
    mi_target : WienerMask, default=None
        Reference mask of mMSA; ``None`` is ``WienerMask(power=2)``.
    mask_grid : {"features", "stft"}, default="features"
        Grid of the mask-inference head's masks: the feature grid (150 mel bands by
        default, spread over the STFT bins at resynthesis), or the linear STFT grid
        (``n_fft // 2 + 1`` bins) read from the same features, through a
        :class:`~sksep.nn.recurrent.LinearGridMaskHead` whose loss and masks are on
        the STFT bins: the mel grid's oracle ceiling is lower than the STFT grid's.
        :meth:`predict_masks` then returns ``(n_sources, n_frames, n_freq)`` masks
        (``mask_grid_``).
    features, segment_frames
        As in :class:`DeepClusteringSeparator`.
    {training_parameters}

    Attributes
    ----------
    net_, history_, best_epoch_, n_sources_, grid_, features_, permutation_invariant_
        As in :class:`DeepClusteringSeparator`.

    See Also
    --------
    DeepClusteringSeparator : the deep-clustering network alone.
    OracleMaskSeparator : the ceiling to read scores against.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sksep import ChimeraSeparator, MelFeatures
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> pipe = Pipeline([("features", MelFeatures(n_mels=40)),
    ...                  ("separator", ChimeraSeparator(hidden_size=8, num_layers=1,
    ...                                                 max_epochs=1, random_state=0))])
    >>> estimates = pipe.fit(data.X, data.Y).predict(data.X)
    >>> estimates[0].shape == data.Y[0].shape
    True
    """

    _parameter_constraints = {
        **_ChimeraBase._parameter_constraints,
        "alpha": NETWORK_CONSTRAINTS["alpha"],
        "mi_objective": partial(check_choice, choices=tuple(MI_OBJECTIVES)),
        "head": partial(check_choice, choices=HEADS),
        "mi_target": partial(check_mask_target, example="WienerMask()"),
        "mask_grid": partial(check_choice, choices=("features", "stft")),
    }

    # Positional calls (deprecated) still fill the parameters in their released order.
    @keyword_only_after_first(former_order=(
            "embedding_dim", "mi_objective", "head", "hidden_size", "num_layers",
            "rnn_type", "dropout", "features", "dc_target", "dc_objective", "mi_target",
            "low_frequency_source", "segment_frames", "lr", "optimizer", "max_epochs",
            "batch_size", "validation_fraction", "patience", "max_grad_norm", "device",
            "random_state", "callbacks", "verbose", "checkpoint", "accelerator",
            "weight_decay", "mask_grid"))
    def __init__(self, alpha=0.1, *, embedding_dim=20, hidden_size=500, num_layers=4,
                 rnn_type="lstm", dropout=0.0, mi_objective="mmsa", dc_objective="dc",
                 head="mi", low_frequency_source=-1, dc_target=None, mi_target=None,
                 mask_grid="features", features=None, segment_frames=100, lr=1e-3,
                 optimizer="rmsprop", max_epochs=100, batch_size=16,
                 validation_fraction=0.1, patience=10, max_grad_norm=5.0, device="cpu",
                 random_state=None, callbacks=None, verbose=0, checkpoint=None,
                 accelerator=None, weight_decay=0.0):
        super().__init__(**training_arguments(locals()))
        self.alpha = alpha
        self.embedding_dim = embedding_dim
        self.mi_objective = mi_objective
        self.head = head
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.dropout = dropout
        self.dc_target = dc_target
        self.dc_objective = dc_objective
        self.mi_target = mi_target
        self.low_frequency_source = low_frequency_source
        self.mask_grid = mask_grid

    __doc__ = document_training_parameters(__doc__, __init__)

    def _alpha_value(self):
        return float(self.alpha)

    def _mi_grid(self, grid):
        return linear_grid(grid) if self.mask_grid == "stft" else grid

    def _mi_objective_value(self):
        return self.mi_objective

    def _mi_target_value(self):
        return self.mi_target if self.mi_target is not None else WienerMask()

    def prediction_head(self):
        """The head whose masks :meth:`predict` returns: ``head``, except ``"dc"`` when
        ``alpha=1``, whose mask-inference head is never trained.

        Returns
        -------
        {"mi", "dc"}
            ``"mi"``: the mask-inference head's soft masks; ``"dc"``: K-means binary
            masks of the deep-clustering head's embeddings.

        Examples
        --------
        >>> from sksep import ChimeraSeparator
        >>> ChimeraSeparator(head="dc").prediction_head()
        'dc'
        >>> ChimeraSeparator(alpha=1.0).prediction_head()
        'dc'
        """
        return "dc" if self.alpha == 1 else self.head

    def _naming(self):
        if self.alpha < 1:
            return "mask_head"
        return "low_frequency" if getattr(self, "n_sources_", 2) == 2 else None
