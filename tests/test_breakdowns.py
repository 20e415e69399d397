"""ILOSTAT rows with three breakdowns (sex x age x economic activity), written in each
publisher layout (bulk CSV, explorer labels, Excel export, SDMX-ML and SDMX-CSV): every cell
loads under its own key, none is quarantined as a duplicate of another."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from openpyxl import Workbook
from sdmx_layout import write_csv_v1, write_structure, write_xml

from pedw.catalog import Source
from pedw.quality.contracts import load_contract
from pedw.quality.row_rules import check_rows, quarantine_query, staged_query
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import load_ilostat_csv
from pedw.sources.ilostat_excel import load_ilostat_excel
from pedw.sources.ilostat_sdmx import load_ilostat_sdmx
from pedw.store import offline_connection

INDICATOR = "EMP_TEMP_SEX_AGE_ECO_NB"
SEXES = {"SEX_T": "Sex: Total", "SEX_M": "Sex: Male"}
AGES = {"AGE_YTHADULT_YGE15": "Age (Youth, adults): 15+",
        "AGE_YTHADULT_Y15-24": "Age (Youth, adults): 15-24"}  # fmt: skip
ACTIVITIES = {"ECO_ISIC4_TOTAL": "Total", "ECO_ISIC4_A": "A. Agriculture; forestry and fishing"}
# One value per cell, all different: a cell loaded under another's key would show.
TRUTH = {
    (sex, age, eco): 100.0 * (i + 1)
    for i, (sex, age, eco) in enumerate(itertools.product(SEXES, AGES, ACTIVITIES))
}


def stage(table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staged and quarantined rows of a raw table through the ILOSTAT contract."""
    con = offline_connection()
    con.register("raw_rows", table)
    contract = load_contract("ilostat_observations")
    checked = check_rows(con, contract, "raw_rows", "checked")
    staged = con.sql(staged_query(contract, checked)).df()
    quarantined = con.sql(quarantine_query(contract, checked, "run")).df()
    return staged, quarantined


def assert_every_cell_loaded(table) -> None:
    staged, quarantined = stage(table)
    assert quarantined.empty, quarantined[["rule", "message"]].to_dict("records")
    assert len(staged) == len(TRUTH) == 8
    loaded = {(r.sex, r.classif1, r.classif2): r.obs_value for r in staged.itertuples(index=False)}
    assert loaded == TRUTH
    assert set(staged.ref_area) == {"KEN"} and set(staged.indicator) == {INDICATOR}


def bulk_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"ref_area": "KEN", "indicator": INDICATOR, "source": "BA:15715", "sex": sex,
             "classif1": age, "classif2": eco, "time": "2019", "obs_value": f"{value:g}"}
            for (sex, age, eco), value in TRUTH.items()
        ]
    )  # fmt: skip


def test_bulk_csv_three_breakdowns(tmp_path):
    path = tmp_path / f"{INDICATOR}_A.csv"
    bulk_frame().to_csv(path, index=False)
    table = load_ilostat_csv(Source("b", "national", "ilostat_csv"), path)
    assert_every_cell_loaded(table)


def test_explorer_label_csv_three_breakdowns(tmp_path):
    frame = bulk_frame()
    labels = pd.DataFrame(
        {
            "ref_area.label": "Kenya",
            "indicator.label": "Temporary employees by sex, age and economic activity",
            "source.label": "LFS - Labour Force Survey",
            "sex.label": frame.sex.map(SEXES),
            "classif1.label": frame.classif1.map(AGES),
            "classif2.label": "Economic activity (ISIC-Rev.4): " + frame.classif2.map(ACTIVITIES),
            "time": frame.time,
            "obs_value": frame.obs_value,
        }
    )
    path = tmp_path / f"{INDICATOR}_A-20240726T0000.csv"
    labels.to_csv(path, index=False, encoding="utf-8-sig")
    table = load_ilostat_csv(Source("e", "national", "ilostat_csv"), path)
    assert_every_cell_loaded(table)


def title_block(sheet) -> None:
    sheet.append(["Temporary employees by sex, age and economic activity (thousands)"])
    sheet.append(["Temporary employees are employees whose contract ..."])
    sheet.append(["Downloaded from ILOSTAT. Last update on 05MAR24."])
    sheet.append([])


def test_excel_export_with_sex_and_age_group_rows_over_activity_columns(tmp_path):
    """Sex and age as two merged group header rows above the activity columns."""
    book = Workbook()
    sheet = book.active
    title_block(sheet)
    columns = list(itertools.product(SEXES, AGES, ACTIVITIES))  # 8 value columns, D..K
    sheet.append([None, None, None, "Temporary employees", *[None] * 7])
    sheet.merge_cells("D5:K5")
    sheet.append([None, None, None, "Sex: Total", *[None] * 3, "Sex: Male", *[None] * 3])
    sheet.merge_cells("D6:G6")
    sheet.merge_cells("H6:K6")
    sheet.append([None, None, None, *[AGES[age] if eco == "ECO_ISIC4_TOTAL" else None
                                      for _, age, eco in columns]])  # fmt: skip
    for start in "DFHJ":
        sheet.merge_cells(f"{start}7:{chr(ord(start) + 1)}7")
    sheet.append(["Reference area", "Source", "Time", *[ACTIVITIES[eco] for *_, eco in columns]])
    sheet.append(["Kenya", "LFS - Labour Force Survey", 2019, *[TRUTH[c] for c in columns]])
    sheet.append(["Note: thousands."])
    path = tmp_path / f"{INDICATOR}_A_EN.xlsx"
    book.save(path)
    table = load_ilostat_excel(Source("x", "national", "ilostat_excel"), path)
    assert table.column("source_line").to_pylist() == [9] * 8  # the spreadsheet row
    assert_every_cell_loaded(table)


def test_excel_export_with_sex_and_age_columns_before_time(tmp_path):
    """Sex and age as row columns between Reference area and Time, activities across."""
    book = Workbook()
    sheet = book.active
    title_block(sheet)
    sheet.append([None, None, None, None, None, "Temporary employees", None])
    sheet.append(["Reference area", "Source", "Sex", "Age", "Time", "Total",
                  "A. Agriculture; forestry and fishing"])  # fmt: skip
    for sex, age in itertools.product(SEXES, AGES):
        cells = [TRUTH[(sex, age, eco)] for eco in ACTIVITIES]
        sheet.append(["Kenya", "LFS - Labour Force Survey", SEXES[sex], AGES[age], 2019, *cells])
    path = tmp_path / f"{INDICATOR}_A_EN.xlsx"
    book.save(path)
    table = load_ilostat_excel(Source("x", "national", "ilostat_excel"), path)
    assert_every_cell_loaded(table)


def test_excel_export_with_more_breakdowns_than_the_key_is_refused(tmp_path):
    """Age, occupation and activity besides sex: refused with the reason, never merged."""
    book = Workbook()
    sheet = book.active
    title_block(sheet)
    sheet.append(["Reference area", "Source", "Age", "Occupation", "Time", "A. Agriculture"])
    sheet.append(["Kenya", "LFS", "Age (Youth, adults): 15+", "Occupation (ISCO-08): Total",
                  2019, 5])  # fmt: skip
    path = tmp_path / f"{INDICATOR}_A_EN.xlsx"
    book.save(path)
    with pytest.raises(SourceFileError, match="3 breakdowns besides sex"):
        load_ilostat_excel(Source("x", "national", "ilostat_excel"), path)


@pytest.mark.parametrize("name", ["data.xml", "data.csv"])
def test_sdmx_three_breakdowns(tmp_path, name):
    frame = bulk_frame()
    write_structure(frame, tmp_path / "structure.xml")
    (write_xml if name.endswith(".xml") else write_csv_v1)(frame, tmp_path / name)
    source = Source(
        "s", "national", "ilostat_sdmx", name, options={"structure": "structure.xml"},
        base_dir=tmp_path,
    )  # fmt: skip
    table = load_ilostat_sdmx(source, tmp_path / name)
    assert_every_cell_loaded(table)
