"""Sphinx configuration of the sksep documentation.

Build it from the repository root with::

    python -m sphinx -W -b html docs docs/_build/html

The build needs no network (no intersphinx inventories, no remote assets). The
gallery runs every script of ``examples/gallery`` and reads the data folder
``../shared/data`` beside the repository, or the folder the environment variable
``SKSEP_DATA`` names.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "sphinxext"))

# The gallery scripts read SKSEP_DATA and default to ../shared/data relative to the
# working directory (the repository root when a user runs them); sphinx-gallery runs
# each script from its own folder, so point it at the data explicitly.
os.environ.setdefault("SKSEP_DATA", str(REPO.parent / "shared" / "data"))

import sksep  # noqa: E402
import sksep_docs  # noqa: E402

# -- generated pages --------------------------------------------------------------------------
sksep_docs.write_api_pages(DOCS)
sksep_docs.write_cli_help(DOCS / "_generated" / "cli_help.rst")
sksep_docs.write_models_table(DOCS / "_generated" / "models_table.rst")

# -- project ----------------------------------------------------------------------------------
project = "sksep"
author = "the sksep developers"
copyright = "2026, the sksep developers"
release = sksep.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "sphinxext", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ---------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- myst (the scaling-out page is written in Markdown) ---------------------------------------
myst_heading_anchors = 3

# -- sphinx-gallery ---------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(REPO / "examples" / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "sksep_docs.GalleryOrder",
    "image_scrapers": ("sksep_docs.figure_scraper", "matplotlib"),
    # Show an estimator's HTML diagram when it ends a block; a figure ending a block is
    # shown by the scrapers, not as "<Figure size ...>".
    "capture_repr": ("_repr_html_", "__repr__"),
    "ignore_repr_types": r"matplotlib[.](figure|axes|text|image|legend|collections)|NoneType",
    "doc_module": ("sksep",),
    "backreferences_dir": str(DOCS / "_generated" / "backreferences"),
    "reference_url": {"sksep": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    # sksep.plotting builds figures without pyplot; this makes Jupyter show them inline.
    "first_notebook_cell": "%matplotlib inline",
}

# -- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sksep {release}"
html_static_path = ["_static"]
html_css_files = ["sksep.css"]
html_show_sourcelink = False
html_theme_options = {
    "logo": {"text": "sksep"},
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # Gallery pages need the width for code more than an "on this page" box (the API
    # pages' templates remove it with a page-level field).
    "secondary_sidebar_items": {"**": ["page-toc"], **{
        f"auto_examples/{script.stem}": []
        for script in (REPO / "examples" / "gallery").glob("plot_*.py")}},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "changelog": [], "install": [], "developers": []}


def setup(app):
    app.connect("autodoc-skip-member", sksep_docs.skip_member)
