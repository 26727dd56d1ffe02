"""The quickstart notebook runs, and estimators display in notebooks.

``examples/quickstart.ipynb`` is executed in a fresh Jupyter kernel (nbclient),
from its own folder as Jupyter would run it, so its default data path is the one
a user gets. Its settings are small enough for the test suite.
"""

import inspect
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sklearn.base import BaseEstimator

import sksep

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "examples" / "quickstart.ipynb"


def _outputs(cell):
    return cell.get("outputs", [])


def _mime(cell, mime):
    return [output["data"][mime] for output in _outputs(cell)
            if "data" in output and mime in output["data"]]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # One torch thread per process: the kernel shares the machine with the test runner.
    notebook.cells.insert(0, nbformat.v4.new_code_cell(
        "import torch; torch.set_num_threads(1)"))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    return notebook.cells[1:]


class TestQuickstartNotebook:
    def test_runs_without_errors(self, executed):
        errors = [output for cell in executed for output in _outputs(cell)
                  if output.get("output_type") == "error"]
        assert not errors, errors

    def test_plays_the_mixture_and_the_estimates(self, executed):
        players = [html for cell in executed for html in _mime(cell, "text/html")
                   if "<audio" in html]
        assert len(players) >= 3  # mixture, vocals, accompaniment

    def test_shows_estimators_as_html(self, executed):
        diagrams = [html for cell in executed for html in _mime(cell, "text/html")
                    if "sk-estimator" in html or "sk-top-container" in html]
        assert any("ChimeraSeparator" in html for html in diagrams)
        assert any("Pipeline" in html for html in diagrams)

    def test_shows_figures_inline(self, executed):
        figures = [png for cell in executed for png in _mime(cell, "image/png")]
        assert len(figures) >= 2  # masks, training history

    def test_prints_the_score_table(self, executed):
        printed = "".join(output.get("text", "") for cell in executed
                          for output in _outputs(cell) if output.get("output_type") == "stream")
        assert "| oracle Wiener" in printed and "vocals SI-SDRi" in printed
        assert "separator__alpha" in printed


def _estimator_classes():
    return [getattr(sksep, name) for name in sksep.__all__
            if inspect.isclass(getattr(sksep, name))
            and issubclass(getattr(sksep, name), BaseEstimator)]


@pytest.mark.parametrize("cls", _estimator_classes(), ids=lambda cls: cls.__name__)
def test_estimator_html_repr_shows_its_parameters(cls):
    estimator = cls()
    html = estimator._repr_html_()
    assert cls.__name__ in html
    missing = [name for name in estimator.get_params(deep=False) if name not in html]
    assert not missing, f"{cls.__name__}'s HTML repr lacks the parameters {missing}"


def test_every_separator_and_transformer_is_covered():
    names = {cls.__name__ for cls in _estimator_classes()}
    assert {"MelFeatures", "ChimeraSeparator", "DeepClusteringSeparator",
            "OracleMaskSeparator", "IdealBinaryMask", "WienerMask"} <= names


def test_fitted_shipped_model_html_repr():
    assert "Not fitted" in sksep.ChimeraSeparator()._repr_html_()
    html = sksep.load("chimera-mir1k")._repr_html_()
    assert "ChimeraSeparator" in html and "<span>Fitted" in html and "Not fitted" not in html
