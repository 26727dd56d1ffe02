"""Fixtures of the benchmark scripts' tests: the package suite's own (``tests/conftest.py``:
the seed, the MIR-1K clips) and :func:`benchmark_module`. ``tests/`` goes on ``sys.path``
for ``from fast_settings import ...``."""

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from script_fixtures import (ROOT, _seed, load_script, mir1k_root,  # noqa: E402,F401
                             mir1k_test_clips, mir1k_train_small)


@pytest.fixture
def benchmark_module(monkeypatch):
    """``benchmark_module(name)``: ``benchmarks/<name>.py`` imported fresh, with
    ``benchmarks/`` on ``sys.path`` for its own imports (``_common`` and the like)."""
    folder = ROOT / "benchmarks"
    monkeypatch.syspath_prepend(str(folder))
    return lambda name: load_script(folder, name)
