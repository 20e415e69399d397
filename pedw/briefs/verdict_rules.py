"""When a brief may say a figure changed, and whether for the better: the statistical rules
and their thresholds, in one place (docs/briefs.md, "When a change is judged").

A change (start -> latest) is comparable only within one stretch of a series: the same source
(survey or source code as the data record it), no break flagged by the publisher (ILOSTAT's B)
at or between the two ends, and no suspected break (a move between consecutive published
years of at least BREAK_MIN_POINTS points and BREAK_MIN_RELATIVE relative, for rates; of at
least BREAK_MIN_RELATIVE for levels). The start is the latest value at least USUAL_SPAN years
back inside that stretch, or, when the stretch is shorter, its earliest value (the longest
look-back that stays comparable); never fewer than MIN_SPAN nor more than MAX_SPAN years
back. A figure more than MAX_AGE years behind the publication's year (the newest year any
headline series of the briefs has a value, any economy, projections left out) carries no key
message, and a brief whose every headline figure is that old says so in a banner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

# A suspected (unflagged) break between two consecutive published values of a rate: a move of
# at least BREAK_MIN_POINTS percentage points AND at least BREAK_MIN_RELATIVE of the earlier
# value (FRA informality 25.0 -> 4.8 in one year). For levels: at least BREAK_MIN_RELATIVE.
BREAK_MIN_POINTS = 10.0
BREAK_MIN_RELATIVE = 0.40
# The usual look-back of a change, the shortest (changes over one or two years are mostly
# sampling noise and one-off shocks: DEU informality 11.9 (2020) -> 3.8 (2021)) and the
# longest a change may span.
USUAL_SPAN = 5
MIN_SPAN = 3
MAX_SPAN = 10
# A key message never rests on a figure more than MAX_AGE years older than the publication's
# year: the newest year any headline series of the briefs has a value (any economy,
# projections left out). Not the newest year of the figure's own variable: a source that stops
# early (ILOSTAT's earnings file ends in 2020) made a 2010 figure look current (ABW).
MAX_AGE = 10
# A figure more than DATED_AGE years behind the publication's year says so in words ("the
# latest figure, 9 years old"): YEM's 2014 unemployment read as current, before the war.
DATED_AGE = 5
# An implausible move over the compared span: the value halves or more than doubles AND, for
# rates, moves at least IMPLAUSIBLE_MIN_POINTS points (VEN labour income share 48.2 -> 10.1
# in five years). A rate outside 0-100% is implausible too. Such a change gets no verdict.
IMPLAUSIBLE_FACTOR = 2.0
IMPLAUSIBLE_MIN_POINTS = 10.0
# Publisher flags (ILOSTAT obs_status) the rules read.
BREAK_FLAG = "B"
UNRELIABLE_FLAG = "U"

NOT_COMPARABLE = "not comparable over time (break in series / change of source)"


@dataclass
class Start:
    """Where a change starts, or why there is none (`note`, None when merely no earlier value
    within MAX_SPAN years)."""

    year: int | None
    value: float
    source: str | None
    obs_status: str | None
    note: str | None = None


def is_rate(unit: str) -> bool:
    """A unit in percent: changes are in percentage points."""
    return "percent" in unit


def suspected_break(before: float, after: float, rate: bool) -> bool:
    """A move between consecutive published values too large to be one series' change."""
    if before is None or after is None or math.isnan(before) or math.isnan(after):
        return False
    relative = abs(after - before) / abs(before) if before else math.inf
    if rate:
        return abs(after - before) >= BREAK_MIN_POINTS and relative >= BREAK_MIN_RELATIVE
    return relative >= BREAK_MIN_RELATIVE


def comparable_start(history: pd.DataFrame, rate: bool) -> Start:
    """The start of the latest value's change, from `history` (one economy's values of one
    series: year, value, source, obs_status; the rows the brief may show, in any order)."""
    rows = history.sort_values("year")
    years = [int(year) for year in rows["year"]]
    values = rows["value"].astype(float).tolist()
    sources, flags = _texts(rows, "source"), _texts(rows, "obs_status")
    end_year = years[-1]
    first = len(rows) - 1  # the stretch is rows[first:]
    steps = _step_breaks(rows, rate)
    if flags[-1] != BREAK_FLAG:
        while first > 0 and not (steps[first - 1] or flags[first - 1] == BREAK_FLAG):
            first -= 1
    # Within the stretch (its end apart), MIN_SPAN to MAX_SPAN years back: the latest at least
    # USUAL_SPAN back, else the earliest.
    within = [i for i in range(first, len(rows) - 1)
              if end_year - MAX_SPAN <= years[i] <= end_year - MIN_SPAN]  # fmt: skip
    usual = [i for i in within if years[i] <= end_year - USUAL_SPAN]
    pick = usual[-1] if usual else within[0] if within else None
    if pick is not None:
        return Start(years[pick], values[pick], sources[pick], flags[pick])
    if first > 0 and years[first - 1] >= end_year - MAX_SPAN:  # the rows cut off: rows[:first]
        return Start(None, math.nan, None, None, NOT_COMPARABLE)
    return Start(None, math.nan, None, None)


def implausible(start: float, end: float, rate: bool) -> bool:
    """A level or a move over the compared span no real change is likely to produce."""
    if rate and any(not 0 <= v <= 100 for v in (start, end) if not math.isnan(v)):
        return True
    if math.isnan(start) or math.isnan(end) or start <= 0 or end <= 0:
        return False
    factor = max(end / start, start / end)
    if rate:
        return factor >= IMPLAUSIBLE_FACTOR and abs(end - start) >= IMPLAUSIBLE_MIN_POINTS
    return factor >= IMPLAUSIBLE_FACTOR


def annual_growth(first, last, years: int):
    """Average annual growth, percent a year, from `first` to `last` over `years` (positive
    numbers, or aligned Series of them); NaN when `years` is not positive."""
    if years <= 0:
        return math.nan
    return 100 * ((last / first) ** (1 / years) - 1)


def recent(year: int | None, newest: int | None) -> bool:
    """A figure at most MAX_AGE years behind `newest`, the publication's year."""
    return year is None or newest is None or year >= newest - MAX_AGE


def publication_year(panel: pd.DataFrame, variables: list[str]) -> int | None:
    """The year a figure's age is counted from: the newest year any of `variables` has a value
    in `panel` (every economy; the brief's panel, projections already blanked). None when
    none has a value."""
    present = [v for v in variables if v in panel]
    if not present or not len(panel):
        return None
    years = panel.loc[panel[present].notna().any(axis=1), "year"]
    return int(years.max()) if len(years) else None


def breaks_between(history: pd.DataFrame, start: int, end: int, rate: bool) -> int:
    """Breaks at or between `start` and `end` in `history`: values flagged B, changes of source
    and suspected breaks between consecutive values (0 for a comparable change)."""
    rows = history[(history["year"] >= start) & (history["year"] <= end)].sort_values("year")
    flagged = _texts(rows, "obs_status").count(BREAK_FLAG)
    return flagged + sum(_step_breaks(rows, rate))


def _texts(rows: pd.DataFrame, column: str) -> list[str | None]:
    """A text column of `rows` as a list, blanks (and a missing column) as None."""
    values = rows[column] if column in rows else [None] * len(rows)
    return [v if isinstance(v, str) else None for v in values]


def _step_breaks(rows: pd.DataFrame, rate: bool) -> list[bool]:
    """For each pair of consecutive `rows` (sorted by year), whether the step between them is a
    break: a change of source or a suspected break (publisher flags are read apart)."""
    sources, values = _texts(rows, "source"), rows["value"].astype(float).tolist()
    return [
        a != b or suspected_break(x, y, rate)
        for a, b, x, y in zip(sources[:-1], sources[1:], values[:-1], values[1:], strict=True)
    ]
