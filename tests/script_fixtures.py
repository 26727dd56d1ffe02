"""What the conftest files of ``benchmarks/tests`` and ``tools/tests`` share: the package
suite's fixtures (``tests/conftest.py``: the seed, the MIR-1K clips) and
:func:`load_script`, which imports a script as ``python folder/<name>.py`` would run it."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


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
