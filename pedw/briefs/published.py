"""Which brief files a publication may carry: those briefs.index names, each the file its run
wrote, from the very tables being published.

A brief run writes its files into a folder of its own, `<store>/_briefs/<run id>/`, and only
then writes the economy's briefs.index row (its run, the SHA-256 of each file, the
fingerprints of the tables it read). Files a killed or interrupted run wrote are therefore in
a folder no index row names, and are never published; a file edited afterwards, or a brief
whose tables have changed since, is refused at publication and rebuilt by the next run.

The cross-country annex (pedw.briefs.annex) is one more row of briefs.index, key ANNEX, built
once per publication by its own run and checked the same way against the tables it reads; the
country briefs link to it, so none is published without it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pedw.digest import file_sha256
from pedw.settings import Settings
from pedw.store import Store

if TYPE_CHECKING:
    import pandas as pd

# The cross-country annex's key in briefs.index and the stem of its files (<ANNEX>.html,
# <ANNEX>.pdf): never an economy code (those are three capital letters).
ANNEX = "cross_country"


class BriefMismatchError(RuntimeError):
    """Brief files that do not belong to the publication being built: never published."""


@dataclass(frozen=True)
class IndexedBrief:
    """One economy's row of briefs.index: what its run wrote and read."""

    country: str
    run_id: str
    files: dict[str, str]  # file name -> SHA-256
    fingerprints: str  # "table=hash;..." of the tables it was built from


def brief_run_dir(settings: Settings, run_id: str) -> Path:
    """The folder a brief run writes its files into."""
    return settings.briefs_build_dir / run_id


def pack(pairs: dict[str, str]) -> str:
    """`name=value;...`: how briefs.index holds file hashes and table fingerprints."""
    return ";".join(f"{name}={value}" for name, value in pairs.items())


def unpack(text: str | None) -> dict[str, str]:
    return dict(item.split("=", 1) for item in (text or "").split(";") if "=" in item)


def indexed_briefs(store: Store) -> dict[str, IndexedBrief]:
    """briefs.index as the store holds it, by economy (empty when no brief was built)."""
    if not store.exists("briefs", "index"):
        return {}
    con = store.connect()
    try:
        columns = {r[0] for r in con.execute("DESCRIBE briefs.index").fetchall()}
        hashes = "files_sha256" if "files_sha256" in columns else "NULL"
        rows = con.execute(
            f"SELECT country, run_id, {hashes}, input_fingerprints FROM briefs.index"
        ).fetchall()
    finally:
        con.close()
    return {
        country: IndexedBrief(country, run_id, unpack(files), fingerprints or "")
        for country, run_id, files, fingerprints in rows
    }


def indexed_frame(store: Store) -> pd.DataFrame:
    """briefs.index's country, files_sha256, publication_id (the publication each brief was
    built in) and run_id, as the store holds them (no rows when no brief was built)."""
    import pandas as pd

    columns = ["country", "files_sha256", "publication_id", "run_id"]
    if not store.exists("briefs", "index"):
        return pd.DataFrame(columns=columns)
    con = store.connect()
    try:
        return con.execute(f"SELECT {', '.join(columns)} FROM briefs.index ORDER BY country").df()
    finally:
        con.close()


def current_fingerprints(store: Store, annex: bool = False) -> str:
    """The fingerprints of the tables a country brief (or the annex) reads, as the store holds
    them now."""
    from pedw.briefs.inputs import (  # pandas: only when checking
        ANNEX_TABLES,
        BRIEF_TABLES,
        table_fingerprint,
    )

    con = store.connect()
    try:
        built = {(s, t) for s, t in store.tables()}
        return pack(
            {
                f"{schema}.{name}": table_fingerprint(con, schema, name)
                for schema, name in (ANNEX_TABLES if annex else BRIEF_TABLES)
                if (schema, name) in built
            }
        )
    finally:
        con.close()


def missing_briefs(store: Store, settings: Settings, countries: list[str]) -> list[str]:
    """Economies of `countries` with no briefs.index row or a file it names missing."""
    indexed = indexed_briefs(store)
    return [
        country
        for country in countries
        if country not in indexed
        or not indexed[country].files
        or not all(
            (brief_run_dir(settings, indexed[country].run_id) / name).is_file()
            for name in indexed[country].files
        )
    ]


def brief_problems(
    store: Store,
    settings: Settings,
    countries: list[str] | None = None,
    hash_files: bool = True,
) -> dict[str, str]:
    """Why each economy's brief (of `countries`, default every indexed one, the annex among
    them) may not be published with the store's tables as they are: no index row, a file
    missing or not as its run wrote it (`hash_files`), or built from other table contents.
    Empty when all belong."""
    indexed = indexed_briefs(store)
    wanted = list(indexed) if countries is None else countries
    if not wanted:
        return {}
    fingerprints = current_fingerprints(store)
    annex_fingerprints = current_fingerprints(store, annex=True) if ANNEX in wanted else ""
    problems = {}
    for country in wanted:
        brief = indexed.get(country)
        if brief is None:
            problems[country] = (
                "no cross-country annex built" if country == ANNEX else "no brief built"
            )
            continue
        folder = brief_run_dir(settings, brief.run_id)
        if not brief.files:
            problems[country] = "built by an older pedw (no file hashes in briefs.index)"
        elif missing := [n for n in brief.files if not (folder / n).is_file()]:
            problems[country] = f"{missing[0]} missing from {folder}"
        elif hash_files and (
            changed := [n for n, sha in brief.files.items() if file_sha256(folder / n) != sha]
        ):
            problems[country] = (
                f"{changed[0]} in {folder} is not the file run {brief.run_id} wrote "
                "(its SHA-256 differs from briefs.index)"
            )
        elif brief.fingerprints != (
            expected := annex_fingerprints if country == ANNEX else fingerprints
        ):
            changed = sorted(
                name
                for name, value in unpack(expected).items()
                if unpack(brief.fingerprints).get(name) != value
            )
            problems[country] = (
                f"built by run {brief.run_id} from other contents of "
                f"{', '.join(changed) or 'its tables'} than this publication holds"
            )
    return problems


def verified_brief_files(store: Store, settings: Settings) -> list[Path]:
    """Every file of the brief of every economy briefed now, and of the cross-country annex
    they link to, each checked against briefs.index and the tables being published; raises
    BriefMismatchError naming each economy (or the annex) refused and why. Index rows of
    economies no longer briefed (too little data now) leave the store, and so does the
    annex's row when its files or tables do not match: its asset then has no output, and
    the next run builds it again."""
    indexed = indexed_briefs(store)
    if not indexed:
        return []
    briefed = set(briefed_economies(store)) | {ANNEX}
    for country in set(indexed) - briefed:
        Store.remove(store.table_dir("briefs", "index") / f"{country}.parquet")
    published = briefed & set(indexed)
    wanted = sorted(published | ({ANNEX} if published - {ANNEX} else set()))
    problems = brief_problems(store, settings, wanted)
    if ANNEX in problems and ANNEX in indexed:
        Store.remove(store.table_dir("briefs", "index") / f"{ANNEX}.parquet")
    if problems:
        listed = "; ".join(f"{c}: {why}" for c, why in sorted(problems.items())[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise BriefMismatchError(
            f"{len(problems)} briefs do not belong to this publication, which was not made "
            f"current: {listed}{more}. Run `pedw run` again to rebuild them."
        )
    return [
        brief_run_dir(settings, brief.run_id) / name
        for country, brief in sorted(indexed.items())
        if country in published
        for name in brief.files
    ]


def briefed_economies(store: Store) -> list[str]:
    """The economies with enough national data for a brief (pedw.briefs.eligibility)."""
    frame = brief_eligibility(store)
    return frame.loc[frame["eligible"], "country"].tolist() if len(frame) else []


def withheld_economies(store: Store) -> pd.DataFrame:
    """The economies of the national panel that get no brief, each with the reason and the
    sources searched for what it lacks (meta.briefs_withheld)."""
    import pandas as pd

    from pedw.briefs.eligibility import WITHHELD_COLUMNS

    frame = brief_eligibility(store)
    if not len(frame):
        return pd.DataFrame(columns=list(WITHHELD_COLUMNS)).astype(WITHHELD_COLUMNS)
    return frame.loc[~frame["eligible"], list(WITHHELD_COLUMNS)].reset_index(drop=True)


def brief_eligibility(store: Store) -> pd.DataFrame:
    """pedw.briefs.eligibility's verdict on every economy of the store's national panel
    (empty when the store has none)."""
    import pandas as pd

    from pedw.briefs.eligibility import load_eligibility

    if not store.exists("marts", "national_panel"):
        return pd.DataFrame()
    con = store.connect()
    try:
        return load_eligibility(con)
    finally:
        con.close()


def unreferenced_brief_builds(store: Store, settings: Settings) -> list[Path]:
    """Brief run folders no briefs.index row names (a killed run's, superseded runs') and
    loose files of the layout before run folders: never published, safe to remove while no
    run builds briefs."""
    root = settings.briefs_build_dir
    if not root.is_dir():
        return []
    try:
        kept = {brief.run_id for brief in indexed_briefs(store).values()}
    except duckdb.Error:
        return []  # an unreadable index: nothing can be told unreferenced, so nothing goes
    return [
        entry
        for entry in root.iterdir()
        if (entry.is_dir() and entry.name not in kept) or entry.is_file()
    ]


def prune_brief_builds(store: Store, settings: Settings) -> None:
    """Remove what :func:`unreferenced_brief_builds` finds."""
    for entry in unreferenced_brief_builds(store, settings):
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
