"""Plain firm-level CSV (one row per firm and year, Enterprise-Survey-style variables)."""

from __future__ import annotations

import pyarrow as pa

from pedw.catalog import Source
from pedw.quality.contracts import load_contract
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import concat_raw, raw_arrow
from pedw.sources.text_table import read_text_table

REQUIRED = ("firm_id", "country", "year")


def load_enterprise_csv(source: Source) -> pa.Table:
    """All firm-year rows of the source as text; columns named as in the enterprise contract."""
    columns = load_contract("enterprise_firms").column_names
    tables = []
    for path in source.files():
        text = read_text_table(path, **source.options.get("read", {}))
        header = {c.strip().lower(): c for c in text.table.column_names}
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise SourceFileError(
                path, f"required column(s) {missing} missing from the header", line=1
            )
        tables.append(raw_arrow(text, source, {c: header.get(c) for c in columns}))
    if not tables:
        raise SourceFileError(source.path or source.name, "no file matches this path")
    return concat_raw(tables)
