"""marts.enterprise_panel: firm-years with size class and their sector and national context."""

from __future__ import annotations

from pedw.reference import size_class_sql
from pedw.store import Store

ENTERPRISE_PANEL_SQL = f"""
    WITH firms AS (SELECT * FROM staging.enterprise_firms),
    baseline AS (
        -- Size class from the first observed wave, so a shock or a programme cannot move a
        -- firm between classes and bias the gap between them.
        SELECT firm_id, arg_min(employees, year) AS baseline_employees, min(year) AS first_year
        FROM firms GROUP BY firm_id
    )
    SELECT f.firm_id, f.country, f.sector, f.year,
           {size_class_sql("b.baseline_employees")} AS size_class,
           {size_class_sql("f.employees")} AS size_class_current,
           f.employees, f.sales, f.value_added, f.wage_bill,
           f.value_added / f.employees AS labour_productivity,
           CASE WHEN f.value_added > 0 THEN ln(f.value_added / f.employees) END AS log_labour_productivity,
           f.wage_bill / f.employees AS mean_wage,
           CASE WHEN f.wage_bill > 0 THEN ln(f.wage_bill / f.employees) END AS log_mean_wage,
           CASE WHEN f.sales > 0 THEN ln(f.sales) END AS log_sales,
           ln(f.employees) AS log_employees,
           f.training, f.formal, f.female_share, f.exporter, f.shock,
           f.score_participant, f.score_start_year,
           f.year - f.score_start_year AS score_event_time,
           f.sampling_weight, f.stratum, f.psu,
           n.human_capital AS national_human_capital,
           n.log_output_per_worker AS national_log_output_per_worker,
           n.informality_rate AS national_informality_rate,
           s.log_labour_productivity AS sector_log_labour_productivity,
           s.employment_share AS sector_employment_share
    FROM firms f
    JOIN baseline b USING (firm_id)
    LEFT JOIN marts.national_panel n ON n.ref_area = f.country AND n.year = f.year
    LEFT JOIN marts.sector_panel s ON s.ref_area = f.country AND s.sector = f.sector AND s.year = f.year
    ORDER BY f.country, f.firm_id, f.year"""


def write_enterprise_panel(store: Store) -> int:
    """Build marts.enterprise_panel from every staged country partition."""
    con = store.connect()
    try:
        for table in ("national_panel", "sector_panel"):
            if not store.exists("marts", table):
                raise ValueError(f"marts.{table} must be built before marts.enterprise_panel")
        return store.write(con, "marts", "enterprise_panel", ENTERPRISE_PANEL_SQL)
    finally:
        con.close()
