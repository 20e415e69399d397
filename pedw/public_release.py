"""The public tier: what may be read by anyone, built apart from the microdata.

`<public dir>/releases/<id>/` holds the briefs (HTML, PDF, chart CSVs), `public.duckdb` and
the same tables as Parquet: national and sector data and models, and firm-derived figures
only as disclosure control released them (disclosure.*). It is checked before it is made
current (one rename of `<public dir>/current`): a release holding a firm-level row, a firm
identifier, a table not on the list, or a suppressed value is refused and never published.
The internal warehouse (`pedw.duckdb`, microdata included) is for analysts with access.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pedw.disclosure.rules import DisclosureRule
from pedw.release import _prune, _switch, link_published_briefs
from pedw.settings import Settings
from pedw.store import Store, offline_connection

# Every table of the public extract and the query that selects it from the store: nothing
# else may be in a public release. Firm-derived tables come from disclosure.* only.
PUBLIC_TABLES = {
    "national.panel": "SELECT * FROM marts.national_panel",
    "national.series_metadata": "SELECT * FROM staging.series_metadata",
    "sector.panel": "SELECT * FROM marts.sector_panel",
    "sector.shift_share": "SELECT * EXCLUDE (run_id) FROM models.shift_share",
    "models.estimates": "SELECT * EXCLUDE (run_id, input_fingerprint) FROM models.estimates "
    "WHERE level <> 'enterprise' OR model_id IN "
    "(SELECT model_id FROM disclosure.effects WHERE status = 'published')",
    "firms.effects": "SELECT * EXCLUDE (run_id) FROM disclosure.effects",
    "firms.sme_gap_cells": "SELECT * EXCLUDE (run_id) FROM disclosure.sme_gap_cells",
    "firms.sme_gap_trend": "SELECT * EXCLUDE (run_id) FROM disclosure.sme_gap_trend",
    "firms.disclosure_outcomes": "SELECT figure, measure, country, year, size_class, model_id, "
    "status, reason FROM disclosure.audit",
}
FIRM_COLUMNS = {"firm_id", "firm_name", "establishment_id", "idstd"}
# Value columns of released firm tables that must be blank unless the row is published.
GUARDED = {
    "firms.sme_gap_cells": {
        "productivity_status": [
            "productivity_gap",
            "productivity_gap_se",
            "productivity_contributors",
        ],
        "wage_status": ["wage_gap", "wage_gap_se", "wage_contributors"],
    },
    "firms.sme_gap_trend": {
        "status": ["gap_first_year", "trend_per_year", "trend_se", "contributors"]
    },
}
CONTRIBUTORS = {"firms.sme_gap_cells": ["productivity_contributors", "wage_contributors"],
                "firms.sme_gap_trend": ["contributors"]}  # fmt: skip
ALLOWED_FILES = (".html", ".pdf", ".csv", ".duckdb", ".parquet")
TOKEN = re.compile(r"[A-Za-z0-9_-]{3,}")


class PublicReleaseError(RuntimeError):
    """A public release that would disclose microdata: never made current."""


@dataclass(frozen=True)
class PublicRelease:
    path: Path
    tables: dict[str, int]
    files: int
    seconds: float


def build_public_release(
    store: Store, settings: Settings, publication_id: str, rule: DisclosureRule
) -> PublicRelease:
    """Build, check and switch in the public release of `publication_id`."""
    started = time.perf_counter()
    root = settings.public_dir
    releases = root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    building = releases / f".{publication_id}.building"
    shutil.rmtree(building, ignore_errors=True)
    (building / "briefs").mkdir(parents=True)
    (building / "parquet").mkdir()
    tables = _write_extract(store, building)
    link_published_briefs(store, settings, building / "briefs")
    files = check_public_release(building, _firm_ids(store), rule)
    final = releases / publication_id
    if final.exists():
        shutil.rmtree(final)
    building.rename(final)
    _switch(root / "current", Path("releases") / publication_id)
    for name in ("briefs", "public.duckdb"):
        if not (root / name).is_symlink():
            _switch(root / name, Path("current") / name)
    _prune(releases, keep=publication_id)
    return PublicRelease(final, tables, files, time.perf_counter() - started)


def _write_extract(store: Store, folder: Path) -> dict[str, int]:
    """public.duckdb and one Parquet file per table, from the store's current tables."""
    con = store.connect()
    try:
        con.execute(f"ATTACH '{folder / 'public.duckdb'}' AS public")
        counts = {}
        for name, query in PUBLIC_TABLES.items():
            schema, table = name.split(".")
            if not _sources_exist(con, query):
                continue  # this catalog has no such level (no firm data, no sector source)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS public.{schema}")
            con.execute(f"CREATE TABLE public.{schema}.{table} AS {query}")
            con.execute(f"COPY public.{schema}.{table} TO '{folder / 'parquet' / name}.parquet' "
                        "(FORMAT parquet)")  # fmt: skip
            counts[name] = con.execute(f"SELECT count(*) FROM public.{schema}.{table}").fetchone()[
                0
            ]
        con.execute("DETACH public")
        return counts
    finally:
        con.close()


def _sources_exist(con: duckdb.DuckDBPyConnection, query: str) -> bool:
    named = set(re.findall(r"\b(marts|staging|models|disclosure)\.([a-z_]+)", query))
    present = set(
        con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    )
    return named <= present


def _firm_ids(store: Store) -> set[str]:
    """Every firm identifier the microdata hold (what no public file may contain)."""
    if not store.exists("staging", "enterprise_firms"):
        return set()
    con = store.connect()
    try:
        return {
            r[0]
            for r in con.execute("SELECT DISTINCT firm_id FROM staging.enterprise_firms").fetchall()
        }
    finally:
        con.close()


def check_public_release(folder: Path, firm_ids: set[str], rule: DisclosureRule) -> int:
    """Refuse (PublicReleaseError, naming the file and what it holds) a release with a table
    not on the list, a firm-level column, a firm identifier in any file, a value of a
    suppressed figure, or a published one below the contributor threshold. Returns the
    number of files checked."""
    checked = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        checked += 1
        where = path.relative_to(folder)
        if path.suffix not in ALLOWED_FILES:
            raise PublicReleaseError(
                f"{where}: a {path.suffix or 'extensionless'} file has no place in a public release"
            )
        if path.suffix in (".html", ".csv"):
            found = firm_ids & set(
                TOKEN.findall(path.read_text(encoding="utf-8", errors="replace"))
            )
            if found:
                raise PublicReleaseError(f"{where}: holds firm identifier(s) {sorted(found)[:3]}")
        elif path.suffix == ".parquet":
            _check_table(path.stem, f"read_parquet('{path}')", where, firm_ids, rule)
        elif path.suffix == ".duckdb":
            con = duckdb.connect(str(path), read_only=True)
            try:
                names = [f"{s}.{t}" for s, t in con.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables").fetchall()]  # fmt: skip
            finally:
                con.close()
            for name in names:
                _check_table(name, f"db.{name}", where, firm_ids, rule, database=path)
    return checked


def _check_table(name: str, relation: str, where: Path, firm_ids: set[str], rule: DisclosureRule,
                 database: Path | None = None) -> None:  # fmt: skip
    if name not in PUBLIC_TABLES:
        raise PublicReleaseError(f"{where}: table {name} is not on the public list")
    con = offline_connection()
    try:
        if database is not None:
            con.execute(f"ATTACH '{database}' AS db (READ_ONLY)")
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        firm_level = FIRM_COLUMNS & {r[0].lower() for r in described}
        if firm_level:
            raise PublicReleaseError(
                f"{where}: {name} has firm-level column(s) {sorted(firm_level)}"
            )
        for status, values in GUARDED.get(name, {}).items():
            leaked = con.execute(
                f"SELECT count(*) FROM {relation} WHERE {status} <> 'published' AND ("
                + " OR ".join(f"{v} IS NOT NULL" for v in values)
                + ")"
            ).fetchone()[0]
            if leaked:
                raise PublicReleaseError(
                    f"{where}: {name} shows values of {leaked} suppressed figure(s)"
                )
        for column in CONTRIBUTORS.get(name, []):
            thin = con.execute(f"SELECT count(*) FROM {relation} WHERE {column} < ?",
                               [rule.min_contributors]).fetchone()[0]  # fmt: skip
            if thin:
                raise PublicReleaseError(
                    f"{where}: {name} publishes {thin} figure(s) on fewer than {rule.min_contributors} firms"
                )
        text = [r[0] for r in described if r[1] == "VARCHAR"]
        for column in text if firm_ids else []:
            values = {
                r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM {relation}').fetchall()
            }
            if values & firm_ids:
                raise PublicReleaseError(f"{where}: {name}.{column} holds firm identifiers")
    finally:
        con.close()
