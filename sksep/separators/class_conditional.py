"""Class-conditional embeddings (Seetharaman, Wichern, Venkataramani, Le Roux, ICASSP 2019)."""

import warnings
from functools import partial

import numpy as np
import torch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import is_record_list, keyword_only_after_first
from ..nn.gmm import (COVARIANCE_TYPES, ClassConditionalNetwork, fit_gaussian,
                   gaussian_log_likelihood, _is_spherical, query_posteriors)
from .._masks import loudness_weights
from ..nn.recurrent import ChimeraNetwork
from ._neural import (NETWORK_CONSTRAINTS, NeuralSeparator, document_training_parameters,
                      training_arguments)
from .._spectral import apply_masks
from .._validation import (InvalidInputError, check_choice, check_mask_target, check_mixtures,
                          check_real, check_source_names)
from ..losses import class_conditional_objective
from ._targets import clip_targets, deep_clustering_target

__all__ = ["ClassConditionalSeparator", "QuerySeparator"]

#: Variance of every Gaussian at initialisation: ``beta = 4`` in soft K-means terms, sharp
#: enough for unit-norm embeddings (squared distances in [0, 4]) to give masks far from
#: uniform, soft enough for gradients to flow; the network then learns it.
INIT_VARIANCE = 0.25

#: Lower bound of the learned variances (``beta <= 1000``).
MIN_VARIANCE = 1e-3

#: Floor of the query Gaussian's variances (section 4.3).
QUERY_MIN_VARIANCE = 1e-4

#: The masks :meth:`ClassConditionalSeparator.query` can make.
QUERY_MASKS = ("posterior", "likelihood")

#: The sources of :class:`QuerySeparator`: what sounds like the example, and the rest.
QUERY_SOURCES = ("query", "rest")

#: A query whose STFT never exceeds this magnitude is digital silence.
SILENCE_MAGNITUDE = 1e-6


def _is_unset(classes):
    """Whether the deprecated ``classes`` parameter is left at its default."""
    return isinstance(classes, str) and classes == "deprecated"


def _check_classes(value, *, name):
    """``classes``, the former name of ``source_names``: accepted with a FutureWarning."""
    if _is_unset(value):
        return value
    warnings.warn("classes was renamed source_names; classes will be removed in a future "
                  "version: pass source_names instead", FutureWarning, stacklevel=2)
    return check_source_names(value, name=name)


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
    source_names : sequence of str, default=None
        One name per source of ``Y``, in order (e.g. ``("vocals", "accompaniment")``):
        the classes of the paper. ``None`` names them ``"source0", "source1", ...``.
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
    dc_target : IdealBinaryMask, default=None
        Assignment target and loudness threshold of the deep-clustering loss, also the
        threshold that picks the loud bins of a query; ``None`` is
        ``IdealBinaryMask(threshold_db=-40)``.
    features : transformer, default=None
        Features for raw waveforms; ``None`` is ``MelFeatures()`` (16 kHz, 512-sample
        window, 128-sample hop, 150 mel bands + deltas).
    segment_frames : int or tuple of int, default=100
        Training segment length in frames; a tuple such as ``(100, 500)`` is a
        curriculum, one stage after the other. Inference runs on segments of the
        last length.
    {training_parameters}
    classes : sequence of str, default="deprecated"
        Former name of ``source_names`` (with a ``FutureWarning``); model files that
        store it load with it as ``source_names``.

    Attributes
    ----------
    source_names_ : tuple of str
        Name of each source, in the order of ``Y`` and of the predictions.
    classes_ : tuple of str
        Former name of ``source_names_`` (with a ``FutureWarning``).
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
    the loud-bin embeddings of an isolated example (section 4.3). The paper masks a
    mixture with the likelihood of each bin's embedding divided by the largest
    likelihood in that mixture (``mask="likelihood"``, computed as
    ``exp(log_likelihood - max)``). With unit-norm embeddings and a tight query
    Gaussian that ratio is far below one for most bins of the source, so the
    extraction keeps the right source but little of it. The default
    ``mask="posterior"`` instead adds one "rest" Gaussian for everything else in the
    mixture, fitted by expectation-maximisation with the query Gaussian held fixed,
    and masks with the query's posterior: ``benchmarks/query_by_example.py`` compares
    the two on MIR-1K.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import ClassConditionalSeparator
    >>> from sksep.datasets import load_mir1k
    >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
    >>> est = ClassConditionalSeparator(source_names=("vocals", "accompaniment"),
    ...                                 hidden_size=8, num_layers=1, max_epochs=1,
    ...                                 random_state=0)
    >>> est = est.fit(data.X, data.Y)
    >>> est.source_names_, est.means_.shape, est.beta_ > 0
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
        "means_", "variances_", "priors_", "beta_")

    # Model files written before the rename store these names.
    _former_names = {"classes": "source_names", "classes_": "source_names_"}

    _layer_count_params = ("num_layers",)

    _parameter_constraints = {
        **NeuralSeparator._parameter_constraints,
        **{name: NETWORK_CONSTRAINTS[name] for name in (
            "embedding_dim", "hidden_size", "num_layers", "rnn_type", "dropout")},
        "source_names": check_source_names,
        "covariance_type": partial(check_choice, choices=COVARIANCE_TYPES + (None,)),
        "dc_weight": partial(check_real, minimum=0.0),
        "dc_target": partial(check_mask_target, example="IdealBinaryMask()"),
        "classes": _check_classes,
    }

    # Positional calls (deprecated) still fill the parameters in their released order.
    @keyword_only_after_first(former_order=(
            "covariance_type", "embedding_dim", "dc_weight", "hidden_size", "num_layers",
            "rnn_type", "dropout", "features", "dc_target", "segment_frames", "lr",
            "optimizer", "max_epochs", "batch_size", "validation_fraction", "patience",
            "max_grad_norm", "device", "random_state", "callbacks", "verbose", "checkpoint",
            "accelerator", "classes", "weight_decay"))
    def __init__(self, source_names=None, *, covariance_type="tied_spherical",
                 embedding_dim=20, dc_weight=1.0, hidden_size=300, num_layers=4,
                 rnn_type="lstm", dropout=0.0, dc_target=None, features=None,
                 segment_frames=100, lr=1e-3, optimizer="rmsprop", max_epochs=100,
                 batch_size=16, validation_fraction=0.1, patience=10, max_grad_norm=5.0,
                 device="cpu", random_state=None, callbacks=None, verbose=0,
                 checkpoint=None, accelerator=None, weight_decay=0.0,
                 classes="deprecated"):
        super().__init__(**training_arguments(locals()))
        self.source_names = source_names
        self.covariance_type = covariance_type
        self.embedding_dim = embedding_dim
        self.dc_weight = dc_weight
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn_type = rnn_type
        self.dropout = dropout
        self.dc_target = dc_target
        self.classes = classes

    __doc__ = document_training_parameters(__doc__, __init__)

    # -- parameters -------------------------------------------------------------------------

    def _check_params(self):
        super()._check_params()
        if self.source_names is not None and self._names_parameter() == "classes":
            raise InvalidInputError(
                f"source_names={self.source_names!r} and classes={self.classes!r} name the "
                f"same thing; pass source_names only (classes is its former name)"
            )

    def _names_parameter(self):
        """The parameter that names the sources: ``source_names``, or its former name
        ``classes`` when that one is given."""
        return "source_names" if _is_unset(self.classes) else "classes"

    def _fitted_source_names(self, n_sources):
        """One name per source, from ``source_names`` (or ``classes``) or ``source0``..."""
        name = self._names_parameter()
        names = getattr(self, name)
        if names is None:
            return tuple(f"source{i}" for i in range(n_sources))
        if len(names) != n_sources:
            raise InvalidInputError(
                f"{name}={tuple(names)!r} has {len(names)} names but Y has {n_sources} "
                f"sources per clip; expected one name per source"
            )
        return tuple(names)

    @property
    def classes_(self):
        """Former name of ``source_names_`` (with a ``FutureWarning``)."""
        warnings.warn("classes_ was renamed source_names_; classes_ will be removed in a "
                      "future version", FutureWarning, stacklevel=2)
        return self.source_names_

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
        # The L1 loss compares magnitudes on the linear STFT grid, as at inference.
        dc_target = deep_clustering_target(self.dc_target) if self._uses_dc() else None
        return clip_targets(record, sources, labels=dc_target, weights=dc_target,
                            mixture=True, reference="magnitudes", grid="stft")

    def _objective(self):
        projection = self.grid_.projection()
        if projection is not None:
            projection = torch.from_numpy(np.ascontiguousarray(projection))
        dc_weight = float(self.dc_weight) if self._uses_dc() else 0.0
        return partial(class_conditional_objective, dc_weight=dc_weight,
                       projection=projection)

    def _masks_from_outputs(self, outputs, record):
        return np.clip(outputs[0], 0.0, 1.0)

    @property
    def _output_names(self):
        # The sigmoid baseline's network has an embedding layer the loss never trains.
        if isinstance(self.net_.module_, ClassConditionalNetwork):
            return ("embedding", "masks")
        return ("masks",)

    def _fit(self, records, sources, *, n_validation=0):
        if self.n_sources_ > 255:
            raise InvalidInputError(f"Y has {self.n_sources_} sources per clip; expected "
                                    f"at most 255 classes")
        self.source_names_ = self._fitted_source_names(self.n_sources_)
        super()._fit(records, sources, n_validation=n_validation)
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
        threshold_db = deep_clustering_target(self.dc_target).threshold_db
        weights = loudness_weights(record.magnitude, threshold_db=threshold_db).reshape(-1)
        needed = self.embedding_dim + 1
        if weights.sum() < needed:
            raise InvalidInputError(
                f"X_query[{index}] has {int(weights.sum())} time-frequency bins above the "
                f"loudness threshold; expected at least {needed} (embedding_dim + 1) to fit "
                f"a Gaussian: use a longer, non-silent example"
            )
        embedding = self._network_outputs(record, keep=("embedding",))[0]
        embedding = torch.from_numpy(embedding.reshape(-1, embedding.shape[-1])).double()
        return fit_gaussian(embedding, torch.from_numpy(weights).double(),
                            spherical=_is_spherical(self.covariance_type),
                            min_variance=QUERY_MIN_VARIANCE)

    def _query_mask(self, record, gaussian, mask):
        """Query mask ``(1, T, F)`` of one mixture (see :meth:`query`)."""
        mean, variance = gaussian
        embedding = torch.from_numpy(self._network_outputs(record, keep=("embedding",))[0])
        embedding = embedding.double()
        if mask == "likelihood":
            log_likelihood = gaussian_log_likelihood(embedding, mean[None],
                                                     variance[None])[..., 0]
            values = torch.exp(log_likelihood - log_likelihood.max())
        else:
            threshold_db = deep_clustering_target(self.dc_target).threshold_db
            weights = loudness_weights(record.magnitude, threshold_db=threshold_db)
            if not weights.sum() > 0:  # a silent mixture: nothing to extract
                weights = np.ones_like(weights)
            shape = embedding.shape[:-1]
            values = query_posteriors(
                embedding.reshape(-1, embedding.shape[-1]),
                torch.from_numpy(weights.reshape(-1)).double(), mean, variance,
                spherical=_is_spherical(self.covariance_type),
                min_variance=QUERY_MIN_VARIANCE).reshape(shape)
        return values.numpy().astype(np.float32)[None]

    def query(self, X_query, X_mixture, *, mask="posterior"):
        """Extract from each mixture what sounds like an isolated example (section 4.3).

        A Gaussian is fitted to the embeddings of the loud bins of the example, and
        each mixture is masked with how well that Gaussian explains each of its bins.

        Parameters
        ----------
        X_query : 1-D array, list of 1-D arrays, or list of SpectrogramRecord
            Isolated examples of the source to extract (at least one STFT window with
            enough loud bins). One example is used for every mixture; otherwise there
            must be one example per mixture, paired in order.
        X_mixture : ndarray (n_clips, n_samples), list of 1-D arrays, or list of records
            The mixtures, as for :meth:`predict`.
        mask : {"posterior", "likelihood"}, default="posterior"
            ``"posterior"``: the posterior of the query Gaussian against one "rest"
            Gaussian fitted to the mixture's loud bins by expectation-maximisation
            (:func:`sksep.nn.gmm.query_posteriors`). ``"likelihood"``: the paper's
            mask, the likelihood under the query Gaussian divided by the largest
            likelihood in the mixture; it finds the right source but keeps little of
            it (on MIR-1K about 5 dB below the mixture in SI-SDR, see Notes).

        Returns
        -------
        extracted : list of 1-D ndarray, or ndarray (n_clips, n_samples)
            One extracted signal per mixture, as long as it; an array when
            ``X_mixture`` is a 2-D array.
        """
        check_is_fitted(self, "net_")
        self._require_embeddings("query")
        check_choice(mask, name="mask", choices=QUERY_MASKS)
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
        extracted = [apply_masks(record, self._query_mask(record, gaussian, mask))[0]
                     for record, gaussian in zip(mixtures, gaussians)]
        return np.stack(extracted) if is_array else extracted

    def _has_embeddings(self):
        """:func:`available_if` check: the mask-inference baseline has no query."""
        if self.covariance_type is None:
            raise AttributeError(
                "query_separator needs the embedding space of a class-conditional model; "
                "covariance_type=None is the mask-inference baseline, which has none")
        return True

    @available_if(_has_embeddings)
    def query_separator(self, X_query, *, mask="posterior"):
        """A separator of two sources: what sounds like an example, and the rest.

        The query of :meth:`query` as a fitted two-source separator
        (:class:`QuerySeparator`), whose sources ``"query"`` and ``"rest"`` are masked
        by the query mask and one minus it. :mod:`sksep.separation` then separates
        songs of any length, sample rate and channel count by the example as with any
        model, at full band, and the two stems sum to the song; ``sksep separate SONG
        --query EXAMPLE`` writes them as ``query.wav`` and ``rest.wav``. Only models
        with embeddings have it (``hasattr(model, "query_separator")``): not the
        ``covariance_type=None`` baseline.

        Parameters
        ----------
        X_query : 1-D array, or list of one 1-D array or SpectrogramRecord
            One isolated example of the source to extract, at the model's sample rate
            (at least one STFT window with enough loud bins).
        mask : {"posterior", "likelihood"}, default="posterior"
            As in :meth:`query`. With ``"posterior"`` the rest Gaussian is fitted to
            each block a song is separated in (60 s by default), not to the whole song.

        Returns
        -------
        separator : QuerySeparator

        Examples
        --------
        >>> import sksep
        >>> from sksep.datasets import load_mir1k
        >>> from sksep.separation import separate_audio
        >>> data = load_mir1k("../shared/data/MIR-1K", "train", max_clips=2)
        >>> by_example = sksep.load("class-conditional-mir1k").query_separator(data.Y[1][0])
        >>> by_example.source_names_
        ('query', 'rest')
        >>> stems = separate_audio(by_example, data.X[0], 16000)
        >>> stems.shape == (2,) + data.X[0].shape
        True
        """
        check_is_fitted(self, "net_")
        check_choice(mask, name="mask", choices=QUERY_MASKS)
        if isinstance(X_query, np.ndarray) and X_query.ndim == 1:
            X_query = [X_query]
        queries, _ = self._validated_records(X_query, "X_query")
        if len(queries) != 1:
            raise InvalidInputError(
                f"X_query has {len(queries)} examples; expected one, the source to extract")
        return QuerySeparator(self, self._query_gaussian(queries[0], 0), mask)


class QuerySeparator:
    """Separation by example: a fitted class-conditional model's query mask as a fitted
    separator of two sources, ``"query"`` and ``"rest"``.

    Made by :meth:`ClassConditionalSeparator.query_separator`. ``"query"`` is masked
    with the query mask of :meth:`ClassConditionalSeparator.query`, ``"rest"`` with one
    minus it, so the two stems sum to the mixture. It answers what
    :mod:`sksep.separation` asks of a fitted separator (``grid_``, ``n_sources_``,
    ``source_names_``, ``predict_masks``, ``predict``), so songs are separated by
    example as by any model. It cannot be fitted or saved: save the class-conditional
    model and the example.

    Attributes
    ----------
    separator : ClassConditionalSeparator
        The fitted model whose embeddings it reads.
    mask : {"posterior", "likelihood"}
        The query mask (see :meth:`ClassConditionalSeparator.query`).
    grid_, features_, sample_rate_
        The model's.
    n_sources_ : int
        2.
    source_names_ : tuple of str
        ``("query", "rest")``.
    """

    n_sources_ = len(QUERY_SOURCES)
    source_names_ = QUERY_SOURCES
    permutation_invariant_ = False

    def __init__(self, separator, gaussian, mask):
        self.separator = separator
        self.mask = mask
        self._gaussian = gaussian  # (mean, variances) fitted to the example
        self.grid_ = separator.grid_
        self.features_ = separator.features_
        self.sample_rate_ = separator.sample_rate_

    @property
    def mask_grid_(self):
        """The feature grid: the query mask is computed on the embeddings' bins."""
        return self.grid_

    def get_params(self, deep=True):
        """``{"mask": ...}``: how it separates (it has no trainable settings)."""
        return {"mask": self.mask}

    def predict_masks(self, X):
        """The query mask and one minus it.

        Parameters
        ----------
        X : mixtures, as for :meth:`ClassConditionalSeparator.predict`

        Returns
        -------
        masks : list of ndarray, each (2, n_frames, n_bins), values in [0, 1]
        """
        records, _ = self.separator._validated_records(X, "X")
        masks = []
        for record in records:
            query = self.separator._query_mask(record, self._gaussian, self.mask)
            masks.append(np.concatenate([query, 1.0 - query]))
        return masks

    def predict(self, X):
        """The two stems of each mixture.

        Parameters
        ----------
        X : mixtures, as for :meth:`ClassConditionalSeparator.predict`

        Returns
        -------
        stems : list of ndarray, each (2, n_samples), or ndarray (n_clips, 2, n_samples)
            ``"query"`` then ``"rest"``; an array when ``X`` is a 2-D array.
        """
        records, is_array = self.separator._validated_records(X, "X")
        stems = [apply_masks(record, masks)
                 for record, masks in zip(records, self.predict_masks(records))]
        return np.stack(stems) if is_array else stems

    def __repr__(self):
        return f"QuerySeparator({type(self.separator).__name__}, mask={self.mask!r})"
