"""One parameter order across the separators (issue 31): the family's own parameters,
then the targets in one fixed order, then the shared training parameters in
NeuralSeparator's order, deprecated aliases last; the docstrings list them in the same
order. Reordering keeps keyword calls, deprecated positional calls, ``get_params``,
``clone`` and model files as they were."""

import inspect
import warnings

import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.base import clone

import sksep
from sksep.separators import all_separators
from sksep.separators._neural import TARGET_PARAMETERS, NeuralSeparator

SEPARATORS = [cls for _, cls in all_separators()]
NEURAL = [cls for cls in SEPARATORS if issubclass(cls, NeuralSeparator)]
#: NeuralSeparator's parameters, in its order: ``features``, ``segment_frames``, ``lr``...
SHARED = list(inspect.signature(NeuralSeparator.__init__).parameters)[1:]


def _names(cls):
    return list(inspect.signature(cls).parameters)


def _deprecated(cls):
    return [name for name, p in inspect.signature(cls).parameters.items()
            if p.default == "deprecated"]


def test_shared_parameters_start_with_features():
    assert SHARED[:3] == ["features", "segment_frames", "lr"]
    assert SHARED[-1] == "weight_decay"


@pytest.mark.parametrize("cls", SEPARATORS, ids=lambda cls: cls.__name__)
def test_shared_parameters_close_every_signature_in_one_order(cls):
    names = _names(cls)
    deprecated = _deprecated(cls)
    assert names[len(names) - len(deprecated):] == deprecated, "deprecated aliases go last"
    current = names[:len(names) - len(deprecated)]
    shared = SHARED if cls in NEURAL else ["features"]
    assert current[-len(shared):] == shared
    # and nowhere else
    assert not set(shared) & set(current[:-len(shared)])


def test_the_shared_order_is_the_same_in_every_signature():
    orders = {cls.__name__: [name for name in _names(cls) if name in SHARED] for cls in NEURAL}
    assert all(order == SHARED for order in orders.values()), orders


@pytest.mark.parametrize("cls", SEPARATORS, ids=lambda cls: cls.__name__)
def test_targets_come_just_before_the_shared_parameters(cls):
    names = _names(cls)[1:]  # the positional parameter may be anything
    targets = [name for name in names if name in TARGET_PARAMETERS]
    assert targets == [name for name in TARGET_PARAMETERS if name in targets]
    features = names.index("features")
    assert names[features - len(targets):features] == targets


@pytest.mark.parametrize("cls", SEPARATORS, ids=lambda cls: cls.__name__)
def test_docstring_lists_the_parameters_in_signature_order(cls):
    documented = [part.strip() for entry in ClassDoc(cls)["Parameters"]
                  for part in entry.name.split(",")]
    assert documented == _names(cls)


@pytest.mark.parametrize("cls", SEPARATORS, ids=lambda cls: cls.__name__)
def test_non_default_parameters_survive_get_params_and_clone(cls):
    overrides = {"OracleMaskSeparator": {"mask": "ratio"},
                 "DeepClusteringSeparator": {"dropout": 0.25, "low_frequency_source": 0},
                 "ChimeraSeparator": {"mask_grid": "stft", "head": "dc", "lr": 0.01},
                 "ClassConditionalSeparator": {"dc_weight": 0.5, "weight_decay": 0.001},
                 "ConvMaskSeparator": {"bin_weights": "magnitude", "fc_layers": 3},
                 "UNetSeparator": {"architecture": "hourglass", "overlap": 0.25}}[cls.__name__]
    estimator = cls(**overrides)
    params = estimator.get_params()
    assert {name: params[name] for name in overrides} == overrides
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clone(estimator).get_params() == params


def test_a_shipped_model_file_loads_with_its_parameters_by_name():
    """Model files store hyper-parameters by name: the order does not reach them."""
    estimator = sksep.load("chimera-mir1k")
    params = estimator.get_params()
    assert sorted(params) == sorted(_names(type(estimator)))
    assert (params["alpha"], params["mask_grid"]) == (estimator.alpha, "features")
    assert clone(estimator).get_params().keys() == params.keys()


def test_deprecated_positional_calls_keep_the_released_order():
    """The positional calls of the release before keyword-only parameters set what they
    set then, whatever the order of the signature now."""
    with pytest.warns(FutureWarning, match="Pass channels=8, depth=3, dropout=0.1, "
                                           "mask_target=None, phase='griffinlim' as"):
        unet = sksep.UNetSeparator(False, 8, 3, 0.1, None, "griffinlim")
    assert (unet.channels, unet.depth, unet.dropout, unet.phase) == (8, 3, 0.1, "griffinlim")
    assert unet.architecture == "unet" and unet.mask_activation == "softmax"
    with pytest.warns(FutureWarning, match="Pass embedding_dim=10, mi_objective='msa', "
                                           "head='dc' as"):
        chimera = sksep.ChimeraSeparator(0.3, 10, "msa", "dc")
    assert (chimera.embedding_dim, chimera.mi_objective, chimera.head) == (10, "msa", "dc")
    with pytest.warns(FutureWarning, match="features=None, dc_target=None, dc_objective='wkm'"):
        dc = sksep.DeepClusteringSeparator(20, 500, 4, "lstm", 0.0, None, None, "wkm")
    assert dc.dc_objective == "wkm"


def test_former_order_must_name_every_keyword_parameter():
    from sksep.separators._base import keyword_only_after_first

    with pytest.raises(TypeError, match=r"former_order of .* must list its keyword-only "
                                        r"parameters once each; differs in \['c'\]"):
        @keyword_only_after_first(former_order=("b",))
        def __init__(self, a=1, *, b=2, c=3):
            pass
