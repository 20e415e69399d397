"""The publisher's qualifiers (a median, real values) are part of a series' identity: parsed
from ILOSTAT's notes, carried into staging, named in the brief's label, and a median is never
compared with means across peers. Small constructed data, a real DuckDB, no Dagster."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from pedw.briefs.content import _scorecard, alike_panel
from pedw.briefs.document import BriefContent
from pedw.briefs.messages import scorecard_sentence
from pedw.staging.qualifiers import variant_label, variant_sql
from pedw.staging.series import _definitions_frame, ilostat_series_sql

# Notes as ILOSTAT's explorer download of EAR_4MTH publishes them (note_indicator.label).
NOTES = {
    "Currency: ABW - Florin (AWG) | Job coverage: Main job currently held": "",
    "Currency: HKD - Hong Kong dollar (HKD) | Central tendency measure: Median": "median",
    "Currency: QAR - Qatari riyal (QAR) | Value type: Real values": "real values",
    "Currency: ZAR - Rand (ZAR) | Central tendency measure: Median | Value type: Real values": (
        "median, real values"
    ),
    "Central tendency measure: Weighted mean": "",
    "Central tendency measure: Mean or mean of the midpoints of the intervals provided": "",
    "Prices: constant prices of 2015": "constant prices",
    None: "",
}


@pytest.mark.parametrize(("note", "variant"), list(NOTES.items()))
def test_the_notes_state_the_variant(note, variant):
    con = duckdb.connect()
    found = con.execute(f"SELECT {variant_sql('n', 'c')} FROM (SELECT ?::VARCHAR AS n, "
                        "NULL::VARCHAR AS c)", [note]).fetchone()[0]  # fmt: skip
    assert found == variant


def test_staged_series_carry_the_variant_of_their_notes():
    """Hong Kong's earnings are a median, Aruba's a mean: one indicator code, two series."""
    con = duckdb.connect()
    con.register("defs", _definitions_frame("national"))
    con.execute("CREATE TEMP TABLE _series_definitions AS SELECT * FROM defs")
    observations = pd.DataFrame(
        [
            ("HKG", "EAR_4MTH_SEX_ECO_CUR_NB", "LFS - General Household Survey", "SEX_T",
             "ECO_AGGREGATE_TOTAL", "CUR_TYPE_USD", 2016, 1932.43, None, None,
             "Currency: HKD - Hong Kong dollar (HKD) | Central tendency measure: Median", None),
            ("ABW", "EAR_4MTH_SEX_ECO_CUR_NB", "PC - Population and Housing Census", "SEX_T",
             "ECO_AGGREGATE_TOTAL", "CUR_TYPE_USD", 2010, 1683.24, None, None,
             "Currency: ABW - Florin (AWG) | Job coverage: Main job currently held", None),
        ],
        columns=["ref_area", "indicator", "source", "sex", "classif1", "classif2", "time",
                 "obs_value", "obs_status", "note_classif", "note_indicator", "note_source"],
    )  # fmt: skip
    observations["source_name"] = "ilostat_explorer"
    con.register("obs", observations)
    rows = con.execute(ilostat_series_sql("national", "obs")).df().set_index("ref_area")
    assert rows.loc["HKG", "variable"] == "mean_monthly_earnings_usd"
    assert rows["variant"].to_dict() == {"HKG": "median", "ABW": ""}


def test_the_label_names_what_the_figure_is():
    assert variant_label("Mean monthly earnings", "") == "Mean monthly earnings"
    assert variant_label("Mean monthly earnings", "median") == "Median monthly earnings"
    assert variant_label("Mean monthly earnings", "median, real values") == (
        "Median monthly earnings, real values (publisher's note)"
    )
    assert variant_label("Mean monthly earnings", "constant prices") == (
        "Mean monthly earnings, constant prices (publisher's note)"
    )
    # A label that names no mean is not turned into a median.
    assert variant_label("Unemployment (SDG 8.5.2)", "median").startswith("Unemployment")


def _region(variants: dict[str, str], year: int = 2020):
    """A region R of economies with earnings in `year`, each series of the given variant:
    the panel and marts.series_choice's chosen rows (flags)."""
    panel = pd.DataFrame(
        [
            {"ref_area": c, "region": "R", "year": year, "mean_monthly_earnings_usd": 1000.0 + i}
            for i, c in enumerate(variants)
        ]
    )
    flags = pd.DataFrame(
        [{"ref_area": c, "variable": "mean_monthly_earnings_usd", "year": year, "status": "observed",
          "status_note": None, "source_type": "labour force survey", "source_change": False,
          "source": "LFS", "obs_status": None, "variant": v} for c, v in variants.items()]
    )  # fmt: skip
    return panel, flags


def _card(country: str, panel: pd.DataFrame, flags: pd.DataFrame) -> dict:
    content = BriefContent(country=country, country_name=country, region="R",
                           income_group=None, latest_year=None,
                           units={"mean_monthly_earnings_usd": "current US$ per month"})  # fmt: skip
    mine = panel[panel["ref_area"] == country]
    _scorecard(
        content, panel, mine, flags[flags["ref_area"] == country], clock=2020, all_flags=flags
    )
    (row,) = content.scorecard
    return row


def test_a_median_is_compared_with_medians_only_and_the_brief_says_so():
    variants = {"M1": "median", "M2": "median", "M3": "median",
                **{f"A{i}": "" for i in range(1, 7)}}  # fmt: skip
    panel, flags = _region(variants)
    median = _card("M1", panel, flags)
    assert median["label"] == "Median monthly earnings"
    # Two other medians: no regional median, and the note says why.
    assert median["peer_n"] == 2 and math.isnan(median["peer_median"])
    assert any("no regional median" in f and "(6 have another measure)" in f
               for f in median["flags"])  # fmt: skip
    mean = _card("A1", panel, flags)
    assert mean["label"] == "Mean monthly earnings"
    # The five other means, never the three medians.
    assert mean["peer_n"] == 5
    assert mean["peer_median"] == pytest.approx(float(panel["mean_monthly_earnings_usd"]
                                                      .iloc[4:].median()))  # fmt: skip
    assert "regional median over the economies with the standard series only " \
        "(3 economies with another measure left out)" in mean["flags"]  # fmt: skip
    # Alike views blank the unlike economies and nothing else.
    view = alike_panel(panel, flags, "mean_monthly_earnings_usd", "median")
    assert view["mean_monthly_earnings_usd"].notna().sum() == 3


def test_peers_of_one_measure_only_change_nothing():
    panel, flags = _region({f"A{i}": "" for i in range(1, 8)})
    assert alike_panel(panel, flags, "mean_monthly_earnings_usd", "") is panel
    row = _card("A1", panel, flags)
    assert row["peer_n"] == 6 and row["flags"] == []


@pytest.mark.parametrize(
    ("label", "plural", "verb"),
    [
        ("Mean monthly earnings", True, "were"),
        ("Median monthly earnings", True, "were"),
        ("Fatal occupational injuries (SDG 8.8.1)", True, "were"),
        ("Unemployment (SDG 8.5.2)", False, "was"),
        ("Labour income share (SDG 10.4.1)", False, "was"),
    ],
)
def test_the_verb_agrees_with_the_label(label, plural, verb):
    row = {"variable": "v", "label": label, "plural": plural, "unit": "percent of employed",
           "better": "lower", "year": 2022, "value": 9.2, "observed": True, "since": None,
           "change": math.nan, "since_value": math.nan, "flags": []}  # fmt: skip
    assert scorecard_sentence(row).startswith(f"{label} {verb} 9.2 ")
    same = {**row, "since": 2017, "change": 0.0, "since_value": 9.2}
    assert scorecard_sentence(same).startswith(f"{label} {verb} unchanged at 9.2 ")
