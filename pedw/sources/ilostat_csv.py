"""ILOSTAT bulk-download CSV (code layout), plain, gzip or zip."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.raw_table import raw_arrow, require_columns
from pedw.sources.text_table import read_text_table

RAW_COLUMNS = ("ref_area", "indicator", "source", "sex", "classif1", "classif2", "time",
               "obs_value", "obs_status", "note_classif", "note_indicator", "note_source")  # fmt: skip
REQUIRED = ("ref_area", "indicator", "time", "obs_value")
# Published columns pedw reads but does not keep (no warning for them).
KNOWN_EXTRA = ("best_source",)


def load_ilostat_csv(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT file as raw observations (one row per published row)."""
    text = read_text_table(path, **source.options.get("read", {}))
    require_columns(text, REQUIRED, "an ILOSTAT bulk file")
    present = set(text.table.column_names)
    mapping = {name: name if name in present else None for name in RAW_COLUMNS}
    table = raw_arrow(
        text, source, mapping | {f"_{c}": c for c in KNOWN_EXTRA if c in present}, warn_extra=True
    )
    return table.drop_columns([f"_{c}" for c in KNOWN_EXTRA if c in present])
