"""Modules the command line reads before anything heavy: the exceptions and the shared
constants import neither scikit-learn nor torch, and each constant has one home."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["sksep.exceptions", "sksep._constants"])
def test_imports_nothing_heavy(module):
    code = (f"import sys, {module}\n"
            "heavy = sorted({'sklearn', 'torch', 'librosa'} & set(sys.modules))\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_not_fitted_error_is_scikit_learns():
    from sklearn.exceptions import NotFittedError as sklearn_error

    from sksep.exceptions import NotFittedError
    assert NotFittedError is sklearn_error
    import sksep.exceptions
    with pytest.raises(AttributeError, match="has no attribute 'Missing'"):
        sksep.exceptions.Missing  # noqa: B018


def test_one_home_for_each_constant():
    import sksep._constants as constants
    import sksep._fullband as fullband
    import sksep.cli._arguments as cli_arguments
    import sksep._api as api
    assert fullband.HIGH_BAND_RULES is constants.HIGH_BAND_RULES
    assert cli_arguments.HIGH_BAND_RULES is constants.HIGH_BAND_RULES
    assert api.DEFAULT_MODEL is constants.DEFAULT_MODEL is cli_arguments.DEFAULT_MODEL
    assert api.HEADS is cli_arguments.HEADS is constants.HEADS


def test_one_table_of_estimators():
    """The package root, model files, sksep.separators and ``sksep train`` all list the
    classes of sksep._constants' one table, and each module defines the class it names."""
    import importlib

    import sksep
    import sksep.separators
    from sksep._constants import SEPARATORS, TRANSFORMERS
    from sksep._persistence import MODEL_CLASSES
    from sksep.cli._estimators import ESTIMATORS

    table = {**TRANSFORMERS, **SEPARATORS}
    for name, module in table.items():
        cls = getattr(importlib.import_module(module), name)
        assert cls.__module__ == module
        assert getattr(sksep, name) is cls
    assert MODEL_CLASSES == table
    assert [name for name, _ in sksep.separators.all_separators()] == list(SEPARATORS)
    assert all(getattr(sksep.separators, name) is getattr(sksep, name) for name in SEPARATORS)
    assert {t.class_name for t in ESTIMATORS.values()} <= set(SEPARATORS)
    assert {t.module for t in ESTIMATORS.values()} <= set(SEPARATORS.values())
