"""Plain firm-level CSV (one row per firm and year, Enterprise-Survey-style variables)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from pedw.catalog import Source
from pedw.quality.contracts import load_contract
from pedw.sources.raw_table import raw_arrow, require_columns
from pedw.sources.text_table import read_text_table

REQUIRED = ("firm_id", "country", "year")


def load_enterprise_csv(source: Source, path: Path) -> pa.Table:
    """All firm-year rows of one file as text; columns named as in the enterprise contract.

    Header names are matched case-insensitively and without surrounding spaces.
    """
    columns = load_contract("enterprise_firms").column_names
    text = read_text_table(path, **source.options.get("read", {}))
    header = {c.strip().lower(): c for c in text.table.column_names}
    require_columns(text, REQUIRED, "a firm-level panel", header=header)
    return raw_arrow(text, source, {c: header.get(c) for c in columns}, warn_extra=True)
