"""Loaders for the other published forms of the real sources: ILOSTAT SDMX, PWT xlsx/dta, WDI API.

The shared folder holds one form of each source; the other forms are reproduced here from
those real rows in the publisher's layout (ILO's SDMX dataflows written by sdmx1, GGDC's
xlsx and dta releases, the World Bank API v2 JSON), and every loader must give back the
same observations as the loader of the real file.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from api_layouts import pwt_xlsx, wdi_indicator_json
from sdmx_layout import bulk_rows, write_csv_v1, write_structure, write_xml

from pedw.catalog import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_sdmx import load_ilostat_sdmx
from pedw.sources.pwt import load_pwt
from pedw.sources.registry import load_source
from pedw.sources.wdi import load_wdi

pytestmark = pytest.mark.real_data
BULK = "ilostat_bulk/SDG_0831_SEX_ECO_RT_A.csv"
OBSERVATION = ["ref_area", "indicator", "sex", "classif1", "time", "obs_value", "obs_status"]


@pytest.fixture(scope="module")
def informality(tmp_path_factory):
    from conftest import SHARED_REAL

    if not SHARED_REAL.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL} is absent")
    folder = tmp_path_factory.mktemp("sdmx")
    rows = bulk_rows(SHARED_REAL / BULK, limit=4_000)
    write_structure(rows, folder / "structure.xml")
    write_xml(rows, folder / "structure_specific.xml")
    write_xml(rows, folder / "generic.xml", generic=True)
    write_csv_v1(rows, folder / "data.csv")
    return folder, rows


def sdmx_source(folder, path: str, **options) -> Source:
    options = {"structure": "structure.xml", **options}
    return Source("ilo_sdmx", "national", "ilostat_sdmx", path, options=options, base_dir=folder)


@pytest.mark.parametrize("name", ["structure_specific.xml", "generic.xml", "data.csv"])
def test_sdmx_messages_give_the_bulk_rows_back(informality, name):
    folder, rows = informality
    table = load_ilostat_sdmx(sdmx_source(folder, name), folder / name).to_pandas()
    assert len(table) == len(rows) == 4_000
    assert set(table.indicator) == {"SDG_0831_SEX_ECO_RT"}  # from the DF_ dataflow id
    expected = rows.reindex(columns=OBSERVATION).replace("", None)
    merged = table[OBSERVATION].merge(
        expected, on=["ref_area", "sex", "classif1", "time"], suffixes=("", "_bulk")
    )
    assert len(merged) == 4_000
    assert np.allclose(
        merged.obs_value.astype(float), merged.obs_value_bulk.astype(float), equal_nan=True
    )
    # Flags and notes survive: obs_status as attribute, the ILO source id, the note codes.
    assert (merged.obs_status.fillna("") == merged.obs_status_bulk.fillna("")).all()
    assert table.source.str.fullmatch(r"[A-Z]{2}:\d+").all()
    assert table.note_source.notna().sum() == (rows.note_source != "").sum()
    assert table.source_line.is_unique


def test_sdmx_csv_without_its_structure_is_refused_with_the_reason(informality):
    folder, _ = informality
    source = Source("ilo_sdmx", "national", "ilostat_sdmx", "data.csv", base_dir=folder)
    with pytest.raises(SourceFileError, match=r"options\.structure"):
        load_ilostat_sdmx(source, folder / "data.csv")


def test_truncated_sdmx_message_is_refused_not_fatal(informality):
    folder, _ = informality
    broken = folder / "truncated.xml"
    broken.write_bytes((folder / "structure_specific.xml").read_bytes()[:5_000])
    tables, issues = load_source(sdmx_source(folder, "truncated.xml"))
    assert tables == [] and issues[0]["kind"] == "refused"
    assert "not a readable SDMX-ML data message" in issues[0]["message"]


@pytest.fixture(scope="module")
def pwt_releases(tmp_path_factory):
    """PWT 10.01 rows of four economies in GGDC's xlsx layout (Info, Legend, Data) and as dta."""
    from conftest import SHARED_REAL

    if not SHARED_REAL.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL} is absent")
    folder = tmp_path_factory.mktemp("pwt")
    csv = SHARED_REAL / "pwt" / "pwt101.csv"
    frame = pd.read_csv(csv)
    frame = frame[frame.countrycode.isin(["KEN", "IND", "BRA", "USA"])].reset_index(drop=True)
    subset = folder / "pwt_subset.csv"
    frame.to_csv(subset, index=False)
    pwt_xlsx(subset, folder / "pwt1001.xlsx")
    labels = {
        "rgdpo": "Output-side real GDP at chained PPPs (in mil. 2017US$)",
        "hc": "Human capital index",
    }
    frame.to_stata(folder / "pwt1001.dta", write_index=False, variable_labels=labels, version=118)
    return folder, frame, csv


@pytest.mark.parametrize("name", ["pwt1001.xlsx", "pwt1001.dta"])
def test_pwt_xlsx_and_dta_equal_the_csv_rows(pwt_releases, name):
    folder, frame, csv = pwt_releases
    source = Source("pwt", "national", "pwt")
    loaded = load_pwt(source, folder / name).to_pandas()
    from_csv = load_pwt(source, csv).to_pandas()
    from_csv = from_csv[from_csv.countrycode.isin(frame.countrycode)].reset_index(drop=True)
    assert len(loaded) == len(from_csv) == 280  # 4 economies x 1950-2019
    for column in ("rgdpo", "emp", "avh", "hc", "rnna", "csh_x", "labsh"):
        left = pd.to_numeric(loaded[column])
        right = pd.to_numeric(from_csv[column])
        assert np.isclose(left, right, rtol=1e-12, equal_nan=True).all(), column
    assert (loaded.year == from_csv.year).all()  # "2019", never "2019.0"
    first = 2 if name.endswith("xlsx") else 1  # spreadsheet row / Stata observation
    assert loaded.source_line.iloc[0] == first


def test_pwt_workbook_without_a_data_sheet_is_refused(pwt_releases, tmp_path):
    workbook = tmp_path / "pwt.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(workbook, sheet_name="Info", index=False)
    with pytest.raises(SourceFileError, match="Data"):
        load_pwt(Source("pwt", "national", "pwt"), workbook)


@pytest.fixture(scope="module")
def wdi_api(tmp_path_factory):
    """The real WDI bulk CSV served as the World Bank API v2 answers it (JSON, one page)."""
    from conftest import SHARED_REAL

    if not SHARED_REAL.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL} is absent")
    csv = SHARED_REAL / "wdi" / "API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_1588678.csv"
    path = tmp_path_factory.mktemp("wdi_api") / "NY.GDP.PCAP.PP.KD.json"
    path.write_bytes(wdi_indicator_json(csv))
    return path, csv, json.loads(path.read_text())[0]


def test_wdi_api_json_equals_the_bulk_csv(wdi_api):
    path, csv, _ = wdi_api
    source = Source("wdi", "national", "wdi")
    api = load_wdi(source, path).to_pandas()
    bulk = load_wdi(source, csv).to_pandas()
    assert len(api) == len(bulk)  # null values are not rows, as empty bulk cells
    keys = ["ref_area", "time"]
    merged = api.merge(bulk, on=keys, suffixes=("_api", "_bulk"))
    assert len(merged) == len(bulk)
    assert np.allclose(
        merged.obs_value_api.astype(float), merged.obs_value_bulk.astype(float), equal_nan=True
    )
    assert set(api.source) == {"WDI-API:2021-02-17"}


def test_wdi_api_partial_page_and_error_answers_are_refused(wdi_api, tmp_path):
    path, _, header = wdi_api
    header_and_records = json.loads(path.read_text())
    page = tmp_path / "page1.json"
    page.write_text(json.dumps([{**header, "pages": 2}, header_and_records[1][:100]]))
    with pytest.raises(SourceFileError, match="per_page"):
        load_wdi(Source("wdi", "national", "wdi"), page)
    error = tmp_path / "error.json"
    error.write_text(
        json.dumps(
            [
                {
                    "message": [
                        {
                            "id": "120",
                            "key": "Invalid value",
                            "value": "The provided parameter value is not valid",
                        }
                    ]
                }
            ]
        )
    )
    with pytest.raises(SourceFileError, match="parameter value is not valid"):
        load_wdi(Source("wdi", "national", "wdi"), error)


def test_wdi_databank_export_with_footer_equals_the_bulk_csv(wdi_api, tmp_path):
    _path, csv, _ = wdi_api
    wide = pd.read_csv(csv, skiprows=4, dtype=str).drop(columns="Unnamed: 68", errors="ignore")
    years = [c for c in wide.columns if c.isdigit()]
    export = wide.rename(
        columns={"Indicator Name": "Series Name", "Indicator Code": "Series Code"}
        | {y: f"{y} [YR{y}]" for y in years}
    )[
        [
            "Country Name",
            "Country Code",
            "Series Name",
            "Series Code",
            *[f"{y} [YR{y}]" for y in years],
        ]
    ]
    path = tmp_path / "Data_Extract_From_World_Development_Indicators.csv"
    body = export.fillna("..").to_csv(index=False)
    path.write_text(
        "\ufeff" + body + "\n\nData from database: World Development Indicators\n"
        "Last Updated: 02/17/2021\n",
        encoding="utf-8",
    )
    source = Source("wdi", "national", "wdi")
    databank = load_wdi(source, path).to_pandas()
    bulk = load_wdi(source, csv).to_pandas()
    assert len(databank) == len(bulk)  # ".." cells are not rows; the footer is not a row
    assert set(databank.source) == {"WDI:02/17/2021"}
    merged = databank.merge(bulk, on=["ref_area", "time"], suffixes=("", "_bulk"))
    assert np.allclose(merged.obs_value.astype(float), merged.obs_value_bulk.astype(float))
    assert merged.source_line.min() == 2  # the first economy, under the header
