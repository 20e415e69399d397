"""Sector models: shift-share decomposition of productivity growth and sector pass-through."""

from __future__ import annotations

import pandas as pd

from pedw.models.absorb import InsufficientDataError, fe_ols
from pedw.models.frames import query_frames
from pedw.models.tidy import empty_estimates, fingerprint, tidy_fit

SECTOR_OUTCOMES = ["log_mean_earnings", "fatal_injury_rate"]

SHIFT_SHARE_SQL = """
    -- Aggregate productivity P = sum_i s_i p_i (s: employment share, p: value added per worker).
    -- P1 - P0 = sum dp_i s_i0  (within)  + sum p_i0 ds_i  (static structural change)
    --         + sum dp_i ds_i  (dynamic reallocation): an identity, so it adds up exactly.
    WITH panel AS (
        SELECT ref_area, sector, year, value_added / employment AS p,
               employment / sum(employment) OVER (PARTITION BY ref_area, year) AS s
        FROM sector_panel
        WHERE employment > 0 AND value_added IS NOT NULL
          -- only country-years with every sector present, so shares and totals are comparable
          AND (ref_area, year) IN (SELECT (ref_area, year) FROM sector_panel
                                   GROUP BY ref_area, year
                                   HAVING count(*) = count(value_added) AND count(*) = count(employment))
    ),
    pairs AS (
        SELECT a.ref_area, a.sector, a.year AS start_year, b.year AS end_year,
               a.p AS p0, b.p AS p1, a.s AS s0, b.s AS s1
        FROM periods
        JOIN panel a ON a.ref_area = periods.ref_area AND a.year = periods.start_year
        JOIN panel b ON b.ref_area = periods.ref_area AND b.year = periods.end_year
                    AND b.sector = a.sector
    )
    SELECT ref_area, start_year, end_year,
           sum(s0 * p0) AS productivity_start,
           sum(s1 * p1) AS productivity_end,
           sum(s1 * p1) - sum(s0 * p0) AS total_change,
           sum((p1 - p0) * s0) AS within_sector,
           sum(p0 * (s1 - s0)) AS static_structural_change,
           sum((p1 - p0) * (s1 - s0)) AS dynamic_reallocation,
           count(*) AS sectors
    FROM pairs
    GROUP BY ref_area, start_year, end_year
    ORDER BY ref_area, start_year, end_year
"""


def shift_share(sector_panel: pd.DataFrame, period_years: int = 5) -> pd.DataFrame:
    """Per country: the decomposition over the whole span and over consecutive periods.

    Components are also given as shares of the starting productivity (growth points), so
    within + static + dynamic = aggregate growth, exactly.
    """
    spans = query_frames(
        """
        SELECT ref_area, min(year) AS first, max(year) AS last FROM sector_panel
        WHERE value_added IS NOT NULL AND employment IS NOT NULL GROUP BY ref_area""",
        sector_panel=sector_panel,
    )
    periods = []
    for row in spans.itertuples():  # a handful of periods per country, not rows of data
        periods.append((row.ref_area, row.first, row.last))
        for start in range(int(row.first), int(row.last) - period_years + 1, period_years):
            periods.append((row.ref_area, start, start + period_years))
    periods_frame = pd.DataFrame(
        sorted(set(periods)), columns=["ref_area", "start_year", "end_year"]
    )
    result = query_frames(SHIFT_SHARE_SQL, sector_panel=sector_panel, periods=periods_frame)
    for component in (
        "total_change",
        "within_sector",
        "static_structural_change",
        "dynamic_reallocation",
    ):
        result[f"{component}_growth_pct"] = 100 * result[component] / result["productivity_start"]
    return result


def sector_pass_through(sector_panel: pd.DataFrame) -> pd.DataFrame:
    """Sector outcomes on log labour productivity | country x sector + year, clustered by country."""
    frame = sector_panel.assign(
        country_sector=sector_panel["ref_area"] + ":" + sector_panel["sector"]
    )
    frames = []
    for outcome in SECTOR_OUTCOMES:
        try:
            fit = fe_ols(
                frame, outcome, ["log_labour_productivity"], ["country_sector", "year"], "ref_area"
            )
        except InsufficientDataError:
            continue  # e.g. a sector source with no earnings or injury series
        frames.append(
            tidy_fit(
                fit,
                f"sector_pass_through_{outcome}",
                "sector",
                outcome,
                fingerprint(frame[["country_sector", "year", outcome, "log_labour_productivity"]]),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()
