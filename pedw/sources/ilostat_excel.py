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

from pedw.harmonise import country_codes, ilo_aggregate_code
from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.ilostat_labels import classif_code, indicator_from_file_name
from pedw.sources.raw_table import raw_arrow, with_release
from pedw.sources.text_table import TextTable

# The first header cell, in the languages ILOSTAT exports in.
AREA_HEADERS = ("reference area", "zone de référence", "área de referencia")
SECTION = re.compile(r"^([A-Z])\.\s")
SEX_LABELS = {"total": "SEX_T", "male": "SEX_M", "female": "SEX_F", "other": "SEX_O",
              "sex: total": "SEX_T", "sex: male": "SEX_M", "sex: female": "SEX_F"}  # fmt: skip
LAST_UPDATE = re.compile(r"Last update on (\d{1,2}[A-Z]{3}(?:\d{4}|\d{2}))\b", re.I)


def load_ilostat_excel(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT Excel export as raw observations, one row per non-empty value cell.

    Breakdowns may sit in three places, and every one of them becomes part of the row's key:
    columns between Reference area and Time ("Sex", "Age"), group header rows above the
    column header ("Sex: Male" over some columns, "Age (Youth, adults): 15+" under it) and
    the value columns' own labels ("A. Agriculture; ..."). Sex goes to `sex`; the others to
    classif1 and classif2 in the order the indicator code names them (EMP_TEMP_SEX_AGE_ECO:
    age, then activity), as the bulk files have them. A cell with more breakdowns than the
    key holds refuses the file (never two cells under one key).
    """
    sheet = _read_sheet(path, source.options.get("sheet", 0))
    header_row = _header_row(sheet, path)
    header = _clean_cells(sheet.iloc[[header_row]]).iloc[0].tolist()
    header = [h if isinstance(h, str) else None for h in header]
    area, source_col, time_col = 0, _find(header, "source"), _find(header, "time")
    if time_col is None:
        raise SourceFileError(path, "no Time column in the header row", line=header_row + 1)
    first_value = max(i for i in (area, source_col, time_col) if i is not None) + 1
    value_columns = [i for i in range(first_value, len(header)) if header[i]]
    if not value_columns:
        raise SourceFileError(path, "no value columns after Time", line=header_row + 1)
    row_dimensions = [i for i in range(1, time_col) if i != source_col and header[i]]
    groups = _group_rows(sheet, header_row, value_columns)

    body = _clean_cells(sheet.iloc[header_row + 1 :])
    body = body.assign(_line=np.arange(header_row + 2, header_row + 2 + len(body)))
    # Notes under the table (text in the first column only) are not observations.
    values_present = body.iloc[:, value_columns].notna().any(axis=1)
    body = body[body.iloc[:, time_col].notna() | values_present]
    long = body.melt(
        id_vars=[area, time_col, "_line", *([source_col] if source_col is not None else []),
                 *row_dimensions],
        value_vars=value_columns,
        var_name="_column",
        value_name="obs_value",
    )  # fmt: skip
    long = long[long["obs_value"].notna()]
    indicator = source.options.get("indicator") or indicator_from_file_name(path) or ""
    sex, classif1, classif2 = _cell_breakdowns(
        long, header, row_dimensions, value_columns, groups, indicator, path
    )
    names = long[area]
    codes = {name: code or ilo_aggregate_code(name)
             for name, code in country_codes(names.dropna().unique()).items()}  # fmt: skip
    frame = pd.DataFrame(
        {
            "ref_area": names.map(codes).fillna(names),
            "ref_area_label": names,
            "indicator": indicator,
            "source": long[source_col] if source_col is not None else None,
            "sex": sex,
            "classif1": classif1,
            "classif2": classif2,
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


def _group_rows(
    sheet: pd.DataFrame, header_row: int, value_columns: list[int]
) -> list[dict[int, str | None]]:
    """The group header rows right above the column header (top first): each one's label
    over every value column, a merged cell's label carried to the columns it spans."""
    groups = []
    row = header_row - 1
    while row >= 0:
        cells = _clean_cells(sheet.iloc[[row], value_columns]).iloc[0]
        if cells.isna().all():
            break  # the blank line or the title block above the table
        groups.insert(0, dict(zip(value_columns, cells.ffill(), strict=True)))
        row -= 1
    return groups


def _label_breakdown(label: str | None) -> tuple[str | None, str | None]:
    """(sex, classification) a group label or row value stands for; a label without a
    "Dimension: item" form (the indicator's title over the table) stands for neither."""
    if not isinstance(label, str):
        return None, None
    if label.casefold() in SEX_LABELS:
        return SEX_LABELS[label.casefold()], None
    return (None, classif_code(label)) if ":" in label else (None, None)


def _cell_breakdowns(
    long: pd.DataFrame,
    header: list[str | None],
    row_dimensions: list[int],
    value_columns: list[int],
    groups: list[dict[int, str | None]],
    indicator: str,
    path: Path,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """sex, classif1 and classif2 of every value cell (`long`, one row per cell)."""
    classif, column_sex = _breakdowns({i: header[i] for i in value_columns})
    sex = long["_column"].map(column_sex)
    parts = []  # one Series of classification codes per breakdown found
    for level in groups:
        meaning = {column: _label_breakdown(label) for column, label in level.items()}
        sex = sex.fillna(long["_column"].map({c: m[0] for c, m in meaning.items()}))
        parts.append(long["_column"].map({c: m[1] for c, m in meaning.items()}))
    for column in row_dimensions:
        name = header[column]
        values = long[column]
        published = {v: v if ":" in v else f"{name}: {v}" for v in values.dropna().unique()}
        if name.casefold() == "sex":
            sex = sex.fillna(values.map({v: SEX_LABELS.get(v.casefold()) for v in published}))
        else:
            parts.append(values.map({v: classif_code(p) for v, p in published.items()}))
    parts.append(long["_column"].map(classif))
    found = pd.DataFrame({f"b{n}": part for n, part in enumerate(parts)}, index=long.index)
    # Each distinct combination is ordered once; cells look their codes up by it.
    joined = found.iloc[:, 0].fillna("")
    for name in found.columns[1:]:
        joined = joined + "\x1f" + found[name].fillna("")
    ordered = {}
    for combination in joined.unique():
        codes = _indicator_order([c for c in combination.split("\x1f") if c], indicator)
        if len(codes) > 2:
            raise SourceFileError(
                path,
                f"a cell has {len(codes)} breakdowns besides sex ({', '.join(codes)}); the "
                "ILOSTAT key holds two (classif1, classif2)",
            )
        ordered[combination] = [*codes, None, None][:2]
    return (
        sex,
        joined.map({k: v[0] for k, v in ordered.items()}),
        joined.map({k: v[1] for k, v in ordered.items()}),
    )


def _indicator_order(codes: list[str], indicator: str) -> list[str]:
    """Classification codes in the order the indicator code names their dimensions
    (EMP_TEMP_SEX_AGE_ECO_NB: AGE_... before ECO_...); others after, as found."""
    parts = indicator.split("_")
    return sorted(
        codes,
        key=lambda code: parts.index(code.split("_")[0]) if code.split("_")[0] in parts else 99,
    )


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


def _breakdowns(labels: dict[int, str]) -> tuple[dict[int, str | None], dict[int, str | None]]:
    """Classification and sex code of each value column, from its own label."""
    by_activity = any(SECTION.match(label) for label in labels.values())
    classif, sex = {}, {}
    for column, label in labels.items():
        if by_activity:
            section = SECTION.match(label)
            classif[column] = f"ECO_ISIC4_{section[1]}" if section else (
                "ECO_ISIC4_TOTAL" if label.casefold() == "total" else label)  # fmt: skip
            sex[column] = None
        elif label.casefold() in SEX_LABELS:
            classif[column], sex[column] = None, SEX_LABELS[label.casefold()]
        else:  # a known label to its code, others kept as published, visible downstream
            classif[column], sex[column] = classif_code(label), None
    return classif, sex
