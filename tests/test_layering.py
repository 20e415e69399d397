"""One direction of use: pipelines/ uses assets/, which uses the Dagster-free core pedw/."""

from __future__ import annotations

import ast

from pedw.code_versions import imported_modules
from pedw.settings import PROJECT_ROOT

LAYERS = ("pedw", "assets", "pipelines")


def project_modules() -> list[str]:
    modules = []
    for layer in LAYERS:
        for path in sorted((PROJECT_ROOT / layer).rglob("*.py")):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def import_graph() -> dict[str, set[str]]:
    return {m: set(imported_modules(m, LAYERS)) for m in project_modules()}


def test_no_layer_imports_one_above_it():
    for module, imported in import_graph().items():
        layer = LAYERS.index(module.split(".")[0])
        above = {i for i in imported if LAYERS.index(i.split(".")[0]) > layer}
        assert not above, f"{module} imports {sorted(above)}"


def test_the_core_does_not_import_dagster():
    for path in (PROJECT_ROOT / "pedw").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}  # fmt: skip
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {n for n in names if n.split(".")[0] == "dagster"}, path


def test_there_is_no_import_cycle_even_through_imports_inside_functions():
    graph = import_graph()
    # Drop the edge from a module to its own package (`import a.b` also runs a/__init__).
    graph = {m: {i for i in imported if not m.startswith(i + ".")} for m, imported in graph.items()}
    visiting, done, cycles = set(), set(), []

    def visit(module: str, path: list[str]) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append([*path[path.index(module) :], module])
            return
        visiting.add(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*path, module])
        visiting.discard(module)
        done.add(module)

    for module in graph:
        visit(module, [])
    assert not cycles, cycles[:3]
