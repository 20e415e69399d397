"""GGDC/UNU-WIDER Economic Transformation Database (xlsx): value added and employment by sector."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.raw_table import raw_arrow, with_release
from pedw.sources.text_table import TextTable

# ETD's 12 sectors and the ISIC Rev.4 sections each one groups (GGDC ETD documentation).
ETD_SECTORS = {
    "Agriculture": "A", "Mining": "B", "Manufacturing": "C", "Utilities": "D+E",
    "Construction": "F", "Trade services": "G+I", "Transport services": "H",
    "Business services": "J+M+N", "Financial services": "K", "Real estate": "L",
    "Government services": "O+P+Q", "Other services": "R+S+T+U",
}  # fmt: skip
VARIABLES = {"VA": "ETD_VA_CUR", "VA_Q15": "ETD_VA_Q15", "EMP": "ETD_EMP"}


def load_ggdc_etd(source: Source, path: Path) -> pa.Table:
    """The Data sheet, sectors melted to rows: indicator ETD_<var>, classif1 ECO_ISIC4GRP_<sections>."""
    if not path.exists():
        raise SourceFileError(path, "file not found")
    try:
        sheet = pd.read_excel(path, sheet_name=source.options.get("sheet", "Data"), dtype=str)
    except (ValueError, OSError) as error:
        raise SourceFileError(path, f"cannot read the ETD workbook ({error})") from error
    missing = [c for c in ("cnt", "var", "year", *ETD_SECTORS) if c not in sheet.columns]
    if missing:
        raise SourceFileError(path, f"not an ETD Data sheet: column(s) {missing} missing", line=1)
    lines = np.arange(2, len(sheet) + 2)  # spreadsheet row numbers (row 1 is the header)
    release = notes_release(path)
    release_year = re.search(r"(?:19|20)\d\d", release or "")
    release_year = release_year[0] if release_year else None
    long = sheet.assign(_line=lines).melt(
        id_vars=["cnt", "var", "year", "_line"],
        value_vars=list(ETD_SECTORS),
        var_name="sector",
        value_name="value",
    )
    long = long[long["value"].notna()]
    frame = pd.DataFrame(
        {
            "ref_area": long["cnt"],
            "indicator": long["var"].map(VARIABLES).fillna("ETD_" + long["var"]),
            "source": f"GGDC-ETD-{release_year}" if release_year else "GGDC-ETD",
            "classif1": "ECO_ISIC4GRP_" + long["sector"].map(ETD_SECTORS),
            "time": long["year"],
            "obs_value": long["value"],
        }
    )
    table = pa.table(
        {
            c: pa.array(frame[c].astype(str).tolist(), pa.string())
            if c in frame
            else pa.nulls(len(frame), pa.string())
            for c in RAW_COLUMNS
        }
    )
    text = TextTable(path=path, table=table, lines=long["_line"].to_numpy())
    raw = raw_arrow(text, source, {c: c for c in RAW_COLUMNS})
    return with_release(raw, release)


RELEASE_LINE = re.compile(r"^\s*Release\s*:?\s*(.+?)\s*$", re.IGNORECASE)


def notes_release(path: Path) -> str | None:
    """The "Release: 15 July 2021" line of the workbook's Notes sheet, if it has one."""
    try:
        import openpyxl  # only for this one sheet: not imported by every command

        book = openpyxl.load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError):
        return None
    try:
        if "Notes" not in book.sheetnames:
            return None
        for row in book["Notes"].iter_rows(max_row=20, values_only=True):
            for cell in row:
                found = RELEASE_LINE.match(str(cell)) if isinstance(cell, str) else None
                if found:
                    return found[1]
        return None
    finally:
        book.close()
