"""When a brief may compare two values of a series (pedw/briefs/verdict_rules.py): only within
one source with no flagged or suspected break between them, over at most ten years, and never
on an implausible move; cases from the editor's review of the real-data briefs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pedw.briefs.verdict_rules import (
    NOT_COMPARABLE,
    breaks_between,
    comparable_start,
    implausible,
    recent,
    suspected_break,
)


def history(*rows: tuple) -> pd.DataFrame:
    """(year, value, source, flag) rows."""
    return pd.DataFrame(rows, columns=["year", "value", "source", "obs_status"])


def test_a_change_of_survey_starts_the_change_at_the_new_survey():
    # IND unemployment: NSS (BX) to 2012, PLFS (BA) from 2018: 7.7 (2018) -> 4.8, not 3.2 -> 4.8.
    ind = history((2010, 3.1, "BX:2228", None), (2012, 3.2, "BX:2228", None),
                  (2018, 7.65, "BA:14121", None), (2019, 6.5, "BA:14121", None),
                  (2022, 4.82, "BA:14121", None))  # fmt: skip
    start = comparable_start(ind, rate=True)
    assert (start.year, start.value, start.note) == (2018, 7.65, None)
    assert breaks_between(ind, 2018, 2022, rate=True) == 0
    assert breaks_between(ind, 2012, 2022, rate=True) == 1


def test_a_latest_value_flagged_as_a_break_is_not_comparable():
    # NGA: an LFS in 2014, a household survey flagged B in 2019.
    nga = history((2014, 4.6, "BA:1", None), (2019, 10.7, "BA:1", "B"))
    start = comparable_start(nga, rate=True)
    assert start.year is None and start.note == NOT_COMPARABLE
    assert breaks_between(nga, 2014, 2019, rate=True) == 1


def test_a_break_flag_at_the_start_or_between_moves_the_start_after_it():
    rows = history((2015, 20.0, "BA:1", None), (2017, 21.0, "BA:1", "B"),
                   (2018, 21.5, "BA:1", None), (2021, 22.0, "BA:1", None))  # fmt: skip
    assert comparable_start(rows, rate=True).year == 2018


def test_an_unflagged_level_shift_is_a_suspected_break():
    # FRA informality: 25.0 (2019) -> 4.8 (2020) in one source, no flag.
    fra = history((2016, 26.1, "BA:1", None), (2019, 25.0, "BA:1", None),
                  (2020, 4.8, "BA:1", None), (2021, 4.6, "BA:1", None),
                  (2023, 4.5, "BA:1", None))  # fmt: skip
    start = comparable_start(fra, rate=True)
    assert (start.year, start.value) == (2020, 4.8)  # the longest comparable look-back
    assert suspected_break(25.0, 4.8, rate=True)
    assert not suspected_break(30.0, 19.0, rate=True)  # 11 points but 37%
    assert not suspected_break(2.0, 5.0, rate=True)  # 150% but 3 points
    assert suspected_break(1000.0, 1500.0, rate=False)  # a level: 50%


def test_the_start_is_about_five_years_back_and_never_more_than_ten():
    steady = history(
        *[(year, 10.0 + 0.1 * (year - 2010), "BA:1", None) for year in range(2010, 2023)]
    )
    assert comparable_start(steady, rate=True).year == 2017
    gappy = history((2005, 8.0, "BA:1", None), (2022, 6.0, "BA:1", None))
    start = comparable_start(gappy, rate=True)
    assert start.year is None and start.note is None  # too old to compare, no break claimed


def test_implausible_levels_and_moves():
    assert implausible(48.2, 10.1, rate=True)  # VEN labour income share in five years
    assert not implausible(4.6, 10.7, rate=True)  # doubled, but 6 points
    assert implausible(1000.0, 2100.0, rate=False)
    assert implausible(math.nan, 120.0, rate=True)  # a rate over 100%
    assert not implausible(math.nan, 18.5, rate=True)


@pytest.mark.parametrize(("year", "newest", "ok"), [(2014, 2024, True), (2013, 2024, False),
                                                     (2008, 2022, False), (2022, None, True)])  # fmt: skip
def test_a_figure_is_recent_within_ten_years_of_the_newest(year, newest, ok):
    assert recent(year, newest) is ok


def test_a_change_spans_at_least_three_years():
    # DEU informality: 11.9 (2020) -> 3.8 (2021) -> 4.2 (2022) is no five-year change, and a
    # two-year one is mostly noise and one-off shocks: no change, and no claim of a break.
    deu = history((2020, 11.9, "BB:5863", None), (2021, 3.8, "BB:5863", None),
                  (2022, 4.2, "BB:5863", None))  # fmt: skip
    start = comparable_start(deu, rate=True)
    assert start.year is None and start.note is None
