"""Class-conditional embeddings (Seetharaman, Wichern, Venkataramani, Le Roux, ICASSP 2019)."""

from functools import partial

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._base import is_record_list
from ..nn.gmm import (COVARIANCE_TYPES, ClassConditionalNetwork, fit_gaussian,
                   gaussian_log_likelihood)
from .._masks import IdealBinaryMask, loudness_weights
from ..nn.recurrent import ChimeraNetwork
from ._neural import NeuralSeparator
from .._spectral import apply_masks, grid_magnitudes
from .._validation import (InvalidAudioTypeError, InvalidInputError, check_choice, check_int,
                          check_mixtures, check_real)
from ..losses import deep_clustering_loss, l1_spectrogram_loss

__all__ = ["ClassConditionalSeparator", "class_conditional_objective"]

#: Variance of every Gaussian at initialisation: ``beta = 4`` in soft K-means terms, sharp
#: enough for unit-norm embeddings (squared distances in [0, 4]) to give masks far from
#: uniform, soft enough for gradients to flow; the network then learns it.
INIT_VARIANCE = 0.25

#: Lower bound of the learned variances (``beta <= 1000``).
MIN_VARIANCE = 1e-3

#: Floor of the query Gaussian's variances (section 4.3).
QUERY_MIN_VARIANCE = 1e-4

#: A query whose STFT never exceeds this magnitude is digital silence.
SILENCE_MAGNITUDE = 1e-6


def class_conditional_objective(outputs, targets, *, dc_weight, projection=None):
    """``L1 + dc_weight * L_dc``, both per bin (Seetharaman et al. 2019, section 4.1).

    The L1 term compares the masked mixture with the sources on the linear STFT grid:
    masks are projected from the feature (mel) grid, clamped to [0, 1] and applied to
    the mixture magnitude, as at inference. The deep-clustering term regularises the
    same embeddings the GMM reads, on the loud bins only.

    Parameters
    ----------
    outputs : tuple of Tensor
        ``embedding (batch, T, F, D)`` and ``masks (batch, C, T, F)``.
    targets : dict of Tensor
        ``mixture (batch, T, n_freq)`` and ``sources (batch, T, C, n_freq)`` linear
        magnitudes (scaled per clip to unit RMS), ``valid (batch, T)``; with
        ``dc_weight > 0`` also ``labels (batch, T, F)`` (dominant source) and
        ``weights (batch, T, F)`` (loudness).
    dc_weight : float
        Weight of the deep-clustering loss (1: the paper's equal weighting).
    projection : Tensor of shape (n_freq, F), optional
        Feature-grid to STFT-grid mask projection (``FeatureGrid.projection``); ``None``
        when the feature grid is the STFT grid.

    Returns
    -------
    loss : Tensor, scalar
    """
    embedding, masks = outputs
    valid = targets["valid"]
    if projection is not None:
        masks = masks @ projection.to(masks).T
    masks = masks.clamp(0.0, 1.0)
    loss = l1_spectrogram_loss(masks, targets["mixture"], targets["sources"].transpose(1, 2),
                               valid)
    if dc_weight > 0:
        batch, n_frames, n_bins, dim = embedding.shape
        n_classes = outputs[1].shape[1]
        labels = torch.nn.functional.one_hot(targets["labels"].long(), n_classes)
        weights = targets["weights"] * valid[:, :, None]
        loss = loss + dc_weight * deep_clustering_loss(
            embedding.reshape(batch, n_frames * n_bins, dim),
            labels.reshape(batch, n_frames * n_bins, n_classes),
            weights.reshape(batch, n_frames * n_bins))
    return loss


class ClassConditionalSeparator(NeuralSeparator):
    """Class-conditional embeddings with a learned GMM (Seetharaman et al. 2019).

    A stacked BLSTM maps log-mel features to a ``D``-dimensional unit-norm embedding
    of every time-mel bin. An auxiliary network maps the one-hot vector of each source
    class to the mean, variance and prior of a Gaussian in that space; the mask of
    class ``c`` at a bin is the posterior of component ``c`` under the GMM of all
    classes (the expectation step, computed with log-sum-exp). Masks are projected to
    the linear STFT grid, clamped to [0, 1] and applied to the mixture. Training
    minimises the L1 distance between the masked mixture and the source magnitudes
    plus ``dc_weight`` times the deep-clustering loss of the same embeddings on the
    loud bins.

    Parameters
    ----------
    classes : sequence of str, default=None
        One name per source of ``Y``, in order (e.g. ``("vocals", "accompaniment")``);
        ``None`` names them ``"source0", "source1", ...``.
    covariance_type : {"tied_spherical", "spherical", "tied_diag", "diag"} or None, \
default="tied_spherical"
        Covariance of the class Gaussians: one variance (spherical) or one per
        dimension (diag), shared by all classes (tied) or per class. The tied
        spherical GMM, the paper's best, is soft K-means with a learned ``beta``.
        ``None`` is the paper's baseline: the same BLSTM as a plain mask-inference
        network, one sigmoid mask per class (per-frequency ``D x C`` layers on the
        same ``F x D`` linear output), trained with the L1 loss alone.
    embedding_dim : int, default=20
        ``D``.
    dc_weight : float, default=1.0
        Weight of the deep-clustering regulariser relative to the L1 loss (1: equal
        weighting, as in the paper; 0: L1 only). Ignored by the baseline.
    hidden_size : int, default=300
        Units per direction of each recurrent layer.
    num_layers : int, default=4
    rnn_type : {"lstm", "gru"}, default="lstm"
    dropout : float, default=0.0
    features : transformer, default=None
        Features for raw waveforms; ``None`` is ``MelFeatures()`` (16 kHz, 512-sample
        window, 128-sample hop, 150 mel bands + deltas).
    dc_target : IdealBinaryMask, default=None
        Assignment target and loudness threshold of the deep-clustering loss, also the
        threshold that picks the loud bins of a query; ``None`` is
        ``IdealBinaryMask(threshold_db=-40)``.
    segment_frames, lr, optimizer, max_epochs, batch_size, validation_fraction, patience, \
max_grad_norm, device, random_state, callbacks, verbose, checkpoint, accelerator
        As in :class:`DeepClusteringSeparator`.

    Attributes
    ----------
    classes_ : tuple of str
        Name of each source, in the order of ``Y`` and of the predictions.
    means_ : ndarray of shape (n_classes, embedding_dim) or None
        Learned class means (None for the baseline).
    variances_ : ndarray of shape (n_classes, embedding_dim) or None
        Learned diagonal variances, whatever the covariance type (tied types have
        identical rows, spherical types constant rows).
    priors_ : ndarray of shape (n_classes,) or None
        Learned class priors (sum to one).
    beta_ : float, ndarray of shape (n_classes,) or None
        ``1 / variance`` of the spherical types: the soft K-means ``beta`` (one float
        when tied, one per class otherwise); None for diagonal types and the baseline.
    net_, history_, best_epoch_, n_sources_, grid_, features_
        As in :class:`DeepClusteringSeparator`.

    See Also
    --------
    ChimeraSeparator : deep clustering and mask inference on two heads.
    OracleMaskSeparator : the ceiling to read scores against.

    Notes
    -----
    Our copy of the paper lost its numbers, so the defaults are chosen for 16 kHz music:
    4 BLSTM layers (as in the paper) of 300 units per direction, ``D = 20`` (Luo et al.
    2017) and sksep's 150-band mel grid (32 ms window, 8 ms hop). Variances are
    ``1e-3 + exp(log_variance)`` and start at 0.25 (``beta = 4``); priors are a softmax
    over classes and start uniform; means start at random points of norm about 1.

    :meth:`query` fits one Gaussian (spherical or diagonal, as ``covariance_type``) to
    the loud-bin embeddings of an isolated example and masks a mixture with the
    likelihood of each bin's embedding divided by the largest likelihood in that
    mixture (section 4.3), computed as ``exp(log_likelihood - max)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import ClassConditionalSeparator
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> est = ClassConditionalSeparator(classes=("vocals", "accompaniment"), hidden_size=8,
    ...                                 num_layers=1, max_epochs=1, random_state=0)
    >>> est = est.fit(data.X, data.Y)
    >>> est.classes_, est.means_.shape, est.beta_ > 0
    (('vocals', 'accompaniment'), (2, 20), True)
    >>> masks = est.predict_masks(data.X[:1])[0]
    >>> masks.shape[0], bool(np.allclose(masks.sum(axis=0), 1.0, atol=1e-5))
    (2, True)
    >>> vocals = data.Y[1][0]
    >>> extracted = est.query([vocals], data.X[:1])
    >>> extracted[0].shape == data.X[0].shape
    True
    """

    _saved_attributes = NeuralSeparator._saved_attributes + (
        "classes_", "means_", "variances_", "priors_", "beta_")

    def __init__(self, classes=None, covariance_type="tied_spherical", embedding_dim=20,
                 dc_weight=1.0, hidden_size=300, num_layers=4, rnn_type="lstm", dropout=0.0,
                 features=None, dc_target=None, segment_frames=100, lr=1e-3,
                 optimizer="rmsprop", max_epochs=100, batch_size=16, validation_fraction=0.1,
                 patience=10, max_grad_norm=5.0, device="cpu", random_state=None,
                 callbacks=None, verbose=0, checkpoint=None, accelerator=None):
        self.classes = classes
        self.covariance_type = covariance_type
        self.embedding_dim = embedding_dim
        self.dc_weight = dc_weight
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.dropout = dropout
        self.features = features
        self.dc_target = dc_target
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

    # -- parameters -------------------------------------------------------------------------

    def _check_params(self):
        stages = super()._check_params()
        check_choice(self.covariance_type, name="covariance_type",
                     choices=COVARIANCE_TYPES + (None,))
        check_int(self.embedding_dim, name="embedding_dim", minimum=1)
        check_real(self.dc_weight, name="dc_weight", minimum=0.0)
        check_int(self.hidden_size, name="hidden_size", minimum=1)
        check_int(self.num_layers, name="num_layers", minimum=1)
        check_choice(self.rnn_type, name="rnn_type", choices=("lstm", "gru"))
        check_real(self.dropout, name="dropout", minimum=0.0, maximum=0.95)
        if self.dc_target is not None and not hasattr(self.dc_target, "weights"):
            raise InvalidInputError(
                f"dc_target={self.dc_target!r} must be a mask target such as IdealBinaryMask()"
            )
        self._check_classes()
        return stages

    def _check_classes(self, n_sources=None):
        classes = self.classes
        if classes is None:
            return None if n_sources is None else tuple(f"source{i}" for i in range(n_sources))
        if isinstance(classes, (str, bytes)) or not isinstance(classes, (list, tuple)):
            raise InvalidAudioTypeError(
                f"classes={classes!r} must be a tuple of source names such as "
                f"('vocals', 'accompaniment'), or None"
            )
        if not all(isinstance(name, str) and name for name in classes):
            raise InvalidAudioTypeError(f"classes={classes!r} must hold non-empty strings")
        if len(set(classes)) != len(classes):
            raise InvalidInputError(f"classes={classes!r} has repeated names; expected "
                                    f"one distinct name per source")
        if len(classes) < 2:
            raise InvalidInputError(f"classes={classes!r} has {len(classes)} name; expected "
                                    f"at least 2 (one per source)")
        if n_sources is not None and len(classes) != n_sources:
            raise InvalidInputError(
                f"classes={tuple(classes)!r} has {len(classes)} names but Y has {n_sources} "
                f"sources per clip; expected one name per source"
            )
        return tuple(classes)

    def _dc_target(self):
        return self.dc_target if self.dc_target is not None else IdealBinaryMask()

    def _uses_dc(self):
        return self.covariance_type is not None and self.dc_weight > 0

    # -- NeuralSeparator hooks ------------------------------------------------------------

    def _build_module(self, n_features, n_bins, n_sources):
        if self.covariance_type is None:
            return ChimeraNetwork(n_features, n_bins, n_sources,
                                  embedding_dim=self.embedding_dim,
                                  hidden_size=self.hidden_size, num_layers=self.num_layers,
                                  rnn_type=self.rnn_type, dropout=self.dropout,
                                  mask_activation="sigmoid")
        return ClassConditionalNetwork(n_features, n_bins, n_sources,
                                       embedding_dim=self.embedding_dim,
                                       covariance_type=self.covariance_type,
                                       hidden_size=self.hidden_size, num_layers=self.num_layers,
                                       rnn_type=self.rnn_type, dropout=self.dropout,
                                       init_variance=INIT_VARIANCE, min_variance=MIN_VARIANCE)

    def _clip_targets(self, record, sources):
        mixture = np.abs(record.stft).T  # (T, n_freq)
        # Scaled per clip to unit RMS so that the loss does not depend on how loud a
        # clip is, and the balance with the deep-clustering loss neither.
        scale = float(np.sqrt(np.mean(mixture ** 2))) + 1e-8
        source_magnitudes = np.abs(record.grid.stft(sources)).transpose(2, 0, 1)  # (T, C, n_freq)
        targets = {"mixture": np.ascontiguousarray(mixture / scale, dtype=np.float32),
                   "sources": np.ascontiguousarray(source_magnitudes / scale, dtype=np.float32)}
        if self._uses_dc():
            dc_target = self._dc_target()
            labels = dc_target._masks(grid_magnitudes(record.grid, sources)).argmax(0)
            targets["labels"] = labels.astype(np.uint8)
            targets["weights"] = dc_target.weights(record)
        return targets

    def _objective(self):
        projection = self.grid_.projection()
        if projection is not None:
            projection = torch.from_numpy(np.ascontiguousarray(projection))
        dc_weight = float(self.dc_weight) if self._uses_dc() else 0.0
        return partial(class_conditional_objective, dc_weight=dc_weight,
                       projection=projection)

    def _reduce_outputs(self, outputs, keep=None):
        embedding, masks = outputs
        keep = keep or ("masks",)
        kept = []
        if "embedding" in keep:
            kept.append((embedding, 1))
        if "masks" in keep:
            kept.append((masks, 2))
        return kept

    def _masks_from_outputs(self, outputs, record):
        return np.clip(outputs[0], 0.0, 1.0)

    def _fit(self, records, sources):
        if self.n_sources_ > 255:
            raise InvalidInputError(f"Y has {self.n_sources_} sources per clip; expected "
                                    f"at most 255 classes")
        self.classes_ = self._check_classes(self.n_sources_)
        super()._fit(records, sources)
        self._learned_gaussians()
        return self

    def _learned_gaussians(self):
        """Copy the auxiliary network's Gaussians into plain fitted attributes."""
        self.means_ = self.variances_ = self.priors_ = self.beta_ = None
        if self.covariance_type is None:
            return
        with torch.no_grad():
            means, variances, log_priors = self.net_.module_.gaussians()
        self.means_ = means.cpu().double().numpy()
        self.variances_ = variances.cpu().double().numpy()
        self.priors_ = log_priors.exp().cpu().double().numpy()
        if self.covariance_type == "tied_spherical":
            self.beta_ = float(1.0 / self.variances_[0, 0])
        elif self.covariance_type == "spherical":
            self.beta_ = 1.0 / self.variances_[:, 0]

    # -- embeddings and query by example ----------------------------------------------------

    def _require_embeddings(self, method):
        if self.covariance_type is None:
            raise InvalidInputError(
                f"{method} needs the embedding space of a class-conditional model; "
                f"covariance_type=None is the mask-inference baseline, which has none"
            )

    def _validated_records(self, X, name):
        if not is_record_list(X):
            check_mixtures(X, name=name, min_samples=self.grid_.n_fft)
        records, is_array = self._as_records(X)
        return records, is_array

    def embed(self, X):
        """Unit-norm embedding of every time-frequency bin.

        Parameters
        ----------
        X : mixtures, as for :meth:`predict`

        Returns
        -------
        embeddings : list of ndarray, each (n_frames, n_bins, embedding_dim)
        """
        check_is_fitted(self, "net_")
        self._require_embeddings("embed")
        records, _ = self._validated_records(X, "X")
        return [self._network_outputs(r, keep=("embedding",))[0] for r in records]

    def _query_gaussian(self, record, index):
        """Mean and variances ``(D,)`` fitted to the loud-bin embeddings of one query."""
        if not np.abs(record.stft).max() > SILENCE_MAGNITUDE:
            raise InvalidInputError(
                f"X_query[{index}] is silent (peak STFT magnitude <= {SILENCE_MAGNITUDE:g}); "
                f"expected an isolated example of the source to extract"
            )
        weights = loudness_weights(record.magnitude,
                                   threshold_db=self._dc_target().threshold_db).reshape(-1)
        needed = self.embedding_dim + 1
        if weights.sum() < needed:
            raise InvalidInputError(
                f"X_query[{index}] has {int(weights.sum())} time-frequency bins above the "
                f"loudness threshold; expected at least {needed} (embedding_dim + 1) to fit "
                f"a Gaussian: use a longer, non-silent example"
            )
        embedding = self._network_outputs(record, keep=("embedding",))[0]
        embedding = torch.from_numpy(embedding.reshape(-1, embedding.shape[-1])).double()
        spherical = self.covariance_type in ("spherical", "tied_spherical")
        return fit_gaussian(embedding, torch.from_numpy(weights).double(),
                            spherical=spherical, min_variance=QUERY_MIN_VARIANCE)

    def _query_mask(self, record, gaussian):
        """Likelihood mask ``(1, T, F)`` under the query Gaussian, normalised by its max."""
        mean, variance = gaussian
        embedding = torch.from_numpy(self._network_outputs(record, keep=("embedding",))[0])
        log_likelihood = gaussian_log_likelihood(embedding.double(), mean[None],
                                                 variance[None])[..., 0]
        mask = torch.exp(log_likelihood - log_likelihood.max())
        return mask.numpy().astype(np.float32)[None]

    def query(self, X_query, X_mixture):
        """Extract from each mixture what sounds like an isolated example (section 4.3).

        A Gaussian is fitted to the embeddings of the loud bins of the example; each
        mixture is masked with the likelihood of its embeddings under that Gaussian,
        divided by the largest likelihood in that mixture (so the mask peaks at 1).

        Parameters
        ----------
        X_query : 1-D array, list of 1-D arrays, or list of SpectrogramRecord
            Isolated examples of the source to extract (at least one STFT window with
            enough loud bins). One example is used for every mixture; otherwise there
            must be one example per mixture, paired in order.
        X_mixture : ndarray (n_clips, n_samples), list of 1-D arrays, or list of records
            The mixtures, as for :meth:`predict`.

        Returns
        -------
        extracted : list of 1-D ndarray, or ndarray (n_clips, n_samples)
            One extracted signal per mixture, as long as it; an array when
            ``X_mixture`` is a 2-D array.
        """
        check_is_fitted(self, "net_")
        self._require_embeddings("query")
        if isinstance(X_query, np.ndarray) and X_query.ndim == 1:
            X_query = [X_query]
        queries, _ = self._validated_records(X_query, "X_query")
        mixtures, is_array = self._validated_records(X_mixture, "X_mixture")
        if len(queries) not in (1, len(mixtures)):
            raise InvalidInputError(
                f"X_query has {len(queries)} examples but X_mixture has {len(mixtures)} "
                f"mixtures; expected one example for all mixtures or one per mixture"
            )
        gaussians = [self._query_gaussian(q, i) for i, q in enumerate(queries)]
        if len(gaussians) == 1:
            gaussians = gaussians * len(mixtures)
        extracted = [apply_masks(record, self._query_mask(record, gaussian))[0]
                     for record, gaussian in zip(mixtures, gaussians)]
        return np.stack(extracted) if is_array else extracted
