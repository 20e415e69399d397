"""World Bank WDI downloads: the bulk CSV (years as columns) and the country metadata file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.raw_table import constant_column, raw_arrow, require_columns
from pedw.sources.text_table import read_text_table

METADATA_COLUMNS = {"country_code": "Country Code", "region": "Region",
                    "income_group": "IncomeGroup", "table_name": "TableName"}  # fmt: skip
YEAR = re.compile(r"^\d{4}$")


def load_wdi_country_metadata(source: Source, path: Path) -> pa.Table:
    """Metadata_Country_*.csv rows (aggregates included; their Region is empty)."""
    text = read_text_table(path)
    require_columns(text, tuple(METADATA_COLUMNS.values()), "a WDI country metadata file")
    return raw_arrow(text, source, METADATA_COLUMNS)


def load_wdi_csv(source: Source, path: Path) -> pa.Table:
    """A WDI bulk CSV (API_<indicator>_DS2_*.csv) as raw observations, one row per cell.

    The file has four lines of header block (source, last-updated date) before the column
    names, one row per economy, one column per year and a trailing comma; empty cells are
    missing values and are not turned into rows. Each cell keeps the line of its economy.
    """
    text = read_text_table(path, skip_rows=source.options.get("skip_rows", 4))
    require_columns(text, ("Country Code", "Indicator Code"), "a WDI bulk CSV")
    years = [c for c in text.table.column_names if YEAR.match(c)]
    if not years:
        raise SourceFileError(path, "no year columns (1960, 1961, ...) in the header", line=5)
    n = text.table.num_rows
    values = (
        np.concatenate([text.table[y].to_numpy(zero_copy_only=False) for y in years])
        if n
        else np.array([])
    )
    keep = values != ""
    repeat = np.tile(np.arange(n), len(years))[keep]
    columns = {
        "ref_area": text.table["Country Code"].take(repeat),
        "indicator": text.table["Indicator Code"].take(repeat),
        "source": constant_column("WDI", int(keep.sum())).cast(pa.string()),
        "time": pa.array(np.repeat(years, n)[keep]),
        "obs_value": pa.array(values[keep], pa.string()),
        "ref_area_label": text.table["Country Name"].take(repeat)
        if "Country Name" in text.table.column_names
        else pa.nulls(int(keep.sum()), pa.string()),
    }
    long = pa.table(
        {
            name: columns.get(name, pa.nulls(int(keep.sum()), pa.string()))
            for name in (*RAW_COLUMNS, "ref_area_label")
        }
    )
    cells = type(text)(
        path=text.path, table=long, lines=text.lines[repeat], malformed=text.malformed
    )
    return raw_arrow(cells, source, {c: c for c in long.column_names})
