"""The layers, read from the modules' import statements (ast, nothing is imported).

- No module of iop_workflow/importing/ is part of an import cycle (through any other
  module of the package iop_workflow).
- iop_workflow/domain/ depends on no framework, storage or channel: not on
  sqlalchemy, prefect, fastapi, apprise or typer, and not on the adapters, the
  service layer, the import, notifications or the orchestration.

Every import statement counts, also one inside a function or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "iop_workflow"
ROOT = PACKAGE.parent

FORBIDDEN_IN_DOMAIN = (
    "sqlalchemy",
    "prefect",
    "fastapi",
    "apprise",
    "typer",
    "iop_workflow.adapters",
    "iop_workflow.service",
    "iop_workflow.importing",
    "iop_workflow.notify",
    "iop_workflow.orchestration",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Every module name an import statement of module `name` names (absolute)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            yield source
            # `from . import steps` names a module, `from .model import Agreement` does not.
            yield from (f"{source}.{alias.name}" for alias in node.names)


def dependencies(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of `modules` it imports."""
    return {
        name: {found for found in imported_names(name, path) if found in modules} - {name}
        for name, path in modules.items()
    }


def modules_on_cycles(graph: Mapping[str, set[str]]) -> set[str]:
    """The modules that lie on an import cycle (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[str] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.update(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_and_only_its_members() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert modules_on_cycles(graph) == {"a", "b", "c", "e"}


def test_relative_imports_are_resolved_to_modules() -> None:
    graph = dependencies(MODULES)
    assert "iop_workflow.domain.model" in graph["iop_workflow.importing.convert"]
    assert "iop_workflow.importing.phases" in graph["iop_workflow.importing.bundle"]
    assert "iop_workflow.importing" in graph["iop_workflow.service.importer"]


def test_no_module_of_the_import_is_part_of_an_import_cycle() -> None:
    importing = {name for name in MODULES if name.split(".")[:2] == ["iop_workflow", "importing"]}
    assert len(importing) > 5
    assert sorted(modules_on_cycles(dependencies(MODULES)) & importing) == []


DOMAIN = sorted(name for name in MODULES if name.startswith("iop_workflow.domain"))


@pytest.mark.parametrize("name", DOMAIN)
def test_the_domain_imports_no_framework_storage_or_channel(name: str) -> None:
    bad = sorted(
        found
        for found in imported_names(name, MODULES[name])
        if any(found == f or found.startswith(f + ".") for f in FORBIDDEN_IN_DOMAIN)
    )
    assert bad == []
