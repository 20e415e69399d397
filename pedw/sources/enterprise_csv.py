"""Plain firm-level CSV (one row per firm and year, Enterprise-Survey-style variables)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from pedw.catalog import Source
from pedw.quality.contracts import load_contract
from pedw.sources.raw_table import raw_arrow, require_columns
from pedw.sources.text_table import iter_text_tables

REQUIRED = ("firm_id", "country", "year")


def iter_enterprise_csv(source: Source, path: Path) -> Iterator[pa.Table]:
    """All firm-year rows of one file as text, block by block (a file of any size loads in
    bounded memory); columns named as in the enterprise contract.

    Header names are matched case-insensitively and without surrounding spaces.
    """
    columns = load_contract("enterprise_firms").column_names
    for text in iter_text_tables(path, **source.options.get("read", {})):
        header = {c.strip().lower(): c for c in text.table.column_names}
        require_columns(text, REQUIRED, "a firm-level panel", header=header)
        yield raw_arrow(text, source, {c: header.get(c) for c in columns}, warn_extra=True)
