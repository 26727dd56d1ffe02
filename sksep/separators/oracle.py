"""Oracle separation: ideal masks computed from the true sources (the ceiling)."""

from functools import partial

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import BaseSeparator, keyword_only_after_first
from .._masks import IdealBinaryMask, WienerMask
from .._validation import InvalidInputError, check_choice, check_sources
from ..metrics import mean_si_sdr_improvement

__all__ = ["OracleMaskSeparator"]


class OracleMaskSeparator(BaseSeparator):
    """Separate with the ideal mask of the true sources: the upper bound of masking.

    The masks are computed on the same feature grid as the trained separators'
    (150 mel bands by default) and go through the same inverse path, so the gap
    between a model and this oracle is the model's alone.

    Parameters
    ----------
    mask : {"binary", "wiener"}, default="binary"
        Ideal binary mask or Wiener-like ratio mask (power 2).
    features : transformer, default=None
        Feature extractor for raw waveforms; ``None`` means ``MelFeatures()``.

    Attributes
    ----------
    n_sources_ : int
    grid_ : FeatureGrid
    features_ : MelFeatures or None

    Notes
    -----
    Unlike a trained separator, :meth:`predict` needs the true sources ``Y``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import OracleMaskSeparator
    >>> rng = np.random.default_rng(0)
    >>> Y = rng.normal(scale=0.1, size=(1, 2, 16000)).astype("float32")
    >>> X = Y.sum(axis=1)
    >>> oracle = OracleMaskSeparator(mask="wiener").fit(X, Y)
    >>> oracle.predict(X, Y).shape
    (1, 2, 16000)
    >>> oracle.score(X, Y) > 0
    True
    """

    _parameter_constraints = {**BaseSeparator._parameter_constraints,
                              "mask": partial(check_choice, choices=("binary", "wiener"))}

    @keyword_only_after_first
    def __init__(self, mask="binary", *, features=None):
        self.mask = mask
        self.features = features

    def _target(self):
        return IdealBinaryMask() if self.mask == "binary" else WienerMask()

    def _fit(self, records, sources):
        return self

    def _predict_masks(self, records):  # pragma: no cover - needs the sources
        raise InvalidInputError("OracleMaskSeparator needs the true sources: call predict(X, Y)")

    def predict(self, X, Y=None):
        """Separate each mixture with the ideal mask of its true sources.

        Parameters
        ----------
        X : mixtures, as in :meth:`BaseSeparator.predict`
        Y : the true sources of each mixture
            Required; ``None`` (the default only so that a missing ``Y`` gets a
            clear error after the fitted check) raises ``InvalidInputError``.

        Returns
        -------
        Y_pred : estimates in the structure of ``Y``
        """
        _, estimates, is_array = self._oracle_estimates(X, Y)
        return np.stack(estimates) if is_array else estimates

    def _oracle_estimates(self, X, Y):
        check_is_fitted(self, "grid_")
        self._check_params()
        records, is_array = self._as_records(X)
        sources = check_sources(Y, [r.n_samples for r in records], name="Y",
                                n_sources=self.n_sources_)
        target = self._target()
        estimates = [self._resynthesise(r, target.masks(r, s)) for r, s in zip(records, sources)]
        return records, estimates, is_array

    def score(self, X, Y):
        """Length-weighted mean SI-SDR improvement (dB) of the oracle estimates."""
        records, estimates, _ = self._oracle_estimates(X, Y)
        sources = check_sources(Y, [r.n_samples for r in records], name="Y")
        return mean_si_sdr_improvement(sources, estimates, self._mixtures(X, records))
