"""Code versions from the code an asset actually runs.

An asset names the pedw modules it calls (and any data files they read, such as a contract
or a template); its code version hashes those modules, every project module they import in
turn, those files and the pinned dependencies. Editing a brief template then changes the
briefs' version only, not the ingest's.
"""

from __future__ import annotations

import ast
import hashlib
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pedw.settings import PROJECT_ROOT

PACKAGES = ("pedw",)
# Files a module reads when it runs: part of the code of every asset whose closure holds it.
MODULE_DATA_FILES = {
    "pedw.harmonise": ("pedw/staging/country_names.yml",),
    "pedw.staging.series": ("pedw/staging/series.yml",),
    "pedw.marts.series_choice": ("pedw/marts/observation_status.yml",),
    "pedw.briefs.render": ("pedw/briefs/template.html",),
    "pedw.briefs.annex": ("pedw/briefs/annex.html",),
    "pedw.briefs.printing": ("pedw/briefs/styles.html",),
    "pedw.briefs.typeset": ("pedw/briefs/document.typ",),
    "pedw.warehouse_docs": ("pedw/warehouse_docs.yml",),
}


def _loader_modules() -> frozenset[str]:
    from pedw.formats import FORMATS

    return frozenset(entry.module for entry in FORMATS.values() if not entry.central)


# Modules a module imports by name when it runs, which no import statement shows:
# pedw.sources.registry imports the loaders pedw/formats.py names ("module:function"), but
# for the centre's format (pedw_package), which the raw loads never read.
MODULE_REFERENCES = {"pedw.sources.registry": _loader_modules}


def module_path(module: str) -> Path | None:
    """The source file of a project module (package `__init__` for a package), or None."""
    base = PROJECT_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def imported_modules(module: str, packages: tuple[str, ...] = PACKAGES) -> frozenset[str]:
    """Modules of `packages` that `module` imports anywhere in its file (top level or in
    functions), and those it imports by name (MODULE_REFERENCES)."""
    path = module_path(module)
    if path is None:
        return frozenset()
    named = MODULE_REFERENCES.get(module, frozenset)()
    found = {n for n in named if n.split(".")[0] in packages and module_path(n)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] in packages and module_path(n)}
    return frozenset(found - {module})


def module_closure(modules: Iterable[str]) -> frozenset[str]:
    """`modules` and every project module they import, transitively."""
    seen: set[str] = set()
    pending = list(modules)
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending.extend(imported_modules(module) - seen)
        parent = module.rpartition(".")[0]
        if parent and parent not in seen:  # importing a.b runs a/__init__.py
            pending.append(parent)
    return frozenset(seen)


@cache
def pinned_stack() -> str:
    """The runtime dependencies as pinned in pyproject.toml (they can change every output)."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return "\n".join(sorted(project["project"]["dependencies"]))


def code_version(modules: Iterable[str], files: Iterable[str | Path] = (), *extra: object) -> str:
    """Hash of the closure of `modules`, the `files` (relative to the project) and `extra`."""
    digest = hashlib.sha256(pinned_stack().encode())
    closure = sorted(module_closure(modules))
    for module in closure:
        path = module_path(module)
        digest.update(f"\0{module}\0".encode() + path.read_bytes())
    data_files = {f for m in closure for f in MODULE_DATA_FILES.get(m, ())}
    for name in sorted(data_files | {str(f) for f in files}):
        digest.update(f"\0{name}\0".encode() + (PROJECT_ROOT / name).read_bytes())
    for part in extra:
        digest.update(f"\0{part}".encode())
    return digest.hexdigest()[:16]
