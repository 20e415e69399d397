"""Which economies get a brief (pedw/briefs/eligibility.py): an output-per-worker series, a
decent-work series and three headline series, projections left out; the others are listed
with the reason and the sources searched. Cases from the real catalog's briefs (Aruba and 12
more small economies had no output per worker), on constructed panels."""

from __future__ import annotations

import math

import duckdb
import pandas as pd

from pedw.briefs.eligibility import WITHHELD_COLUMNS, eligibility, load_eligibility

NAN = math.nan


def _panel(rows: list[tuple]) -> pd.DataFrame:
    """(economy, year, output_per_worker, unemployment_rate, youth_neet_rate, informality_rate)."""
    frame = pd.DataFrame(rows, columns=["ref_area", "year", "output_per_worker",
                                        "unemployment_rate", "youth_neet_rate",
                                        "informality_rate"])  # fmt: skip
    return frame.assign(country_name=frame["ref_area"] + " name")


PANEL = _panel([
    ("DEU", 2023, 105_000.0, 3.1, 8.9, 2.0),  # the publication's year: 2023
    ("ABW", 2010, NAN, 10.6, 16.6, NAN),  # Aruba: no output per worker, figures of 2010-2011
    ("ABW", 2011, NAN, 8.9, NAN, NAN),
    ("SSD", 2012, 2_000.0, 12.0, 40.0, NAN),  # all of 2012: a brief, with the staleness banner
    ("KEN", 2013, 9_000.0, NAN, NAN, NAN),  # output per worker 2013: ten years, within
    ("KEN", 2020, NAN, 5.6, 20.0, 83.0),
    ("MAC", 2022, 120_000.0, 2.5, NAN, NAN),  # two headline series only
])  # fmt: skip


def test_an_economy_needs_productivity_and_decent_work_series_and_three_headline_series():
    verdict = eligibility(PANEL, {"output_per_worker": "GDP_211P_NOC_NB (ilostat_explorer)"})
    verdict = verdict.set_index("country")
    assert verdict["eligible"].to_dict() == {
        "ABW": False, "DEU": True, "KEN": True, "MAC": False, "SSD": True,
    }  # fmt: skip
    assert verdict.loc["ABW", "reason"] == (
        "no output per worker series; 2 of the brief's headline series, under 3"
    )
    assert verdict.loc["ABW", "sources_searched"].startswith("GDP_211P_NOC_NB (ilostat_explorer); ")
    searched = verdict.loc["ABW", "sources_searched"]
    assert "informality_rate (no source in this catalog)" in searched
    assert "unemployment_rate" not in searched  # ABW has it
    assert (verdict.loc["ABW", "latest_productivity_year"], verdict.loc["ABW", "latest_decent_work_year"]) == (pd.NA, 2011)  # fmt: skip
    assert verdict.loc["SSD", "reason"] == ""  # old figures: the brief's banner says so
    assert verdict.loc["MAC", "reason"] == "2 of the brief's headline series, under 3"
    assert verdict.loc["KEN", "reason"] == "" and verdict.loc["KEN", "sources_searched"] == ""
    assert verdict.loc["KEN", "headline_series"] == 4


def test_projections_do_not_count_and_the_verdict_is_read_from_the_store(tmp_path):
    # ABW's output per worker exists only as a projection (2023): it is blanked, as in a brief.
    panel = pd.concat([PANEL, _panel([("ABW", 2023, 80_000.0, NAN, NAN, NAN)])])
    projected = pd.DataFrame({"ref_area": ["ABW"], "variable": ["output_per_worker"],
                              "year": [2023], "status": ["projected"], "chosen": [True]})  # fmt: skip
    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.register("_panel", panel)
    con.register("_projected", projected)
    con.execute("CREATE TABLE marts.national_panel AS SELECT * FROM _panel")
    con.execute("CREATE TABLE marts.series_choice AS SELECT * FROM _projected")
    verdict = load_eligibility(con).set_index("country")
    con.close()
    assert not verdict.loc["ABW", "eligible"]
    assert verdict.loc["ABW", "reason"].startswith("no output per worker series;")
    assert verdict.loc["DEU", "eligible"]
    withheld = verdict.reset_index().loc[lambda f: ~f["eligible"], list(WITHHELD_COLUMNS)]
    assert withheld["country"].tolist() == ["ABW", "MAC"]
