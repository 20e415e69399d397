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
from pedw.release_text import TEXT_FILES, small_counts_in, text_problem
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
    # The value chosen a cell of the panel: observed, modelled or projected, its source and
    # publisher flags (what a reader, or a centre's briefs, needs to tell a projection from a
    # figure). Its `status` is named `value_kind` here: a release's `status` column says
    # whether a figure was suppressed.
    "national.series_choice": "SELECT ref_area, variable, year, status AS value_kind, "
    "status_note, source_type, source_change, source, obs_status, variant "
    "FROM marts.series_choice WHERE chosen",
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
# The public schema of the firm-derived tables (models.estimates holds published rows only).
FIRM_SCHEMA = "firms."
# What may be filled on a suppressed row of any released table (one with a `status`,
# `<measure>_status` or `suppressed` column): the columns that name the figure, its status,
# the reason in words, and the `suppressed` flag. Every other column (value, standard error,
# interval, p-value, counts, a flag read from the value such as `widening`) must be blank.
KEY_COLUMNS = {"country", "year", "size_class", "outcome", "indicator", "statistic", "model_id",
               "term", "measure", "figure", "level", "series", "label"}  # fmt: skip
# Count columns, by how their name ends, and the rule's threshold a published count must reach.
COUNT_THRESHOLDS = {"contributors": "min_contributors", "treated_firms": "min_treated",
                    "control_firms": "min_control", "treated_countries": "min_countries"}  # fmt: skip
ALLOWED_FILES = (".html", ".pdf", ".csv", ".duckdb", ".parquet")


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
    """Refuse (PublicReleaseError, naming the file, and the page, line, table, row and column
    where it can) a release with a file type that has no place there, a table not on the
    list, a firm-level column, a firm identifier in any file (the text of every PDF page, every
    HTML page's source and text, every CSV, every text value of a table), a text stating a
    count of firms below the threshold, a value of a suppressed figure in any column of its
    row, or a published figure below the contributor threshold. Returns the number of files
    checked."""
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in paths:
        if path.suffix not in ALLOWED_FILES:
            raise PublicReleaseError(f"{path.relative_to(folder)}: a {path.suffix or 'extensionless'} "
                                     "file has no place in a public release")  # fmt: skip
    threshold = min(rule.min_contributors, rule.min_treated)
    for path in paths:
        where = path.relative_to(folder)
        problem = text_problem(path, firm_ids, threshold) if path.suffix in TEXT_FILES else None
        if problem:
            raise PublicReleaseError(f"{where} {problem}".replace(" : ", ": "))
        if path.suffix == ".csv":
            _check_rows(path.name, f"read_csv('{path}')", where)
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
    return len(paths)


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
        if name.startswith(FIRM_SCHEMA):  # national and sector tables have no suppression
            _suppressed_rows(con, name, relation, where, [r[0] for r in described])
        for column in (r[0] for r in described):
            ending = next((e for e in COUNT_THRESHOLDS if column.endswith(e)), None)
            if ending is None:
                continue
            least = getattr(rule, COUNT_THRESHOLDS[ending])
            thin = con.execute(f'SELECT count(*) FROM {relation} WHERE "{column}" < ?',
                               [least]).fetchone()[0]  # fmt: skip
            if thin:
                raise PublicReleaseError(f"{where}: {name}.{column} publishes {thin} figure(s) "
                                         f"below {COUNT_THRESHOLDS[ending]} = {least}")  # fmt: skip
        text = [r[0] for r in described if r[1] == "VARCHAR"]
        threshold = min(rule.min_contributors, rule.min_treated)
        for column in text:
            values = [
                r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM {relation}').fetchall()
                if r[0] is not None
            ]  # fmt: skip
            if set(values) & firm_ids:
                raise PublicReleaseError(f"{where}: {name}.{column} holds firm identifiers")
            stated = [c for v in values for c in small_counts_in(v, threshold)]
            if stated:
                raise PublicReleaseError(f"{where}: {name}.{column} states a count of firms "
                                         f"below the threshold of {threshold} ({stated[0]!r})")  # fmt: skip
    finally:
        con.close()


def _check_rows(name: str, relation: str, where: Path) -> None:
    """A CSV of the release (a chart's data): no value on a suppressed row."""
    con = offline_connection()
    try:
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        _suppressed_rows(con, name, relation, where, columns)
    finally:
        con.close()


def _suppressed_rows(
    con: duckdb.DuckDBPyConnection, name: str, relation: str, where: Path, columns: list[str]
) -> None:
    """Refuse the first suppressed row of `relation` that shows a column `_guarded` guards,
    naming the table, the row's key and the columns filled."""
    keys = [c for c in columns if c in KEY_COLUMNS]
    for status, guarded in _guarded(columns).items():
        if not guarded:
            continue
        value = f'CAST("{status}" AS VARCHAR)'
        hidden = (
            f"lower(coalesce({value}, 'true')) IN ('true', '1')"
            if status == "suppressed"
            else f"coalesce({value}, '') <> 'published'"
        )
        filled = {c: f"coalesce(CAST(\"{c}\" AS VARCHAR), '') NOT IN ('', 'nan', 'NaN')"
                  for c in guarded}  # fmt: skip
        shown = ", ".join(f"CASE WHEN {f} THEN '{c}' END" for c, f in filled.items())
        key = ", ".join(f'CAST("{k}" AS VARCHAR)' for k in keys)
        row = con.execute(
            f"SELECT [{key}]::VARCHAR[], {value}, list_filter([{shown}], lambda x: x IS NOT NULL), "
            f"count(*) OVER () FROM {relation} "
            f"WHERE {hidden} AND ({' OR '.join(filled.values())}) LIMIT 1"
        ).fetchone()
        if row:
            named = ", ".join(f"{k} = {v}" for k, v in zip(keys, row[0], strict=True))
            raise PublicReleaseError(
                f"{where}: {name} row ({named}) is suppressed ({status} = {row[1]}) but shows "
                f"{', '.join(row[2])}; only its keys, status, reason and suppressed flag may "
                f"be filled ({row[3]} such row(s))"
            )


def _guarded(columns: list[str]) -> dict[str, list[str]]:
    """Each status column of a table (`status`, `<measure>_status`, or the flag `suppressed`)
    and the columns that must be blank where it says a figure is suppressed, derived from the
    columns alone: a `<measure>_` column belongs to `<measure>_status`; any other column that
    is not a key (KEY_COLUMNS), a status, a reason or the `suppressed` flag belongs to every
    status of the row (blank as soon as one figure of the row is suppressed)."""
    statuses = [c for c in columns if c in ("status", "suppressed") or c.endswith("_status")]
    free = {"suppressed", *KEY_COLUMNS}
    guarded: dict[str, list[str]] = {status: [] for status in statuses}
    for column in columns:
        if column in free or column.endswith(("status", "reason")):
            continue
        owners = [s for s in statuses if s.endswith("_status")
                  and column.startswith(s[: -len("status")])]  # fmt: skip
        for status in owners or statuses:
            guarded[status].append(column)
    return guarded
