"""ILOSTAT Excel exports in the publisher's layout (the real file: tests/test_real_sources.py)."""

from __future__ import annotations


def test_ilostat_excel_quirks_world_rows_apostrophes_blank_cells_sex_groups_and_notes(tmp_path):
    """An ILOSTAT Excel export by sex in the publisher's layout, with the quirks of real
    exports: a World and a regional row, Excel's leading apostrophe, cells of spaces only, a
    merged group header, a note line under the table."""
    from openpyxl import Workbook

    from pedw.catalog import Source
    from pedw.sources.ilostat_excel import load_ilostat_excel

    book = Workbook()
    sheet = book.active
    sheet.append(["Employment by sex (thousands)"])
    sheet.append(["Employment comprises all persons of working age who ..."])
    sheet.append(["Downloaded from ILOSTAT. Last update on 05MAR24."])
    sheet.append([])
    sheet.append([None, None, None, "Employment", None, None])
    sheet.merge_cells("D5:F5")
    sheet.append(["Reference area", "Source", "Time", "Total", "Male", "Female"])
    sheet.append(["World", "XA:2198 - ILO modelled estimates", 2023, 3500000, 2100000, 1400000])
    sheet.append(
        ["Sub-Saharan Africa", "XA:2198 - ILO modelled estimates", 2023, 450000, None, None]
    )
    sheet.append(["Côte d'Ivoire", "'LFS - Enquête emploi", "'2019", "'9100.5", "  ", 4000.25])
    sheet.append(["Kenya", "LFS - Labour Force Survey", 2019, 19000, 9800, None])
    sheet.append(["Eastern Africa and beyond", "XA:2198 - ILO modelled estimates", 2023, 5, 3, 2])
    sheet.append(["Note: data for 2023 are projections."])
    path = tmp_path / "EMP_TEMP_SEX_NB_A_EN.xlsx"
    book.save(path)

    table = load_ilostat_excel(Source(name="x", level="national", format="ilostat_excel"), path)
    assert table.schema.metadata == {b"pedw_release": b"2024-03-05"}
    rows = {(r["ref_area"], r["sex"]): r for r in table.to_pylist()}
    assert len(table) == 11  # 3 + 1 + 2 + 2 + 3 non-blank cells; the note line is not a row
    civ = rows[("CIV", "SEX_T")]
    assert (civ["time"], civ["obs_value"], civ["source"]) == (
        "2019",
        "9100.5",
        "LFS - Enquête emploi",
    )
    assert civ["source_line"] == 9 and civ["indicator"] == "EMP_TEMP_SEX_NB"
    assert ("CIV", "SEX_M") not in rows  # a cell of spaces is missing, not a value
    assert rows[("CIV", "SEX_F")]["obs_value"] == "4000.25"
    assert rows[("KEN", "SEX_M")]["classif1"] is None
    # published aggregate labels get ILOSTAT's aggregate codes (kept as aggregates, never in a
    # country panel); a name that is neither stays as published: the contract quarantines it
    assert rows[("X01", "SEX_T")]["ref_area_label"] == "World"
    assert rows[("X13", "SEX_T")]["obs_value"] == "450000"
    assert rows[("Eastern Africa and beyond", "SEX_F")]["obs_value"] == "2"
