"""``benchmarks/make_report.py`` turns the committed JSON into RESULTS.md with every table."""

import importlib.util
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]


def _load_report_module(monkeypatch):
    # As when the script runs: its folder comes first on the path (for ``_common``).
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("make_report", BENCHMARKS / "make_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_has_every_section_and_the_run_times(tmp_path, monkeypatch):
    report = _load_report_module(monkeypatch)
    monkeypatch.setattr(report, "OUT", tmp_path / "RESULTS.md")
    report.main()
    text = (tmp_path / "RESULTS.md").read_text()
    for title in ("## Summary", "## Quality (MIR-1K test singers)", "## Alpha sweep",
                  "## Deep-clustering loss", "## Training throughput", "## Separation",
                  "## Feature extraction"):
        assert title in text, title
    assert "Not run" not in text
    # the quick and the full run are both documented with their wall time
    times = re.findall(r"Last `run_all\.py( --quick)?`: ([0-9.]+) min wall time", text)
    assert sorted(flag for flag, _ in times) == ["", " --quick"], times
    # the published anchor sits beside the measured rows
    assert "*Huang et al. 2014, deep RNN (anchor)*" in text and "*7.45*" in text


def test_committed_report_is_current(tmp_path, monkeypatch):
    """RESULTS.md in the repository is what make_report.py writes from the JSON (bar the date)."""
    report = _load_report_module(monkeypatch)
    monkeypatch.setattr(report, "OUT", tmp_path / "RESULTS.md")
    report.main()
    date = re.compile(r"on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC from")
    fresh = date.sub("on DATE from", (tmp_path / "RESULTS.md").read_text())
    committed = date.sub("on DATE from", (BENCHMARKS / "RESULTS.md").read_text())
    assert fresh == committed, "run python benchmarks/make_report.py and commit RESULTS.md"
