"""``benchmarks/_common.py``: reports are written through sksep's atomic write, and the
benchmarks only measure (nothing here writes into the package's models)."""

import json
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1]


def test_atomic_write_text_replaces_whole_files(benchmark_module, tmp_path):
    common = benchmark_module("_common")
    target = tmp_path / "new" / "report.md"
    assert common.atomic_write_text(target, "first\n") == target  # folders are created
    common.atomic_write_text(target, "second\n")
    assert target.read_text() == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]  # no temporaries left
    with pytest.raises(IsADirectoryError):  # sksep's checks: a folder is never replaced
        common.atomic_write_text(tmp_path / "new", "text")


def test_write_report_writes_json_and_markdown(benchmark_module, tmp_path):
    common = benchmark_module("_common")
    common.write_report(tmp_path / "r", {"x": 1}, "# R\n")
    assert json.loads((tmp_path / "r.json").read_text()) == {"x": 1}
    assert (tmp_path / "r.md").read_text() == "# R\n"


def test_benchmarks_write_nothing_into_the_package():
    """Release tooling lives in tools/: no benchmark script names the shipped models'
    folder or registers a model."""
    offenders = [path.name for path in sorted(BENCHMARKS.glob("*.py"))
                 if "sksep/models" in path.read_text() or "register_model" in path.read_text()
                 or '"sksep" / "models"' in path.read_text()]
    assert offenders == []
