"""scikit-learn scorers ``scorer(estimator, X, Y) -> float`` for separation metrics."""

import numpy as np

from .._validation import check_choice, check_int
from ..exceptions import InvalidInputError, InvalidParameterTypeError
from ..separators._pipeline import outputs_unordered
from ._aggregate import (check_bool, check_clips, clip_globals, reorder_estimates, si_sdri_table,
                         weighted_nanmean)

__all__ = ["si_sdri_scorer", "make_separation_scorer", "get_scorer"]

SCORER_NAMES = ("si_sdri", "gnsdr", "gsir", "gsar")


class _SeparationScorer:
    """Callable ``(estimator, X, Y) -> float``; a class rather than a closure so it pickles."""

    def __init__(self, metric, source, permutation_invariant):
        self.metric = metric
        self.source = source
        self.permutation_invariant = permutation_invariant

    def __repr__(self):
        return (f"make_separation_scorer({self.metric!r}, source={self.source!r}, "
                f"permutation_invariant={self.permutation_invariant!r})")

    def __call__(self, estimator, X, Y):
        if not hasattr(estimator, "predict"):
            raise InvalidParameterTypeError(
                f"estimator must have a predict method, got {type(estimator).__name__}"
            )
        refs, ests, mixes = check_clips(Y, estimator.predict(X), X)
        n_sources = refs[0].shape[0]
        if self.source is not None and self.source >= n_sources:
            raise InvalidInputError(
                f"source={self.source} is out of range: Y has {n_sources} sources"
            )
        if self.permutation_invariant or outputs_unordered(estimator):
            ests = reorder_estimates(refs, ests)

        if self.metric == "si_sdri":
            table = si_sdri_table(refs, ests, mixes)
            if self.source is not None:
                table = table[:, self.source]
            lengths = np.array([len(mix) for mix in mixes], dtype=np.float64)
            weights = lengths if table.ndim == 1 else lengths[:, None]
            value = float(weighted_nanmean(table, weights))
        else:
            names = [f"source{j}" for j in range(n_sources)]
            per_source = clip_globals(refs, ests, mixes, names, None)[self.metric.upper()]
            if self.source is not None:
                value = float(per_source[self.source])
            elif np.all(np.isnan(per_source)):
                value = np.nan
            else:
                value = float(np.nanmean(per_source))
        if np.isnan(value):
            which = "every source" if self.source is None else f"source {self.source}"
            raise InvalidInputError(
                f"{self.metric} is undefined for {which} in every clip of Y: its reference "
                f"is silent (energy below 1e-10 per sample), or is the whole mixture"
            )
        return value


def make_separation_scorer(metric="si_sdri", *, source=None, permutation_invariant=False):
    """Make a scikit-learn scorer from a separation metric.

    The scorer is called as ``scorer(estimator, X, Y)``: it runs
    ``estimator.predict(X)`` and scores the estimates against ``Y``, with ``X``
    as the mixture. Use it as ``GridSearchCV(..., scoring=scorer)`` or in
    :func:`sklearn.model_selection.cross_validate`. Higher is better for all.

    Parameters
    ----------
    metric : {"si_sdri", "gnsdr", "gsir", "gsar"}, default="si_sdri"
        ``"si_sdri"``: length-weighted mean SI-SDR improvement
        (:func:`mean_si_sdr_improvement`); ``"gnsdr"``, ``"gsir"``, ``"gsar"``:
        the MIREX globals of :func:`mirex_globals` (BSS Eval, needs museval).
    source : int, optional
        Score only this source (its index in ``Y``). By default SI-SDRi is
        averaged over all clips and sources, and a global over the sources (each
        source counting once).
    permutation_invariant : bool, default=False
        Reorder each clip's estimates by :func:`best_permutation` before
        scoring. Done anyway when the estimator (or a Pipeline's last step) has
        an attribute ``permutation_invariant_`` set to True.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, Y) -> float`` in dB. It raises
        :class:`~sksep.exceptions.InvalidInputError` when the score is undefined
        (the sources scored are silent in every clip).

    See Also
    --------
    get_scorer : the same scorers by name.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import make_separation_scorer
    >>> class Mixture:                     # a "separator" that returns the mixture twice
    ...     def predict(self, X):
    ...         return [np.stack([x, x]) for x in X]
    >>> rng = np.random.default_rng(0)
    >>> Y = [rng.standard_normal((2, 8000)) for _ in range(3)]
    >>> X = [y.sum(axis=0) for y in Y]
    >>> scorer = make_separation_scorer("si_sdri", source=0)
    >>> scorer
    make_separation_scorer('si_sdri', source=0, permutation_invariant=False)
    >>> scorer(Mixture(), X, Y)
    0.0
    """
    if not isinstance(metric, str):
        raise InvalidParameterTypeError(
            f"metric={metric!r} must be one of {', '.join(map(repr, SCORER_NAMES))}"
        )
    check_choice(metric, name="metric", choices=SCORER_NAMES)
    source = check_int(source, name="source", minimum=0, allow_none=True)
    permutation_invariant = check_bool(permutation_invariant, name="permutation_invariant")
    return _SeparationScorer(metric, source, permutation_invariant)


def si_sdri_scorer(estimator, X, Y):
    """Length-weighted mean SI-SDR improvement of ``estimator.predict(X)``, in dB.

    A scikit-learn scorer (``GridSearchCV(..., scoring=si_sdri_scorer)``), the
    same number as the separators' ``score``. Permutation-invariant when the
    estimator (or a Pipeline's last step) has ``permutation_invariant_ = True``.

    Parameters
    ----------
    estimator : object with a ``predict`` method
        Fitted separator; ``predict(X)`` returns sources in the structure of ``Y``.
    X : ndarray of shape (n_clips, n_samples) or list of (n_i,) arrays
        Mono mixtures.
    Y : ndarray of shape (n_clips, n_sources, n_samples) or list of (n_sources, n_i) arrays
        True sources.

    Returns
    -------
    score : float
        In dB, higher is better.

    See Also
    --------
    mean_si_sdr_improvement
    make_separation_scorer

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import si_sdri_scorer
    >>> class Swapped:                     # perfect sources, in the wrong order
    ...     permutation_invariant_ = True
    ...     def __init__(self, Y):
    ...         self.Y = Y
    ...     def predict(self, X):
    ...         return [y[::-1] + 0.1 for y in self.Y]
    >>> rng = np.random.default_rng(0)
    >>> Y = [rng.standard_normal((2, 8000)) for _ in range(2)]
    >>> X = [y.sum(axis=0) for y in Y]
    >>> si_sdri_scorer(Swapped(Y), X, Y) > 50
    True
    """
    return make_separation_scorer("si_sdri")(estimator, X, Y)


def get_scorer(name):
    """The scorer of a separation metric, by name.

    Parameters
    ----------
    name : {"si_sdri", "gnsdr", "gsir", "gsar"}
        See :func:`make_separation_scorer`.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, Y) -> float`` in dB, over all sources.

    Raises
    ------
    InvalidInputError
        A :class:`ValueError` naming the valid names, for any other name.

    Examples
    --------
    >>> from sksep.metrics import get_scorer
    >>> get_scorer("gnsdr")
    make_separation_scorer('gnsdr', source=None, permutation_invariant=False)
    """
    if not isinstance(name, str) or name not in SCORER_NAMES:
        raise InvalidInputError(
            f"scorer name {name!r} is not known; expected one of "
            f"{', '.join(map(repr, SCORER_NAMES))}"
        )
    return make_separation_scorer(name)
