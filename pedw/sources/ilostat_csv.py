"""ILOSTAT bulk-download CSV: code layout and the data-explorer label layouts, plain or gzip."""

from __future__ import annotations

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import concat_raw, raw_arrow
from pedw.sources.text_table import read_text_table

RAW_COLUMNS = (
    "ref_area",
    "indicator",
    "source",
    "sex",
    "classif1",
    "classif2",
    "time",
    "obs_value",
    "obs_status",
    "note_classif",
    "note_indicator",
    "note_source",
)
REQUIRED = ("ref_area", "indicator", "time", "obs_value")


def column_map(header: list[str]) -> dict[str, str | None]:
    """Canonical raw column -> column in this file's header (code layout: same names)."""
    present = set(header)
    return {name: name if name in present else None for name in RAW_COLUMNS}


def load_ilostat_csv(source: Source) -> pa.Table:
    """Every file of the source as raw ILOSTAT observations (one row per published row)."""
    tables = []
    files = source.files()
    if not files:
        raise SourceFileError(source.path or source.url or source.name, "no file matches this path")
    for path in files:
        text = read_text_table(path, **source.options.get("read", {}))
        mapping = column_map(text.table.column_names)
        missing = [c for c in REQUIRED if mapping[c] is None]
        if missing:
            raise SourceFileError(
                path,
                f"required column(s) {missing} missing from the header {text.table.column_names}",
                line=1,
            )
        tables.append(raw_arrow(text, source, mapping))
    return concat_raw(tables)
