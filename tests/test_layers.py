"""The import graph of examgen's modules: layers that import only downwards, and no circle.

Read from the sources (every import, at the top of a module or inside a function), so a lazy
import counts as much as an eager one. Type-only imports (under ``TYPE_CHECKING``) count for
the layers but not for circles: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"

# Lowest first; a module may import its own layer and those below. A name ending in ".*" is a
# package and everything in it.
LAYERS: list[tuple[str, set[str]]] = [
    ("foundations", {"examgen", "examgen.errors", "examgen.numbers", "examgen.shapes", "examgen.stopping",
                     "examgen.codes", "examgen.roster", "examgen.spreadsheet", "examgen.ceilings",
                     "examgen.sandbox.*"}),
    ("records", {"examgen.model.*", "examgen.kinds.*"}),
    ("stages", {"examgen.stages.*", "examgen.theme", "examgen.project", "examgen.cache", "examgen.figures",
                "examgen.variants", "examgen.verify", "examgen.grading.*", "examgen.outputs", "examgen.scanning.*",
                "examgen.marking.*"}),
    ("writers", {"examgen.writers.*"}),
    ("orchestrator", {"examgen.orchestrate"}),
    ("commands", {"examgen.commands.*", "examgen.exports.*"}),
    ("front ends", {"examgen.cli", "examgen.serve.*", "examgen.new", "examgen.schema",
                    "examgen.markserver.*"}),
]
# Imports that reach up a layer, each with its reason (at most two).
REACHING_UP: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_only(tree: ast.Module) -> set[int]:
    """The line numbers of imports under ``if TYPE_CHECKING:``."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines.update(inner.lineno for child in node.body for inner in ast.walk(child) if hasattr(inner, "lineno"))
    return lines


def _imports() -> dict[str, dict[str, bool]]:
    """module -> the examgen modules it imports -> whether only for types."""
    modules = {_module_name(path): path for path in SOURCE.joinpath("examgen").rglob("*.py")}
    graph: dict[str, dict[str, bool]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = _type_only(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = graph.setdefault(name, {})
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                           for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("examgen"):
                targets = [node.module or ""]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name.startswith("examgen")]
            else:
                continue
            for target in targets:
                while target not in modules:  # a name from a module: the module
                    target = target.rpartition(".")[0]
                if target != name:
                    found[target] = found.get(target, True) and node.lineno in typing_only
    return graph


def _layer(module: str) -> int:
    for rank, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member or (member.endswith(".*") and (module + ".").startswith(member[:-1])):
                return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}")


GRAPH = _imports()


def test_every_module_has_a_layer():
    for module in GRAPH:
        _layer(module)


def test_no_module_imports_a_layer_above_its_own():
    upward = {(module, target) for module, targets in GRAPH.items() for target in targets
              if _layer(target) > _layer(module)}
    assert len(REACHING_UP) <= 2
    assert upward == set(REACHING_UP), "\n".join(
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, target in sorted(upward - set(REACHING_UP)))


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports, if there is any (a depth-first search)."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_modules_import_each_other_in_a_circle():
    running = {module: {target for target, typing in targets.items() if not typing}
               for module, targets in GRAPH.items()}
    circle = _circle(running)
    assert circle is None, " -> ".join(circle or [])


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
])
def test_the_circle_search_finds_a_circle(graph, expected):
    assert _circle(graph) == expected
