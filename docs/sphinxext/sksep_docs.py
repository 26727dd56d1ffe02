"""Build-time helpers of the sksep documentation.

- :func:`write_api_pages` writes one reference page per public module from the
  module's ``__all__``, so a name added to the package appears in the API
  reference without editing the docs.
- :func:`write_cli_help` writes the ``--help`` text of every ``sksep`` command.
- :func:`write_models_table` writes the table of the shipped models and their scores.
- :func:`figure_scraper` collects, for sphinx-gallery, the figures that
  :mod:`sksep.plotting` returns: they are built without pyplot, so the
  matplotlib scraper, which asks pyplot for its open figures, misses them.
- :class:`GalleryOrder` orders the gallery as a reader should meet it.

Every generated file is rewritten only when its text changes, so Sphinx does
not rebuild pages that did not change.
"""

import argparse
import importlib
import inspect
import os
import re
import weakref
from pathlib import Path

#: Public modules of the API reference, in reading order. A module that does not
#: exist (yet) is left out.
API_MODULES = (
    "sksep",
    "sksep.datasets",
    "sksep.metrics",
    "sksep.losses",
    "sksep.separation",
    "sksep.inference",
    "sksep.plotting",
    "sksep.audio_io",
    "sksep.callbacks",
    "sksep.exceptions",
    "sksep.cli",
)

#: Gallery examples in reading order; examples not listed come after, by name.
GALLERY_ORDER = (
    "plot_how_it_fits.py",
    "plot_separate_clip.py",
    "plot_oracle_vs_model.py",
    "plot_grid_search.py",
    "plot_embeddings.py",
    "plot_musdb_four_stems.py",
)


def _write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _heading(text, char, overline=False):
    rule = char * len(text)
    return f"{rule}\n{text}\n{rule}\n" if overline else f"{text}\n{rule}\n"


def _kind(module_name, obj):
    """The section of a module page an object is listed in."""
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "Exceptions"
        if hasattr(obj, "predict") and hasattr(obj, "fit"):
            return "Separators"
        if module_name == "sksep":
            return "Features, targets and spectrogram records"
        return "Classes"
    return "Functions"


_SECTIONS = ("Separators", "Features, targets and spectrogram records", "Classes",
             "Functions", "Exceptions")
# Templates in docs/_templates/autosummary/, named without ".rst" so that autosummary
# looks for them there.
_TEMPLATES = {"Exceptions": "exception", "Functions": "function"}


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:  # a command-line module: its documented entry points
        names = [name for name in ("main", "build_parser") if hasattr(module, name)]
    return [name for name in names
            if inspect.isclass(getattr(module, name)) or callable(getattr(module, name))]


def _module_page(module_name, module):
    lines = [_heading(module_name, "#", overline=True), f".. module:: {module_name}\n"]
    docstring = inspect.getdoc(module) or ""
    lines.append(docstring + "\n")
    if module_name == "sksep":
        lines.append("``sksep.__version__`` holds the version string "
                     f"(``{getattr(module, '__version__', '?')}``).\n")
    grouped = {}
    for name in _public_names(module):
        grouped.setdefault(_kind(module_name, getattr(module, name)), []).append(name)
    for section in _SECTIONS:
        if section not in grouped:
            continue
        lines.append(_heading(section, "-"))
        template = _TEMPLATES.get(section, "class")
        lines.append(".. autosummary::\n   :toctree: generated/\n   :nosignatures:\n"
                     f"   :template: {template}\n")
        lines.extend(f"   {name}" for name in grouped[section])
        lines.append("")
    return "\n".join(lines) + "\n"


def write_api_pages(docs_dir):
    """Write ``api/index.rst`` and one page per public module under ``docs_dir/api``."""
    api = Path(docs_dir) / "api"
    present = []
    for module_name in API_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:  # not written yet; anything else is a real error
                continue
            raise
        present.append((module_name, module))
        _write(api / f"{module_name}.rst", _module_page(module_name, module))
    rows = []
    for module_name, module in present:
        summary = (inspect.getdoc(module) or "").strip().splitlines()[0]
        rows.append(f"   * - :mod:`{module_name}`\n     - {summary}")
    index = "\n".join([
        _heading("API reference", "#", overline=True),
        "Every public name of sksep, generated from the docstrings. Estimators, "
        "transformers and targets are imported from ``sksep`` itself; functions live in "
        "the modules below. Each Examples section runs in the test suite.\n",
        ".. list-table::\n   :widths: 25 75\n   :header-rows: 0\n",
        "\n".join(rows) + "\n",
        ".. toctree::\n   :hidden:\n   :maxdepth: 2\n",
        "\n".join(f"   {name}" for name, _ in present),
    ]) + "\n"
    _write(api / "index.rst", index)
    return [name for name, _ in present]


def _subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def write_cli_help(path):
    """Write the ``--help`` output of ``sksep`` and each command as reST literal blocks."""
    try:
        from sksep.cli import build_parser
    except ImportError:
        _write(path, "The command line is not part of this version.\n")
        return
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"  # argparse wraps to the terminal width
    try:
        parser = build_parser()
        blocks = [("sksep --help", parser.format_help())]
        blocks += [(f"sksep {name} --help", sub.format_help())
                   for name, sub in _subcommands(parser)]
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    text = []
    for title, body in blocks:
        indented = "\n".join(("   " + line) if line.strip() else "" for line in body.splitlines())
        text.append(f".. rubric:: ``{title}``\n\n.. code-block:: text\n\n{indented}\n")
    _write(path, "\n".join(text))


# -- sphinx-gallery ---------------------------------------------------------------------------

_scraped = {}


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Save the Figures that the example's variables hold and that were not shown yet.

    Runs before sphinx-gallery's matplotlib scraper: figures that pyplot manages
    still have a manager then, and are left to it (and remembered, because once
    pyplot has closed them they look like any other figure).
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = _scraped.setdefault(block_vars["src_file"], weakref.WeakSet())
    figures = []
    for value in list(block_vars["example_globals"].values()):
        candidates = value if isinstance(value, (list, tuple)) else [value]
        for candidate in candidates:
            if not isinstance(candidate, Figure) or candidate in seen:
                continue
            if candidate.canvas.manager is not None:  # pyplot's: the matplotlib scraper's
                seen.add(candidate)
            elif candidate not in figures:
                figures.append(candidate)
    paths = []
    for figure, path in zip(figures, block_vars["image_path_iterator"]):
        figure.savefig(path, dpi=110, facecolor="white")
        seen.add(figure)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


class GalleryOrder:
    """sphinx-gallery sort key: the order of :data:`GALLERY_ORDER`, then by file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in GALLERY_ORDER:
            return (GALLERY_ORDER.index(name), name)
        return (len(GALLERY_ORDER), name)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _score_rows(scores, path=()):
    """``(label, {metric: value})`` rows of a registry's nested ``scores``."""
    numbers = {k: v for k, v in scores.items() if isinstance(v, (int, float))}
    rows = [(", ".join(path), numbers)] if numbers and path else []
    for key, value in scores.items():
        if isinstance(value, dict):
            rows += _score_rows(value, path + (str(key),))
    return rows


def write_models_table(path):
    """Write the shipped models of ``sksep.available_models()`` as reST."""
    from sksep import available_models

    registry = available_models()
    if not registry:
        _write(path, "No trained model is shipped with this copy of sksep.\n")
        return
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 20 20 40", "",
             "   * - name", "     - estimator", "     - sources", "     - description"]
    for name, entry in registry.items():
        sources = ", ".join(entry.get("sources", ())) or "n/a"
        lines += [f"   * - ``{name}``", f"     - :class:`~sksep.{entry.get('estimator', '?')}`",
                  f"     - {sources}", f"     - {entry.get('description', '')}"]
    lines.append("")
    for name, entry in registry.items():
        lines += [f".. rubric:: {name}", ""]
        if entry.get("training"):
            lines += [f"**Training.** {entry['training']}", ""]
        scores = entry.get("scores") or {}
        rows = _score_rows(scores)
        if rows:
            test_set = scores.get("test set", "the MIR-1K test singers")
            metrics = list(dict.fromkeys(m for _, values in rows for m in values))
            lines += [f".. list-table:: Scores on {test_set}, in dB",
                      "   :header-rows: 1", "", "   * -"] + [f"     - {m}" for m in metrics]
            for label, values in rows:
                lines.append(f"   * - {label}")
                lines += [f"     - {values[m]:.2f}" if m in values else "     -"
                          for m in metrics]
            lines.append("")
    _write(path, "\n".join(lines) + "\n")


_SKLEARN_PLUMBING = re.compile(r"^(set_\w+_request|get_metadata_routing|set_output)$")


def skip_member(app, what, name, obj, skip, options):
    """Leave scikit-learn's metadata-routing and output plumbing out of the class pages.

    scikit-learn adds ``set_{method}_request`` methods to every estimator whose
    methods take extra arguments; they are documented by scikit-learn, and their
    docstrings refer to its glossary.
    """
    if _SKLEARN_PLUMBING.match(name):
        return True
    return None
