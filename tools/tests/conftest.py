"""Fixtures of the release tools' tests: the package suite's own (``tests/conftest.py``:
the seed, the MIR-1K clips) and :func:`tool_module`. ``tests/`` goes on ``sys.path`` for
``from fast_settings import ...``."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def load_script(folder, name):
    """``folder/<name>.py`` imported fresh, as ``python folder/<name>.py`` would run it
    (the caller puts ``folder`` on ``sys.path`` for its own imports)."""
    spec = importlib.util.spec_from_file_location(name, Path(folder) / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_suite = load_script(TESTS, "conftest")
_seed = _suite._seed
mir1k_root = _suite.mir1k_root
mir1k_train_small = _suite.mir1k_train_small
mir1k_test_clips = _suite.mir1k_test_clips


@pytest.fixture
def tool_module(monkeypatch):
    """``tool_module(name)``: ``tools/<name>.py`` imported fresh, with ``tools/`` and
    ``benchmarks/`` on ``sys.path`` (``_release`` and the benchmarks' helpers)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    return lambda name: load_script(ROOT / "tools", name)
