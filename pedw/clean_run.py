"""What the last clean `pedw run` of a warehouse was built from and left behind, so that a run
with nothing changed can say so in a fraction of a second, without starting Dagster.

A clean run records, beside its Dagster history, a fingerprint of its inputs taken when it
started (settings, the catalog, every source file's identity, pedw's code and contracts) and
of what it left (the published warehouse, the store, the public release). Every run forgets
the record when it starts, so the record exists only while the last run that started on the
warehouse finished clean. A later run whose fingerprint is identical has nothing to do: Dagster
would find every asset current. Anything else (a changed byte of code, a touched source file, a
store file edited or removed, a URL source that must be asked for a new release, a killed or
failed run since) goes the whole way through Dagster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from pedw.catalog import Catalog
from pedw.run_lock import WarehouseBusyError, exclusive_run
from pedw.settings import PROJECT_ROOT, Settings

# What pedw's behaviour is made of, besides the catalog and its sources.
CODE = ("pedw", "assets", "pipelines", "data_contracts", "dagster.yaml", "pyproject.toml")
RECORD_VERSION = 1
# Already in the fingerprint's "settings": the same value must not count twice.
SETTINGS_EXPORTED = ("PEDW_CATALOG", "PEDW_WAREHOUSE", "PEDW_PUBLIC_DIR")
# Working folders of a run, never part of its result.
TRANSIENT = ("_spill", "_scratch")


def record_path(settings: Settings) -> Path:
    return settings.dagster_storage / "last_clean_run.json"


def run_inputs(settings: Settings, catalog: Catalog) -> dict | None:
    """The fingerprint of what a run reads; None when it cannot be known without running
    (a URL source: only its server knows whether a new release is out)."""
    sources = []
    for source in catalog.sources:
        if source.url and not source.path:
            return None
        sources += [[source.name, *_identity(path)] for path in source.files()]
    return {
        "version": RECORD_VERSION,
        "settings": {name: str(value) for name, value in asdict(settings).items()},
        "environment": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith(("PEDW_", "DAGSTER_")) and k not in SETTINGS_EXPORTED
        },
        "catalog": _identity(settings.catalog_path),
        "sources": sources,
        "code": _code_digest(),
    }


def run_outputs(settings: Settings) -> dict:
    """The fingerprint of what a run leaves: the published warehouse, the store, the public
    release (every file's size and modification time)."""
    return {
        "warehouse": _identity(settings.warehouse_path),
        "current": os.readlink(settings.current_link) if settings.current_link.is_symlink() else "",
        "store": _tree(settings.store_dir),
        "public": _tree(settings.public_dir),
    }


def forget_clean_run(settings: Settings) -> None:
    """Called when a run starts: until it finishes clean, nothing vouches for the warehouse."""
    record_path(settings).unlink(missing_ok=True)


def record_clean_run(settings: Settings, inputs: dict | None, publication_id: str) -> None:
    """Record a clean run: `inputs` as it started, its outputs as it finishes."""
    if inputs is None:
        return
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "inputs": inputs,
        "outputs": run_outputs(settings),
        "publication_id": publication_id,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record))
    os.replace(temporary, path)


def unchanged_since_clean_run(settings: Settings, catalog: Catalog) -> dict | None:
    """The record of the last clean run when nothing has changed since (run it again and
    Dagster would find every asset current); None otherwise."""
    try:
        record = json.loads(record_path(settings).read_text())
    except (OSError, ValueError):
        return None
    inputs = run_inputs(settings, catalog)
    if inputs is None or record.get("inputs") != inputs:
        return None
    if record.get("outputs") != run_outputs(settings):
        return None
    return record


def _identity(path: Path) -> list:
    """A file as the kernel knows it: replaced, rewritten or touched, one of these changes
    (the change time cannot be set back by any tool that edits the file)."""
    try:
        stat = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _tree(root: Path) -> list:
    """Every file under `root` (but working folders), with its identity, relative names."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in TRANSIENT)
        for name in sorted(files):
            path = Path(folder) / name
            found.append([str(path.relative_to(root)), *_identity(path)[1:]])
    return found


def _code_digest() -> str:
    """SHA-256 over pedw's code, assets, pipelines and contracts (names and bytes)."""
    digest = hashlib.sha256()
    for entry in CODE:
        root = PROJECT_ROOT / entry
        paths = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def current_clean_run(settings: Settings, catalog: Catalog) -> dict | None:
    """The last clean run's record when nothing changed since, checked while holding the
    warehouse; None when something did, or another run holds it."""
    try:
        # Nothing to clean up here: a killed run's leftovers come with a removed record.
        with exclusive_run(settings, clean_up=False):
            return unchanged_since_clean_run(settings, catalog)
    except WarehouseBusyError:
        return None  # the full path reports it (or waits, with --wait)
