"""Plain firm-level CSV (one row per firm and year, Enterprise-Survey-style variables)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from pedw.quality.contracts import load_contract
from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.firm_units import apply_firm_units
from pedw.sources.raw_table import raw_arrow, require_columns
from pedw.sources.text_table import TextTable, iter_text_tables

REQUIRED = ("firm_id", "country", "year")


def iter_enterprise_csv(source: Source, path: Path) -> Iterator[pa.Table]:
    """All firm-year rows of one file as text, block by block (a file of any size loads in
    bounded memory); columns named as in the enterprise contract.

    Header names are matched case-insensitively and without surrounding spaces. The
    catalog's `columns:` names columns published under other names (`firm_id: idstd`);
    `constants:` fills a column the file does not have (`country: KEN`); `derive:` computes
    one from published columns and `units:` declares the file's currency, price year and
    scale (pedw/sources/firm_units.py).
    """
    columns = load_contract("enterprise_firms").column_names
    for text in iter_text_tables(path, **source.options.get("read", {})):
        header = published_columns(text, source)
        require_columns(text, REQUIRED, "a firm-level panel", header=header)
        text, header, declared = apply_firm_units(text, header, source.derive, source.units)
        yield raw_arrow(
            text,
            source,
            {c: header.get(c) for c in columns},
            warn_extra=True,
            constants=declared | source.constants,
        )


def published_columns(text: TextTable, source: Source) -> dict[str, str | None]:
    """Contract column -> column of the file (case and spaces aside), after the catalog's
    `columns:` renames; a `constants:` column counts as present."""
    published = {c.strip().lower(): c for c in text.table.column_names}
    header = dict(published)
    for canonical, name in source.columns.items():
        if name.strip().lower() not in published:
            raise SourceFileError(
                text.path,
                f"the catalog maps {canonical} to column {name!r}, which is not in the "
                f"header {text.table.column_names}",
                line=1,
                column=name,
            )
        header[canonical] = published[name.strip().lower()]
    return header | dict.fromkeys(source.constants)
