"""Fast settings of every public transformer and estimator, for suite-wide tests.

The common checks (test_common.py), the bad-input suite (test_failures.py) and the
silent / loud input tests iterate over ``sksep.__all__``: a public estimator class
without an entry here makes ``test_registry_covers_every_public_estimator`` fail
with "add fast settings for X", so a new estimator cannot slip past them.
"""

import inspect

from sklearn.base import BaseEstimator

import sksep
from sksep import MelFeatures
from sksep.separators._base import BaseSeparator
from sksep.separators._neural import NeuralSeparator


def small_features():
    """32 mel bands, no deltas: every network here reads them in milliseconds."""
    return MelFeatures(n_mels=32, deltas=False)


_TRAINING = dict(max_epochs=1, batch_size=4, random_state=0, patience=None)
_RECURRENT = dict(hidden_size=8, num_layers=1, embedding_dim=4, segment_frames=30)

FAST_SETTINGS = {
    "MelFeatures": lambda: dict(n_mels=32),
    "IdealBinaryMask": lambda: {},
    "WienerMask": lambda: {},
    "PhaseSensitiveMask": lambda: {},
    "OracleMaskSeparator": lambda: dict(features=small_features()),
    "DeepClusteringSeparator": lambda: dict(**_RECURRENT, **_TRAINING,
                                            features=small_features()),
    "ChimeraSeparator": lambda: dict(**_RECURRENT, **_TRAINING, features=small_features()),
    "ClassConditionalSeparator": lambda: dict(**_RECURRENT, **_TRAINING,
                                              features=small_features()),
    "ConvMaskSeparator": lambda: dict(channels=2, conv_layers=1, fc_layers=1, hidden_size=8,
                                      segment_frames=16, **_TRAINING,
                                      features=small_features()),
    "UNetSeparator": lambda: dict(channels=2, depth=2, segment_frames=16, **_TRAINING,
                                  features=small_features()),
}


def public_estimator_names():
    """Names in ``sksep.__all__`` that are scikit-learn estimator classes."""
    return sorted(name for name in sksep.__all__
                  if inspect.isclass(getattr(sksep, name))
                  and issubclass(getattr(sksep, name), BaseEstimator))


def make(name, **overrides):
    """A fresh instance of ``sksep.<name>`` with its fast settings."""
    if name not in FAST_SETTINGS:
        raise AssertionError(f"add fast settings for {name} to tests/fast_settings.py")
    return getattr(sksep, name)(**{**FAST_SETTINGS[name](), **overrides})


def separator_names():
    """Public separators (take waveforms, predict sources)."""
    return [name for name in public_estimator_names()
            if issubclass(getattr(sksep, name), BaseSeparator)]


def neural_separator_names():
    """Public separators that train a network."""
    return [name for name in public_estimator_names()
            if issubclass(getattr(sksep, name), NeuralSeparator)]


def is_oracle(name):
    """The oracle needs the true sources at predict."""
    return name == "OracleMaskSeparator"


def overfit_losses(estimator, X, Y):
    """First and lowest training loss of ``estimator`` fitted on ``X, Y`` without a
    validation split or early stopping (for "overfit one batch" tests)."""
    estimator.set_params(validation_fraction=0.0, patience=None)
    estimator.fit(X, Y)
    losses = estimator.history_[:, "train_loss"]
    return losses[0], min(losses)
