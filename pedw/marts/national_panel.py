"""marts.national_panel: one row per country and year, drivers and decent-work outcomes."""

from __future__ import annotations

import pandas as pd

from pedw.harmonise import economy_names
from pedw.marts.series_choice import register_code_lists, series_choice_sql
from pedw.quality.code_lists import WB_AGGREGATES
from pedw.reference import ILO_AGGREGATES
from pedw.staging.series import PWT_SERIES, series_definitions
from pedw.store import Store, check_identifier


def economies_only_sql(column: str) -> str:
    """SQL: `column` holds an economy, not a World Bank or ILOSTAT aggregate (by code list:
    an aggregate never enters a panel, and a code is never taken for one by its shape)."""
    codes = ", ".join(f"'{code}'" for code in (*WB_AGGREGATES, *ILO_AGGREGATES))
    return f"{column} NOT IN ({codes})"


def country_names() -> pd.DataFrame:
    """Economy code -> English short name, for economies with no WDI name."""
    return pd.DataFrame(list(economy_names().items()), columns=["ref_area", "iso_name"])


CORE_COLUMNS = ["output_per_worker", "employment", "informality_rate", "labour_income_share",
                "working_poverty_rate", "mean_real_earnings", "fatal_injury_rate", "human_capital",
                "capital_per_worker", "annual_hours", "trade_openness", "pwt_output_per_worker"]  # fmt: skip


def national_panel_sql(series: str = "marts.series_choice") -> str:
    """Pivot the chosen values of `series` to one row per country-year, adding logs and growth.

    Aggregates (ILO X.. codes, World Bank regions and income groups) are left out: the panel
    holds economies only. Variables defined in series.yml beyond the core ones follow them.
    The value of a variable in a year is the one marts.series_choice chose.
    """
    variables = [check_identifier(v) for v in [*series_definitions()["national"], *PWT_SERIES]]
    pivots = ",\n               ".join(
        f"max(value) FILTER (WHERE variable = '{v}') AS {v}" for v in variables
    )
    extra = "".join(f", w.{v}" for v in variables if v not in CORE_COLUMNS)
    return f"""
        WITH wide AS (
            SELECT ref_area, year,
               {pivots}
            FROM {series}
            WHERE {economies_only_sql("ref_area")} AND chosen
            GROUP BY ref_area, year
        )
        SELECT w.ref_area,
               coalesce(m.table_name, n.iso_name, w.ref_area) AS country_name,
               m.region, m.income_group, w.year,
               w.output_per_worker,
               ln(nullif(w.output_per_worker, 0)) AS log_output_per_worker,
               100 * (w.output_per_worker / lag(w.output_per_worker) OVER c - 1)
                   AS output_per_worker_growth,
               w.employment, w.informality_rate, w.labour_income_share, w.working_poverty_rate,
               w.mean_real_earnings, ln(nullif(w.mean_real_earnings, 0)) AS log_mean_real_earnings,
               w.fatal_injury_rate,
               w.human_capital, w.capital_per_worker,
               ln(nullif(w.capital_per_worker, 0)) AS log_capital_per_worker,
               w.annual_hours, w.trade_openness, w.pwt_output_per_worker{extra}
        FROM wide w
        LEFT JOIN _country_metadata m ON m.country_code = w.ref_area
        LEFT JOIN _country_names n ON n.ref_area = w.ref_area
        WHERE w.ref_area NOT IN (SELECT country_code FROM _country_metadata
                                 WHERE region IS NULL AND table_name IS NOT NULL)
        WINDOW c AS (PARTITION BY w.ref_area ORDER BY w.year)
        ORDER BY w.ref_area, w.year"""


def write_national_panel(store: Store) -> int:
    """Build marts.series_choice (which published value stands for each economy, variable and
    year) and marts.national_panel from its chosen values and the country metadata."""
    con = store.connect()
    try:
        register_code_lists(con)
        store.write(
            con,
            "marts",
            "series_choice",
            series_choice_sql("staging.national_series", economies_only_sql("s.ref_area")),
        )
        store.attach_view(con, "marts", "series_choice")
        con.register("_country_names", country_names())
        if store.exists("staging", "country_metadata"):
            con.execute(
                "CREATE TEMP TABLE _country_metadata AS SELECT country_code, "
                "nullif(region, '') AS region, nullif(income_group, '') AS income_group, "
                "table_name FROM staging.country_metadata"
            )
        else:
            con.execute(
                "CREATE TEMP TABLE _country_metadata (country_code VARCHAR, region VARCHAR, "
                "income_group VARCHAR, table_name VARCHAR)"
            )
        return store.write(con, "marts", "national_panel", national_panel_sql())
    finally:
        con.close()
