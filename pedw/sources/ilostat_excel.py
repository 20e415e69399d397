"""ILOSTAT Excel exports: a title block above a wide table, one column per breakdown.

The layout ILOSTAT's data explorer and country profiles write (e.g. INJ_FATL_ECO_NB_A_EN.xlsx):

    row 1     title ("Cases of fatal occupational injury by economic activity")
    row 2     definition
    row 3     "Downloaded from ILOSTAT. Last update on 19DEC21."  -> the release date
    row 4     blank
    row 5     merged group header over the value columns (the indicator, or "Sex: Male" ...)
    row 6     Reference area | Source | Time | Total | A. Agriculture; ... | X. Not elsewhere ...
    row 7...  one row per economy, source and year; blank cell = not available, 0 = zero

Economy names become ISO alpha-3 codes (the reviewed name map, then pycountry), aggregate
labels ILOSTAT's aggregate codes ("World" -> X01, pedw.reference.ILO_AGGREGATES); a name that
maps to neither is kept as published, so the contract quarantines it by name.
Column labels become ILOSTAT codes (`A. ...` -> ECO_ISIC4_A, Total -> ECO_ISIC4_TOTAL;
Male/Female columns -> SEX_M/SEX_F). Cells holding only spaces are missing; a leading
apostrophe (Excel's text escape) is dropped. `source_line` is the spreadsheet row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.catalog import Source
from pedw.harmonise import country_codes, ilo_aggregate_code
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.ilostat_labels import indicator_from_file_name
from pedw.sources.raw_table import raw_arrow, with_release
from pedw.sources.text_table import TextTable

# The first header cell, in the languages ILOSTAT exports in.
AREA_HEADERS = ("reference area", "zone de référence", "área de referencia")
SECTION = re.compile(r"^([A-Z])\.\s")
SEX_LABELS = {"total": "SEX_T", "male": "SEX_M", "female": "SEX_F", "other": "SEX_O",
              "sex: total": "SEX_T", "sex: male": "SEX_M", "sex: female": "SEX_F"}  # fmt: skip
LAST_UPDATE = re.compile(r"Last update on (\d{1,2}[A-Z]{3}(?:\d{4}|\d{2}))\b", re.I)


def load_ilostat_excel(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT Excel export as raw observations, one row per non-empty value cell."""
    sheet = _read_sheet(path, source.options.get("sheet", 0))
    header_row = _header_row(sheet, path)
    header = _clean_cells(sheet.iloc[[header_row]]).iloc[0].tolist()
    header = [h if isinstance(h, str) else None for h in header]
    area, source_col, time_col = 0, _find(header, "source"), _find(header, "time")
    if time_col is None:
        raise SourceFileError(path, "no Time column in the header row", line=header_row + 1)
    first_value = max(i for i in (area, source_col, time_col) if i is not None) + 1
    above = _clean_cells(sheet.iloc[[header_row - 1]]).iloc[0] if header_row else None
    groups = above.ffill() if above is not None else pd.Series([None] * len(header))
    value_columns = [i for i in range(first_value, len(header)) if header[i]]
    if not value_columns:
        raise SourceFileError(path, "no value columns after Time", line=header_row + 1)

    body = _clean_cells(sheet.iloc[header_row + 1 :])
    body = body.assign(_line=np.arange(header_row + 2, header_row + 2 + len(body)))
    # Notes under the table (text in the first column only) are not observations.
    values_present = body.iloc[:, value_columns].notna().any(axis=1)
    body = body[body.iloc[:, time_col].notna() | values_present]
    long = body.melt(
        id_vars=[area, time_col, "_line", *([source_col] if source_col is not None else [])],
        value_vars=value_columns,
        var_name="_column",
        value_name="obs_value",
    )
    long = long[long["obs_value"].notna()]
    labels = {i: header[i] for i in value_columns}
    classif, sex = _breakdowns(labels, {i: groups[i] for i in value_columns})
    names = long[area]
    codes = {name: code or ilo_aggregate_code(name)
             for name, code in country_codes(names.dropna().unique()).items()}  # fmt: skip
    frame = pd.DataFrame(
        {
            "ref_area": names.map(codes).fillna(names),
            "ref_area_label": names,
            "indicator": source.options.get("indicator") or indicator_from_file_name(path) or "",
            "source": long[source_col] if source_col is not None else None,
            "sex": long["_column"].map(sex),
            "classif1": long["_column"].map(classif),
            "time": long[time_col],
            "obs_value": long["obs_value"],
        }
    )
    columns = [*RAW_COLUMNS, "ref_area_label"]
    table = pa.table(
        {
            c: pa.array(frame[c], pa.string(), from_pandas=True)
            if c in frame
            else pa.nulls(len(frame), pa.string())
            for c in columns
        }
    )
    text = TextTable(path=path, table=table, lines=long["_line"].to_numpy(dtype=np.int64))
    raw = raw_arrow(text, source, {c: c for c in columns})
    release = release_date(sheet.iloc[:header_row, 0].dropna().astype(str).tolist())
    return with_release(raw, release)


def release_date(lines: list[str]) -> str | None:
    """The ISO date of ILOSTAT's "Last update on 19DEC21" line, if the title block has one."""
    for line in lines:
        found = LAST_UPDATE.search(line)
        for layout in ("%d%b%y", "%d%b%Y") if found else ():
            with contextlib.suppress(ValueError):
                return dt.datetime.strptime(found[1], layout).date().isoformat()
    return None


def _read_sheet(path: Path, sheet: int | str) -> pd.DataFrame:
    if not path.exists():
        raise SourceFileError(path, "file not found")
    try:
        return pd.read_excel(path, sheet_name=sheet, header=None, dtype=str)
    except (ValueError, OSError, KeyError) as error:  # not a workbook, or no such sheet
        raise SourceFileError(path, f"cannot read it as an Excel workbook ({error})") from None


def _header_row(sheet: pd.DataFrame, path: Path) -> int:
    first = _clean_cells(sheet.iloc[:, [0]]).iloc[:, 0].str.casefold()
    found = np.flatnonzero(first.isin(AREA_HEADERS).to_numpy())
    if not len(found):
        raise SourceFileError(
            path, "not an ILOSTAT Excel export: no header row starting with 'Reference area'"
        )
    return int(found[0])


def _find(header: list[str | None], name: str) -> int | None:
    lowered = [h.casefold() if h else "" for h in header]
    return lowered.index(name) if name in lowered else None


def _clean_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Cell text as published: spaces around it and Excel's leading apostrophe dropped; a cell
    of spaces only is missing (one vectorised pass per column)."""
    cleaned = cells.apply(lambda column: column.str.strip().str.removeprefix("'").str.strip())
    return cleaned.mask(cleaned == "")


def _breakdowns(
    labels: dict[int, str], groups: dict[int, str | None]
) -> tuple[dict[int, str | None], dict[int, str | None]]:
    """classif1 and sex code of each value column, from its label and its group header."""
    by_activity = any(SECTION.match(label) for label in labels.values())
    classif, sex = {}, {}
    for column, label in labels.items():
        group_sex = SEX_LABELS.get((groups.get(column) or "").casefold())
        if by_activity:
            section = SECTION.match(label)
            classif[column] = f"ECO_ISIC4_{section[1]}" if section else (
                "ECO_ISIC4_TOTAL" if label.casefold() == "total" else label)  # fmt: skip
            sex[column] = group_sex
        elif label.casefold() in SEX_LABELS:
            classif[column], sex[column] = None, SEX_LABELS[label.casefold()]
        else:
            classif[column], sex[column] = label, group_sex  # kept as published, visible downstream
    return classif, sex
