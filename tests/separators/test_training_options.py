"""Training options every neural separator shares: their declaration, validation and
documentation in one place, ``optimizer`` and ``validation_data``."""

import inspect

import numpy as np
import pytest
import torch
from numpydoc.docscrape import ClassDoc

import sksep
import sksep.separators._base
from fast_settings import make, neural_separator_names
from sksep.exceptions import (InvalidAudioTypeError, InvalidInputError,
                              InvalidParameterTypeError, NotFittedError)
from sksep.nn.standardize import StandardizedNetwork
from sksep.separators._neural import NeuralSeparator

NEURAL = neural_separator_names()
TRAINING_PARAMETERS = tuple(inspect.signature(NeuralSeparator.__init__).parameters)[1:]


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


@pytest.mark.parametrize("name", NEURAL)
def test_training_parameters_are_declared_once(name):
    cls = getattr(sksep, name)
    signature = inspect.signature(cls).parameters
    assert set(TRAINING_PARAMETERS) <= set(signature)
    est = cls()
    for parameter in TRAINING_PARAMETERS:  # assigned by NeuralSeparator.__init__
        assert getattr(est, parameter) is signature[parameter].default, parameter
        if parameter in NeuralSeparator._parameter_constraints:
            assert (cls._parameter_constraints[parameter]
                    is NeuralSeparator._parameter_constraints[parameter]), parameter
    assert set(cls._parameter_constraints) <= set(signature)


@pytest.mark.parametrize("name", NEURAL)
def test_every_parameter_is_documented_once(name):
    cls = getattr(sksep, name)
    documented = [part.strip() for entry in ClassDoc(cls)["Parameters"]
                  for part in entry.name.split(",")]
    assert sorted(documented) == sorted(inspect.signature(cls).parameters)


@pytest.mark.parametrize("name", NEURAL)
def test_parameters_are_validated_once_per_fit(name, clips, monkeypatch):
    X, Y, X_valid, Y_valid = clips
    calls = []
    check_params = sksep.separators._base.check_params

    def counting(params, constraints):
        calls.append(constraints)
        return check_params(params, constraints)
    monkeypatch.setattr(sksep.separators._base, "check_params", counting)
    make(name).fit(X, Y, validation_data=(X_valid, Y_valid))
    assert len(calls) == 1


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("params, match", [
    ({"callbacks": "ProgressBar"},
     "callbacks='ProgressBar' must be a list of skorch callbacks or None"),
    ({"accelerator": "gpu"}, "accelerator='gpu' must be an accelerate.Accelerator or None"),
    ({"checkpoint": 3}, r"checkpoint=3 must be a file path \(str or os.PathLike\) or None"),
    ({"features": "mel"}, r"features='mel' must be a transformer such as MelFeatures\(\)"),
    ({"batch_size": 1.5}, "batch_size=1.5 must be an integer"),
    ({"lr": "fast"}, "lr='fast' must be a real number"),
])
def test_a_parameter_of_the_wrong_type_is_named(name, params, match, clips):
    X, Y, _, _ = clips
    with pytest.raises(InvalidParameterTypeError, match=match) as info:
        make(name, **params).fit(X, Y)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert not isinstance(info.value, InvalidAudioTypeError)  # not an audio problem


@pytest.mark.parametrize("name", NEURAL)
def test_network_standardises_with_the_training_statistics(name, clips):
    X, Y, _, _ = clips
    est = make(name, validation_fraction=0.0).fit(X, Y)
    module = est.net_.module_
    assert isinstance(module, StandardizedNetwork)
    frames = np.concatenate([r.features for r in est.features_.transform(X)])
    np.testing.assert_allclose(module.standardize.mean.numpy(), frames.mean(0), rtol=1e-6)
    np.testing.assert_allclose(module.standardize.scale.numpy(), frames.std(0) + 1e-5,
                               rtol=1e-6)


@pytest.mark.parametrize("name", NEURAL)
def test_weight_decay_reaches_the_optimizer(name, clips):
    X, Y, _, _ = clips
    assert make(name).get_params()["weight_decay"] == 0.0
    est = make(name, weight_decay=1e-4).fit(X, Y)
    assert est.net_.optimizer_.param_groups[0]["weight_decay"] == 1e-4


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("weight_decay, error, match", [
    (-0.1, InvalidInputError, r"weight_decay=-0.1 must be >= 0.0"),
    ("l2", InvalidParameterTypeError, r"weight_decay='l2' must be a real number"),
])
def test_bad_weight_decay_is_named(name, weight_decay, error, match, clips):
    X, Y, _, _ = clips
    with pytest.raises(error, match=match):
        make(name, weight_decay=weight_decay).fit(X, Y)


@pytest.mark.parametrize("name", NEURAL)
def test_training_problem_is_what_fit_trains(name, clips):
    X, Y, _, _ = clips
    est = make(name, validation_fraction=0.0).fit(X, Y)
    module, objective, dataset = est.training_problem(X, Y)
    trained = est.net_.module_
    assert module is not trained
    assert ({k: v.shape for k, v in module.state_dict().items()}
            == {k: v.shape for k, v in trained.state_dict().items()})
    # fit standardised with the statistics of the same clips
    torch.testing.assert_close(module.standardize.mean, trained.standardize.mean)
    features, targets = next(iter(torch.utils.data.DataLoader(dataset, batch_size=2)))
    assert features.shape[1:] == (dataset[0][0].shape[0], est.n_features_)
    outputs = module(features)
    loss = objective(outputs, targets)
    assert loss.ndim == 0 and torch.isfinite(loss)
    torch.testing.assert_close(loss, est.net_.get_loss(outputs, targets))
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_training_problem_validates_its_input(clips):
    X, Y, _, _ = clips
    with pytest.raises(NotFittedError):
        make("ChimeraSeparator").training_problem(X, Y)
    est = make("ChimeraSeparator").fit(X, Y)
    with pytest.raises(InvalidInputError, match="Y"):
        est.training_problem(X, [y[:1] for y in Y])


@pytest.mark.parametrize("name", NEURAL)
def test_network_outputs(name, clips):
    X, Y, _, _ = clips
    est = make(name).fit(X, Y)
    n_frames = [r.features.shape[0] for r in est.features_.transform(X)]
    default = est.network_outputs(X)
    assert len(default) == len(X)
    masks = est.network_outputs(X, outputs=("masks",))
    for outputs, frames in zip(masks, n_frames):
        assert list(outputs) == ["masks"]
        assert outputs["masks"].shape == (2, frames, est.grid_.n_bins)
    if hasattr(est, "embed"):
        both = est.network_outputs(X, outputs=("masks", "embedding"))
        assert [list(o) for o in both] == [["embedding", "masks"]] * len(X)
        for outputs, embedding, only in zip(both, est.embed(X), masks):
            np.testing.assert_allclose(outputs["embedding"], embedding, atol=1e-6)
            np.testing.assert_allclose(outputs["masks"], only["masks"], atol=1e-6)
    else:
        with pytest.raises(InvalidParameterTypeError, match=r"outputs=\('embedding',\)"):
            est.network_outputs(X, outputs=("embedding",))


@pytest.mark.parametrize("outputs", ["masks", (), ("mask",), 3])
def test_network_outputs_validates_outputs(outputs, clips):
    X, Y, _, _ = clips
    est = make("ChimeraSeparator").fit(X, Y)
    with pytest.raises(InvalidParameterTypeError, match="outputs=.* must be a non-empty tuple"):
        est.network_outputs(X, outputs=outputs)
