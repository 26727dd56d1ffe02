"""Shared fixtures: real clips from ../shared/data, cropped so the suite stays fast.

The tests mirror the package (``tests/separators/``, ``tests/cli/`` ...). This folder and
its sub-folders go on ``sys.path``, so that a test in any of them imports
``fast_settings`` and the helpers of another test module (``from test_cli import
sksep_cli``) as it did when they all sat here. ``benchmarks/tests/conftest.py`` and
``tools/tests/conftest.py`` load these fixtures too."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MIR1K_ROOT = SHARED / "MIR-1K"
MUSDB_ROOT = SHARED / "MUSDB18-excerpts"

TESTS = Path(__file__).resolve().parent
for _folder in [TESTS, *sorted(p for p in TESTS.iterdir()
                                if p.is_dir() and not p.name.startswith(("_", ".")))]:
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mir1k_root():
    if not MIR1K_ROOT.is_dir():
        raise RuntimeError(f"MIR-1K data not found at {MIR1K_ROOT}; tests need ../shared beside the repo")
    return MIR1K_ROOT


def _crop(data, seconds, n_clips, offset_seconds=1.0):
    rate = data.sample_rate
    start, stop = int(offset_seconds * rate), int((offset_seconds + seconds) * rate)
    X = [x[start:stop] for x in data.X[:n_clips]]
    Y = [y[:, start:stop] for y in data.Y[:n_clips]]
    return X, Y


@pytest.fixture(scope="session")
def mir1k_train_small(mir1k_root):
    """Six 2-second training clips (list of mixtures, list of (2, n) sources, song groups)."""
    from sksep.datasets import load_mir1k
    data = load_mir1k(mir1k_root, "train", max_clips=60)
    picks = list(range(0, 60, 10))
    X = [data.X[i][16000:48000] for i in picks]
    Y = [data.Y[i][:, 16000:48000] for i in picks]
    return X, Y, np.asarray(data.groups)[picks]


@pytest.fixture(scope="session")
def mir1k_test_clips(mir1k_root):
    """Ten full test clips from three singers."""
    from sksep.datasets import load_mir1k
    data = load_mir1k(mir1k_root, "test")
    picks = np.linspace(0, len(data.X) - 1, 10).astype(int)
    return [data.X[i] for i in picks], [data.Y[i] for i in picks]
