"""Turn what a loader read into a raw-stage Arrow table: text values plus provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.text_table import TextTable, read_text_table


def constant_column(value: str, n: int) -> pa.Array:
    """A text column holding one value n times, without building n Python strings."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), [value])


def require_columns(
    text: TextTable, required: tuple[str, ...], layout: str, header: dict[str, str] | None = None
) -> None:
    """Refuse a file whose header lacks a required column, naming the columns it does have."""
    present = header if header is not None else {c: c for c in text.table.column_names}
    missing = [c for c in required if c not in present]
    if missing:
        raise SourceFileError(
            text.path,
            f"not {layout}: required column(s) {missing} missing from "
            f"the header {text.table.column_names}",
            line=1,
            column=missing[0],
        )


def raw_arrow(
    text: TextTable,
    source: Source,
    columns: dict[str, str | None],
    warn_extra: bool = False,
    constants: dict[str, str] | None = None,
) -> pa.Table:
    """Rename `text` columns to canonical raw names and add source_name/file/line.

    `columns` maps canonical name -> column as published (None: not in this layout);
    `constants` fills canonical columns with one value (the catalog's `constants:`).
    Rows the parser rejected are appended with only `raw_record` set, so they reach the
    contracts (and the quarantine) instead of vanishing.
    """
    n = text.table.num_rows
    constants = constants or {}
    arrays = [
        constant_column(constants[name], n).cast(pa.string())
        if name in constants
        else text.table[published]
        if published is not None and published in text.table.column_names
        else pa.nulls(n, pa.string())
        for name, published in columns.items()
    ]
    provenance = [
        constant_column(source.name, n).cast(pa.string()),
        constant_column(str(text.path), n).cast(pa.string()),
        pa.array(text.lines, pa.int64()),
        pa.nulls(n, pa.string()),
    ]
    names = [*columns, "source_name", "source_file", "source_line", "raw_record"]
    good = pa.table([*arrays, *provenance], names=names)
    extra = sorted(set(text.table.column_names) - {c for c in columns.values() if c})
    if warn_extra and extra:
        good = good.replace_schema_metadata({"pedw_extra_columns": ",".join(extra)})
    if not text.malformed:
        return good
    m = len(text.malformed)
    bad = pa.table(
        [pa.nulls(m, pa.string()) for _ in columns]
        + [
            pa.array([source.name] * m, pa.string()),
            pa.array([str(text.path)] * m, pa.string()),
            pa.array([row["line"] for row in text.malformed], pa.int64()),
            pa.array([row["text"] for row in text.malformed], pa.string()),
        ],
        names=names,
    )
    return pa.concat_tables([good, bad]).replace_schema_metadata(good.schema.metadata)


def frame_as_text(frame, path, first_line: int) -> TextTable:
    """A typed DataFrame (a spreadsheet sheet, a Stata file) as an all-text table.

    Values become the text Arrow writes for them (2019.0 -> "2019", NaN -> missing), so the
    contracts parse every format the same way; row i gets record number first_line + i.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    return TextTable(path=path, table=table, lines=np.arange(first_line, first_line + len(frame)))


def read_data_file(path: Path, sheet: str | int, layout: str, **read) -> TextTable:
    """A table published as a workbook sheet (xlsx), a Stata file (dta) or text (csv and
    the like), as text with record numbers: spreadsheet rows, observation numbers, lines.
    Stata missing values are missing; `read` is the text reader's options."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".dta"):
        return read_text_table(path, **read)
    if not path.exists():
        raise SourceFileError(path, "file not found")
    try:
        if suffix == ".xlsx":
            return frame_as_text(pd.read_excel(path, sheet_name=sheet, dtype=str), path, 2)
        frame = pd.read_stata(path, convert_categoricals=False, convert_dates=False)
        return frame_as_text(frame, path, 1)
    except (ValueError, OSError) as error:  # not a workbook / Stata file, or no such sheet
        raise SourceFileError(
            path, f"cannot read it as {layout} {suffix[1:]} file ({error})"
        ) from None


def with_release(table: pa.Table, release: str | None) -> pa.Table:
    """`table` carrying the release its file states (recorded as kind 'release' in
    quality.source_issues, cited under the figures built from it)."""
    if not release:
        return table
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"pedw_release": release.encode()}
    )
