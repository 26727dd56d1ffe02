"""The Examples sections of the docstrings run and print what they show.

Every module of the package is searched, private ones included, because the
public estimators and functions are defined there (``sksep.separators.chimera`` holds
``ChimeraSeparator``) and doctest only collects the objects a module defines.
The examples read ``../shared/data``, relative to the repository root, so they
run from there.
"""

import doctest
import importlib
import os
import pkgutil
from pathlib import Path

import pytest
import torch

import sksep

REPO = Path(__file__).resolve().parents[1]

MODULES = sorted(info.name for info in pkgutil.walk_packages(sksep.__path__, "sksep.")
                 if not info.name.startswith("sksep.__main__"))

# Long outputs (arrays, tables) are written with ... and wrapped as they read best.
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture(autouse=True)
def _repository_root(monkeypatch):
    monkeypatch.chdir(REPO)
    threads = torch.get_num_threads()
    # Tiny models: more threads only add overhead on a shared machine.
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    tests = [t for t in finder.find(module, module_name) if t.examples]
    for test in sorted(tests, key=lambda t: t.name):
        runner.run(test)
    return runner.summarize(verbose=False), len(tests)


def test_modules_are_found():
    assert {"sksep.separators.chimera", "sksep.metrics._si_sdr", "sksep.datasets._mir1k",
            "sksep.audio_io"} <= set(MODULES)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, capsys):
    (failed, attempted), _ = _run(module_name)
    report = capsys.readouterr().out
    assert failed == 0, f"{failed} of {attempted} doctest examples failed in {module_name}:\n{report}"


def test_every_public_name_has_a_running_example():
    """Each public estimator and function shows how it is called (exceptions excepted)."""
    import inspect

    modules = ["sksep", "sksep.losses", "sksep.metrics", "sksep.datasets", "sksep.audio_io",
               "sksep.callbacks", "sksep.separation", "sksep.plotting"]
    missing = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional module not written yet
            continue
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if inspect.isclass(obj) and issubclass(obj, Exception):
                continue
            if ">>>" not in (obj.__doc__ or ""):
                missing.append(f"{name}.{public}")
    assert not missing, f"public names without an Examples section: {missing}"


def test_cwd_is_the_repository_root():
    assert Path(os.getcwd()) == REPO
