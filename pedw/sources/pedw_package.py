"""Format `pedw_package`: an office's aggregate package folder (pedw.federated.package), as
the centre reads it. A catalog entry's path is a package folder or a glob of them; the
centre's pipeline (pipelines/centre.py) loads each folder as one office partition."""

from __future__ import annotations

from pathlib import Path

from pedw.federated.package import Package, verify_package
from pedw.source import Source


def load_pedw_package(source: Source, path: Path) -> Package:
    """The verified package at `path` (PackageError, one line, when its manifest does not
    verify or its version or format is not this pedw's)."""
    return verify_package(path)


def answer_files(source: Source) -> list[Path]:
    """The offices' round-two answer files the entry's `options.answers` names (a path or a
    glob, relative to the catalog's folder), sorted; none without the option."""
    pattern = source.options.get("answers")
    if not pattern:
        return []
    return [p for p in Source(source.name, source.level, "", path=pattern,
                              base_dir=source.base_dir).files() if p.is_file()]  # fmt: skip
