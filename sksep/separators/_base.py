"""Behaviour every separator shares: input handling, predict and score.

A separator reads raw mono waveforms (and builds its own features with its
``features`` transformer) or the :class:`SpectrogramRecord` list that a
:class:`MelFeatures` step produces inside a Pipeline. ``predict`` returns
waveforms in the structure of ``Y``.
"""

import functools
import inspect
import warnings
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._features import MelFeatures, SpectrogramRecord, check_grid
from .._persistence import load_estimator, save_estimator
from .._spectral import apply_masks
from .._validation import (InvalidAudioTypeError, InvalidInputError, check_choice, check_int,
                           check_params, check_source_names, check_sources, short_repr)
from ..exceptions import InvalidParameterTypeError, ModelFileError, SilentSourceWarning
from ..metrics import mean_si_sdr_improvement

__all__ = ["BaseSeparator", "is_record_list", "check_not_silent", "silent_sources_message",
           "warn_silent_sources", "keyword_only_after_first"]

#: A source counts as silent in a clip when its energy is this far or further below that
#: of all the clip's sources together (dB): digital silence, or the noise of a lossy code.
SILENT_SOURCE_DB = -80.0


def keyword_only_after_first(init=None, *, former_order=None):
    """Make every parameter of ``init`` but the first keyword-only, as scikit-learn's.

    ``init`` is declared ``def __init__(self, first=..., *, second=..., ...)``; for one
    release a call that still passes ``second`` (and later ones) by position works,
    with a :class:`FutureWarning` naming the keywords to write, as scikit-learn did in
    version 0.23. ``inspect.signature`` (and so ``get_params``) sees ``init``'s own
    signature.

    Parameters
    ----------
    init : function
        An estimator's ``__init__`` with exactly one positional parameter after ``self``.
        Without it, the decorator with ``former_order`` set is returned.
    former_order : sequence of str, optional
        The keyword-only parameters in the order positional calls gave them values
        before the signature was reordered (the released order), so that such a call
        still sets what it set then; ``None`` is the signature's own order.

    Returns
    -------
    wrapped : function
    """
    if init is None:
        return functools.partial(keyword_only_after_first, former_order=former_order)
    parameters = list(inspect.signature(init).parameters.values())[1:]
    positional = [p for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD]
    keyword_only = [p.name for p in parameters if p.kind == p.KEYWORD_ONLY]
    if len(positional) != 1:
        raise TypeError(f"{init.__qualname__} must have exactly one positional parameter")
    if former_order is not None:
        if sorted(former_order) != sorted(keyword_only):
            raise TypeError(f"former_order of {init.__qualname__} must list its keyword-only "
                            f"parameters once each; differs in "
                            f"{sorted(set(former_order) ^ set(keyword_only))}")
        keyword_only = list(former_order)

    @functools.wraps(init)
    def wrapped(self, *args, **kwargs):
        extra = args[1:]
        if extra:
            if len(extra) > len(keyword_only):
                raise TypeError(f"{type(self).__name__}() takes at most "
                                f"{1 + len(keyword_only)} arguments ({len(args)} given)")
            names = keyword_only[:len(extra)]
            warnings.warn(
                f"Pass {', '.join(f'{n}={v!r}' for n, v in zip(names, extra))} as keyword "
                f"arguments: from the next release {type(self).__name__} takes only "
                f"{positional[0].name!r} by position", FutureWarning, stacklevel=2)
            for name, value in zip(names, extra):
                if name in kwargs:
                    raise TypeError(f"{type(self).__name__}() got multiple values for "
                                    f"argument {name!r}")
                kwargs[name] = value
        return init(self, *args[:1], **kwargs)

    return wrapped


def is_record_list(X):
    """Whether ``X`` is a non-empty sequence of :class:`SpectrogramRecord`."""
    return (isinstance(X, (list, tuple)) and len(X) > 0
            and all(isinstance(x, SpectrogramRecord) for x in X))


def check_not_silent(arrays, *, name, what):
    """Refuse a training set in which every sample of every array is zero.

    Parameters
    ----------
    arrays : list of ndarray
        One array per clip.
    name : str
        The argument's name, for the message (``"X"``, ``"Y"``).
    what : str
        What each array holds, for the message (``"clip"``, ``"source"``).

    Raises
    ------
    sksep.exceptions.InvalidInputError
        All of ``arrays`` are zeros: a network would train with a loss of 0 and
        learn nothing.
    """
    if not any(np.any(array) for array in arrays):
        raise InvalidInputError(
            f"{name} is entirely silent: every {what} of the {len(arrays)} clips is all "
            f"zeros; expected audio with some sound to train on"
        )


def silent_sources_message(names, n_clips):
    """What :func:`warn_silent_sources` says, with the silent sources called ``names``
    (the command line calls them by their stem names)."""
    verb = "is" if len(names) == 1 else "are"
    return (f"{', '.join(names)} {verb} silent (more than {-SILENT_SOURCE_DB:g} dB below the "
            f"other sources) in every one of the {n_clips} training clips: the network "
            f"never hears {'it' if len(names) == 1 else 'them'} and will learn to predict "
            f"silence; check the data (a stem missing or empty in every song?)")


def warn_silent_sources(sources):
    """Warn when a source is silent in every training clip.

    Training still runs, as a grid search whose folds have no vocals should not fail;
    but the network learns nothing about such a source.

    Parameters
    ----------
    sources : list of ndarray, each (n_sources, n_samples_i)
        The sources of each training clip.

    Warns
    -----
    sksep.exceptions.SilentSourceWarning
        Naming the silent sources by index (``source 0 of Y``); its ``sources`` and
        ``n_clips`` attributes say which and of how many clips.
    """
    ratio = 10.0 ** (SILENT_SOURCE_DB / 10.0)
    silent = np.ones(len(sources[0]), dtype=bool)
    for clip in sources:
        energies = np.sum(np.square(clip, dtype=np.float64), axis=1)
        silent &= energies <= ratio * energies.sum()
    indices = np.flatnonzero(silent).tolist()
    if indices:
        names = [f"source {i} of Y" for i in indices]
        warnings.warn(SilentSourceWarning(silent_sources_message(names, len(sources)),
                                          sources=indices, n_clips=len(sources)),
                      stacklevel=4)


def _check_features(value, *, name):
    if value is not None and not hasattr(value, "transform"):
        raise InvalidParameterTypeError(
            f"{name}={value!r} must be a transformer such as MelFeatures()"
        )
    return value


def _check_records(records, grid, *, name="X"):
    for i, record in enumerate(records):
        if grid is not None and record.grid != grid:
            raise InvalidInputError(
                f"{name}[{i}] was computed with {record.grid}, but the separator was fitted "
                f"on {grid}; use the same features (sample rate, STFT and mel settings)"
            )
    return list(records)


class BaseSeparator(BaseEstimator):
    """Template for separators: subclasses implement ``_fit`` and ``_predict_masks``.

    ``_fit(records, sources)`` learns from feature records and source waveforms;
    ``_predict_masks(records)`` returns one ``(n_sources, n_frames, n_bins)``
    mask array per record.
    """

    # Subclasses that name their outputs by clustering set this in fit.
    permutation_invariant_ = False

    # Fitted attributes a model file keeps (plain data); subclasses extend.
    _saved_attributes = ("grid_", "n_sources_", "sample_rate_", "permutation_invariant_",
                         "features_", "source_names_")

    #: ``{parameter: check(value, name=name)}`` (validators of :mod:`sksep._validation`),
    #: run by :meth:`_check_params` once per fit. Subclasses merge theirs into a copy:
    #: ``{**BaseSeparator._parameter_constraints, "mask": ...}``.
    _parameter_constraints = {"features": _check_features}

    #: ``{fitted attribute: check(value, name=name)}`` of the attributes every model file
    #: stores, checked when one is loaded (:meth:`_check_restored`) as
    #: ``_parameter_constraints`` are at fit: a stored ``hop_length=0`` is refused there,
    #: not met as a ``ZeroDivisionError`` while separating. Subclasses extend a copy.
    _attribute_constraints = {
        "grid_": check_grid,
        "n_sources_": partial(check_int, minimum=2),
    }

    #: ``{former name: current name}`` of renamed parameters and fitted attributes:
    #: model files written before a rename load under the current names.
    _former_names = {}

    def _default_features(self):
        return MelFeatures()

    def _as_records(self, X, *, fitting=False):
        """Records of ``X`` and whether ``X`` was one 2-D array."""
        if not fitting:
            self._check_ready()
        if is_record_list(X):
            grid = None if fitting else self.grid_
            return _check_records(X, grid), False
        if isinstance(X, (list, tuple)) and any(isinstance(x, SpectrogramRecord) for x in X):
            raise InvalidAudioTypeError(
                "X mixes SpectrogramRecord items with other items; expected all records "
                "(from MelFeatures.transform) or all waveforms"
            )
        if fitting:
            features = self.features if self.features is not None else self._default_features()
            self.features_ = clone(features).fit(X)
        elif getattr(self, "features_", None) is None:
            raise InvalidInputError(
                "X holds waveforms but this separator was fitted on SpectrogramRecord "
                "items; pass records computed with the same features, or fit on waveforms"
            )
        records = self.features_.transform(X)
        return records, isinstance(X, np.ndarray) and X.dtype != object

    def fit(self, X, Y):
        """Learn to separate the sources ``Y`` from the mixtures ``X``.

        Parameters
        ----------
        X : ndarray (n_clips, n_samples), list of 1-D arrays, or list of SpectrogramRecord
            Mono mixtures at the features' sample rate.
        Y : ndarray (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
            The sources of each mixture, in a fixed order.

        Returns
        -------
        self
        """
        records, sources = self._fit_data(X, Y)
        self._fit(records, sources)
        return self

    def _fit_data(self, X, Y):
        """Validate ``X`` and ``Y``, fit the features and set the data's fitted attributes.

        Returns
        -------
        records : list of SpectrogramRecord
        sources : list of ndarray, each (n_sources, n_samples_i)
        """
        self._check_params()
        if Y is None:  # before the features are computed (sklearn's wording)
            raise InvalidInputError(
                f"{type(self).__name__} requires y to be passed, but the target y is None; "
                f"expected Y, the sources of each clip (n_clips, n_sources, n_samples)"
            )
        self.features_ = None
        records, _ = self._as_records(X, fitting=True)
        check_not_silent([r.stft for r in records], name="X", what="clip")
        sources = check_sources(Y, [r.n_samples for r in records], name="Y")
        check_not_silent(sources, name="Y", what="source")
        warn_silent_sources(sources)
        self.grid_ = records[0].grid
        self.n_sources_ = sources[0].shape[0]
        if self.n_sources_ < 2:
            raise InvalidInputError(
                f"Y has {self.n_sources_} source per clip; expected at least 2 to separate"
            )
        self.sample_rate_ = self.grid_.sample_rate
        self.source_names_ = tuple(f"source{i}" for i in range(self.n_sources_))
        return records, sources

    def _check_params(self):
        """Validate the hyper-parameters against :attr:`_parameter_constraints`.

        Run once per ``fit``, before any data is read; subclasses extend it only for
        checks that involve several parameters.
        """
        check_params(self.get_params(deep=False), self._parameter_constraints)

    def _check_ready(self):
        """Check, before any inference, that the fitted separator can run here;
        subclasses extend (e.g. that their ``device`` exists)."""

    def prediction_head(self):
        """The head whose masks :meth:`predict` returns, for separators with two heads.

        Callers ask this rather than read parameters: a separator of two heads
        (:class:`~sksep.ChimeraSeparator`) answers ``"mi"`` (mask inference) or ``"dc"``
        (K-means on deep-clustering embeddings); deep clustering answers ``"dc"``.

        Returns
        -------
        str or None
            None for a separator with one way to predict.
        """
        return None

    def sources_are_named(self):
        """Whether each output of :meth:`predict` is reliably the source of its index in
        ``Y``, so that it may carry that source's name (``sksep separate`` writes it to
        that name's file; ``sksep evaluate`` scores it against that source).

        Returns
        -------
        bool
            False when the outputs come in no fixed order (``permutation_invariant_``),
            or, for deep clustering, when its clusters have no reliable names.
        """
        check_is_fitted(self, "n_sources_")
        return not self.permutation_invariant_

    @property
    def mask_grid_(self):
        """The grid of :meth:`predict_masks`' masks: the feature grid ``grid_``, or its
        linear STFT grid for a separator that predicts masks on the STFT bins."""
        check_is_fitted(self, "grid_")
        return self.grid_

    def predict_masks(self, X):
        """Masks on the separator's mask grid (``mask_grid_``: the feature grid by default).

        Returns
        -------
        masks : list of ndarray, each (n_sources, n_frames, n_bins), values in [0, 1]
            ``n_bins`` is ``mask_grid_.n_bins``.
        """
        check_is_fitted(self, "grid_")
        records, _ = self._as_records(X)
        return self._predict_masks(records)

    def predict(self, X):
        """Separate each mixture.

        Parameters
        ----------
        X : ndarray (n_clips, n_samples), list of 1-D arrays, or list of SpectrogramRecord

        Returns
        -------
        Y_pred : ndarray (n_clips, n_sources, n_samples) if ``X`` is an array, else a list
            of ``(n_sources, n_i)`` arrays; each estimate is as long as its mixture.
        """
        check_is_fitted(self, "grid_")
        records, is_array = self._as_records(X)
        masks = self._predict_masks(records)
        estimates = [self._resynthesise(record, mask) for record, mask in zip(records, masks)]
        return np.stack(estimates) if is_array else estimates

    def _resynthesise(self, record, masks):
        return apply_masks(record, masks, grid=self.mask_grid_)

    def _mixtures(self, X, records):
        if is_record_list(X):
            return [r.grid.istft(r.stft, length=r.n_samples) for r in records]
        return [np.asarray(x, dtype=np.float32) for x in X]

    def score(self, X, Y):
        """Length-weighted mean SI-SDR improvement (dB) over clips and sources.

        Permutation-invariant when the separator does not name its outputs
        (deep clustering without a naming rule).

        Parameters
        ----------
        X : mixtures, as for :meth:`predict`
        Y : the true sources, as for :meth:`fit`

        Returns
        -------
        score : float
            Higher is better (Luo et al. 2017, Table 2's SDRi).
        """
        check_is_fitted(self, "grid_")
        records, _ = self._as_records(X)
        sources = check_sources(Y, [r.n_samples for r in records], name="Y",
                                n_sources=self.n_sources_)
        estimates = [self._resynthesise(r, m)
                     for r, m in zip(records, self._predict_masks(records))]
        return mean_si_sdr_improvement(sources, estimates, self._mixtures(X, records),
                                       permutation_invariant=self.permutation_invariant_)

    def save(self, path, *, overwrite=False, half=False):
        """Write the fitted separator to one model file, atomically.

        The file holds the hyper-parameters and fitted attributes as plain data and
        the network weights as tensors; :func:`sksep.load` reads it back without
        running any code from it. Callbacks are not saved.

        Parameters
        ----------
        path : str or os.PathLike
            Target file (by convention ``.sksep``); parent folders are created.
        overwrite : bool, default=False
            Replace an existing file; otherwise that is a ``FileExistsError``.
        half : bool, default=False
            Store floating-point weights as float16 (half the size; they are read
            back as float32).

        Returns
        -------
        path : pathlib.Path
        """
        check_is_fitted(self, "grid_")
        attributes = {name: getattr(self, name) for name in self._saved_attributes
                      if hasattr(self, name)}
        return save_estimator(self, path, attributes=attributes,
                              state_dict=self._state_dict(), overwrite=overwrite, half=half)

    @classmethod
    def load(cls, path, *, device="cpu"):
        """Read a model file written by :meth:`save`, refusing one of another class.

        Unlike :func:`sksep.load`, which returns whatever separator the file holds,
        ``ChimeraSeparator.load(path)`` insists on a :class:`ChimeraSeparator` (or a
        subclass).

        Parameters
        ----------
        path : str or os.PathLike
        device : str, default="cpu"
            Torch device the network is loaded onto (model files hold no device:
            a model trained on a GPU loads on the CPU unless asked otherwise).

        Returns
        -------
        estimator : instance of this class, fitted

        Raises
        ------
        FileNotFoundError
            No file at ``path``.
        sksep.exceptions.ModelFileError
            The file is not a sksep model, is damaged, is inconsistent, or holds
            another estimator class (the message names both).
        sksep.exceptions.DeviceNotAvailableError
            This machine has no ``device``.
        """
        return load_estimator(path, expected=cls, device=device)

    def _state_dict(self):
        return None

    def _restore(self, attributes, state_dict):
        """Set fitted attributes read from a model file (see :meth:`save`), once
        :meth:`_check_restored` has checked them."""
        self._check_restored(attributes)
        features = attributes.pop("features_", None)
        if features is not None:
            features.fit_settings()
        self.features_ = features
        for name, value in attributes.items():
            setattr(self, name, value)
        return self

    def _check_restored(self, attributes):
        """Refuse hyper-parameters and fitted attributes from a model file that ``fit``
        could not have produced, before anything is built from them.

        The hyper-parameters and the mask targets among them pass the checks of
        ``fit``; every attribute of :attr:`_attribute_constraints` is stored and passes
        its check; the stored features and sample rate agree with the grid, and the
        source names are distinct (two stems of one name: one would be lost).

        Parameters
        ----------
        attributes : dict
            The decoded fitted attributes.

        Raises
        ------
        sksep.exceptions.ModelFileError
            The message names the parameter or attribute and what was expected.
        """
        try:
            self._check_params()
            for value in self.get_params(deep=False).values():
                if hasattr(value, "masks") and hasattr(value, "_check_params"):
                    value._check_params()  # a mask target (dc_target=IdealBinaryMask(...))
        except InvalidInputError as error:
            raise ModelFileError(f"its hyper-parameters are invalid: {error}") from None
        missing = [name for name in self._attribute_constraints if name not in attributes]
        if missing:
            raise ModelFileError(f"it lacks the fitted attribute {missing[0]}; expected "
                                 f"{', '.join(self._attribute_constraints)}")
        try:
            check_params(attributes, self._attribute_constraints)
            grid = attributes["grid_"]
            features = attributes.get("features_")
            if features is not None:
                if not isinstance(features, MelFeatures):
                    raise InvalidParameterTypeError(f"features_ is a {type(features).__name__}; "
                                                    f"expected MelFeatures")
                try:
                    features = clone(features).fit_settings()
                except InvalidInputError as error:
                    raise type(error)(f"features_: {error}") from None
                if features.grid_ != grid:
                    raise InvalidInputError(f"features_ make {features.grid_}, but grid_ is "
                                            f"{grid}; expected the same grid")
            if attributes.get("sample_rate_", grid.sample_rate) != grid.sample_rate:
                raise InvalidInputError(
                    f"sample_rate_={short_repr(attributes['sample_rate_'])} differs from grid_'s "
                    f"{grid.sample_rate} Hz; expected the same rate")
            check_choice(attributes.get("permutation_invariant_", False),
                         name="permutation_invariant_", choices=(True, False))
            check_source_names(attributes.get("source_names_"), name="source_names_")
        except InvalidInputError as error:
            raise ModelFileError(f"its fitted attributes are invalid: {error}") from None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.non_deterministic = False
        return tags
