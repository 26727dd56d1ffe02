"""What the release tools share: where the shipped models live, and their registration.

The tools run as ``python tools/<tool>.py``, so they import this module as
``_release``. Importing it also puts ``benchmarks/`` on ``sys.path``: a tool trains
and scores a model with the benchmarks' own helpers (``_common``'s data paths and
machine record, a benchmark's results and decisions), then writes what the benchmarks
never write, the model file and its entry in ``sksep/models/registry.json``.
"""

import json
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
BENCHMARKS = ROOT / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(1, str(BENCHMARKS))  # after tools/ itself

#: The shipped models and their registry, which the tools update.
MODELS = ROOT / "sksep" / "models"
REGISTRY = MODELS / "registry.json"


def register_model(name, entry, registry_path=REGISTRY):
    """Add (or replace) ``name``'s entry in a model registry JSON file, atomically, keeping
    the other models' entries; returns the registry path."""
    from _common import atomic_write_text

    registry_path = Path(registry_path)
    registry = (json.loads(registry_path.read_text(encoding="utf-8"))
                if registry_path.exists() else {})
    registry[name] = entry
    return atomic_write_text(registry_path, json.dumps(registry, indent=2) + "\n")
