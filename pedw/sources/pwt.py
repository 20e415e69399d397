"""Penn World Table as published: pwt<release>.csv, .xlsx (sheet Data) or .dta, any release.

Real series are in US$ of the release's price reference year (PWT 9: 2011, PWT 10: 2017,
PWT 11: 2021), which is read from the release, never assumed: the units the file states (the
Legend sheet, Stata variable labels), else its version (the Info sheet, the file name), else
the catalog's `options.price_year`; a file whose year cannot be told is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import raw_arrow, read_data_file, require_columns
from pedw.sources.text_table import TextTable

RAW_COLUMNS = ("countrycode", "country", "year", "rgdpo", "emp", "avh", "hc", "rnna", "csh_x",
               "csh_m", "labsh")  # fmt: skip
REQUIRED = ("countrycode", "year")
# PWT release (major version) -> price reference year of its real series (GGDC release notes).
PRICE_YEARS = {"8": 2005, "9": 2011, "10": 2017, "11": 2021}
US_DOLLARS_OF = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*US\$")  # "(in mil. 2017US$)"
VERSION = re.compile(r"version\s+(\d+)(?:\.\d+)?", re.I)  # "Penn World Table, version 10.01"
RELEASE_IN_NAME = re.compile(r"pwt[ _-]?(\d{2,4})", re.I)  # pwt1001, pwt101, pwt110, pwt91


def read_pwt(path: Path, sheet: str = "Data", **read) -> TextTable:
    """The PWT data table of any of its three releases, as text with record numbers.

    xlsx: the `Data` sheet (the workbook also holds Info and Legend), row numbers as in the
    spreadsheet; dta: observation numbers, Stata missing values as missing; csv: lines
    (`read`: the catalog's options.read, e.g. an encoding).
    """
    return read_data_file(path, sheet, "a PWT", **read)


def load_pwt(source: Source, path: Path) -> pa.Table:
    """PWT rows with the driver columns pedw uses, as text, and the release's price year."""
    text = read_pwt(path, source.options.get("sheet", "Data"), **source.options.get("read", {}))
    require_columns(text, REQUIRED, "a Penn World Table file")
    year = price_year(path, source.options.get("price_year"))
    header = set(text.table.column_names)
    columns = {c: c if c in header else None for c in RAW_COLUMNS} | {"price_year": None}
    return raw_arrow(text, source, columns, constants={"price_year": str(year)})


def price_year(path: Path, given: int | str | None = None) -> int:
    """The price reference year of a PWT file's real series (see the module docstring)."""
    stated = _stated_units(path)
    if stated is not None:
        if given is not None and int(given) != stated:
            raise SourceFileError(
                path, f"the file states {stated} US$, the catalog's options.price_year {given}"
            )
        return stated
    version = _version_in_workbook(path) or _version_in_name(path)
    if version in PRICE_YEARS and given is None:
        return PRICE_YEARS[version]
    if given is not None:
        return int(given)
    raise SourceFileError(
        path,
        "cannot tell which Penn World Table release this is (no units in its Legend or "
        "labels, no version in its Info sheet or name), so not in which year's US$ its real "
        "series are; rename it as published (pwt1001.csv) or set options.price_year "
        "(2017 for PWT 10.x, 2021 for PWT 11)",
    )


def _stated_units(path: Path) -> int | None:
    """The year of "... 2017US$" in the Legend sheet or the Stata label of rgdpo."""
    texts: list[str] = []
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            legend = pd.read_excel(path, sheet_name="Legend", header=None, dtype=str)
            texts = [
                " ".join(row.dropna()) for _, row in legend.iterrows() if "rgdpo" in row.values
            ]
        elif suffix == ".dta":
            with pd.io.stata.StataReader(path) as reader:
                texts = [reader.variable_labels().get("rgdpo", "")]
    except (ValueError, OSError, KeyError):
        return None
    years = {int(m[1]) for text in texts for m in US_DOLLARS_OF.finditer(text)}
    return years.pop() if len(years) == 1 else None


def _version_in_workbook(path: Path) -> str | None:
    if path.suffix.lower() != ".xlsx":
        return None
    try:
        info = pd.read_excel(path, sheet_name="Info", header=None, dtype=str)
    except (ValueError, OSError, KeyError):
        return None
    found = VERSION.search(" ".join(info.stack().astype(str)))
    return found[1] if found else None


def _version_in_name(path: Path) -> str | None:
    found = RELEASE_IN_NAME.search(path.stem)
    if not found:
        return None
    digits = found[1]
    return digits[:2] if digits.startswith("1") else digits[0]
