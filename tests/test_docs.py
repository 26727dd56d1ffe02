"""The documentation builds, warning-free, with its gallery and API pages.

This runs README's command, ``python -m sphinx -W -b html docs docs/_build/html``,
into a temporary folder: warnings are errors, and every gallery example runs
(sphinx-gallery re-runs only examples changed since the last build in this
checkout, so a fresh clone, as in CI, runs them all). It takes minutes, most of
them in the gallery's examples.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GALLERY = REPO / "examples" / "gallery"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    html = root / "html"
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # tiny models: threads only add overhead
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         "-d", str(root / "doctrees"), "docs", str(html)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (
        f"sphinx exited with {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return html


def test_home_page(site):
    text = (site / "index.html").read_text(encoding="utf-8")
    assert "sksep" in text and "auto_examples/index.html" in text


def test_gallery_pages_have_figures_and_downloads(site):
    scripts = sorted(p.stem for p in GALLERY.glob("plot_*.py"))
    assert len(scripts) >= 5
    for name in scripts:
        page = site / "auto_examples" / f"{name}.html"
        assert page.is_file(), f"no gallery page for {name}"
        text = page.read_text(encoding="utf-8")
        assert re.search(rf"sphx_glr_{name}_\d{{3}}\.png", text), f"{name} shows no figure"
        assert f"{name}.ipynb" in text and f"{name}.py" in text, f"{name} lacks downloads"


def test_chimera_api_page(site):
    page = site / "api" / "generated" / "sksep.ChimeraSeparator.html"
    assert page.is_file()
    text = page.read_text(encoding="utf-8")
    for expected in ("alpha", "embedding_dim", "Examples", "predict_masks", "embed"):
        assert expected in text, f"{expected!r} missing from the ChimeraSeparator page"


def test_every_public_name_has_an_api_page(site):
    import sksep

    generated = site / "api" / "generated"
    names = [name for name in sksep.__all__ if not name.startswith("__")]
    missing = [name for name in names if not (generated / f"sksep.{name}.html").is_file()]
    assert not missing, f"no API page for {missing}"
