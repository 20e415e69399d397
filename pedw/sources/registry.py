"""Reading every file of a source with its format's loader (pedw.formats)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

import pyarrow as pa

from pedw.formats import FORMATS as FORMAT_TABLE
from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.fetch import FetchPolicy, fetch_snapshot, latest_snapshot, redact, snapshot_dir

# The format names (pedw.formats holds each one's loader, options and publisher).
FORMATS = frozenset(FORMAT_TABLE)


@cache
def loader(format_name: str) -> Callable:
    """The loader of a format, imported on first use: loader(source, path) returns one raw
    Arrow table, or an iterator of bounded tables when the format streams. pedw.code_versions
    counts this module as importing every loader module."""
    module, _, function = FORMAT_TABLE[format_name].loader.partition(":")
    return getattr(importlib.import_module(module), function)


def _issue(source: Source, where, kind: str, message: str) -> dict:
    return {"source_name": source.name, "source_file": str(where), "kind": kind, "message": message}


def source_files(source: Source, snapshots: Path | None = None) -> tuple[list[Path], list[dict]]:
    """The local files of a source: its path's matches, or the current snapshot of its URL.

    A URL source is fetched here (once per release, see pedw.sources.fetch); with no
    network, the last snapshot is used and a warning says so.
    """
    if not (source.url and not source.path):
        return source.files(), []
    if snapshots is None:
        raise ValueError(f"source {source.name}: a URL source needs the snapshots folder")
    policy = FetchPolicy(**source.options.get("fetch", {}))
    try:
        snapshot = fetch_snapshot(source.url, snapshots, policy)
    except SourceFileError as error:
        return [], [_issue(source, source.url, "refused", str(error))]
    issues = []
    if snapshot.status.startswith("offline"):
        issues.append(_issue(source, source.url, "warning", f"{source.url}: {snapshot.status}"))
    kept = latest_snapshot(source.url, snapshots) or {}
    modified = kept.get("headers", {}).get("Last-Modified")
    stated = f"{modified} (Last-Modified)" if modified else f"{snapshot.fetched_at[:10]} (fetched)"
    issues.append(_issue(source, source.url, "release", f"{redact(source.url)}: release {stated}"))
    return [snapshot.path], issues


def kept_files(source: Source, snapshots: Path) -> list[Path]:
    """The files a source would be read from now, without touching the network: its path's
    matches, or the last snapshot of its URL (none before the first fetch)."""
    if not (source.url and not source.path):
        return source.files()
    kept = latest_snapshot(source.url, snapshots)
    return [snapshot_dir(snapshots, source.url) / kept["file"]] if kept else []


def refresh_snapshots(sources: Iterable[Source], snapshots: Path) -> None:
    """Ask each URL source's server once for a new release (a conditional request), so
    that versions computed from the kept files see it."""
    for source in sources:
        if source.url and not source.path:
            source_files(source, snapshots)


def iter_source(
    source: Source, snapshots: Path | None = None
) -> Iterator[tuple[str, Path | None, pa.Table | dict]]:
    """Every file of a source read with its format's loader, block by block.

    Yields ("table", file, raw table) for each block read and ("issue", file, issue) for
    each problem: a file that cannot be loaded is refused (kind 'refused'; blocks it had
    already given must be dropped by the caller; the other files still load), unexpected
    extra columns are a 'warning'. Streaming formats give bounded blocks of a big file.
    """
    if source.format not in FORMATS:
        raise ValueError(
            f"source {source.name}: unknown format {source.format!r}; "
            f"known formats: {sorted(FORMATS)}"
        )
    files, issues = source_files(source, snapshots)
    for issue in issues:
        yield "issue", None, issue
    if issues and issues[0]["kind"] == "refused":
        return
    if not files:
        where = source.path or source.url or source.name
        yield "issue", None, _issue(source, where, "refused", f"{where}: no file matches this path")
        return
    for path in files:
        try:
            read = loader(source.format)
            if FORMAT_TABLE[source.format].streams:
                blocks = read(source, path)
            else:
                blocks = iter([read(source, path)])
            for number, table in enumerate(blocks):
                notes = table.schema.metadata or {}
                extra = notes.get(b"pedw_extra_columns")
                if extra and number == 0:
                    message = f"{path}: unexpected column(s) {extra.decode()} ignored"
                    yield "issue", path, _issue(source, path, "warning", message)
                # The catalog's release for this file, else the publisher's own statement.
                stated = source.file_release(Path(path).name)
                release = stated.encode() if stated else notes.get(b"pedw_release")
                if release and number == 0:
                    message = f"{path}: release {release.decode()}"
                    yield "issue", path, _issue(source, path, "release", message)
                yield "table", path, table.replace_schema_metadata(None)
        except SourceFileError as error:
            yield "issue", path, _issue(source, error.path, "refused", str(error))


def load_source(source: Source, snapshots: Path | None = None) -> tuple[list[pa.Table], list[dict]]:
    """Every file of a source as whole tables, and the issues met (see iter_source)."""
    tables: dict[Path, list[pa.Table]] = {}
    issues = []
    for kind, path, payload in iter_source(source, snapshots):
        if kind == "table":
            tables.setdefault(path, []).append(payload)
            continue
        issues.append(payload)
        if payload["kind"] == "refused":
            tables.pop(path, None)
    return [pa.concat_tables(blocks) for blocks in tables.values()], issues
