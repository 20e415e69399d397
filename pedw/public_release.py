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
from pedw.release import _prune, _switch, link_published_briefs, publication_records
from pedw.seal import write_seal
from pedw.settings import Settings
from pedw.store import Store, offline_connection

# Every table of the public extract and the query that selects it from the store: nothing
# else may be in a public release. Firm-derived tables come from disclosure.* only.
NATIONAL_ESTIMATES = (
    "SELECT * EXCLUDE (run_id, input_fingerprint) FROM models.estimates WHERE level <> 'enterprise'"
)
PUBLIC_TABLES = {
    "national.panel": "SELECT * FROM marts.national_panel",
    "national.series_metadata": "SELECT * FROM staging.series_metadata",
    "sector.panel": "SELECT * FROM marts.sector_panel",
    "sector.shift_share": "SELECT * EXCLUDE (run_id) FROM models.shift_share",
    # Firm-level rows as disclosure control released them (pedw.disclosure.estimates:
    # published models and terms only, perturbed and rounded, fit details blank).
    "models.estimates": f"{NATIONAL_ESTIMATES} UNION ALL BY NAME SELECT * EXCLUDE (run_id, "
    "input_fingerprint) FROM disclosure.estimates",
    "firms.effects": "SELECT * EXCLUDE (run_id) REPLACE ("
    + ", ".join(
        f"CASE WHEN status = 'published' THEN {c} END AS {c}"
        for c in ("treated_firms", "control_firms", "treated_countries")
    )
    + ") FROM disclosure.effects",
    "firms.effect_terms": "SELECT * EXCLUDE (run_id) FROM disclosure.effect_terms",
    "firms.sme_gap_cells": "SELECT * EXCLUDE (run_id) FROM disclosure.sme_gap_cells",
    "firms.sme_gap_trend": "SELECT * EXCLUDE (run_id) FROM disclosure.sme_gap_trend",
    "firms.indicators": "SELECT * EXCLUDE (run_id) FROM disclosure.firm_indicators",
    "firms.disclosure_outcomes": "SELECT figure, measure, country, year, size_class, model_id, "
    "term, status, reason FROM disclosure.audit",
}
FIRM_COLUMNS = {"firm_id", "firm_name", "establishment_id", "idstd"}
# Released firm tables and the columns that name a figure: every other column of a row whose
# status (or <measure>_status) is not 'published' must be blank, whatever it is called.
GUARDED = {
    "firms.sme_gap_cells": ("country", "year", "size_class"),
    "firms.sme_gap_trend": ("country", "outcome", "size_class"),
    "firms.indicators": ("country", "year", "indicator", "statistic"),
    "firms.effects": ("model_id",),
    "firms.effect_terms": ("model_id", "term"),
}
# Counts of published figures and the rule's threshold each must reach.
CONTRIBUTORS = {
    "firms.sme_gap_cells": {"productivity_contributors": "min_contributors",
                            "wage_contributors": "min_contributors"},
    "firms.sme_gap_trend": {"contributors": "min_contributors"},
    "firms.indicators": {"contributors": "min_contributors"},
    "firms.effects": {"treated_firms": "min_treated"},
    "firms.effect_terms": {"treated_firms": "min_treated"},
}  # fmt: skip
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
    tables = _write_extract(store, building, rule)
    briefs = link_published_briefs(store, settings, building / "briefs")
    _write_records(store, building, publication_id, briefs)
    files = check_public_release(building, _firm_ids(store), rule)
    # Checked by every later run; kept with the internal files, not in the public folder.
    write_seal(building / "public.duckdb", seal=settings.public_seal)
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


def _write_records(store: Store, folder: Path, publication_id: str, briefs: list[Path]) -> None:
    """brief_files.csv (each brief file of this release and the publication that built it)
    and publications.csv (every publication of the warehouse): what makes the id a brief
    prints traceable when the release carries a brief built by an earlier publication."""
    _entry, records = publication_records(store, publication_id, "", briefs)
    for name, frame in records.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def _write_extract(store: Store, folder: Path, rule: DisclosureRule) -> dict[str, int]:
    """public.duckdb and one Parquet file per table, from the store's current tables."""
    con = store.connect()
    try:
        con.execute(f"ATTACH '{folder / 'public.duckdb'}' AS public")
        counts = {}
        for name, query in public_queries(con, rule):
            schema, table = name.split(".")
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


def public_queries(con: duckdb.DuckDBPyConnection, rule: DisclosureRule) -> list[tuple[str, str]]:
    """(table, query) of each public table the store's tables can give: a catalog without a
    level (no firm data, no sector source) has none of its tables, and without firm data the
    public models.estimates holds the national and sector models."""
    found = []
    for name, template in PUBLIC_TABLES.items():
        query = template.replace("{decimals}", str(int(rule.gap_decimals)))
        if name == "models.estimates" and not _sources_exist(con, query):
            query = NATIONAL_ESTIMATES
        if _sources_exist(con, query):
            found.append((name, query))
    return found


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
        columns = [r[0] for r in described]
        for status, values in _guarded(columns, GUARDED.get(name)).items():
            leaked = con.execute(
                f"SELECT count(*) FROM {relation} WHERE {status} <> 'published' AND ("
                + " OR ".join(f'"{v}" IS NOT NULL' for v in values)
                + ")"
            ).fetchone()[0]
            if leaked:
                raise PublicReleaseError(
                    f"{where}: {name} shows values of {leaked} suppressed figure(s)"
                )
        for column, threshold in CONTRIBUTORS.get(name, {}).items():
            least = getattr(rule, threshold)
            thin = con.execute(f"SELECT count(*) FROM {relation} WHERE {column} < ?",
                               [least]).fetchone()[0]  # fmt: skip
            if thin:
                raise PublicReleaseError(
                    f"{where}: {name} publishes {thin} figure(s) on fewer than {least} firms"
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


def _guarded(columns: list[str], keys: tuple[str, ...] | None) -> dict[str, list[str]]:
    """Each status column of a released firm table and the columns it guards: for `status`,
    every column but the keys and the reason; for `<measure>_status`, every `<measure>_`
    column but its status and reason."""
    if keys is None:
        return {}
    guarded = {}
    for status in (c for c in columns if c == "status" or c.endswith("_status")):
        prefix = status[: -len("status")]
        guarded[status] = [
            c
            for c in columns
            if c.startswith(prefix)
            and c not in keys
            and not c.endswith(("status", "reason"))
            and (prefix or not any(c.startswith(s[: -len("status")]) for s in columns
                                   if s.endswith("_status")))
        ]  # fmt: skip
    return guarded
