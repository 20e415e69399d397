"""Sector models: shift-share decomposition of productivity growth and sector pass-through."""

from __future__ import annotations

import pandas as pd

from pedw.models.frames import query_frames
from pedw.models.ledger import ModelLedger, fit_recorded
from pedw.models.tidy import empty_estimates, fingerprint, tidy_fit

SECTOR_OUTCOMES = ["log_mean_earnings", "fatal_injury_rate"]
SHIFT_SHARE_ID = "shift_share"
SHIFT_SHARE_COMPONENTS = ["total_change", "within_sector", "static_structural_change",
                          "dynamic_reallocation", "entry_exit"]  # fmt: skip
# A period is fragile when its driver sector, the sector contributing most to the between
# effect (static plus dynamic terms) or to the within effect, had under FRAGILE_SHARE of
# employment at one end: a sector that small has noisy value added per worker, and its
# contribution can be huge and spurious (Rwanda's 27 real-estate workers of 1990).
FRAGILE_SHARE = 0.01

# (A driver is only a sector that contributes: none when no share, or no productivity, moved.)

# A country's sector set is every sector it reports with both value added and employment in
# some year. A year is complete when every sector of that set has both values; only complete
# years enter the decomposition, so both ends of a period cover the same sectors and aggregate
# productivity P_t = sum(value added) / sum(employment) is one number per country-year.
SECTOR_YEARS_SQL = """
    WITH cells AS (
        SELECT ref_area, sector, year, employment, value_added FROM sector_panel
    ),
    reported AS (
        SELECT DISTINCT ref_area, sector FROM cells
        WHERE employment IS NOT NULL AND value_added IS NOT NULL
    ),
    grid AS (
        SELECT y.ref_area, y.year, r.sector
        FROM (SELECT DISTINCT ref_area, year FROM cells) y JOIN reported r USING (ref_area)
    )
    SELECT g.ref_area, g.sector, g.year, c.employment, c.value_added,
           c.employment IS NULL OR c.value_added IS NULL AS missing
    FROM grid g LEFT JOIN cells c USING (ref_area, sector, year)
"""

YEAR_STATUS_SQL = """
    SELECT ref_area, year,
           NOT bool_or(missing) AND sum(employment) > 0 AS complete,
           string_agg(sector, ', ' ORDER BY sector) FILTER (WHERE missing) AS missing_sectors,
           count(*) FILTER (WHERE missing) / count(*) AS missing_share
    FROM sector_years GROUP BY ref_area, year
"""

# P1 - P0 = sum_M dp s0 (within) + sum_M p0 ds (static) + sum_M dp ds (dynamic)
#         + [R1 - R0] (entry/exit), where M holds the sectors with positive employment at both
# ends, s = employment share of the country's total, p = value added per worker, and
# R_t = (value added of the sectors outside M) / total employment. An identity: it adds up.
SHIFT_SHARE_SQL = """
    WITH sectors AS (
        SELECT s.*, sum(employment) OVER w AS total_employment,
               sum(value_added) OVER w AS total_value_added
        FROM sector_years s JOIN year_status y USING (ref_area, year)
        WHERE y.complete
        WINDOW w AS (PARTITION BY s.ref_area, s.year)
    ),
    pairs AS (
        SELECT p.ref_area, p.start_year, p.end_year, a.sector,
               a.employment > 0 AND b.employment > 0 AS matched,
               a.value_added AS v0, b.value_added AS v1,
               a.employment / a.total_employment AS s0, b.employment / b.total_employment AS s1,
               a.value_added / nullif(a.employment, 0) AS p0,
               b.value_added / nullif(b.employment, 0) AS p1,
               a.total_value_added / a.total_employment AS productivity_start,
               b.total_value_added / b.total_employment AS productivity_end,
               a.total_employment AS l0, b.total_employment AS l1,
               a.total_value_added AS y0, b.total_value_added AS y1
        FROM periods p
        JOIN sectors a ON a.ref_area = p.ref_area AND a.year = p.start_year
        JOIN sectors b ON b.ref_area = p.ref_area AND b.year = p.end_year AND b.sector = a.sector
    )
    SELECT ref_area, start_year, end_year,
           any_value(productivity_start) AS productivity_start,
           any_value(productivity_end) AS productivity_end,
           any_value(productivity_end) - any_value(productivity_start) AS total_change,
           coalesce(sum((p1 - p0) * s0) FILTER (WHERE matched), 0) AS within_sector,
           coalesce(sum(p0 * (s1 - s0)) FILTER (WHERE matched), 0) AS static_structural_change,
           coalesce(sum((p1 - p0) * (s1 - s0)) FILTER (WHERE matched), 0) AS dynamic_reallocation,
           coalesce(sum(v1) FILTER (WHERE NOT matched), 0) / any_value(l1)
             - coalesce(sum(v0) FILTER (WHERE NOT matched), 0) / any_value(l0) AS entry_exit,
           count(*) FILTER (WHERE matched) AS sectors,
           count(*) FILTER (WHERE NOT matched) AS sectors_entry_exit,
           string_agg(sector, ', ' ORDER BY sector) FILTER (WHERE NOT matched) AS entry_exit_sectors,
           greatest(coalesce(sum(v0) FILTER (WHERE NOT matched), 0) / any_value(y0),
                    coalesce(sum(v1) FILTER (WHERE NOT matched), 0) / any_value(y1))
             AS entry_exit_value_added_share,
           arg_max(sector, abs(p0 * (s1 - s0)) + abs((p1 - p0) * (s1 - s0)))
             FILTER (WHERE matched AND s1 <> s0) AS reallocation_driver,
           arg_max(least(s0, s1), abs(p0 * (s1 - s0)) + abs((p1 - p0) * (s1 - s0)))
             FILTER (WHERE matched AND s1 <> s0) AS reallocation_driver_share,
           arg_max(sector, abs((p1 - p0) * s0)) FILTER (WHERE matched AND p1 <> p0)
             AS within_driver,
           arg_max(least(s0, s1), abs((p1 - p0) * s0)) FILTER (WHERE matched AND p1 <> p0)
             AS within_driver_share
    FROM pairs
    GROUP BY ref_area, start_year, end_year
    ORDER BY ref_area, start_year, end_year
"""


def fragile_periods(result: pd.DataFrame) -> pd.Series:
    """Periods whose between effect (static plus dynamic terms) or within effect is driven by a
    sector with under FRAGILE_SHARE of employment at one end: its noisy value added per worker
    makes the contribution say nothing about the economy (offsetting giants, or a within
    term resting on a handful of workers)."""
    between = result["reallocation_driver_share"].fillna(1.0) < FRAGILE_SHARE
    within = result["within_driver_share"].fillna(1.0) < FRAGILE_SHARE
    return between | within


def decomposition_periods(complete_years: pd.DataFrame, period_years: int) -> pd.DataFrame:
    """Per country: its whole span of complete years and consecutive `period_years` periods
    from the first complete year; a period is kept only when both ends are complete years."""
    periods = []
    for country, years in complete_years.groupby("ref_area")["year"]:  # a row per country
        first, last, present = int(years.min()), int(years.max()), set(years.astype(int))
        if last > first:
            periods.append((country, first, last, True))
        for start in range(first, last - period_years + 1, period_years):
            end = start + period_years
            periods.append((country, start, end, start in present and end in present))
    frame = pd.DataFrame(periods, columns=["ref_area", "start_year", "end_year", "kept"])
    frame = frame.astype({"start_year": "int64", "end_year": "int64", "kept": bool})
    return frame.drop_duplicates(["ref_area", "start_year", "end_year"])


def shift_share(
    sector_panel: pd.DataFrame, period_years: int = 5, ledger: ModelLedger | None = None
) -> pd.DataFrame:
    """Per country: the decomposition over the whole span and over consecutive periods.

    Components are also given as shares of the starting productivity (growth points), so
    within + static + dynamic + entry/exit = aggregate growth, exactly. Every year, period or
    sector left out or moved to the entry/exit term is written to `ledger`.
    """
    ledger = ledger if ledger is not None else ModelLedger("sector")
    sector_years = query_frames(SECTOR_YEARS_SQL, sector_panel=sector_panel)
    year_status = query_frames(YEAR_STATUS_SQL, sector_years=sector_years)
    complete = year_status[year_status["complete"]]
    periods = decomposition_periods(complete, period_years)
    result = query_frames(
        SHIFT_SHARE_SQL,
        sector_years=sector_years,
        year_status=year_status,
        periods=periods[periods["kept"]],
    )
    for component in SHIFT_SHARE_COMPONENTS:
        result[f"{component}_growth_pct"] = 100 * result[component] / result["productivity_start"]
    result["fragile"] = fragile_periods(result)
    ledger.exclude(_decomposition_exclusions(sector_panel, year_status, periods, result))
    return result


def _decomposition_exclusions(
    sector_panel: pd.DataFrame,
    year_status: pd.DataFrame,
    periods: pd.DataFrame,
    result: pd.DataFrame,
) -> pd.DataFrame:
    """Rows for quality.model_exclusions: never-reported sectors, incomplete years, dropped
    periods, countries with fewer than two complete years, and entry/exit sectors."""
    never = query_frames(
        """SELECT * FROM (
               SELECT ref_area, sector, min(year) AS first, max(year) AS last,
                      count(*) FILTER (WHERE employment IS NOT NULL
                                         AND value_added IS NOT NULL) AS reported,
                      1 / count(*) OVER (PARTITION BY ref_area) AS share
               FROM sector_panel GROUP BY ref_area, sector)
           WHERE reported = 0""",
        sector_panel=sector_panel,
    )
    incomplete = year_status[~year_status["complete"]]
    complete_count = year_status[year_status["complete"]].groupby("ref_area").size()
    few = year_status.groupby("ref_area")["year"].agg(["min", "max"])
    few = few[complete_count.reindex(few.index).fillna(0).to_numpy() < 2]
    dropped = periods[~periods["kept"]]
    moved = result[result["sectors_entry_exit"] > 0]
    missing_reason = incomplete["missing_sectors"].fillna("")
    return pd.concat([
        pd.DataFrame({"ref_area": never["ref_area"], "start_year": never["first"],
                      "end_year": never["last"], "rule": "sector_never_reported",
                      "detail": "sector " + never["sector"] + " never has both value added and "
                                "employment: left out of every year",
                      "share_affected": never["share"], "affected_measure": "sectors"}),
        pd.DataFrame({"ref_area": incomplete["ref_area"], "start_year": incomplete["year"],
                      "end_year": incomplete["year"], "rule": "incomplete_year",
                      "detail": ("sector(s) " + missing_reason + " lack value added or employment"
                                 ).where(missing_reason != "", "total employment is zero")
                                + ": year not used",
                      "share_affected": incomplete["missing_share"], "affected_measure": "sectors"}),
        pd.DataFrame({"ref_area": dropped["ref_area"], "start_year": dropped["start_year"],
                      "end_year": dropped["end_year"], "rule": "period_endpoint_incomplete",
                      "detail": "a period end is an incomplete year: period not decomposed",
                      "share_affected": 1.0, "affected_measure": "rows"}),
        pd.DataFrame({"ref_area": few.index, "start_year": few["min"], "end_year": few["max"],
                      "rule": "too_few_years", "detail": "fewer than two complete years",
                      "share_affected": 1.0, "affected_measure": "rows"}),
        pd.DataFrame({"ref_area": moved["ref_area"], "start_year": moved["start_year"],
                      "end_year": moved["end_year"], "rule": "entry_exit",
                      "detail": "zero employment at one or both ends in sector(s) "
                                + moved["entry_exit_sectors"] + ": their value added is the "
                                "entry/exit term",
                      "share_affected": moved["entry_exit_value_added_share"],
                      "affected_measure": "value_added"}),
    ], ignore_index=True).assign(model_id=SHIFT_SHARE_ID)  # fmt: skip


def sector_pass_through(
    sector_panel: pd.DataFrame, ledger: ModelLedger | None = None
) -> pd.DataFrame:
    """Sector outcomes on log labour productivity | country x sector + year, clustered by country."""
    ledger = ledger if ledger is not None else ModelLedger("sector")
    frame = sector_panel.assign(
        country_sector=sector_panel["ref_area"] + ":" + sector_panel["sector"]
    )
    frames = []
    for outcome in SECTOR_OUTCOMES:
        model_id = f"sector_pass_through_{outcome}"
        regressors = ["log_labour_productivity"]
        fit = fit_recorded(
            ledger, model_id, frame, outcome, regressors, ["country_sector", "year"], "ref_area"
        )
        if fit is None:
            continue  # e.g. a sector source with no earnings or injury series: on record
        stamp = fingerprint(frame[["country_sector", "year", outcome, *regressors]])
        frames.append(tidy_fit(fit, model_id, "sector", outcome, stamp))
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()
