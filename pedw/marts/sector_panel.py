"""marts.sector_panel: one row per country, ISIC Rev.4 section and year."""

from __future__ import annotations

import pandas as pd

from pedw.marts.national_panel import economies_only_sql
from pedw.reference import BROAD_SECTOR, ISIC4_GROUPS, ISIC4_SECTIONS
from pedw.staging.series import series_definitions
from pedw.store import Store, check_identifier


def sector_names() -> pd.DataFrame:
    """ISIC Rev.4 sections and the groups of sections some databases publish."""
    return pd.DataFrame(
        [(k, v, BROAD_SECTOR[k]) for k, v in {**ISIC4_SECTIONS, **ISIC4_GROUPS}.items()],
        columns=["sector", "sector_name", "broad_sector"],
    )


def sector_panel_sql() -> str:
    """Pivot staging.sector_series; productivity = value added per person employed."""
    variables = [check_identifier(v) for v in series_definitions()["sector"]]
    pivots = ",\n               ".join(
        f"max(value) FILTER (WHERE variable = '{v}') AS {v}" for v in variables
    )
    return f"""
        WITH wide AS (
            SELECT ref_area, sector, year,
               {pivots},
               any_value(unit) FILTER (WHERE variable = 'value_added') AS value_added_unit
            FROM staging.sector_series
            WHERE sector IS NOT NULL AND {economies_only_sql("ref_area")}
            GROUP BY ref_area, sector, year
        )
        SELECT w.ref_area, w.sector, s.sector_name, s.broad_sector, w.year,
               w.employment, w.value_added, w.value_added_unit,
               w.value_added / nullif(w.employment, 0) AS labour_productivity,
               ln(w.value_added / nullif(w.employment, 0)) AS log_labour_productivity,
               w.mean_earnings, ln(nullif(w.mean_earnings, 0)) AS log_mean_earnings,
               w.fatal_injury_rate,
               w.employment / sum(w.employment) OVER (PARTITION BY w.ref_area, w.year) AS employment_share
        FROM wide w JOIN _sector_names s USING (sector)
        ORDER BY w.ref_area, w.sector, w.year"""


def write_sector_panel(store: Store) -> int:
    """Build marts.sector_panel from staged sector series."""
    con = store.connect()
    try:
        con.register("_sector_names", sector_names())
        return store.write(con, "marts", "sector_panel", sector_panel_sql())
    finally:
        con.close()
