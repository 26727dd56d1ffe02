"""How sksep's modules import each other: no cycle, imports at the top of each module,
and the few deferred ones each saying why."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sksep"

#: Most imports a function body may hold in the whole package (each with its reason).
MAX_DEFERRED = 20


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(node, module, is_package):
    """The absolute module that a relative ``from`` import in ``module`` starts from."""
    if not node.level:
        return node.module
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(*, deferred=False):
    """``{module: set of sksep modules it imports}``.

    At its top level only (the statements run when the module is imported), or with
    ``deferred`` in function bodies too. ``from package import name`` points at
    ``package.name`` when that is a module, else at ``package``.
    """
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in ast.walk(tree) if deferred else _top_level(tree.body):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(node, module, path.name == "__init__.py")
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.add(submodule if submodule in modules else source)
        graph[module] = {target for target in targets if target in modules} - {module}
    return graph


def _top_level(statements):
    """The statements a module runs on import: its body, with the bodies of ``if``,
    ``try`` and ``with`` blocks, but not of functions or classes."""
    for node in statements:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def find_cycle(graph):
    """One import cycle of ``graph`` as a list of modules, or None."""
    state = {}  # module -> "open" while on the stack, "done" after

    def visit(module, stack):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target, stack)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [])
            if cycle:
                return cycle
    return None


def deferred_imports():
    """``(path, line, source line, reason)`` of every import inside a function body."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found.add((path, node.lineno, node.end_lineno))
    result = []
    for path, first, last in sorted(found):
        lines = path.read_text(encoding="utf-8").splitlines()
        statement = lines[first - 1:last]
        comments = [line.split("#", 1)[1].strip() for line in
                    [lines[first - 2], *statement] if "#" in line]
        result.append((path.relative_to(PACKAGE.parent), first, statement[0].strip(),
                       comments[-1] if comments else ""))
    return result


class TestImportGraph:
    def test_the_graph_sees_real_imports(self):
        graph = import_graph()
        assert "sksep._fullband" in graph["sksep.separation"]
        assert "sksep.separators._pipeline" in graph["sksep.metrics._scorers"]
        assert "sksep._api" in graph["sksep.cli._prediction"]
        assert "sksep.separation" in graph["sksep.cli._separate"]  # `from .. import separation`

    def test_finds_a_cycle(self):
        assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
        assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None

    @pytest.mark.parametrize("deferred", [False, True])
    def test_no_import_cycle_in_sksep(self, deferred):
        """Not even through an import deferred into a function body (``_fullband``
        once imported ``separation``, which imports it, that way)."""
        cycle = find_cycle(import_graph(deferred=deferred))
        assert cycle is None, " -> ".join(cycle)

    def test_modules_below_the_estimators_import_only_their_light_answers(self):
        """The metrics, the full-band masks and long songs ask a separator about itself
        through separators/_pipeline.py, which imports nothing."""
        graph = import_graph()
        assert graph["sksep.separators._pipeline"] == set()
        for module in ("sksep._fullband", "sksep.separation", "sksep.metrics._scorers"):
            into_separators = {target for target in graph[module]
                               if target.startswith("sksep.separators")}
            assert into_separators == {"sksep.separators._pipeline"}, module


class TestDeferredImports:
    def test_few_and_each_with_its_reason(self):
        deferred = deferred_imports()
        assert 0 < len(deferred) <= MAX_DEFERRED, [row[:3] for row in deferred]
        unexplained = [f"{path}:{line}: {source}" for path, line, source, reason in deferred
                       if len(reason) < 10]
        assert not unexplained

    def test_a_multi_line_import_counts_once(self):
        rows = [row for row in deferred_imports() if row[0].name == "_musdb.py"]
        assert len({line for _, line, _, _ in rows}) == len(rows)


@pytest.mark.parametrize("argv", [["--help"], ["separate", "--help"], ["train", "--help"],
                                  ["evaluate", "--help"], ["models", "--help"]])
def test_help_imports_no_command_module(argv):
    """``--help`` builds the parser from cli/_arguments.py only: neither the library nor
    the modules that run the commands are imported."""
    code = ("import sys\n"
            "from sksep.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "loaded = sorted(m for m in sys.modules if m in ('torch', 'sklearn', 'librosa', "
            "'numpy', 'sksep._api', 'sksep.separation') or m in ('sksep.cli._separate', "
            "'sksep.cli._train', 'sksep.cli._evaluate', 'sksep.cli._list_models'))\n"
            "print(loaded, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert "usage: sksep" in done.stdout
