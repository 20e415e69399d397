"""World Bank Enterprise Survey firm-level .dta: standard names, value labels, non-response codes.

No WBES microdata may be redistributed, so the file is reproduced in the survey's layout
from demo firms whose values are known: numeric idstd, `country` as "Kenya2019", ISIC
Rev.3.1 in d1a2, yes/no answers coded 1/2 with value labels, and -9 "Don't know".
"""

from __future__ import annotations

import pandas as pd
import pycountry
import pytest

from pedw.catalog import load_catalog
from pedw.raw import write_raw
from pedw.sources.enterprise_survey import REV31_TO_REV4, load_enterprise_survey
from pedw.sources.errors import SourceFileError
from pedw.staging.contracted import stage_through_contract
from pedw.store import Store

YES_NO = {1: "Yes", 2: "No", -9: "Don't know (spontaneous)"}


def division_for(section: str) -> int:
    return min(d for d, s in REV31_TO_REV4.items() if s == section)


@pytest.fixture(scope="module")
def survey(demo_dir, tmp_path_factory):
    """One wave (2019) of three demo countries written as a WBES standardized .dta."""
    firms = pd.read_csv(demo_dir / "enterprise" / "firms.csv")
    firms = firms[(firms.year == 2019) & firms.country.isin(["KEN", "VNM", "PER"])]
    firms = firms.sort_values("firm_id").reset_index(drop=True)
    names = {c: pycountry.countries.get(alpha_3=c).name for c in firms.country.unique()}
    dta = pd.DataFrame(
        {
            "idstd": pd.RangeIndex(500_001, 500_001 + len(firms)).astype("int32"),
            "country": firms.country.map(names) + "2019",
            "d1a2": firms.sector.map(division_for) * 100 + 10,
            "l1": firms.employees.astype("float64"),
            "d2": firms.sales.astype("float64"),
            "n2e": (firms.sales - firms.value_added).astype("float64"),
            "n2a": firms.wage_bill.astype("float64"),
            "l10": firms.training.map({1: 1, 0: 2}).astype("int8"),
            "b6a": firms.formal.map({1: 1, 0: 2}).astype("int8"),
            "d3b": 0.0,
            "d3c": firms.exporter * 25.0,
            # The three weights WBES publishes, and its strata (size x sector x region).
            "wstrict": 10.0 + firms.index % 7,
            "wmedian": 20.0 + firms.index % 7,
            "wweak": 30.0 + firms.index % 7,
            "strata": (firms.index % 4 + 1).astype("int16"),
        }
    )
    # Non-responses: three firms did not know their workforce, five their training.
    dta.loc[[0, 1, 2], "l1"] = -9
    dta.loc[[3, 4, 5, 6, 7], "l10"] = -9
    path = tmp_path_factory.mktemp("wbes") / "Kenya-Peru-Vietnam-2019-full-data.dta"
    dta.to_stata(
        path,
        write_index=False,
        version=118,
        value_labels={"l10": YES_NO, "b6a": YES_NO, "l1": {-9: "Don't know (spontaneous)"}},
        variable_labels={"l1": "Permanent full-time workers", "d2": "Total annual sales"},
    )
    return path, firms, dta


def test_wbes_variables_map_to_the_enterprise_contract(survey):
    path, firms, _ = survey
    table = load_enterprise_survey(_source(path), path).to_pandas()
    assert len(table) == len(firms)
    assert set(table.country) == {"KEN", "VNM", "PER"} and set(table.year) == {"2019"}
    assert (table.sector == firms.sector).all()  # Rev.3.1 division back to the Rev.4 section
    known = table.index >= 3
    assert (table.employees[known].astype(int) == firms.employees[known]).all()
    assert (table.value_added.astype(float) == firms.value_added.astype(float)).all()
    assert (table.formal.astype(int) == firms.formal).all()
    assert (table.exporter.astype(int) == firms.exporter).all()
    assert table.source_line.tolist() == list(range(1, len(firms) + 1))


def test_non_response_codes_are_never_read_as_numbers(survey):
    path, firms, _ = survey
    table = load_enterprise_survey(_source(path), path).to_pandas()
    # Required answer: kept as text naming the code, so the contract quarantines it named.
    assert table.employees[:3].tolist() == ["Don't know (spontaneous) (-9)"] * 3
    # Optional answer: simply missing (the firm is still used).
    assert table.training[3:8].isna().all()
    assert (table.training[8:].astype(int) == firms.training[8:]).all()


def test_wbes_rows_pass_the_contract_and_non_responses_are_quarantined(survey, tmp_path):
    path, firms, _ = survey
    catalog_file = tmp_path / "catalog.yml"
    catalog_file.write_text(
        f"name: wbes\nsources:\n  - name: wbes\n    level: enterprise\n"
        f"    format: enterprise_survey\n    path: {path}\n    contract: enterprise_firms\n"
    )
    store = Store(tmp_path / "store")
    keys = ["KEN", "PER", "VNM"]
    write_raw(
        store, load_catalog(catalog_file), "enterprise", ("enterprise_survey",), "firms", "t", keys
    )
    result = stage_through_contract(store, "enterprise_firms", "firms", "firms", "t", keys)
    assert result.rows_read == len(firms)
    assert result.rows_quarantined == 3 and result.rows_loaded == len(firms) - 3
    con = store.connect()
    reasons = con.execute(
        "SELECT DISTINCT column_name, value FROM quality.quarantine WHERE column_name = 'employees'"
    ).fetchall()
    con.close()
    assert reasons == [("employees", "Don't know (spontaneous) (-9)")]


def test_file_without_the_standard_variables_is_refused_with_their_names(tmp_path):
    path = tmp_path / "other.dta"
    pd.DataFrame({"firm": [1], "sales": [2.0]}).to_stata(path, write_index=False)
    with pytest.raises(SourceFileError, match=r"\['idstd', 'country', 'l1'\]"):
        load_enterprise_survey(_source(path), path)


def test_the_sampling_weight_and_strata_are_kept_median_weights_unless_chosen(survey):
    path, _, dta = survey
    median = load_enterprise_survey(_source(path), path).to_pandas()
    assert median.sampling_weight.astype(float).tolist() == dta.wmedian.tolist()
    assert median.stratum.tolist() == dta.strata.astype(str).tolist()
    assert "psu" not in median.columns  # establishments drawn one by one within strata
    strict = load_enterprise_survey(_source(path, weight="strict"), path).to_pandas()
    assert strict.sampling_weight.astype(float).tolist() == dta.wstrict.tolist()
    with pytest.raises(SourceFileError, match=r"options.weight is 'mean': one of median, strict"):
        load_enterprise_survey(_source(path, weight="mean"), path)


def test_file_with_only_the_key_and_the_size_loads_its_firms(survey, tmp_path):
    """A WBES extract without sales, costs or practices: its firms load, measures empty."""
    _, firms, dta = survey
    path = tmp_path / "Kenya-Peru-Vietnam-2019-workforce.dta"
    dta[["idstd", "country", "l1"]].to_stata(path, write_index=False, version=118)
    table = load_enterprise_survey(_source(path), path).to_pandas()
    assert len(table) == len(firms)
    assert table.sales.isna().all() and table.value_added.isna().all()
    # the three non-responses stay as text, for the contract to quarantine with the reason
    assert table.employees.str.startswith("non-response").sum() == 3


def _source(path, **options):
    from pedw.catalog import Source

    return Source("wbes", "enterprise", "enterprise_survey", str(path), options=options)
