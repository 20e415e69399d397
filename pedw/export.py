"""`pedw export TABLE FILE`: one warehouse table (optionally filtered) to the formats economists
and statistical offices use, chosen by the file's extension.

- `.parquet`, `.csv`: streamed from DuckDB in Arrow batches (memory bounded by one batch).
- `.dta` (Stata 14+, format 118): variable labels from the warehouse's column comments (Stata
  allows 80 characters: longer ones are cut with "..."; the whole text is in
  `pedw describe`), the table's comment as the data label, and value labels for columns with
  a code list (ISIC sector, size class, sex): stored as numbers labelled "code: meaning".
- `.sdmx.csv`: SDMX-CSV 2.0 of the national and sector panels with ILOSTAT's dimension names,
  its structure beside it (`pedw/sdmx_csv.py`).
- `.xlsx`: a `data` sheet and a `notes` sheet with every column's type, meaning and unit, the
  table's description and where the rows come from.

The table is read through the sandboxed, read-only connection (`connect_sandboxed`): a
`--where` filter can use any SQL expression but cannot reach files. The file is written beside
its target under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pedw.query import BATCH_ROWS, error_line, nearest_tables
from pedw.reference import ISIC4_GROUPS, ISIC4_SECTIONS, SEX_CODES, SIZE_CLASSES
from pedw.sdmx_csv import SdmxError, structure_path, write_sdmx_csv
from pedw.warehouse import quote_identifier

FORMATS = (".parquet", ".csv", ".sdmx.csv", ".dta", ".xlsx")
STATA_LABEL_CHARS = 80
EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows, less the header
SEX_LABELS = {"SEX_T": "Total", "SEX_M": "Male", "SEX_F": "Female", "SEX_O": "Other"}
assert set(SEX_LABELS) == set(SEX_CODES)


def _size_label(bounds: tuple[int, int | None]) -> str:
    low, high = bounds
    return f"{low}-{high} persons" if high else f"{low}+ persons"


# Columns whose values come from a code list: code -> meaning (value labels in Stata).
CODE_LISTS: dict[str, dict[str, str]] = {
    "sector": {**ISIC4_SECTIONS, **ISIC4_GROUPS},
    "size_class": {k: _size_label(v) for k, v in SIZE_CLASSES.items()},
    "sex": SEX_LABELS,
}


class ExportError(Exception):
    """An export pedw refuses (unknown table, format, a filter that fails); one line."""


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    columns: int


def export_table(
    con: duckdb.DuckDBPyConnection, table: str, path: str | Path, where: str | None = None
) -> Exported:
    """Write `table` (schema.table) of the warehouse, filtered by `where`, to `path`."""
    path = Path(path)
    suffix = ".sdmx.csv" if path.name.lower().endswith(".sdmx.csv") else path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(
            f"{path.name}: unknown format {suffix or '(no extension)'!r}; the extension picks "
            f"it: {', '.join(FORMATS)}"
        )
    schema, name, columns = _columns(con, table)
    sql = f"SELECT * FROM {quote_identifier(schema)}.{quote_identifier(name)}"
    if where:
        if len(duckdb.extract_statements(f"{sql} WHERE {where}")) != 1:
            raise ExportError(f"--where must be one SQL condition, got {where!r}")
        sql += f" WHERE {where}"
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent}: no such folder")
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if suffix == ".sdmx.csv":
            rows = write_sdmx_csv(con, f"{schema}.{name}", columns, sql, partial,
                                  structure_path(path))  # fmt: skip
        else:
            writer = {".parquet": _parquet, ".csv": _csv, ".dta": _stata, ".xlsx": _excel}
            rows = writer[suffix](con, sql, partial, schema, name, columns)
        os.replace(partial, path)
    except SdmxError as error:
        raise ExportError(str(error)) from None
    except duckdb.Error as error:
        raise ExportError(f"{table}: {error_line(error)}") from None
    finally:
        partial.unlink(missing_ok=True)
    return Exported(path, rows, len(columns))


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, str, list[tuple]]:
    """(schema, table, [(column, DuckDB type, comment)]); unknown tables name the nearest."""
    schema, _, name = table.rpartition(".")
    columns = con.execute(
        "SELECT column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = $schema "
        "AND table_name = $table ORDER BY column_index",
        {"schema": schema or "main", "table": name},
    ).fetchall()
    if not columns:
        raise ExportError(
            f"no table {table!r} in the warehouse; nearest: "
            f"{', '.join(nearest_tables(con, table))} (all of them: pedw tables)"
        )
    return schema or "main", name, columns


def _reader(con: duckdb.DuckDBPyConnection, sql: str) -> pa.RecordBatchReader:
    return con.sql(sql).to_arrow_reader(BATCH_ROWS)


def _parquet(con, sql, path, *_) -> int:
    reader, rows = _reader(con, sql), 0
    with pq.ParquetWriter(path, reader.schema, compression="snappy") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _csv(con, sql, path, *_) -> int:
    reader, rows = _reader(con, sql), 0
    options = pacsv.WriteOptions(quoting_style="needed")
    with pacsv.CSVWriter(path, reader.schema, write_options=options) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _plain_types_sql(sql: str, columns: list[tuple]) -> str:
    """The query with types Stata and Excel hold: decimals and huge integers as DOUBLE,
    booleans as 0/1, timestamps without time zone, anything else unusual as text."""
    parts = []
    for column, kind, _ in columns:
        ident = quote_identifier(column)
        if kind.startswith("DECIMAL") or kind in ("HUGEINT", "UHUGEINT", "UBIGINT"):
            parts.append(f"CAST({ident} AS DOUBLE) AS {ident}")
        elif kind == "BOOLEAN":
            parts.append(f"CAST({ident} AS TINYINT) AS {ident}")
        elif kind == "TIMESTAMP WITH TIME ZONE":
            parts.append(f"CAST(timezone('UTC', {ident}) AS TIMESTAMP) AS {ident}")
        elif kind in ("DATE", "TIMESTAMP") or re.fullmatch(
            r"(TINY|SMALL|BIG)?INT(EGER)?|DOUBLE|FLOAT|REAL|VARCHAR", kind
        ):
            parts.append(ident)
        else:
            parts.append(f"CAST({ident} AS VARCHAR) AS {ident}")
    return f"SELECT {', '.join(parts)} FROM ({sql})"


def _stata_label(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= STATA_LABEL_CHARS:
        return text
    return text[: STATA_LABEL_CHARS - 3].rstrip() + "..."


def _stata(con, sql, path, schema, name, columns) -> int:
    import pandas as pd

    frame = con.sql(_plain_types_sql(sql, columns)).df()
    dates = {}
    for column, kind, _ in columns:
        if kind == "DATE":
            frame[column] = pd.to_datetime(frame[column])
            dates[column] = "td"
        elif kind.startswith("TIMESTAMP"):
            dates[column] = "tc"
        elif column in CODE_LISTS and frame[column].dtype == object:
            meanings = CODE_LISTS[column]
            labels = frame[column].map(
                lambda code, m=meanings: None if code is None else f"{code}: {m.get(code, code)}"
            )
            order = [f"{c}: {m}" for c, m in meanings.items()]
            extra = sorted(set(labels.dropna()) - set(order))
            frame[column] = pd.Categorical(labels, categories=order + extra)
    comment, _ = _table_facts(con, schema, name)
    frame.to_stata(
        path,
        write_index=False,
        version=118,
        convert_dates=dates,
        data_label=_stata_label(f"{schema}.{name}: {comment}"),
        variable_labels={c: _stata_label(text) for c, _, text in columns if text},
    )
    return len(frame)


UNIT = re.compile(r"\s*Unit: (.*)\.$")


def _excel(con, sql, path, schema, name, columns) -> int:
    import pandas as pd

    rows = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    if rows > EXCEL_MAX_ROWS:
        raise ExportError(
            f"{schema}.{name}: {rows:,} rows do not fit in an Excel sheet "
            f"({EXCEL_MAX_ROWS:,}); filter with --where or export to .parquet, .csv or .dta"
        )
    frame = con.sql(_plain_types_sql(sql, columns)).df()
    table_comment, publication = _table_facts(con, schema, name)
    notes = pd.DataFrame(
        [
            {
                "column": column,
                "type": kind,
                "meaning": UNIT.sub("", text),
                "unit": (UNIT.search(text).group(1) if UNIT.search(text) else ""),
            }
            for column, kind, text in columns
        ]
    )
    about = pd.DataFrame(
        {
            "item": ["table", "holds", "rows", "filter", "publication", "sources"],
            "value": [
                f"{schema}.{name}",
                table_comment,
                rows,
                sql.partition(" WHERE ")[2],
                publication,
                _sources(con, sql, columns),
            ],
        }
    )
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="data", index=False)
        notes.to_excel(writer, sheet_name="notes", index=False)
        about.to_excel(writer, sheet_name="notes", index=False, startrow=len(notes) + 2)
    return rows


def _table_facts(con, schema: str, name: str) -> tuple[str, str]:
    """The table's comment and the publication it belongs to (id and time), where known."""
    comment = con.execute(
        "SELECT coalesce(comment, '') FROM duckdb_tables() WHERE database_name = "
        "current_database() AND schema_name = $s AND table_name = $t",
        {"s": schema, "t": name},
    ).fetchall()[0][0]
    publication = ""
    try:
        found = con.execute("SELECT * FROM meta.publication LIMIT 1").fetch_df()
        if len(found):
            publication = "; ".join(f"{k}={v}" for k, v in found.iloc[0].items() if k in (
                "publication_id", "published_at", "run_id"))  # fmt: skip
    except duckdb.Error:
        pass  # a warehouse without meta.publication (not published by pedw)
    return comment, publication


def _sources(con, sql: str, columns: list[tuple]) -> str:
    """Where the exported rows come from: their catalog entries, when the table records them."""
    names = {column for column, *_ in columns}
    for column in ("source_name", "source", "source_file"):
        if column in names:
            found = con.execute(
                f"SELECT string_agg(DISTINCT {quote_identifier(column)}, '; ' ORDER BY "
                f"{quote_identifier(column)}) FROM ({sql})"
            ).fetchall()[0][0]
            return f"{column}: {found or ''}"
    return "see pedw describe and docs/sources.md"
