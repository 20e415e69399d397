"""Publication as one unit: the warehouse file and the briefs of one run, switched in together.

Each publication is built as a folder of its own, `<stem>_releases/<id>/` (the DuckDB file and
`briefs/`), and made current by one atomic rename of the `<stem>_current` symlink. The paths
readers use never change: `<folder>/<name>.duckdb` and `<folder>/briefs` are symlinks through
`<stem>_current`, so a reader sees the tables and briefs of one publication, never a mix, and a
run killed at any moment leaves the last complete publication in place. Readers that opened
an older release keep reading it; the two newest releases are kept, older ones removed.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pedw.briefs.published import (
    prune_brief_builds,
    unpack,
    verified_brief_files,
    withheld_economies,
)
from pedw.publication_log import (
    brief_manifest,
    publication_log,
    record_publication,
    seed_from_release,
)
from pedw.publication_status import OUT_OF_SCOPE
from pedw.seal import SealState, check_seal, write_seal
from pedw.settings import Settings
from pedw.store import Store
from pedw.warehouse import Publication, connect_read_only, publish

if TYPE_CHECKING:
    import pandas as pd

KEEP_RELEASES = 2


def publish_release(
    store: Store,
    settings: Settings,
    publication_id: str,
    run_id: str,
    table_status: pd.DataFrame | None = None,
) -> Publication:
    """Build release `publication_id` (warehouse from the store, with `table_status` as
    meta.table_status; the briefs built, hard-linked) and make it current in one rename."""
    started = time.perf_counter()
    folder = settings.releases_dir
    folder.mkdir(parents=True, exist_ok=True)
    name = (
        publication_id
        if not (folder / publication_id).exists()
        else f"{publication_id}-{run_id[:8]}"
    )
    building = folder / f".{name}.building"
    (building / "briefs").mkdir(parents=True)
    briefs = verified_brief_files(store, settings)  # before the index is copied
    seed_from_release(store, settings.warehouse_path)  # a warehouse from before the log
    entry, records = publication_records(store, publication_id, run_id, briefs)
    publication = publish(
        store,
        building / settings.warehouse_path.name,
        run_id,
        publication_id=publication_id,
        table_status=table_status,
        records=records,
    )
    write_seal(building / settings.warehouse_path.name)  # checked by every later run
    for brief in briefs:
        link_or_copy(brief, building / "briefs" / brief.name)
    os.replace(building, folder / name)
    _switch(settings.current_link, Path(folder.name) / name)
    _link_reader_paths(settings)
    record_publication(store, entry)  # once current: the log holds publications made
    _prune(folder, keep=name)
    prune_brief_builds(store, settings)
    return Publication(
        folder / name / settings.warehouse_path.name,
        run_id,
        publication.tables,
        time.perf_counter() - started,
    )


def publication_records(
    store: Store, publication_id: str, run_id: str, briefs: list[Path]
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """This publication's log entry, and the meta tables that make its briefs traceable:
    `publications` (the log, this one included), `brief_files` (each brief file of
    `briefs` and the publication that built it; pedw.publication_log) and `briefs_withheld`
    (the economies that get no brief, and why; pedw.briefs.eligibility). A publication
    already logged (the public tier, after the internal release) keeps its entry."""
    import pandas as pd

    from pedw.briefs.published import ANNEX, indexed_frame

    carried = {path.name for path in briefs}
    index = indexed_frame(store)
    # A boolean mask, not a list: an empty list would select no *columns* of a briefless index.
    kept = pd.Series(
        [bool(files) and set(unpack(files)) <= carried for files in index["files_sha256"]],
        index=index.index, dtype=bool,
    )  # fmt: skip
    index = index.loc[kept]
    log = publication_log(store)
    logged = log[log["publication_id"] == publication_id]
    if len(logged):
        entry = logged.iloc[-1].to_dict()
    else:
        economies = index[index["country"] != ANNEX]
        entry = {
            "publication_id": publication_id,
            "run_id": run_id,
            "published_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "briefs_built": int((economies["publication_id"] == publication_id).sum()),
            "briefs_carried": int((economies["publication_id"] != publication_id).sum()),
        }
        log = pd.concat([log, pd.DataFrame([entry])], ignore_index=True)
    log["published_at"] = pd.to_datetime(log["published_at"], utc=True, format="ISO8601")
    manifest = brief_manifest(index, publication_id, log)
    withheld = withheld_economies(store)  # the economies with no brief, and why
    return entry, {"publications": log, "brief_files": manifest, "briefs_withheld": withheld}


def link_published_briefs(store: Store, settings: Settings, target: Path) -> list[Path]:
    """Link into a release's `target` the brief files briefs.index names, once each was
    verified to be the file its run wrote from the tables being published
    (pedw.briefs.published); raises BriefMismatchError otherwise. Returns the files linked
    (where their run wrote them)."""
    files = verified_brief_files(store, settings)
    for source in files:
        link_or_copy(source, target / source.name)
    return files


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no bytes copied), or a copy where the store is on another filesystem."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _switch(link: Path, target: Path) -> None:
    """Point `link` at `target` atomically (a new symlink renamed over the old one)."""
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}.tmp")
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _link_reader_paths(settings: Settings) -> None:
    """Make the warehouse path and the briefs folder symlinks through the current release
    (once; a real file or folder there from an older pedw is replaced)."""
    current = Path(settings.current_link.name)
    for path, target in (
        (settings.warehouse_path, current / settings.warehouse_path.name),
        (settings.briefs_dir, current / "briefs"),
    ):
        if path.is_symlink() and Path(os.readlink(path)) == target:
            continue
        if path.is_dir() and not path.is_symlink():  # briefs of an unversioned publication
            path.rename(path.with_name(f".{path.name}.{uuid.uuid4().hex}.old"))
        _switch(path, target)
    for old in settings.warehouse_path.parent.glob(f".{settings.briefs_dir.name}.*.old"):
        shutil.rmtree(old, ignore_errors=True)


def _prune(folder: Path, keep: str) -> None:
    """Remove all but the KEEP_RELEASES newest complete releases (never `keep`)."""
    releases = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime_ns,
        reverse=True,
    )
    for old in releases[KEEP_RELEASES:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def current_release(settings: Settings) -> Path | None:
    """The folder of the current publication, if any."""
    link = settings.current_link
    return link.resolve() if link.is_symlink() else None


def published_changed(
    path: Path, what: str = "the published warehouse", seal: Path | None = None
) -> str | None:
    """Why the published file at `path` (the warehouse, the public extract) is not the file
    its publication wrote and sealed (beside it, or at `seal`): edited in place, replaced,
    removed, in one line; None when it is. Cheap unless the file's identity moved
    (pedw.seal)."""
    state = check_seal(path.resolve(), seal) if path.exists() else SealState.MISSING
    if state == SealState.INTACT:
        return None
    return {
        SealState.MISSING: f"{what} {path} is missing",
        SealState.CHANGED: f"{what} {path} was changed after publication (its SHA-256 "
        "differs from the seal written when it was published)",
        SealState.UNSEALED: f"{what} {path} has no seal (published by an older pedw, or "
        "replaced by hand)",
    }[state]


def degraded_publication(settings: Settings) -> str | None:
    """Why the current publication is not whole, in one line (tables kept from earlier runs
    or missing for a failure, as its meta.table_status says); None when it is whole. A run
    after a degraded publication publishes again, even when every asset is current."""
    try:
        con = connect_read_only(settings.warehouse_path)
    except (duckdb.Error, OSError):
        return None  # nothing readable published: published_ok says so
    try:
        stale, absent = con.execute(
            "SELECT count(*) FILTER (status = 'stale'), "
            "count(*) FILTER (status = 'absent' AND reason <> $scope) FROM meta.table_status",
            {"scope": OUT_OF_SCOPE},
        ).fetchone()
    except duckdb.Error:
        return None  # a publication without table status (materialized from the UI)
    finally:
        con.close()
    if not stale and not absent:
        return None
    return (
        f"the last publication was not whole ({stale} tables kept from earlier runs, {absent} "
        "missing): publishing again"
    )


def published_ok(settings: Settings) -> bool:
    """Whether the warehouse path opens as a DuckDB warehouse holding a publication (a file
    damaged or replaced by hand is not, and is published again)."""
    if not settings.warehouse_path.is_file():
        return False
    try:
        con = connect_read_only(settings.warehouse_path)
        try:
            return con.execute("SELECT count(*) FROM meta.publication").fetchone()[0] == 1
        finally:
            con.close()
    except duckdb.Error:
        return False


def unfinished_releases(settings: Settings) -> list[Path]:
    """Release folders a killed publication left half-built (internal and public), their
    temporary symlinks, and the briefs folder of an unversioned publication being replaced."""
    parent, public = settings.warehouse_path.parent, settings.public_dir
    return (
        list(settings.releases_dir.glob(".*.building"))
        + [p for p in parent.glob(".*.tmp") if p.is_symlink()]
        + list(parent.glob(f".{settings.briefs_dir.name}.*.old"))
        + list((public / "releases").glob(".*.building"))  # the public tier's, likewise
        + [p for p in public.glob(".*.tmp") if p.is_symlink()]
    )
