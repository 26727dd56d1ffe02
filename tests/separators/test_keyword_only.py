"""Every separator takes its first parameter by position and the rest by keyword, as
scikit-learn's estimators do; positional calls beyond the first still work for one
release, with a FutureWarning naming the keywords to write (issue 31)."""

import inspect
import warnings

import pytest
from sklearn.base import clone

import sksep.separators as separators

SEPARATORS = [getattr(separators, name) for name in separators.__all__
              if name.endswith("Separator") and name not in ("BaseSeparator",
                                                              "NeuralSeparator")]


def test_all_six_are_covered():
    assert {cls.__name__ for cls in SEPARATORS} == {
        "ChimeraSeparator", "DeepClusteringSeparator", "ClassConditionalSeparator",
        "ConvMaskSeparator", "UNetSeparator", "OracleMaskSeparator"}


@pytest.mark.parametrize("cls", SEPARATORS, ids=lambda cls: cls.__name__)
def test_signature_one_positional_rest_keyword_only(cls):
    kinds = [p.kind for p in inspect.signature(cls).parameters.values()]
    assert kinds[0] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert set(kinds[1:]) == {inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("cls", SEPARATORS, ids=lambda cls: cls.__name__)
def test_positional_calls_warn_and_still_work(cls):
    names = list(inspect.signature(cls).parameters)
    defaults = cls().get_params()
    with pytest.warns(FutureWarning, match=rf"Pass {names[1]}=.* as keyword arguments: "
                                            rf"from the next release {cls.__name__} takes "
                                            rf"only '{names[0]}' by position"):
        estimator = cls(defaults[names[0]], defaults[names[1]])
    assert estimator.get_params() == defaults
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the keyword call and clone do not warn
        assert clone(estimator).get_params() == defaults
        cls(defaults[names[0]], **{names[1]: defaults[names[1]]})


def test_positional_values_go_to_the_next_parameters():
    with pytest.warns(FutureWarning, match="Pass embedding_dim=10, mi_objective='msa' as"):
        chimera = separators.ChimeraSeparator(0.3, 10, "msa")
    assert (chimera.alpha, chimera.embedding_dim, chimera.mi_objective) == (0.3, 10, "msa")


def test_too_many_or_twice():
    with pytest.raises(TypeError, match=r"OracleMaskSeparator\(\) takes at most 2 arguments "
                                        r"\(3 given\)"):
        separators.OracleMaskSeparator("binary", None, 1)
    with pytest.raises(TypeError, match="got multiple values for argument 'embedding_dim'"), \
            pytest.warns(FutureWarning):
        separators.ChimeraSeparator(0.1, 10, embedding_dim=20)
