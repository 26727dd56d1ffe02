"""Training options every neural separator shares: ``optimizer`` and ``validation_data``."""

import numpy as np
import pytest
import torch

from fast_settings import make, neural_separator_names
from sksep.exceptions import InvalidInputError

NEURAL = neural_separator_names()


@pytest.fixture(scope="module")
def clips(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    return X[:2], Y[:2], X[2:4], Y[2:4]


@pytest.mark.parametrize("name", NEURAL)
def test_optimizer_default_and_choices(name, clips):
    X, Y, _, _ = clips
    est = make(name)
    # the papers' optimisers: Roma et al. train their CNN with Adam, the others RMSprop
    assert est.get_params()["optimizer"] == ("adam" if name == "ConvMaskSeparator"
                                             else "rmsprop")
    for choice, expected in (("rmsprop", torch.optim.RMSprop), ("adam", torch.optim.Adam)):
        est.set_params(optimizer=choice).fit(X, Y)
        assert type(est.net_.optimizer_) is expected
        assert est.net_.optimizer_.param_groups[0]["lr"] == est.lr


@pytest.mark.parametrize("name", NEURAL)
def test_bad_optimizer_is_named(name, clips):
    X, Y, _, _ = clips
    with pytest.raises(InvalidInputError, match="optimizer='sgd'.*'rmsprop'.*'adam'"):
        make(name, optimizer="sgd").fit(X, Y)


@pytest.mark.parametrize("name", NEURAL)
def test_validation_data_validates_every_epoch(name, clips):
    X, Y, X_valid, Y_valid = clips
    est = make(name, max_epochs=2, validation_fraction=0.5)
    est.fit(X, Y, validation_data=(X_valid, Y_valid))
    valid_loss = est.history_[:, "valid_loss"]
    assert len(valid_loss) == 2 and np.all(np.isfinite(valid_loss))
    assert est.best_epoch_ == 1 + int(np.argmin(valid_loss))
    assert est.predict(X_valid[:1])[0].shape == Y_valid[0].shape
