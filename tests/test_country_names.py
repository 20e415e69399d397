"""Publishers' country names to ISO codes: the forms the UN and ILOSTAT write ("Micronesia
(Federated States of)", "Republic of Korea") are derived from ISO 3166 as pycountry ships
it, checked here against every name of that list, then end to end on an explorer file."""

from __future__ import annotations

import pandas as pd
import pycountry
import pytest

from pedw.catalog import Source
from pedw.harmonise import country_code, name_forms
from pedw.quality.contracts import load_contract
from pedw.quality.row_rules import check_rows, quarantine_query, staged_query
from pedw.sources.ilostat_csv import load_ilostat_csv
from pedw.store import offline_connection


def test_every_iso_3166_name_and_each_of_its_publisher_forms_maps_back_to_its_code():
    """Every current country of ISO 3166 (249), under its name, official and common name
    and each form derived from them, maps to its own alpha-3 and to no other."""
    checked, wrong = 0, []
    for country in pycountry.countries:
        names = {getattr(country, a, None) for a in ("name", "official_name", "common_name")}
        for form in set().union(*(name_forms(n) for n in names if n)):
            checked += 1
            if country_code(form) != country.alpha_3:
                wrong.append((country.alpha_3, form, country_code(form)))
    assert len(pycountry.countries) == 249
    assert checked > 700
    assert wrong == []


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Micronesia (Federated States of)", "FSM"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("Venezuela (Bolivarian Republic of)", "VEN"),
        ("Korea, Republic of", "KOR"),
        ("Republic of Korea", "KOR"),
        ("Democratic People's Republic of Korea", "PRK"),
        ("Tanzania, United Republic of", "TZA"),
        ("United Republic of Tanzania", "TZA"),
        ("Democratic Republic of the Congo", "COD"),
        ("Congo", "COG"),
        ("Republic of Moldova", "MDA"),
        ("Netherlands (Kingdom of the)", "NLD"),
        ("British Virgin Islands", "VGB"),
        ("Côte d\u2019Ivoire", "CIV"),  # the UN's typographic apostrophe
        ("Holy See", "VAT"),
        ("Sint Maarten (Dutch part)", "SXM"),
        ("United Kingdom of Great Britain and Northern Ireland", "GBR"),
    ],
)
def test_un_long_forms_as_ilostat_labels_them(label, code):
    assert country_code(label) == code


@pytest.mark.parametrize("name", ["Korea", "Virgin Islands", "Guinea, Republic"])
def test_a_name_two_countries_could_have_is_not_guessed(name):
    assert country_code(name) is None


def test_explorer_file_with_micronesia_stages_every_row(tmp_path):
    """The explorer row that was quarantined as an unknown code now loads as FSM."""
    path = tmp_path / "EMP_2EMP_SEX_NB_A-20240726T0000.csv"
    pd.DataFrame(
        {
            "ref_area.label": [
                "Micronesia (Federated States of)",
                "Iran (Islamic Republic of)",
                "Tanzania, United Republic of",
            ],
            "source.label": "XA:2198 - ILO modelled estimates",
            "sex.label": "Sex: Total",
            "time": "2023",
            "obs_value": ["38.5", "24512.3", "30211.0"],
        }
    ).to_csv(path, index=False, encoding="utf-8-sig")
    table = load_ilostat_csv(Source("e", "national", "ilostat_csv"), path)
    con = offline_connection()
    con.register("raw_rows", table)
    contract = load_contract("ilostat_observations")
    checked = check_rows(con, contract, "raw_rows", "checked")
    assert con.sql(quarantine_query(contract, checked, "run")).df().empty
    staged = con.sql(staged_query(contract, checked)).df()
    assert dict(zip(staged.ref_area, staged.obs_value, strict=True)) == {
        "FSM": 38.5,
        "IRN": 24512.3,
        "TZA": 30211.0,
    }
