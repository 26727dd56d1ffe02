"""Deep clustering and Chimera separators (Luo, Chen, Hershey, Le Roux, Mesgarani 2017)."""

from functools import partial

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._clustering import kmeans_masks, name_by_low_frequency, name_by_reference
from .._masks import IdealBinaryMask, WienerMask
from ..nn.recurrent import ChimeraNetwork
from ._neural import NeuralSeparator
from .._spectral import grid_magnitudes, grid_phase_sensitive_magnitudes
from ._training import segmentwise
from .._validation import InvalidInputError, check_choice, check_int, check_real
from ..losses import (deep_clustering_loss, magnitude_spectrum_approximation,
                     masked_magnitude_spectrum_approximation,
                     phase_sensitive_spectrum_approximation, whitened_kmeans_loss)

__all__ = ["ChimeraSeparator", "DeepClusteringSeparator", "chimera_objective",
           "DC_OBJECTIVES", "MI_OBJECTIVES"]


#: The deep-clustering head's losses: the low-rank loss of Hershey et al. (Luo et al.'s)
#: and the whitened k-means objective of Wang, Le Roux and Hershey (2018, Chimera++).
DC_OBJECTIVES = {"dc": deep_clustering_loss, "wkm": whitened_kmeans_loss}
#: The mask-inference head's losses (Luo et al. 2017; tPSA: Erdogan et al. 2015, Chimera++).
MI_OBJECTIVES = {"mmsa": masked_magnitude_spectrum_approximation,
                 "msa": magnitude_spectrum_approximation,
                 "psa": phase_sensitive_spectrum_approximation}


def chimera_objective(outputs, targets, *, alpha, mi_objective, dc_objective="dc"):
    """Chimera loss ``alpha * L_dc / TF + (1 - alpha) * L_mi`` (eq. 3), divided by ``TF``.

    Parameters
    ----------
    outputs : tuple of Tensor
        ``embedding (batch, T, F, D)`` and ``masks (batch, C, T, F)``.
    targets : dict of Tensor
        ``labels (batch, T, F)`` dominant source, ``weights (batch, T, F)`` loudness,
        ``mixture (batch, T, F)`` magnitude, ``reference (batch, T, C, F)`` (Wiener-like
        mask for mMSA, source magnitudes for MSA, phase-sensitive source magnitudes for
        PSA), ``valid (batch, T)``.
    alpha : float
        Weight of the deep-clustering loss.
    mi_objective : {"mmsa", "msa", "psa"}
        Key of :data:`MI_OBJECTIVES`.
    dc_objective : {"dc", "wkm"}
        Key of :data:`DC_OBJECTIVES`.
    """
    embedding, masks = outputs
    valid = targets["valid"]
    loss = embedding.new_zeros(())
    if alpha > 0:
        batch, n_frames, n_bins, dim = embedding.shape
        n_sources = masks.shape[1]
        labels = torch.nn.functional.one_hot(targets["labels"].long(), n_sources)
        weights = targets["weights"] * valid[:, :, None]
        loss = loss + alpha * DC_OBJECTIVES[dc_objective](
            embedding.reshape(batch, n_frames * n_bins, dim),
            labels.reshape(batch, n_frames * n_bins, n_sources),
            weights.reshape(batch, n_frames * n_bins))
    if alpha < 1:
        reference = targets["reference"].transpose(1, 2)
        loss = loss + (1 - alpha) * MI_OBJECTIVES[mi_objective](
            masks, targets["mixture"], reference, valid)
    return loss


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

    def _check_params(self):
        stages = super()._check_params()
        check_int(self.embedding_dim, name="embedding_dim", minimum=1)
        check_int(self.hidden_size, name="hidden_size", minimum=1)
        check_int(self.num_layers, name="num_layers", minimum=1)
        check_choice(self.rnn_type, name="rnn_type", choices=("lstm", "gru"))
        check_real(self.dropout, name="dropout", minimum=0.0, maximum=0.95)
        check_choice(self.dc_objective, name="dc_objective", choices=tuple(DC_OBJECTIVES))
        for name in ("dc_target", "mi_target"):
            target = getattr(self, name, None)
            if target is not None and not hasattr(target, "masks"):
                raise InvalidInputError(
                    f"{name}={target!r} must be a mask target such as IdealBinaryMask()"
                )
        return stages

    def _dc_target(self):
        return self.dc_target if self.dc_target is not None else IdealBinaryMask()

    def _build_module(self, n_features, n_bins, n_sources):
        return ChimeraNetwork(n_features, n_bins, n_sources, embedding_dim=self.embedding_dim,
                              hidden_size=self.hidden_size, num_layers=self.num_layers,
                              rnn_type=self.rnn_type, dropout=self.dropout)

    def _clip_targets(self, record, sources):
        magnitudes = grid_magnitudes(record.grid, sources)  # (C, T, F)
        dc_target = self._dc_target()
        labels = dc_target._masks(magnitudes).argmax(0).astype(np.int64)
        # Magnitudes are scaled per clip to unit mean square so that the MI loss, and
        # with it the balance alpha sets, does not depend on how loud a clip is.
        scale = float(np.sqrt(np.mean(record.magnitude ** 2))) + 1e-8
        targets = {"labels": labels, "weights": dc_target.weights(record),
                   "mixture": record.magnitude / scale}
        if self._alpha_value() < 1:
            objective = self._mi_objective_value()
            if objective == "mmsa":
                mi_target = getattr(self, "mi_target", None) or WienerMask()
                reference = mi_target._masks(magnitudes)
            elif objective == "psa":
                reference = grid_phase_sensitive_magnitudes(record.grid, sources,
                                                            record.stft) / scale
            else:
                reference = magnitudes / scale
            targets["reference"] = np.ascontiguousarray(reference.transpose(1, 0, 2),
                                                        dtype=np.float32)
        return targets

    def _alpha_value(self):
        return self._alpha

    def _mi_objective_value(self):
        return self._mi_objective

    def _objective(self):
        return partial(chimera_objective, alpha=self._alpha_value(),
                       mi_objective=self._mi_objective_value(),
                       dc_objective=self.dc_objective)

    def _fit(self, records, sources):
        naming = self._naming()
        if naming == "low_frequency" and self.n_sources_ != 2:
            raise InvalidInputError(
                f"cluster_naming='low_frequency' (the MIREX rule) needs 2 sources, "
                f"Y has {self.n_sources_}; use cluster_naming=None"
            )
        self.permutation_invariant_ = self._predict_head() == "dc" and naming is None
        super()._fit(records, sources)
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

    def _reduce_outputs(self, outputs, keep=None):
        embedding, masks = outputs
        keep = keep or self._needed_outputs()
        kept = []
        if "embedding" in keep:
            kept.append((embedding, 1))
        if "masks" in keep:
            kept.append((masks, 2))
        return kept

    def _needed_outputs(self):
        if self._predict_head() == "mi":
            return ("masks",)
        if self._naming() == "mask_head":
            return ("embedding", "masks")
        return ("embedding",)

    def _masks_from_outputs(self, outputs, record):
        if self._predict_head() == "mi":
            return outputs[0]
        weights = self._dc_target().weights(record)
        masks = kmeans_masks(outputs[0], weights, self.n_sources_, random_state=self.seed_)
        naming = self._naming()
        if naming == "low_frequency":
            return name_by_low_frequency(masks, weights, self.grid_.bin_frequencies(),
                                         low_frequency_source=self.low_frequency_source)
        if naming == "mask_head":
            return name_by_reference(masks, outputs[1])
        return masks


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
    features : transformer, default=None
        Features for raw waveforms; ``None`` is ``MelFeatures()`` (150 mel + deltas).
    dc_target : IdealBinaryMask, default=None
        Assignment target and loudness threshold of the loss; ``None`` is
        ``IdealBinaryMask(threshold_db=-40)``.
    dc_objective : {"dc", "wkm"}, default="dc"
        Loss of the embeddings: the low-rank deep-clustering loss
        (:func:`sksep.losses.deep_clustering_loss`) or the whitened k-means objective
        of Wang, Le Roux and Hershey (2018, :func:`sksep.losses.whitened_kmeans_loss`),
        which lies between ``D - C`` and ``D``, so ``alpha`` balances it differently.
    cluster_naming : {"low_frequency", None}, default="low_frequency"
        How clusters become named sources: the MIREX low-frequency rule (two
        sources; the source at index ``low_frequency_source`` is the accompaniment)
        or no naming (outputs in arbitrary order, ``score`` permutation-invariant).
    low_frequency_source : int, default=-1
        Index in ``Y`` of the accompaniment (``Y = (vocals, accompaniment)``).
    segment_frames : int or tuple of int, default=100
        Training segment length in frames; a tuple such as ``(100, 500)`` is a
        curriculum, one stage after the other. Inference runs on segments of the
        last length.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"rmsprop", "adam"}, default="rmsprop"
        ``torch.optim.RMSprop`` (Luo et al.'s optimiser) or ``torch.optim.Adam``.
    max_epochs : int or tuple of int, default=100
        Epochs (per curriculum stage when a tuple).
    batch_size : int, default=16
        Segments per batch.
    validation_fraction : float, default=0.1
        Share of the training clips held out; the weights of the epoch with the
        lowest validation loss are kept. 0 keeps the lowest training loss.
    patience : int or None, default=10
        Stop after this many epochs without improvement (skorch ``EarlyStopping``).
    max_grad_norm : float or None, default=5.0
        Gradient norm clipping.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``.
    random_state : int, RandomState or None
        Seeds the split, the weights, the batch order and K-means: the same value
        gives the same predictions on re-fit.
    callbacks : list of skorch callbacks, default=None
        Added to the net (e.g. ``skorch.callbacks.ProgressBar()``).
    verbose : int, default=0
        skorch's per-epoch table when 1.
    checkpoint : str or os.PathLike, default=None
        File to which the state of training is written, atomically, after every
        epoch (weights, optimizer, history, best epoch, early stopping, random
        generators). If training is interrupted (Ctrl-C, a killed process, a
        callback such as :class:`~sksep.callbacks.TimeBudget`), ``fit`` with the
        same data and settings resumes from it and ends with the same model as an
        uninterrupted run with the same ``random_state``. The file is deleted once
        training is complete (all epochs run, or early stopping). A checkpoint
        from other data or settings is refused (``ValueError``), not overwritten.
        Not saved in model files.
    accelerator : accelerate.Accelerator, default=None
        Train through Hugging Face ``accelerate`` (skorch's ``AccelerateMixin``):
        the accelerator places the model and batches, and under
        ``accelerate launch`` shards the batches over processes / GPUs. Inference
        then runs on ``device``. Not saved in model files.

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

    def __init__(self, embedding_dim=20, hidden_size=500, num_layers=4, rnn_type="lstm",
                 dropout=0.0, features=None, dc_target=None, dc_objective="dc",
                 cluster_naming="low_frequency",
                 low_frequency_source=-1, segment_frames=100, lr=1e-3, optimizer="rmsprop",
                 max_epochs=100, batch_size=16, validation_fraction=0.1, patience=10,
                 max_grad_norm=5.0, device="cpu", random_state=None, callbacks=None, verbose=0,
                 checkpoint=None, accelerator=None):
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.dropout = dropout
        self.features = features
        self.dc_target = dc_target
        self.dc_objective = dc_objective
        self.cluster_naming = cluster_naming
        self.low_frequency_source = low_frequency_source
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

    def _check_params(self):
        stages = super()._check_params()
        check_choice(self.cluster_naming, name="cluster_naming", choices=("low_frequency", None))
        check_int(self.low_frequency_source, name="low_frequency_source", minimum=-2, maximum=1)
        return stages

    def _predict_head(self):
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
    mi_objective : {"mmsa", "msa", "psa"}, default="mmsa"
        Masked magnitude spectrum approximation against ``mi_target`` (Wiener-like
        mask), plain magnitude spectrum approximation, or the truncated
        phase-sensitive approximation of Chimera++ (Wang et al. 2018), whose target is
        the part of each source in phase with the mixture
        (:func:`sksep.losses.phase_sensitive_spectrum_approximation`).
    head : {"mi", "dc"}, default="mi"
        Which head predicts: the mask-inference head's soft masks, or K-means on the
        embeddings (named by matching the mask-inference head when ``alpha < 1``, by
        the MIREX low-frequency rule otherwise). With ``alpha=1`` the mask-inference
        head is untrained, so the DC head predicts whatever ``head`` says (this keeps a
        grid search over ``alpha`` including 1 working).
    mi_target : WienerMask, default=None
        Reference mask of mMSA; ``None`` is ``WienerMask(power=2)``.
    hidden_size, num_layers, rnn_type, dropout, features, dc_target, dc_objective, \
low_frequency_source, segment_frames, lr, optimizer, max_epochs, batch_size, validation_fraction, patience, \
max_grad_norm, device, random_state, callbacks, verbose, checkpoint, accelerator
        As in :class:`DeepClusteringSeparator`.

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

    def __init__(self, alpha=0.1, embedding_dim=20, mi_objective="mmsa", head="mi",
                 hidden_size=500, num_layers=4, rnn_type="lstm", dropout=0.0, features=None,
                 dc_target=None, dc_objective="dc", mi_target=None, low_frequency_source=-1,
                 segment_frames=100,
                 lr=1e-3, optimizer="rmsprop", max_epochs=100, batch_size=16,
                 validation_fraction=0.1, patience=10, max_grad_norm=5.0, device="cpu",
                 random_state=None, callbacks=None, verbose=0, checkpoint=None,
                 accelerator=None):
        self.alpha = alpha
        self.embedding_dim = embedding_dim
        self.mi_objective = mi_objective
        self.head = head
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.dropout = dropout
        self.features = features
        self.dc_target = dc_target
        self.dc_objective = dc_objective
        self.mi_target = mi_target
        self.low_frequency_source = low_frequency_source
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

    def _check_params(self):
        stages = super()._check_params()
        check_real(self.alpha, name="alpha", minimum=0.0, maximum=1.0)
        check_choice(self.mi_objective, name="mi_objective", choices=tuple(MI_OBJECTIVES))
        check_choice(self.head, name="head", choices=("mi", "dc"))
        check_int(self.low_frequency_source, name="low_frequency_source", minimum=-2, maximum=1)
        return stages

    def _alpha_value(self):
        return float(self.alpha)

    def _mi_objective_value(self):
        return self.mi_objective

    def _predict_head(self):
        # With alpha=1 the mask-inference head is never trained: predict with the DC head.
        return "dc" if self.alpha == 1 else self.head

    def _naming(self):
        if self.alpha < 1:
            return "mask_head"
        return "low_frequency" if getattr(self, "n_sources_", 2) == 2 else None
