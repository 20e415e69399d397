"""The centre's pipeline without Dagster: packages loaded office by office into the store,
pooled, and published as the central warehouse (assets/federated.py wraps these).

Store tables (schema `federated`, one Parquet file per office where partitioned):

* `packages`, `statistics`, `withheld`: each office's manifest, its countries' sufficient
  statistics (JSON, as the package carries them) and what it withheld, by office;
* `<schema>__<table>`: the package's public tables, by office (published as
  `<schema>.<table>` with `office`, `producer`, `package_digest` columns);
* `pooled_estimates`, `country_estimates`, `meta_estimates`: the central models.

An office is verified before anything of it is written; a refused package leaves its earlier
slice (and the published central warehouse) as they were.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pedw.catalog import Catalog
from pedw.federated.centre import (
    estimates_by_country,
    meta_estimates,
    pool_models,
    read_round_two_answers,
    write_request,
)
from pedw.federated.package import Package, PackageError, check_package_set, verify_package
from pedw.federated.sufficient import CountryStatistics
from pedw.sources.pedw_package import answer_files
from pedw.store import Store, offline_connection, quote_identifier, sql_string
from pedw.warehouse_docs import column_comment, table_comment

SCHEMA = "federated"
OFFICE_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
PUBLIC_NAME = re.compile(r"^([a-z_]+)\.([a-z_0-9]+)$")
BY_OFFICE = ("packages", "statistics", "withheld")
MODELS = ("pooled_estimates", "country_estimates", "meta_estimates")
# Columns of the central model tables when they have no row (an empty frame has none).
EMPTY = {
    "pooled_estimates": ["model_id", "term", "estimate", "std_error", "inference_note"],
    "country_estimates": ["model_id", "country", "term", "estimate", "std_error"],
    "meta_estimates": ["model_id", "term", "estimate", "std_error", "tau2", "countries"],
}


def package_folders(catalog: Catalog) -> dict[str, Path]:
    """The package folders of the catalog's `pedw_package` entries by office key (the
    folder's name: the office's partition). PackageError for a name unfit as a key, or two
    folders of one name."""
    found: dict[str, Path] = {}
    for source in catalog.sources:
        for path in source.files():
            if not path.is_dir():
                continue  # a glob also matching a file beside the packages
            if not OFFICE_KEY.match(path.name):
                raise PackageError(f"{path}: a package folder's name is its office key: use "
                                   "letters, digits, '_', '.', '-'")  # fmt: skip
            if path.name in found:
                raise PackageError(f"{path}: another package folder is named {path.name} "
                                   f"({found[path.name]})")  # fmt: skip
            found[path.name] = path.resolve()
    return dict(sorted(found.items()))


def catalog_answers(catalog: Catalog) -> list[Path]:
    """The round-two answer files the catalog's entries name (`options.answers`)."""
    return sorted({p for source in catalog.sources for p in answer_files(source)})


def folder_digest(path: Path) -> str:
    """SHA-256 over every file of a folder, names and bytes: it changes with any byte, so a
    changed or tampered package makes its office out of date (and is then verified)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def files_digest(files: list[Path]) -> str:
    """SHA-256 over files' names and bytes (the round-two answers)."""
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(str(file).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def inputs_digest(offices: list[str], answers_digest: str) -> str:
    """What a pool is built from besides the offices' loads: which offices, which answers
    (recorded by the pool; automation compares it with the partitions and files now)."""
    text = "\0".join(sorted(offices)) + "\0" + answers_digest
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class OfficeLoad:
    office: str
    path: Path
    digest: str  # folder_digest when it was loaded
    producer: str
    economies: list[str]
    statistics: int  # (model, country) statistics loaded
    withheld: int
    tables: dict[str, int]  # public table -> rows


def _connection() -> duckdb.DuckDBPyConnection:
    con = offline_connection()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    return con


def _attach(store: Store, con: duckdb.DuckDBPyConnection, table: str) -> bool:
    if not store.exists(SCHEMA, table):
        return False
    store.attach_view(con, SCHEMA, table)
    return True


def stored_packages(store: Store, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """federated.packages as stored: one row per office loaded."""
    own = con is None
    con = con or _connection()
    try:
        if not _attach(store, con, "packages"):
            return pd.DataFrame(columns=["office", "path", "manifest", "package_digest"])
        return con.execute(f"SELECT * FROM {SCHEMA}.packages ORDER BY office").df()
    finally:
        if own:
            con.close()


def load_office(store: Store, office: str, path: Path) -> OfficeLoad:
    """Verify the package at `path` and write it as office `office`'s slice of the
    federated store tables. Refused (PackageError, one line naming the folder and the
    check) before anything is written: a manifest that does not verify, another pedw
    version or format, economies another office already holds."""
    if not OFFICE_KEY.match(office):
        raise PackageError(f"{path}: office key {office!r} is not letters, digits, '_', '.', '-'")
    digest = folder_digest(path)
    package = verify_package(path)
    if folder_digest(path) != digest:
        raise PackageError(f"{path}: the package changed while it was read: load it again")
    others = stored_packages(store)
    others = others[others["office"] != office]
    check_package_set([*(_stored(row) for row in others.itertuples()), package])
    producer = str(package.manifest["producer"])
    statistics, withheld = [], []
    for file in sorted((path / "statistics").glob("*.json")):
        content = json.loads(file.read_text(encoding="utf-8"))
        statistics += [{"office": office, "package_digest": digest, "model_id": file.stem,
                        "country": c["country"], "statistics": json.dumps(c)}
                       for c in content["countries"]]  # fmt: skip
        withheld += [{"office": office, "model_id": file.stem, "country": w["country"],
                      "reason": w["reason"]} for w in content["withheld"]]  # fmt: skip
    declared = pd.DataFrame([{
        "office": office, "producer": producer, "package_digest": digest,
        "publication_id": package.manifest.get("publication_id"),
        "pedw_version": package.manifest.get("pedw_version"),
        "trend_origin": package.manifest.get("trend_origin"),
        "economies": json.dumps(package.economies), "path": str(path),
        "manifest": json.dumps(package.manifest), "loaded_at": pd.Timestamp.now(tz="UTC"),
    }])  # fmt: skip
    public = {}
    for file in sorted((path / "public").glob("*.parquet")):
        match = PUBLIC_NAME.match(file.stem)
        if not match:
            raise PackageError(f"{path}: public/{file.name} is not named <schema>.<table>")
        public[f"{match[1]}__{match[2]}"] = file
    con = _connection()
    tables = {}
    try:
        for name, rows, columns in (
            ("packages", declared, None),
            ("statistics", pd.DataFrame(statistics),
             ["office", "package_digest", "model_id", "country", "statistics"]),
            ("withheld", pd.DataFrame(withheld), ["office", "model_id", "country", "reason"]),
        ):  # fmt: skip
            frame = (
                rows if len(rows) else pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
            )
            con.register("_frame", frame)
            store.write(con, SCHEMA, name, "SELECT * FROM _frame", "office", [office])
            con.unregister("_frame")
        for name, file in public.items():
            query = (
                f"SELECT {sql_string(office)} AS office, {sql_string(producer)} AS producer, "
                f"{sql_string(digest)} AS package_digest, * FROM read_parquet({sql_string(file)})"
            )
            tables[name] = store.write(con, SCHEMA, name, query, "office", [office])
        # A table this package no longer has: the office's earlier slice of it goes.
        for table_dir in sorted((store.root / SCHEMA).glob("*__*")):
            if table_dir.name not in public:
                store.remove(table_dir / f"{office}.parquet")
    finally:
        con.close()
    return OfficeLoad(office, path, digest, producer, package.economies, len(statistics),
                      len(withheld), tables)  # fmt: skip


def forget_office(store: Store, office: str) -> None:
    """Remove an office's slices (its package folder is gone from the catalog's paths)."""
    for table_dir in sorted((store.root / SCHEMA).glob("*")):
        if table_dir.is_dir():
            store.remove(table_dir / f"{office}.parquet")


def _stored(row) -> Package:
    return Package(Path(row.path), json.loads(row.manifest))


@dataclass(frozen=True)
class CentralModels:
    offices: list[str]
    countries: list[str]
    rows: dict[str, int]  # table -> rows
    round_two_models: int  # firm-clustered models in the request written
    answers_used: int  # answer files read
    seconds: float


def pool_offices(
    store: Store, answers: list[Path], request: Path, offices: list[str] | None = None
) -> CentralModels:
    """The central models from every office in the store: the exact pool of each model's
    statistics (CRV1 by firm where the offices' round-two answers fit this pool, else iid
    with the reason in `inference_note`), each country's own fit, and their
    DerSimonian-Laird pool. Writes the round-two request for the offices to `request`.
    With `offices` (the office partitions now), the slices of any other office are removed
    first (its package folder is gone). PackageError when the offices' packages overlap or differ in contracts or trend origin."""
    started = time.perf_counter()
    if offices is not None:
        for office in set(stored_packages(store)["office"]) - set(offices):
            forget_office(store, office)
    con = _connection()
    try:
        declared = stored_packages(store, con)
        if declared.empty:
            raise PackageError("no office package is loaded: the catalog's paths match none")
        check_package_set([_stored(row) for row in declared.itertuples()])
        _attach(store, con, "statistics")
        rows = con.execute(
            f"SELECT model_id, country, statistics FROM {SCHEMA}.statistics "
            "ORDER BY model_id, country"
        ).fetchall()
        statistics: dict[str, list[CountryStatistics]] = {}
        fits = []
        for model, country, text in rows:
            content = json.loads(text)
            statistics.setdefault(model, []).append(CountryStatistics.from_dict(content))
            if content.get("country_fit"):
                fits.append((model, country, content["country_fit"]))
        meats = read_round_two_answers(answers) if answers else None
        frames = {
            "pooled_estimates": pool_models(statistics, meats, stale_answers_ok=True),
            "country_estimates": estimates_by_country(fits),
        }
        frames["meta_estimates"] = meta_estimates(frames["country_estimates"])
        counts = {}
        for name, frame in frames.items():
            if frame.empty:
                frame = pd.DataFrame({c: pd.Series(dtype="str") for c in EMPTY[name]})
            con.register("_frame", frame)
            counts[f"{SCHEMA}.{name}"] = store.write(con, SCHEMA, name, "SELECT * FROM _frame")
            con.unregister("_frame")
    finally:
        con.close()
    request.parent.mkdir(parents=True, exist_ok=True)
    models = write_request(statistics, request)
    economies = sorted(e for m in declared["manifest"] for e in json.loads(m)["economies"])
    return CentralModels(list(declared["office"]), economies, counts, models, len(answers),
                         time.perf_counter() - started)  # fmt: skip


def _comment(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """COMMENT ON federated.<table> and its columns (pedw/warehouse_docs.yml)."""
    text = table_comment(SCHEMA, table)
    if text:
        con.execute(f"COMMENT ON TABLE {SCHEMA}.{table} IS {sql_string(text)}")
    for (column,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t",
        {"s": SCHEMA, "t": table},
    ).fetchall():
        text = column_comment(SCHEMA, table, column)
        if text:
            con.execute(f"COMMENT ON COLUMN {SCHEMA}.{table}.{quote_identifier(column)} IS "
                        f"{sql_string(text)}")  # fmt: skip


def publish_centre(store: Store, out: Path) -> dict[str, int]:
    """Copy every federated store table into a new DuckDB file and rename it over `out`
    (readers see the old file or the new one, never half of one): `federated.<table>`, and
    the offices' public tables as `<schema>.<table>`. Returns the rows of each table."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    building = out.with_name(f".{out.name}.building")
    building.unlink(missing_ok=True)
    con = offline_connection(str(building))
    counts = {}
    try:
        for table_dir in sorted((store.root / SCHEMA).iterdir()):
            if not store.exists(SCHEMA, table_dir.name):
                continue
            schema, _, table = table_dir.name.rpartition("__")
            name = f"{schema or SCHEMA}.{table}"
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema or SCHEMA}")
            glob = sql_string(store.parquet_glob(SCHEMA, table_dir.name))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({glob}, "
                        "union_by_name = true)")  # fmt: skip
            counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            if not schema:
                _comment(con, table)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    building.replace(out)
    return counts
