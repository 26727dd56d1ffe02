"""Fixtures of the release tools' tests: the package suite's own (``tests/conftest.py``:
the seed, the MIR-1K clips) and :func:`tool_module`. ``tests/`` goes on ``sys.path`` for
``from fast_settings import ...``."""

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from script_fixtures import (ROOT, _seed, load_script, mir1k_root,  # noqa: E402,F401
                             mir1k_test_clips, mir1k_train_small)


@pytest.fixture
def tool_module(monkeypatch):
    """``tool_module(name)``: ``tools/<name>.py`` imported fresh, with ``tools/`` and
    ``benchmarks/`` on ``sys.path`` (``_release`` and the benchmarks' helpers)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    return lambda name: load_script(ROOT / "tools", name)
