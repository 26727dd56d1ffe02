"""``NeuralSeparator.quantized()``: int8 LSTM / linear layers for CPU separation."""

import pickle

import numpy as np
import pytest
import torch

import sksep
from sksep.exceptions import InvalidInputError
from sksep.metrics import si_sdr

from fast_settings import make, neural_separator_names


def _int8_layers(separator):
    return [type(m).__name__ for m in separator.net_.module_.modules()
            if type(m).__module__.startswith("torch.ao.nn.quantized")]


@pytest.fixture(scope="module")
def shipped():
    return sksep.load("chimera-mir1k")


def _recurrent_or_linear(name):
    """Fast settings of ``name`` with a recurrent or linear layer (the U-Net's hybrid)."""
    return make(name, hybrid=True, hidden_size=8) if name == "UNetSeparator" else make(name)


@pytest.mark.parametrize("name", neural_separator_names())
def test_every_neural_separator_quantizes_and_predicts(name, mir1k_train_small):
    X, Y, _ = mir1k_train_small
    est = _recurrent_or_linear(name).fit(X[:2], Y[:2])
    before = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    int8 = est.quantized()
    assert int8.is_quantized_ and not est.is_quantized_
    assert _int8_layers(int8), "no LSTM or linear layer was quantized"
    # the float separator is untouched
    for key, value in est.net_.module_.state_dict().items():
        assert torch.equal(value, before[key]), key
    estimates = int8.predict(X[2:3])
    assert estimates[0].shape == np.asarray(Y[2]).shape
    assert np.isfinite(estimates[0]).all()


def test_shipped_model_in_int8_separates_like_float(shipped, mir1k_test_clips):
    X, Y = mir1k_test_clips
    X, Y = X[:3], Y[:3]
    int8 = shipped.quantized()
    assert {"LSTM", "Linear"} <= set(_int8_layers(int8))
    for float_estimate, int8_estimate in zip(shipped.predict(X), int8.predict(X)):
        # the int8 stems are the float stems up to a small error (> 25 dB below them)
        for source in range(2):
            assert si_sdr(float_estimate[source], int8_estimate[source]) > 25.0
    assert abs(int8.score(X, Y) - shipped.score(X, Y)) < 0.2


def test_quantized_copy_pickles_and_keeps_predicting(shipped, mir1k_test_clips):
    X, _ = mir1k_test_clips
    int8 = shipped.quantized()
    again = pickle.loads(pickle.dumps(int8))
    assert again.is_quantized_
    np.testing.assert_allclose(again.predict(X[:1])[0], int8.predict(X[:1])[0], atol=1e-6)


def test_quantized_separator_cannot_be_saved(shipped, tmp_path):
    with pytest.raises(InvalidInputError, match="save the float separator"):
        shipped.quantized().save(tmp_path / "int8.sksep")
    assert not list(tmp_path.iterdir())


def test_bad_dtype_and_device_are_refused(shipped):
    with pytest.raises(InvalidInputError, match="dtype=.int4. must be one of .int8."):
        shipped.quantized(dtype="int4")
    on_meta = sksep.load("chimera-mir1k").set_params(device="meta")
    with pytest.raises(InvalidInputError, match="on the CPU"):
        on_meta.quantized()
    int8 = shipped.quantized().set_params(device="meta")
    with pytest.raises(InvalidInputError, match="CPU only"):
        int8.predict([np.zeros(16000, dtype=np.float32)])


def test_network_without_recurrent_or_linear_layers_is_refused(mir1k_train_small):
    X, Y, _ = mir1k_train_small
    unet = make("UNetSeparator").fit(X[:2], Y[:2])
    with pytest.raises(InvalidInputError, match="no LSTM or linear layer"):
        unet.quantized()


def test_unfitted_separator_is_refused():
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        sksep.ChimeraSeparator().quantized()
