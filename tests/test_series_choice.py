"""marts.series_choice: one value per economy, variable and year, chosen as a statistician would
(observed before modelled before projected; a labour force survey before other sources; then
more years; then the lowest id), with the publisher's flags decoded and the reason recorded."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pedw.marts.series_choice import (
    obs_status_frame,
    register_code_lists,
    series_choice_sql,
    source_type_frame,
)

COLUMNS = ["ref_area", "variable", "year", "value", "unit", "indicator", "source", "source_name",
           "obs_status", "variant"]  # fmt: skip


def choose(rows: list[tuple]) -> pd.DataFrame:
    """Run the choice over hand-made staging.national_series rows (a real DuckDB); a row's
    eighth field, when given, is its variant (the publisher's qualifiers)."""
    con = duckdb.connect()
    frame = pd.DataFrame(
        [(r[0], r[1], r[2], r[3], "percent", r[4], r[5], "test", r[6], (r[7:] or ("",))[0])
         for r in rows],
        columns=COLUMNS,
    )  # fmt: skip
    con.register("series_frame", frame)
    con.execute("CREATE TABLE series AS SELECT * FROM series_frame")
    register_code_lists(con)
    return con.execute(series_choice_sql("series")).df()


def chosen(frame: pd.DataFrame) -> dict[int, tuple]:
    picked = frame[frame["chosen"]]
    return {int(r.year): (r.source, r.status, r.reason) for r in picked.itertuples()}


def test_the_latest_observed_value_wins_whichever_source_publishes_it():
    # An old survey with many years and a new one with few (Brazil's unemployment: BX:356
    # 1989-2011, BX:6355 2012-2022): the series follows the new one, marked as a break.
    rows = [("BRA", "unemployment_rate", y, 8.0, "SDG_0852_SEX_AGE_RT", "BX:356", None)
            for y in range(2000, 2012)]  # fmt: skip
    rows += [("BRA", "unemployment_rate", y, 9.0, "SDG_0852_SEX_AGE_RT", "BX:6355", None)
             for y in range(2012, 2023)]  # fmt: skip
    result = choose(rows)
    picked = result[result["chosen"]].set_index("year")
    assert int(picked.index.max()) == 2022 and picked.loc[2022, "source"] == "BX:6355"
    assert picked["source_change"].sum() == 1 and bool(picked.loc[2012, "source_change"])
    assert set(picked["reason"]) == {"only value published"}


def test_order_observed_then_survey_kind_then_years_then_id():
    indicator = "SDG_0852_SEX_AGE_RT"
    rows = [
        # 2015: the ILO modelled estimate and a census: the census (observed) wins.
        ("KEN", "unemployment_rate", 2015, 5.0, indicator, "XA:2198", None),
        ("KEN", "unemployment_rate", 2015, 6.0, indicator, "AA:10", None),
        # 2016: a labour force survey (as an ILOSTAT label) before another household survey.
        ("KEN", "unemployment_rate", 2016, 7.0, indicator, "HIES - Income survey", None),
        ("KEN", "unemployment_rate", 2016, 7.5, indicator, "LFS - Labour Force Survey", None),
        # 2017: two other household surveys; BB:2 publishes more years (2017 and 2018).
        ("KEN", "unemployment_rate", 2017, 8.0, indicator, "BB:1", None),
        ("KEN", "unemployment_rate", 2017, 8.5, indicator, "BB:2", None),
        ("KEN", "unemployment_rate", 2018, 8.6, indicator, "BB:2", None),
        # 2019: the same kind and years: the lowest id.
        ("KEN", "unemployment_rate", 2019, 9.0, indicator, "BX:9", None),
        ("KEN", "unemployment_rate", 2019, 9.5, indicator, "BX:10", None),
        # 2020: an imputed (I) survey value is modelled: the unflagged one wins.
        ("KEN", "unemployment_rate", 2020, 4.0, indicator, "BA:1", "I"),
        ("KEN", "unemployment_rate", 2020, 4.5, indicator, "BX:7", None),
    ]
    picks = chosen(choose(rows))
    assert picks[2015] == ("AA:10", "observed", "observed value before modelled value")
    assert picks[2016] == (
        "LFS - Labour Force Survey",
        "observed",
        "labour force survey before other household survey",
    )
    assert picks[2017] == ("BB:2", "observed", "same kind of source: the one publishing more years")
    assert picks[2019] == ("BX:10", "observed", "same kind of source and years: lowest source id")
    assert picks[2020] == ("BX:7", "observed", "observed value before modelled value")
    losers = choose(rows).query("not chosen")
    assert len(losers) == 5 and set(losers["reason"]) == {"not chosen: another source ranks first"}


@pytest.mark.parametrize(
    ("indicator", "year", "flag", "status", "note"),
    [
        # ILO modelled estimates from the edition's year on are projections (SDG 10.4.1 of
        # the November 2025 edition: 2025 and 2026).
        ("SDG_1041_NOC_RT", 2024, None, "modelled", None),
        ("SDG_1041_NOC_RT", 2025, None, "projected", None),
        ("SDG_1041_NOC_RT", 2026, "M", "projected", "model-based extrapolation"),
        # M after the source's last unflagged value extrapolates beyond the data: projected.
        ("SDG_1041_NOC_RT", 2023, "M", "projected", "model-based extrapolation"),
        ("SDG_1041_NOC_RT", 2010, "NA", "modelled", None),  # the file writes NA for none
        ("GDP_211P_NOC_NB", 2021, None, "modelled", None),
        ("GDP_211P_NOC_NB", 2022, None, "projected", None),
    ],
)
def test_modelled_and_projected_values_are_decoded(indicator, year, flag, status, note):
    result = choose([("BRA", "labour_income_share", year, 50.0, indicator, "XA:2198", flag)])
    row = result.iloc[0]
    assert row["status"] == status and row["source_type"] == "ILO modelled estimates"
    assert (row["status_note"] if isinstance(row["status_note"], str) else None) == note


def test_survey_flags_are_decoded_from_the_code_list():
    rows = [("IND", "youth_neet_rate", 2012 + i, 30.0, "SDG_0861_SEX_RT", "BA:1", flag)
            for i, flag in enumerate(["B", "U", "E", "P", None])]  # fmt: skip
    result = choose(rows).set_index("year")
    assert list(result["status"]) == ["observed"] * 3 + ["projected", "observed"]
    assert list(result["status_note"].fillna("")) == [
        "break in series", "unreliable", "estimate by the national source", "projected", ""
    ]  # fmt: skip
    # M is the publisher's "model-based extrapolation", never "missing".
    assert "missing" not in " ".join(obs_status_frame()["note"])
    # Every ILOSTAT source id prefix in the real files has a type.
    assert {"BA", "BB", "BX", "AA", "EA", "XA"} <= set(
        source_type_frame().query("kind == 'id'")["prefix"]
    )


def test_trailing_model_based_extrapolations_are_projections():
    """VEN's labour income share: unflagged to 2019, M from 2020 on. The M years after the
    last unflagged value are projections (never a brief's latest value); an M value followed
    by an unflagged one stays modelled."""
    rows = [("VEN", "labour_income_share", year, 10.0, "SDG_1041_NOC_RT", "XA:2180", flag)
            for year, flag in [(2018, "M"), (2019, None), (2020, "M"), (2024, "M")]]  # fmt: skip
    status = choose(rows).set_index("year")["status"]
    assert status.to_dict() == {2018: "modelled", 2019: "modelled", 2020: "projected",
                                2024: "projected"}  # fmt: skip


EARNINGS = "EAR_4MTH_SEX_ECO_CUR_NB"


def test_a_median_and_a_mean_are_never_one_trend():
    """Singapore's earnings: administrative records publish the mean (2010-2015), the labour
    force survey the median (2014-2020). The series is the median, the variant of the latest
    value; no mean is chosen, not even in years the median misses."""
    rows = [("SGP", "mean_monthly_earnings_usd", y, 3500.0, EARNINGS, "ADM-IR - Records", None)
            for y in (2010, 2012, 2013, 2014, 2015)]  # fmt: skip
    rows += [("SGP", "mean_monthly_earnings_usd", y, 3000.0, EARNINGS, "LFS - Labour Force Survey",
              None, "median") for y in (2014, 2016, 2017, 2018, 2019, 2020)]  # fmt: skip
    result = choose(rows)
    picked = result[result["chosen"]]
    assert set(picked["variant"]) == {"median"}
    assert sorted(picked["year"]) == [2014, 2016, 2017, 2018, 2019, 2020]
    means = result[result["variant"] == ""]
    assert not means["chosen"].any()
    assert set(means["reason"]) == {"not chosen: the standard series, not this economy's"}
    # 2014 has both: the median is the only value of the economy's series that year.
    assert picked.set_index("year").loc[2014, "reason"] == (
        "only value of this economy's series published"
    )


def test_the_variant_follows_the_latest_observed_value_then_the_years_then_the_standard():
    def series(rows):
        return choose(rows).query("chosen")["variant"].unique().tolist()

    # Greece: real values to 2019, the standard series in 2020: the standard one, latest.
    greece = [("GRC", "e", y, 1000.0, EARNINGS, "LFS", None, "real values")
              for y in range(2011, 2020)] + [("GRC", "e", 2020, 1020.0, EARNINGS, "LFS", None)]  # fmt: skip
    assert series(greece) == [""]
    # The same latest year: the variant with more years; then the standard one.
    tie = [("X", "e", y, 1.0, EARNINGS, "LFS", None, "median") for y in (2019, 2020)]
    tie += [("X", "e", 2020, 2.0, EARNINGS, "ES", None)]
    assert series(tie) == ["median"]
    even = [("X", "e", 2020, 1.0, EARNINGS, "LFS", None, "median"),
            ("X", "e", 2020, 2.0, EARNINGS, "ES", None)]  # fmt: skip
    assert series(even) == [""]
    # Each economy and variable has its own: one economy's median leaves another's mean.
    both = [*even, ("Y", "e", 2020, 3.0, EARNINGS, "LFS", None, "median")]
    picked = choose(both).query("chosen").set_index("ref_area")["variant"]
    assert picked.to_dict() == {"X": "", "Y": "median"}
