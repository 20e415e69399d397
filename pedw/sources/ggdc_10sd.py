"""GGDC 10-Sector Database (Timmer, de Vries & de Vries 2015): value added and persons
engaged in ten ISIC Rev.3.1 sectors, 1950-2012, for 42 economies.

Published as a workbook (10sd_jan15_2014.xlsx, sheet `dataset`, sectors named in words,
some with stray spaces: "Agriculture ") and as Stata/CSV (10SD_jan15.dta, sectors
abbreviated: AGR ... OTH, SUM):

    Country | Region | Region code | Variable | Year | Agriculture | Mining | ... | Summation of sector GDP
    BWA     | Sub-saharan Africa | SSA | VA | 1964 | 16.3 | 3.49 | ...

Variables: VA (millions of local currency, current prices), VA_Q05 / VA_Q10 / VA_Q91
(constant 2005, 2010 or 1991 prices, one per economy) and EMP (thousands of persons).
Each cell becomes a row: indicator GGDC10_<variable>, classif1 the ISIC Rev.4 sections the
Rev.3.1 sector covers (ECO_ISIC4GRP_<sections>; the sum is ECO_ISIC4_TOTAL). Cells holding
only spaces are missing, not values. The database's own codes for Morocco (MOR) become ISO
(MAR); West Germany (DEW) has no ISO code and is kept as published, so the contract
quarantines it with its code.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.raw_table import raw_arrow, read_data_file, require_columns, with_release
from pedw.sources.text_table import TextTable

# The ten ISIC Rev.3.1 sectors (the database's codes, its workbook names) and the ISIC
# Rev.4 sections each covers. Where a Rev.3.1 sector spans Rev.4 sections the group is named
# by all of them: transport, storage and communication (Rev.3.1 I) is Rev.4 H with the
# telecommunications of J; finance, real estate and business services (Rev.3.1 J+K) are Rev.4
# K, L, M and N (with the computer services of J). Sector levels compare within a country.
SECTORS = {
    "AGR": ("Agriculture", "A"),
    "MIN": ("Mining", "B"),
    "MAN": ("Manufacturing", "C"),
    "PU": ("Utilities", "D+E"),
    "CON": ("Construction", "F"),
    "WRT": ("Trade, restaurants and hotels", "G+I"),
    "TRA": ("Transport, storage and communication", "H+J"),
    "FIRE": ("Finance, insurance, real estate and business services", "K+L+M+N"),
    "GOV": ("Government services", "O+P+Q"),
    "OTH": ("Community, social and personal services", "R+S+T+U"),
    "SUM": ("Summation of sector GDP", "TOTAL"),
}
CLASSIF1 = {
    code: "ECO_ISIC4_TOTAL" if code == "SUM" else f"ECO_ISIC4GRP_{sections}"
    for code, (_, sections) in SECTORS.items()
}
IDS = {"country": "Country", "variable": "Variable", "year": "Year"}
# The database's own country codes that ISO 3166 spells otherwise.
COUNTRY_CODES = {"MOR": "MAR"}
RELEASE_IN_NAME = re.compile(r"10sd_([a-z]{3}\d{2})", re.IGNORECASE)  # 10SD_jan15


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _header(columns: list[str]) -> dict[str, str]:
    """Canonical name (country, variable, year, AGR ... SUM) -> the column as published."""
    wanted = {_key(v): k for k, v in IDS.items()}
    for code, (words, _) in SECTORS.items():
        wanted[_key(code)] = code
        wanted[_key(words)] = code
    return {wanted[_key(c)]: c for c in columns if _key(c) in wanted}


def load_ggdc_10sd(source: Source, path: Path) -> pa.Table:
    """Every published cell of the 10-Sector Database as a raw observation row."""
    text = read_data_file(
        path, source.options.get("sheet", "dataset"), "a GGDC 10-Sector Database",
        **source.options.get("read", {}),
    )  # fmt: skip
    header = _header(text.table.column_names)
    require_columns(text, (*IDS, *SECTORS), "a GGDC 10-Sector Database table", header)
    frame = text.table.select([header[c] for c in (*IDS, *SECTORS)]).to_pandas()
    frame.columns = [*IDS, *SECTORS]
    frame["_line"] = text.lines
    long = frame.melt(id_vars=[*IDS, "_line"], value_vars=list(SECTORS), var_name="sector")
    values = long["value"].str.strip()
    long = long[values.notna() & (values != "")].assign(value=values)
    country = long["country"].str.strip()
    cells = pd.DataFrame(
        {
            "ref_area": country.replace(COUNTRY_CODES),
            "indicator": "GGDC10_" + long["variable"].str.strip(),
            "source": "GGDC-10SD",
            "classif1": long["sector"].map(CLASSIF1),
            "time": long["year"].str.strip(),
            "obs_value": long["value"],
        }
    )
    table = pa.table(
        {
            c: pa.array(cells[c], pa.string()) if c in cells
            else pa.nulls(len(cells), pa.string())
            for c in RAW_COLUMNS
        }
    )  # fmt: skip
    text = TextTable(path=path, table=table, lines=long["_line"].to_numpy(dtype=np.int64))
    return with_release(raw_arrow(text, source, {c: c for c in RAW_COLUMNS}), release(path))


def release(path: Path) -> str | None:
    """The release a file name states (10SD_jan15.dta, 10sd_jan15_2014.xlsx: January 2015)."""
    found = RELEASE_IN_NAME.search(path.name)
    try:
        return dt.datetime.strptime(found[1].title(), "%b%y").strftime("%Y-%m") if found else None
    except ValueError:  # not a month: no release stated
        return None
