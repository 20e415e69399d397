"""World Bank WDI downloads: the bulk CSV (years as columns) and the country metadata file."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.raw_table import (
    constant_column,
    frame_as_text,
    raw_arrow,
    require_columns,
    with_release,
)
from pedw.sources.text_table import read_text_table

METADATA_COLUMNS = {"country_code": "Country Code", "region": "Region",
                    "income_group": "IncomeGroup", "table_name": "TableName"}  # fmt: skip
YEAR = re.compile(r"^(\d{4})(?: \[YR\d{4}\])?$")  # 2019, or DataBank's 2019 [YR2019]
FOOTER = re.compile(r"^\s*(Data from database|Last Updated)\s*:\s*(.*)$")


def load_wdi_country_metadata(source: Source, path: Path) -> pa.Table:
    """Metadata_Country_*.csv rows, or the API's country list (aggregates kept: empty Region)."""
    if _is_json(path):
        return _country_metadata_from_api(source, path)
    text = read_text_table(path, **source.options.get("read", {}))
    require_columns(text, tuple(METADATA_COLUMNS.values()), "a WDI country metadata file")
    return raw_arrow(text, source, METADATA_COLUMNS)


def load_wdi_csv(source: Source, path: Path) -> pa.Table:
    """A WDI CSV with years as columns as raw observations, one row per cell.

    Two published forms: the bulk download (API_<indicator>_DS2_*.csv: four lines of
    header block before the column names, `Indicator Code`, a trailing comma) and the
    DataBank export (`Series Code`, years as "2019 [YR2019]", ".." for missing, and footer
    lines "Data from database: ..." and "Last Updated: ..." under the table). Missing
    cells are not turned into rows; each cell keeps the line of its economy. DataBank
    footers are metadata, not rows: the last-updated date becomes the `source`.
    """
    with path.open("rb") as handle:
        databank = (
            handle.read(200)
            .lstrip(b"\xef\xbb\xbf")
            .startswith((b"Country Name", b'"Country Name"', b"Series Name", b'"Series Name"'))
        )
    skip = source.options.get("skip_rows", 0 if databank else 4)
    text = read_text_table(path, **{"skip_rows": skip, **source.options.get("read", {})})
    code = "Series Code" if "Series Code" in text.table.column_names else "Indicator Code"
    require_columns(text, ("Country Code", code), "a WDI bulk CSV or DataBank export")
    years = {c: YEAR.match(c)[1] for c in text.table.column_names if YEAR.match(c)}
    if not years:
        raise SourceFileError(
            path, "no year columns (1960, 1961, ...) in the header", line=skip + 1
        )
    notes = [(m, FOOTER.match(m["text"] or "")) for m in text.malformed]
    updated = [found[2] for _m, found in notes if found and found[1] == "Last Updated"]
    text = replace(text, malformed=[m for m, found in notes if not found])
    table = text.table
    n = table.num_rows
    values = (
        np.concatenate([table[y].to_numpy(zero_copy_only=False) for y in years])
        if n
        else np.array([])
    )
    keep = (values != "") & (values != "..")
    repeat = np.tile(np.arange(n), len(years))[keep]
    label = f"WDI:{updated[0].strip()}" if updated else "WDI"
    columns = {
        "ref_area": table["Country Code"].take(repeat),
        "indicator": table[code].take(repeat),
        "source": constant_column(label, int(keep.sum())).cast(pa.string()),
        "time": pa.array(np.repeat(list(years.values()), n)[keep]),
        "obs_value": pa.array(values[keep], pa.string()),
        "ref_area_label": table["Country Name"].take(repeat)
        if "Country Name" in table.column_names
        else pa.nulls(int(keep.sum()), pa.string()),
    }
    long = pa.table(
        {
            name: columns.get(name, pa.nulls(int(keep.sum()), pa.string()))
            for name in (*RAW_COLUMNS, "ref_area_label")
        }
    )
    cells = replace(text, table=long, lines=text.lines[repeat])
    raw = raw_arrow(cells, source, {c: c for c in long.column_names})
    release = updated[0].strip() if updated else None if databank else bulk_last_updated(path)
    return with_release(raw, release)


BULK_UPDATED = re.compile(rb'^\W*"?Last Updated Date"?\s*,\s*"?([^",]+)"?')


def bulk_last_updated(path: Path) -> str | None:
    """The "Last Updated Date" line of a WDI bulk CSV's header block: the release it is."""
    with path.open("rb") as handle:
        for line in handle.readlines(2048)[:6]:
            found = BULK_UPDATED.match(line.strip())
            if found:
                return found[1].decode("utf-8", "replace").strip()
    return None


def load_wdi_api_json(source: Source, path: Path) -> pa.Table:
    """A World Bank API v2 response (`.../indicator/<code>?format=json`) as raw observations.

    The API answers a JSON array: a paging header ({page, pages, per_page, total,
    lastupdated}) and the records ({indicator: {id}, country: {id, value},
    countryiso3code, date, value, obs_status, ...}); an error answers [{"message": [...]}].
    Null values are not turned into rows (as empty cells of the bulk CSV). `source_line`
    is the record's position in the response; a response holding fewer records than its
    header's `total` (one page of several) is refused: ask for per_page >= total.
    """
    header, records = _api_records(path)
    frame = pd.json_normalize(records)
    frame["_line"] = np.arange(1, len(frame) + 1)
    frame = frame[frame["value"].notna()]
    text = pd.DataFrame(
        {
            "ref_area": frame["countryiso3code"].replace("", None).fillna(frame["country.id"]),
            "indicator": frame["indicator.id"],
            "source": f"WDI-API:{header.get('lastupdated', '')}",
            "time": frame["date"],
            "obs_value": frame["value"],
            "obs_status": frame.get("obs_status"),
            "ref_area_label": frame["country.value"],
        }
    )
    cells = replace(frame_as_text(text, path, 1), lines=frame["_line"].to_numpy())
    columns = (*RAW_COLUMNS, "ref_area_label")
    return raw_arrow(cells, source, {c: c if c in text else None for c in columns})


def _is_json(path: Path) -> bool:
    if not path.exists():
        raise SourceFileError(path, "file not found")
    with path.open("rb") as handle:
        return handle.read(64).lstrip(b"\xef\xbb\xbf \r\n\t")[:1] == b"["


def _api_records(path: Path) -> tuple[dict, list[dict]]:
    """The paging header and records of a World Bank API v2 JSON answer (all pages in it)."""
    import json

    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise SourceFileError(path, f"not a World Bank API JSON response ({error})") from None
    if isinstance(document, list) and document and "message" in document[0]:
        messages = "; ".join(m.get("value", str(m)) for m in document[0]["message"])
        raise SourceFileError(path, f"the World Bank API answered an error: {messages}")
    if not (isinstance(document, list) and len(document) == 2 and isinstance(document[0], dict)):
        raise SourceFileError(path, "not a World Bank API v2 response ([header, records])")
    header, records = document[0], document[1] or []
    if int(header.get("total", len(records))) > len(records):
        raise SourceFileError(
            path,
            f"holds page {header.get('page')} of {header.get('pages')} ({len(records)} of "
            f"{header.get('total')} records): request per_page={header.get('total')} or more",
        )
    if not records:
        raise SourceFileError(path, "holds no record")
    return header, records


def _country_metadata_from_api(source: Source, path: Path) -> pa.Table:
    """api.worldbank.org/v2/country?format=json: region "Aggregates" is an aggregate (empty
    Region, as in the CSV) and "Not classified" an economy without income group."""
    _header, records = _api_records(path)
    frame = pd.json_normalize(records)
    region = frame["region.value"].str.strip()
    income = frame["incomeLevel.value"].str.strip()
    text = pd.DataFrame(
        {
            "country_code": frame["id"],
            "region": region.where(region != "Aggregates", ""),
            "income_group": income.where(~income.isin(["Aggregates", "Not classified"]), ""),
            "table_name": frame["name"],
        }
    )
    return raw_arrow(frame_as_text(text, path, 1), source, {c: c for c in text.columns})


def load_wdi(source: Source, path: Path) -> pa.Table:
    """WDI in either published form: API JSON (by content) or the bulk CSV."""
    if _is_json(path):
        return load_wdi_api_json(source, path)
    return load_wdi_csv(source, path)
