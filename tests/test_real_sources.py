"""Loaders on the real published files under ../shared/data/real (skipped where absent).

Row counts and layouts are those stated in each folder's PROVENANCE.md.
"""

from __future__ import annotations

import pandas as pd
import pytest
from brief_checks import (
    CHROMIUM,
    POPPLER,
    check_brief_page,
    check_pdf,
    chromium_images,
    pdf_pages_render,
)

from pedw.briefs.eligibility import load_eligibility
from pedw.catalog import Source
from pedw.harmonise import country_code, ilo_aggregate_code
from pedw.quality.code_lists import code_lists
from pedw.reference import ILO_AGGREGATES
from pedw.sources.ggdc_etd import ETD_SECTORS, load_ggdc_etd
from pedw.sources.ilostat_csv import load_ilostat_csv
from pedw.sources.ilostat_excel import load_ilostat_excel
from pedw.sources.pwt import load_pwt
from pedw.sources.wdi import load_wdi_country_metadata, load_wdi_csv
from pedw.warehouse import connect_read_only

pytestmark = pytest.mark.real_data


def source(fmt: str, level: str = "national") -> Source:
    return Source(name=f"real_{fmt}", level=level, format=fmt)


@pytest.mark.parametrize(
    ("name", "rows", "indicator"),
    [
        ("SDG_0831_SEX_ECO_RT_A.csv", 49_930, "SDG_0831_SEX_ECO_RT"),
        ("SDG_0852_SEX_AGE_RT_A.csv", 25_730, "SDG_0852_SEX_AGE_RT"),
        ("SDG_0861_SEX_RT_A.csv", 6_262, "SDG_0861_SEX_RT"),
        ("SDG_A821_NOC_RT_A.csv", 4_571, "SDG_A821_NOC_RT"),
        ("SDG_1041_NOC_RT_A.csv", 6_329, "SDG_1041_NOC_RT"),  # quoted, other column order, no BOM
    ],
)
def test_ilostat_bulk_files_load_every_row(real_data, name, rows, indicator):
    table = load_ilostat_csv(source("ilostat_csv"), real_data / "ilostat_bulk" / name).to_pandas()
    assert len(table) == rows
    assert set(table.indicator) == {indicator}
    assert table.source_line.min() == 2 and table.source_line.is_unique
    lists = code_lists()
    known = {*lists["iso3_country"], *lists["wb_aggregate"], *lists["ilo_aggregate"]}
    assert set(table.ref_area) <= known


def test_every_ilo_aggregate_of_the_real_files_is_on_the_code_list_with_its_label(real_data):
    """Aggregates are recognised by the reviewed list, not by the shape X..: every aggregate
    code the real ILOSTAT downloads publish is on it, under the label the explorer gives it,
    and that label maps back to the code (the Excel exports name aggregates by label)."""
    codes = set()
    for path in (real_data / "ilostat_bulk").glob("*.csv"):
        frame = load_ilostat_csv(source("ilostat_csv"), path).to_pandas()
        codes |= {c for c in frame.ref_area.unique() if c not in code_lists()["iso3_country"]}
    labelled = {}
    for path in (real_data / "ilostat_explorer").glob("*.csv"):
        frame = load_ilostat_csv(source("ilostat_csv"), path).to_pandas()
        if "ref_area_label" in frame:
            aggregates = frame[frame.ref_area.isin(ILO_AGGREGATES)]
            labelled |= dict(zip(aggregates.ref_area, aggregates.ref_area_label, strict=True))
    assert len(codes) == 87 and codes <= ILO_AGGREGATES.keys()
    assert len(labelled) == 82
    assert {code: ILO_AGGREGATES[code] for code in labelled} == labelled
    assert {ilo_aggregate_code(label) for label in labelled.values()} == labelled.keys()


def test_ilostat_bulk_keeps_values_flags_and_notes(real_data):
    table = load_ilostat_csv(
        source("ilostat_csv"), real_data / "ilostat_bulk" / "SDG_0831_SEX_ECO_RT_A.csv"
    ).to_pandas()
    first = table.iloc[0]
    assert (first.ref_area, first.sex, first.classif1, first.time, first.obs_value) == (
        "AFG",
        "SEX_T",
        "ECO_AGNAG_TOTAL",
        "2021",
        "86.431",
    )
    assert first.note_source == "R1:3513_S3:8"
    assert set(table.obs_status.dropna()) <= {"B", "U", "I", "M", ""}


def test_explorer_label_layout_is_mapped_back_to_codes(real_data):
    path = real_data / "ilostat_explorer" / "EMP_NIFL_SEX_RT_A-20240726T0000.csv"
    table = load_ilostat_csv(source("ilostat_csv"), path).to_pandas()
    assert len(table) == 3_559
    assert set(table.indicator) == {"EMP_NIFL_SEX_RT"}  # from the file name
    assert set(table.sex) == {"SEX_T", "SEX_M", "SEX_F", "SEX_O"}
    assert table.ref_area_label.nunique() == 141
    unmapped = table.loc[~table.ref_area.str.fullmatch(r"[A-Z]{3}"), "ref_area_label"].unique()
    assert list(unmapped) == []
    bolivia = table.loc[
        table.ref_area_label == "Bolivia (Plurinational State of)", "ref_area"
    ].unique()
    assert list(bolivia) == ["BOL"]
    assert {"B", "U"} <= set(table.obs_status.dropna())


def test_explorer_filtered_and_full_layouts(real_data):
    earnings = load_ilostat_csv(
        source("ilostat_csv"),
        real_data / "ilostat_explorer" / "EAR_4MTH_SEX_ECO_CUR_NB_A-filtered-2022-09-27.csv",
    ).to_pandas()
    assert len(earnings) == 1_017
    assert set(earnings.classif1) == {"ECO_AGGREGATE_TOTAL"} and set(earnings.classif2) == {
        "CUR_TYPE_USD"
    }
    assert earnings.loc[
        earnings.ref_area_label == "Hong Kong, China", "ref_area"
    ].unique().tolist() == ["HKG"]
    output = load_ilostat_csv(
        source("ilostat_csv"),
        real_data / "ilostat_explorer" / "GDP_211P_NOC_NB_A-full-2023-10-18.csv",
    ).to_pandas()
    assert len(output) == 8_666
    assert output.ref_area_label.notna().all()


def test_ilostat_excel_export_becomes_one_row_per_published_cell(real_data):
    """INJ_FATL_ECO_NB_A_EN.xlsx: title block, merged group header, wide by ISIC section."""
    path = real_data / "ilostat_excel" / "INJ_FATL_ECO_NB_A_EN.xlsx"
    table = load_ilostat_excel(source("ilostat_excel", "sector"), path)
    assert table.schema.metadata == {b"pedw_release": b"2021-12-19"}  # "Last update on 19DEC21"
    frame = table.to_pandas()
    wide = pd.read_excel(path, skiprows=5, dtype=str).iloc[:, 3:26]
    assert len(frame) == int(wide.notna().sum().sum()) == 10_267  # every non-blank cell
    assert frame.ref_area_label.nunique() == 81
    assert (
        frame.loc[~frame.ref_area.str.fullmatch(r"[A-Z]{3}"), "ref_area_label"].unique().size == 0
    )
    assert set(frame.indicator) == {"INJ_FATL_ECO_NB"}  # from the file name
    assert frame.classif1.nunique() == 23  # Total, A..U and X
    cell = frame.set_index(["ref_area", "time", "classif1"])
    assert cell.loc[("ARG", "2009", "ECO_ISIC4_TOTAL")].obs_value == "830"
    armenia = cell.loc[("ARM", "2009", "ECO_ISIC4_B")]
    assert (armenia.obs_value, armenia.source_line) == ("3", 10)
    assert armenia.source == "ADM-LIR - Records of Labour Inspection of Republic of Armenia"
    assert cell.loc[("ZWE", "2014", "ECO_ISIC4_TOTAL")].source_line == 570
    assert cell.loc[("AND", "2015", "ECO_ISIC4_A")].obs_value == "0"  # a real zero is kept
    for name, code in [("Réunion", "REU"), ("Korea, Republic of", "KOR"), ("Turkey", "TUR"),
                       ("Occupied Palestinian Territory", "PSE"), ("Hong Kong, China", "HKG")]:  # fmt: skip
        assert set(frame.loc[frame.ref_area_label == name, "ref_area"]) == {code}


def test_wdi_bulk_csv_becomes_one_row_per_published_value(real_data):
    path = real_data / "wdi" / "API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_1588678.csv"
    table = load_wdi_csv(source("wdi_csv"), path).to_pandas()
    wide = pd.read_csv(path, skiprows=4, dtype=str)
    years = [c for c in wide.columns if c.isdigit()]
    assert len(table) == int(wide[years].notna().sum().sum())
    aruba = table[(table.ref_area == "ABW") & (table.time == "1990")].iloc[0]
    assert aruba.obs_value == "33050.6442784391" and aruba.source_line == 6
    assert table.ref_area.nunique() == int(
        wide[years].notna().any(axis=1).sum()
    )  # 266 rows, some empty


def test_wdi_metadata_marks_aggregates_by_an_empty_region(real_data):
    path = next((real_data / "wdi").glob("Metadata_Country_*.csv"))
    table = load_wdi_country_metadata(source("wdi_country_metadata"), path).to_pandas()
    aggregates = set(table.loc[table.region == "", "country_code"])
    assert {"WLD", "AFE", "HIC"} <= aggregates and "KEN" not in aggregates


def test_pwt_csv(real_data):
    table = load_pwt(source("pwt"), real_data / "pwt" / "pwt101.csv").to_pandas()
    assert len(table) == 12_810
    assert table.countrycode.nunique() == 183
    usa = table[(table.countrycode == "USA") & (table.year == "2019")].iloc[0]
    assert float(usa.hc) > 3.5 and float(usa.emp) > 100


def test_ggdc_etd_sectors_melted_with_spreadsheet_rows(real_data):
    table = load_ggdc_etd(
        source("ggdc_etd", "sector"), real_data / "ggdc_etd" / "etd-release2021.xlsx"
    ).to_pandas()
    assert set(table.indicator) == {"ETD_VA_CUR", "ETD_VA_Q15", "ETD_EMP"}
    assert table.classif1.nunique() == len(ETD_SECTORS) == 12
    assert table.ref_area.nunique() == 51
    first = table.iloc[0]
    assert (first.ref_area, first.indicator, first.classif1, first.source_line) == (
        "ARG",
        "ETD_VA_CUR",
        "ECO_ISIC4GRP_A",
        2,
    )


@pytest.mark.slow
def test_shared_real_catalog_builds_national_and_sector_marts(real_run, real_data, tmp_path):
    settings, summary = real_run
    assert summary.success, summary.failures + summary.blocked
    con = connect_read_only(settings.warehouse_path)
    economies, aggregates, keys, rows = con.execute(
        "SELECT count(DISTINCT ref_area), count(*) FILTER (WHERE ref_area IN ('WLD', 'X01', 'HIC')), "
        "count(DISTINCT (ref_area, year)), count(*) FROM marts.national_panel"
    ).fetchone()
    assert economies > 180 and aggregates == 0 and keys == rows
    # One code and a name for economies publishers code differently or ISO no longer lists:
    # ILOSTAT's Kosovo (KOS) is the World Bank's XKX, with WDI's region; ANT is named.
    named = dict(con.execute(
        "SELECT ref_area, country_name || ' / ' || coalesce(region, '-') FROM marts.national_panel "
        "WHERE ref_area IN ('KOS', 'XKX', 'ANT') GROUP BY ALL"
    ).fetchall())  # fmt: skip
    assert named == {"XKX": "Kosovo / Europe & Central Asia", "ANT": "Netherlands Antilles / -"}
    kenya = con.execute(
        "SELECT output_per_worker, human_capital, region FROM marts.national_panel "
        "WHERE ref_area = 'KEN' AND year = 2015"
    ).fetchone()
    assert kenya[0] > 5_000 and 1 < kenya[1] < 5 and kenya[2] == "Sub-Saharan Africa"
    excel = con.execute(
        "SELECT (SELECT count(*) FROM raw.sector_observations WHERE source_name = 'ilostat_excel'),"
        " (SELECT count(*) FROM staging.sector_observations WHERE source_name = 'ilostat_excel'),"
        " (SELECT count(*) FROM quality.quarantine WHERE source_name = 'ilostat_excel')"
    ).fetchone()
    assert excel[0] == 10_267 and excel[0] == excel[1] + excel[2] and excel[2] < 50
    countries, sectors = con.execute(
        "SELECT count(DISTINCT ref_area), count(DISTINCT sector) FROM marts.sector_panel"
    ).fetchone()
    assert (countries, sectors) == (51, 12)
    # Every decomposition: the terms add up, and total growth is the growth of aggregate value
    # added per worker computed directly from the sector panel.
    adds_up, growth_gap, rows = con.execute("""
        WITH aggregate AS (
            SELECT ref_area, year, sum(value_added) / sum(employment) AS p FROM marts.sector_panel
            WHERE value_added IS NOT NULL AND employment IS NOT NULL GROUP BY ALL)
        SELECT max(abs(total_change - within_sector - static_structural_change
                       - dynamic_reallocation - entry_exit) / productivity_start),
               max(abs(total_change_growth_pct / 100 - (e.p / b.p - 1))), count(*)
        FROM models.shift_share s
        JOIN aggregate b ON b.ref_area = s.ref_area AND b.year = s.start_year
        JOIN aggregate e ON e.ref_area = s.ref_area AND e.year = s.end_year""").fetchone()
    assert adds_up < 1e-12 and growth_gap < 1e-9 and rows > 250
    # Colombia's real estate has 0 workers in the ETD: it enters the entry/exit term, and the
    # aggregate is the ETD's own published Total (value added at 2015 prices per worker).
    etd = pd.read_excel(real_data / "ggdc_etd" / "etd-release2021.xlsx", sheet_name="Data")
    totals = etd[etd["cnt"] == "COL"].pivot_table(index="year", columns="var", values="Total")
    published = totals["VA_Q15"] * 1e6 / (totals["EMP"] * 1e3)
    colombia = con.execute(
        "SELECT productivity_start, productivity_end, total_change_growth_pct, entry_exit, "
        "sectors_entry_exit FROM models.shift_share "
        "WHERE ref_area = 'COL' AND start_year = 1990 AND end_year = 1995"
    ).fetchone()
    assert colombia[0] == pytest.approx(published[1990], rel=1e-9)
    assert colombia[1] == pytest.approx(published[1995], rel=1e-9)
    assert colombia[2] == pytest.approx(100 * (published[1995] / published[1990] - 1), rel=1e-9)
    assert colombia[3] != 0 and colombia[4] == 1
    recorded = dict(
        con.execute(
            "SELECT ref_area || ':' || rule, count(*) FROM quality.model_exclusions "
            "WHERE model_id = 'shift_share' GROUP BY ALL"
        ).fetchall()
    )
    assert recorded["IND:sector_never_reported"] == 1 and recorded["COL:entry_exit"] >= 5
    # Models that need no firm data run; the firm-level ones say why they did not.
    status = dict(
        con.execute("SELECT model_id, status || ': ' || reason FROM models.status").fetchall()
    )
    assert status["national_production_twfe"].startswith("estimated")
    assert status["shift_share"].startswith("estimated")
    assert status["sector_pass_through_log_mean_earnings"] == (
        "not run: no log_mean_earnings values in the panel"
    )
    assert status["score_impact"] == (
        "not run: no firm data: marts.enterprise_panel is not built from this catalog"
    )
    undocumented = con.execute(
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND (coalesce(comment, '') = '' "
        "OR data_type = '\"NULL\"')"
    ).fetchall()
    assert not undocumented
    units = dict(
        con.execute(
            "SELECT value_added_unit, count(*) FROM marts.sector_panel GROUP BY ALL"
        ).fetchall()
    )
    assert units == {"constant 2015 local currency": 17_748}
    # A brief for every economy with a recent output per worker, a recent decent-work figure
    # and three headline series (pedw.briefs.eligibility), built from the national and sector
    # levels alone (no firm data in these files); every other economy of the national panel
    # is listed in meta.briefs_withheld with its reason.
    verdict = load_eligibility(con)
    eligible = verdict.loc[verdict["eligible"], "country"].tolist()
    withheld = con.execute("SELECT country, reason FROM meta.briefs_withheld ORDER BY 1").df()
    assert withheld["country"].tolist() == verdict.loc[~verdict["eligible"], "country"].tolist()
    assert (withheld["reason"] != "").all()
    panel_economies = con.execute(
        "SELECT count(DISTINCT ref_area) FROM marts.national_panel"
    ).fetchone()[0]
    assert len(eligible) + len(withheld) == panel_economies
    publication = con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
    indexed = con.execute(
        "SELECT count(*) FROM briefs.index WHERE country <> 'cross_country'"
    ).fetchone()[0]
    con.close()
    assert summary.brief_countries == eligible and len(eligible) == 182 and indexed == 182
    units = {"2017 PPP $ per worker"}
    kenya = check_brief_page(settings.briefs_dir, "KEN", synthetic=False,
                             publication_id=publication, units=units)  # fmt: skip
    assert 'id="figure-shift-share"' in kenya and 'id="smes"' not in kenya
    assert "Economic Transformation Database (release 15 July 2021)" in kenya
    assert (
        "ILOSTAT (release ILO modelled estimates, Nov. 2022 (downloaded 2023-10-18)), "
        "indicator GDP_211P_NOC_NB"
    ) in kenya  # the edition the file states
    # No firm data in these files: the brief says what it lacks without a word on firms.
    assert "the warehouse holds no enterprise survey" in kenya
    france = check_brief_page(settings.briefs_dir, "FRA", synthetic=False,
                              publication_id=publication, units=units)  # fmt: skip
    assert "this catalog has no sector-level source" not in france
    assert "Structural change: no sector value added and employment for this economy" in france
    if POPPLER:
        check_pdf(
            settings.briefs_dir / "KEN.pdf", ["Kenya", "Key messages", "Source: ILO, ILOSTAT"]
        )
        assert pdf_pages_render(settings.briefs_dir / "KEN.pdf", tmp_path)
    if CHROMIUM:
        assert chromium_images(settings.briefs_dir / "KEN.html", tmp_path) == (
            "images=2 broken=0 errors=0"
        )


def test_pwt_price_year_is_read_from_the_release_never_assumed(real_data, tmp_path):
    from pedw.sources.errors import SourceFileError
    from pedw.sources.pwt import price_year

    real = real_data / "pwt" / "pwt101.csv"
    assert set(load_pwt(source("pwt"), real).column("price_year").to_pylist()) == {"2017"}
    head = "".join(real.read_text().splitlines(keepends=True)[:3])
    for name, year in [("pwt1001.csv", 2017), ("pwt110.csv", 2021), ("pwt91.csv", 2011)]:
        (tmp_path / name).write_text(head)
        assert price_year(tmp_path / name) == year, name
    renamed = tmp_path / "penn_world_table.csv"
    renamed.write_text(head)
    with pytest.raises(SourceFileError, match="cannot tell which Penn World Table release"):
        price_year(renamed)
    assert price_year(renamed, given=2021) == 2021


# Labels in the real files that are not economies (aggregates), or no economy of their own.
NOT_ECONOMIES = {
    "All Countries", "East Asia & Pacific", "Eastern Europe & Central Asia",
    "Latin America & Caribbean", "Middle East & North Africa", "South Asia", "Sub-Saharan Africa",
    "Not classified",  # WDI's INX
    "Ascension",  # part of Saint Helena, Ascension and Tristan da Cunha (SHN), listed apart by ITU
}  # fmt: skip
# Codes publishers use for economies that ISO 3166 codes otherwise (or not at all).
PUBLISHER_CODES = {"XKX": "KOS", "KSV": "KOS", "ADO": "AND", "ZAR": "COD", "ROM": "ROU",
                   "TMP": "TLS", "WBG": "PSE"}  # fmt: skip


def _real_labels(real_data) -> list[tuple[str, str, str | None]]:
    """(file, country label, the file's own code or None) for every distinct label."""
    found = []
    meta = pd.read_csv(next((real_data / "wdi").glob("Metadata_Country_*.csv")))
    aggregates = set(meta.loc[meta.Region.isna(), "Country Code"])
    for path in (real_data / "wdi").glob("API_*.csv"):
        wdi = pd.read_csv(path, skiprows=4, usecols=["Country Name", "Country Code"])
        found += [(path.name, n, c) for n, c in wdi.drop_duplicates().itertuples(index=False)
                  if c not in aggregates]  # fmt: skip
    pwt = pd.read_csv(real_data / "pwt" / "pwt101.csv", usecols=["country", "countrycode"])
    pwt = pwt[["country", "countrycode"]].drop_duplicates()
    found += [("pwt101.csv", n, c) for n, c in pwt.itertuples(index=False)]
    etd = pd.read_excel(real_data / "ggdc_etd" / "etd-release2021.xlsx", sheet_name="Data",
                        usecols=["country", "cnt"])  # fmt: skip
    etd = etd[["country", "cnt"]].drop_duplicates()
    found += [("etd", n, c) for n, c in etd.itertuples(index=False)]
    wgi = pd.read_excel(real_data / "wgi" / "wgidataset_2013update.xlsx", header=None,
                        sheet_name="GovernmentEffectiveness", skiprows=15, usecols=[0, 1])  # fmt: skip
    found += [("wgi", str(n), c) for n, c in wgi.dropna().drop_duplicates().itertuples(index=False)]
    es = pd.read_excel(real_data / "wb_enterprise_surveys" / "wbes_workforce_indicators_2014.xlsx",
                       sheet_name="Workforce", usecols=["Economy"])  # fmt: skip
    found += [("wbes", str(n).strip(), None) for n in es.Economy.dropna().unique()]
    itu = pd.read_excel(real_data / "itu_internet" / "itu_individuals_using_internet_2000_2012.xls",
                        header=None, skiprows=2, usecols=[0])  # fmt: skip
    found += [("itu", str(n).strip(), None) for n in itu[0].dropna().unique()]
    for path in (real_data / "ilostat_explorer").glob("*.csv"):
        frame = load_ilostat_csv(source("ilostat_csv"), path).to_pandas()
        if "ref_area_label" in frame:  # ILO aggregates (X.. codes in the full layout) aside
            economies = frame[~frame.ref_area.isin(ILO_AGGREGATES)]
            found += [(path.name, n, None) for n in economies.ref_area_label.dropna().unique()]
    return found


def test_every_country_label_in_the_real_files_maps_to_its_iso_code(real_data):
    labels = _real_labels(real_data)
    assert len({label for _, label, _ in labels}) > 450
    unmapped = sorted({(f, n) for f, n, _ in labels if country_code(n) is None} - {
        (f, n) for f, n, _ in labels if n in NOT_ECONOMIES})  # fmt: skip
    assert unmapped == []
    wrong = [(f, n, c, country_code(n)) for f, n, c in labels if c is not None
             and n not in NOT_ECONOMIES and country_code(n) != PUBLISHER_CODES.get(c, c)]  # fmt: skip
    assert wrong == []


def test_a_file_is_cited_with_the_edition_it_states_and_each_bulk_file_its_own_release(
    real_data,
):
    """The explorer's output per worker states its edition in every indicator label ("ILO
    modelled estimates, Nov. 2022"): that is its release, with the download date of its
    name. The bulk files state none: the catalog gives each file its own."""
    from pedw.catalog import load_catalog
    from pedw.settings import PROJECT_ROOT
    from pedw.sources.ilostat_csv import file_release

    explorer = real_data / "ilostat_explorer"
    table = load_ilostat_csv(
        source("ilostat_csv"), explorer / "GDP_211P_NOC_NB_A-full-2023-10-18.csv"
    )
    assert table.schema.metadata[b"pedw_release"].decode() == (
        "ILO modelled estimates, Nov. 2022 (downloaded 2023-10-18)"
    )
    assert file_release(explorer / "EMP_NIFL_SEX_RT_A-20240726T0000.csv", ["Informal employment rate by sex (%)"]) == "2024-07-26 (download date)"  # fmt: skip
    catalog = load_catalog(PROJECT_ROOT / "catalogs" / "shared_real.yml")
    (bulk,) = [s for s in catalog.sources if s.name == "ilostat_bulk"]
    releases = {path.name: bulk.file_release(path.name) for path in bulk.files()}
    assert releases["SDG_1041_NOC_RT_A.csv"].startswith("ILO modelled estimates, Nov. 2025")
    assert releases["SDG_0852_SEX_AGE_RT_A.csv"] == "bulk download of late 2023 (committed 2023-11-29)"  # fmt: skip
