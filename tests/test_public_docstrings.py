"""What users are told to call is public: no docstring of a public name sends them into
a private module (issue 31, STYLE.md rule 8). Docstrings may describe what happens
behind a public name; they may not name ``sksep._...`` or link a private object."""

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import sksep

#: ``sksep._x``, ``sksep.separators._x``: a private module or name spelt out; and a
#: Sphinx role aimed at a private name (``:func:`_x```, ``:mod:`~._x```), dunders aside.
PRIVATE_REFERENCE = re.compile(
    r"sksep(?:\.\w+)*\._\w"
    r"|:(?:mod|func|class|meth|attr|data|obj):`[~!]?\.?_(?!_\w+__`)\w")

#: Every module whose dotted name has no part starting with ``_``.
PUBLIC_MODULES = ["sksep"] + sorted(
    info.name for info in pkgutil.walk_packages(sksep.__path__, "sksep.")
    if not any(part.startswith("_") for part in info.name.split(".")))


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:  # a module without __all__: what it defines itself
        names = [name for name, value in vars(module).items() if not name.startswith("_")
                 and getattr(value, "__module__", None) == module.__name__]
    return names


def _documented(module_name):
    """``(where, docstring)`` of a module, its public names, and the public methods and
    properties their classes define in sksep (torch's and scikit-learn's own excluded)."""
    module = importlib.import_module(module_name)
    yield module_name, module.__doc__
    for name in _public_names(module):
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj)):
            continue
        yield f"{module_name}.{name}", inspect.getdoc(obj)
        if not inspect.isclass(obj):
            continue
        for klass in obj.__mro__:
            if not klass.__module__.startswith("sksep"):
                continue
            for attribute, value in vars(klass).items():
                if attribute.startswith("_") and attribute not in ("__init__", "__call__"):
                    continue
                value = getattr(value, "fget", None) or getattr(value, "__func__", value)
                yield f"{module_name}.{name}.{attribute}", getattr(value, "__doc__", None)


def test_the_public_modules_are_walked():
    expected = {"sksep", "sksep.separators", "sksep.metrics", "sksep.datasets", "sksep.nn",
                "sksep.losses", "sksep.callbacks", "sksep.audio_io", "sksep.separation",
                "sksep.plotting", "sksep.inference", "sksep.exceptions", "sksep.cli"}
    assert expected <= set(PUBLIC_MODULES)


def test_the_pattern_finds_private_references():
    for text in ("see :func:`sksep._masks.magnitude_weights`", "sksep.separators._targets",
                 ":mod:`~._fullband`", ":func:`_clip`"):
        assert PRIVATE_REFERENCE.search(text), text
    for text in (":func:`sksep.inference.overlap_add`", ":meth:`__call__`",
                 "the ``_targets.py`` module", "n_sources_ : int"):
        assert not PRIVATE_REFERENCE.search(text), text


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_no_public_docstring_names_a_private_module(module_name):
    offending = [f"{where}: {line.strip()}"
                 for where, doc in _documented(module_name) if doc
                 for line in doc.splitlines() if PRIVATE_REFERENCE.search(line)]
    assert not offending, "\n".join(offending)


#: Every module of the package, private ones included.
ALL_MODULES = sorted(info.name for info in pkgutil.walk_packages(sksep.__path__, "sksep.")
                     if not info.name.startswith("sksep.__main__"))


@pytest.mark.parametrize("module_name", ALL_MODULES)
def test_no_doctest_imports_a_private_module(module_name):
    """Examples import what users import: a private function's example runs in its own
    module's namespace (doctest's default), so it needs no ``from sksep._x import``."""
    module = importlib.import_module(module_name)
    offending = [f"{test.name}: {example.source.strip()}"
                 for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name)
                 for example in test.examples
                 if PRIVATE_REFERENCE.search(example.source)]
    assert not offending, "\n".join(offending)
