"""sksep.separators._pipeline: what a separator, or a Pipeline ending in one, answers
about itself, asked the same way by long songs, the scorers, ``sksep.separate`` and the
command line."""

from types import SimpleNamespace

import pytest
from sklearn.pipeline import Pipeline

from sksep import MelFeatures, OracleMaskSeparator
from sksep.exceptions import NotFittedError
from sksep.separators._pipeline import final_step, outputs_unordered, sources_named


class _Unordered:
    """A stand-in for a fitted deep-clustering model with unnamed clusters."""

    permutation_invariant_ = True

    def predict(self, X):
        return X


class TestFinalStep:
    def test_a_separator_is_its_own_final_step(self):
        separator = OracleMaskSeparator()
        assert final_step(separator) is separator

    def test_a_pipelines_final_step_is_its_last(self):
        separator = OracleMaskSeparator()
        pipe = Pipeline([("features", MelFeatures()), ("separator", separator)])
        assert final_step(pipe) is separator

    def test_steps_that_are_not_a_list_are_no_pipeline(self):
        odd = SimpleNamespace(steps="not steps")
        assert final_step(odd) is odd


class TestOrderAndNames:
    def test_unordered_outputs(self):
        assert outputs_unordered(_Unordered())
        assert outputs_unordered(Pipeline([("features", MelFeatures()),
                                           ("separator", _Unordered())]))
        assert not outputs_unordered(OracleMaskSeparator())

    def test_an_estimator_without_the_method_is_named_when_ordered(self):
        assert not sources_named(_Unordered())
        assert sources_named(SimpleNamespace(predict=None))

    def test_a_separator_answers_itself(self):
        oracle = OracleMaskSeparator()
        oracle.n_sources_ = 2
        assert sources_named(oracle) is True
        oracle.permutation_invariant_ = True
        assert sources_named(oracle) is False
        assert oracle.prediction_head() is None

    def test_an_unfitted_separator_is_refused(self):
        with pytest.raises(NotFittedError):
            sources_named(OracleMaskSeparator())
