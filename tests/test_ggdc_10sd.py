"""The GGDC 10-Sector Database in its published layouts (no copy in ../shared: the rows are
written here in the publisher's exact layouts, the workbook 10sd_jan15_2014.xlsx with its
sectors named in words and the Stata file 10SD_jan15.dta with them abbreviated)."""

from __future__ import annotations

import pandas as pd
import pytest

from pedw.catalog import Source, load_catalog
from pedw.marts.sector_panel import write_sector_panel
from pedw.models.sector import shift_share
from pedw.raw import write_raw
from pedw.sources.errors import SourceFileError
from pedw.sources.ggdc_10sd import SECTORS, load_ggdc_10sd
from pedw.staging.contracted import stage_through_contract
from pedw.staging.series import write_series
from pedw.store import Store

WORDS = ["Agriculture ", "Mining", "Manufacturing", "Utilities", "Construction",
         "Trade, restaurants and hotels", "Transport, storage and communication",
         "Finance, insurance, real estate and business services", "Government services",
         "Community, social and personal services", "Summation of sector GDP"]  # fmt: skip
CODES = list(SECTORS)


def ten_sector_rows() -> pd.DataFrame:
    """Botswana (VA, VA_Q05, EMP for 1964-1966), Morocco under the database's own code MOR in
    a year before 1950 (the database starts in 1947), West Germany (DEW, no ISO code), as the
    database publishes them."""
    rows = []
    for year in (1964, 1965, 1966):
        grow = 1.05 ** (year - 1964)
        emp = [150.0, 5.0, 10.0, 1.0, 8.0, 20.0, 6.0, 3.0, 30.0, 12.0]
        va_q05 = [400.0, 90.0, 60.0, 15.0, 55.0, 120.0, 45.0, 80.0, 150.0, 35.0]
        va_q05 = [round(v * grow * (1.02 if i == 2 else 1.0), 6) for i, v in enumerate(va_q05)]
        va = [round(v * 0.4, 6) for v in va_q05]
        for variable, values in (("VA", va), ("VA_Q05", va_q05), ("EMP", emp)):
            rows.append(["BWA", "Sub-saharan Africa", "SSA", variable, year, *values,
                         round(sum(values), 6)])  # fmt: skip
    rows.append(["MOR", "Middle East and North Africa", "MENA", "EMP", 1949,
                 *[100.0] * 10, 1000.0])  # fmt: skip
    rows.append(["DEW", "Western Europe", "WEU", "EMP", 1950, *[50.0] * 10, 500.0])
    return pd.DataFrame(rows, columns=["Country", "Region", "Region code", "Variable", "Year",
                                       *WORDS])  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ggdc10")
    frame = ten_sector_rows()
    sheet = frame.astype(object)
    sheet.loc[4, "Mining"] = "   "  # a cell holding only spaces: missing, not a value
    sheet.loc[5, "Utilities"] = None  # an empty cell
    with pd.ExcelWriter(folder / "10sd_jan15_2014.xlsx") as book:
        pd.DataFrame({"Source": ["GGDC 10-Sector Database, release January 2015"]}).to_excel(
            book, sheet_name="Sources", index=False
        )
        sheet.to_excel(book, sheet_name="dataset", index=False)
    stata = frame.rename(columns=dict(zip(WORDS, CODES, strict=True))).rename(
        columns={"Region code": "Regioncode"}
    )
    stata.loc[4, "MIN"] = float("nan")
    stata.loc[5, "PU"] = float("nan")
    stata.to_stata(folder / "10SD_jan15.dta", write_index=False, version=118)
    return folder


def load(path):
    return load_ggdc_10sd(Source(name="ggdc10", level="sector", format="ggdc_10sd"), path)


def test_the_workbook_becomes_one_row_per_published_cell(published):
    table = load(published / "10sd_jan15_2014.xlsx")
    assert table.schema.metadata == {b"pedw_release": b"2015-01"}
    rows = table.to_pandas()
    assert len(rows) == 11 * 11 - 2  # 11 rows x 11 columns, one blank and one space-only cell
    cell = rows.set_index(["ref_area", "indicator", "time", "classif1"])
    agriculture = cell.loc[("BWA", "GGDC10_VA_Q05", "1964", "ECO_ISIC4GRP_A")]
    assert (agriculture.obs_value, agriculture.source_line) == ("400", 3)  # row 1: the header
    transport = cell.loc[("BWA", "GGDC10_EMP", "1966", "ECO_ISIC4GRP_H+J")]
    assert (transport.obs_value, transport.source_line) == ("6", 10)
    assert cell.loc[("BWA", "GGDC10_EMP", "1964", "ECO_ISIC4_TOTAL")].obs_value == "245"
    assert ("BWA", "GGDC10_VA_Q05", "1965", "ECO_ISIC4GRP_B") not in cell.index  # "   "
    assert ("BWA", "GGDC10_EMP", "1965", "ECO_ISIC4GRP_D+E") not in cell.index
    assert set(rows.ref_area) == {"BWA", "MAR", "DEW"}  # MOR is Morocco's ISO code MAR
    assert set(rows.source) == {"GGDC-10SD"}


def test_the_stata_file_gives_the_workbook_rows_back(published):
    workbook = load(published / "10sd_jan15_2014.xlsx").to_pandas()
    stata = load(published / "10SD_jan15.dta").to_pandas()
    key = ["ref_area", "indicator", "time", "classif1"]
    merged = workbook.merge(stata, on=key, suffixes=("_xlsx", "_dta"))
    assert len(merged) == len(workbook) == len(stata)
    assert (merged.obs_value_xlsx.astype(float) == merged.obs_value_dta.astype(float)).all()
    assert (merged.source_line_xlsx == merged.source_line_dta + 1).all()  # row vs observation


def test_a_table_without_the_sector_columns_is_refused_naming_them(published, tmp_path):
    frame = ten_sector_rows().drop(columns=["Mining"])
    path = tmp_path / "10sd_jan15_2014.xlsx"
    frame.to_excel(path, sheet_name="dataset", index=False)
    with pytest.raises(SourceFileError, match=r"not a GGDC 10-Sector Database table.*\['MIN'\]"):
        load(path)


def test_ten_sectors_reach_the_sector_panel_and_its_decomposition(published, tmp_path):
    """Through the contract: DEW is quarantined with its reason, the rest (1949 included) is
    staged; employment and value added come from the database together, the Rev.3.1 sectors
    are the panel's sector groups, and the decomposition adds up to aggregate growth."""
    # ILOSTAT employment of Botswana by ISIC Rev.4 section, with more rows than the database
    # has: productivity needs value added and employment from one source, so it is not used.
    ilostat = tmp_path / "EMP_TEMP_SEX_ECO_NB_A.csv"
    ilostat.write_text("ref_area,indicator,source,sex,classif1,time,obs_value\n" + "".join(
        f"BWA,EMP_TEMP_SEX_ECO_NB,BA:1,SEX_T,ECO_ISIC4_{section},{year},10\n"
        for section in "ABCDEFGHIJKLMNOPQRSTU" for year in range(1960, 1967)
    ))  # fmt: skip
    catalog_path = tmp_path / "catalog.yml"
    catalog_path.write_text(
        "name: ten_sector\nsources:\n"
        "  - name: ggdc10\n    level: sector\n    format: ggdc_10sd\n"
        f"    path: {published / '10sd_jan15_2014.xlsx'}\n    contract: ilostat_observations\n"
        "  - name: ilostat\n    level: sector\n    format: ilostat_csv\n"
        f"    path: {ilostat}\n    contract: ilostat_observations\n"
    )
    store = Store(tmp_path / "store")
    loaded = write_raw(store, load_catalog(catalog_path), "sector", ("ggdc_10sd", "ilostat_csv"),
                       "sector_observations", "test")  # fmt: skip
    assert loaded.rows_by_source == {"ggdc10": 11 * 11 - 2, "ilostat": 21 * 7}
    result = stage_through_contract(store, "ilostat_observations", "sector_observations",
                                    "sector_observations", "test")  # fmt: skip
    con = store.connect()
    try:
        reasons = con.execute(
            "SELECT source_line, rule, value, count(*) FROM quality.quarantine GROUP BY ALL "
            "ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert reasons == [(12, "code_list", "DEW", 11)]
    assert (result.rows_read, result.rows_quarantined) == (loaded.rows, 11)
    assert result.rows_loaded == loaded.rows - 11
    write_series(store, "sector")
    write_sector_panel(store)
    con = store.connect()
    try:
        sectors = con.execute(
            "SELECT sector, sector_name, broad_sector FROM marts.sector_panel "
            "WHERE ref_area = 'BWA' AND year = 1964 ORDER BY sector"
        ).fetchall()
        panel = con.execute("SELECT * FROM marts.sector_panel").df()
    finally:
        con.close()
    assert [s for s, _, _ in sectors] == ["A", "B", "C", "D+E", "F", "G+I", "H+J", "K+L+M+N",
                                          "O+P+Q", "R+S+T+U"]  # fmt: skip
    assert all(name and broad for _, name, broad in sectors)
    botswana = panel[panel.ref_area == "BWA"].set_index(["sector", "year"])
    assert botswana.loc[("A", 1964), "employment"] == 150_000  # thousands to persons
    assert botswana.loc[("A", 1964), "value_added"] == 400e6  # constant 2005 prices, millions
    decomposition = shift_share(panel[panel.ref_area == "BWA"]).set_index("end_year").loc[1966]
    start = botswana.xs(1964, level="year")
    end = botswana.xs(1966, level="year")
    growth = (end.value_added.sum() / end.employment.sum()) / (
        start.value_added.sum() / start.employment.sum()
    )
    assert decomposition["total_change_growth_pct"] == pytest.approx(100 * (growth - 1), rel=1e-9)
    parts = ["within_sector", "static_structural_change", "dynamic_reallocation", "entry_exit"]
    assert decomposition[parts].sum() == pytest.approx(decomposition["total_change"], rel=1e-9)
