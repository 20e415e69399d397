"""Every publication a warehouse has made, and which brief files each release carries.

A brief states the publication it was built in. A later run whose tables for that brief did
not change does not rebuild it: its release carries the same file, byte for byte. So a
release's briefs may come from several publications, and the release that built a brief may
since have been pruned (two releases are kept). Two records keep the id a brief prints
traceable:

* the publication log, one JSON file per publication made current, in
  `<store>/_publications/` (published in every release as `meta.publications`);
* the release's brief manifest: each brief file it carries, its SHA-256, and the publication
  and run that built it (`meta.brief_files`, and `brief_files.csv` in the public release).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pandas as pd

from pedw.store import Store

LOG_FOLDER = "_publications"
LOG_COLUMNS = ("publication_id", "run_id", "published_at", "briefs_built", "briefs_carried")
MANIFEST_COLUMNS = ("release_publication_id", "country", "file", "sha256",
                    "built_in_publication_id", "built_by_run", "carried_over",
                    "built_in_published_at")  # fmt: skip


def log_dir(store: Store) -> Path:
    return store.root / LOG_FOLDER


def publication_log(store: Store) -> pd.DataFrame:
    """Every publication recorded for this store, oldest first (LOG_COLUMNS)."""
    entries = []
    folder = log_dir(store)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entries.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a file being written by a killed run: not a publication
    frame = pd.DataFrame(entries, columns=list(LOG_COLUMNS))
    return frame.sort_values("published_at", kind="stable").reset_index(drop=True)


def record_publication(store: Store, entry: dict) -> Path:
    """Add one publication (LOG_COLUMNS) to the log, written atomically; the file name sorts
    by publication time."""
    folder = log_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = pd.Timestamp(entry["published_at"]).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}_{entry['publication_id']}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({k: entry.get(k) for k in LOG_COLUMNS}), encoding="utf-8")
    os.replace(temporary, path)
    return path


def seed_from_release(store: Store, warehouse: Path) -> None:
    """Log the publications the current release records but the log does not (a warehouse
    published before the log existed): its meta.publications, else its meta.publication."""
    if not warehouse.is_file():
        return
    known = set(publication_log(store)["publication_id"])
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'meta'"
        ).fetchall()}  # fmt: skip
        source = "meta.publications" if "publications" in tables else "meta.publication"
        if source.split(".")[1] not in tables:
            return
        columns = {r[0] for r in con.execute(f"DESCRIBE {source}").fetchall()}
        rows = con.execute(
            f"SELECT {', '.join(c if c in columns else f'NULL AS {c}' for c in LOG_COLUMNS)} "
            f"FROM {source}"
        ).df()
    except duckdb.Error:
        return
    finally:
        con.close()
    for row in rows.to_dict("records"):
        if row["publication_id"] not in known and row["published_at"] is not None:
            row["published_at"] = pd.Timestamp(row["published_at"]).isoformat()
            record_publication(store, row)


def brief_manifest(
    index: pd.DataFrame, release_id: str, log: pd.DataFrame, carried: set[str] | None = None
) -> pd.DataFrame:
    """The brief files release `release_id` carries (MANIFEST_COLUMNS), one row per file:
    from the briefs.index rows of the briefs it publishes (`index`: country, files_sha256,
    publication_id, run_id) and the publication log (when each building publication was made
    current; empty when it never was, e.g. its run stopped before publishing). `carried`
    limits the rows to those economies."""
    from pedw.briefs.published import unpack

    published = dict(zip(log["publication_id"], log["published_at"], strict=True))
    rows = [
        {
            "release_publication_id": release_id,
            "country": brief.country,
            "file": f"briefs/{name}",
            "sha256": sha,
            "built_in_publication_id": brief.publication_id,
            "built_by_run": brief.run_id,
            "carried_over": brief.publication_id != release_id,
            "built_in_published_at": published.get(brief.publication_id),
        }
        for brief in index.itertuples()
        if carried is None or brief.country in carried
        for name, sha in unpack(brief.files_sha256).items()
    ]
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
