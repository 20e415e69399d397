"""What an economist would write by hand: the demo's firm file read with DuckDB and the same
fixed-effects models fitted with pyfixest (the baseline bench/pipeline.py runs beside pedw).

Usage: python bench/plain_script.py DEMO_FOLDER

No contracts, quarantine, lineage, disclosure control, briefs or publication: the floor a
pipeline's cost is measured against.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pyfixest as pf

PANEL_SQL = """
    WITH firms AS (SELECT * FROM read_csv('{path}')),
    baseline AS (SELECT firm_id, arg_min(employees, year) AS first_size FROM firms GROUP BY 1)
    SELECT f.*, CASE WHEN b.first_size < 10 THEN 'micro' WHEN b.first_size < 50 THEN 'small'
                     WHEN b.first_size < 250 THEN 'medium' ELSE 'large' END AS size_class,
           CASE WHEN value_added > 0 THEN ln(value_added / employees) END AS log_labour_productivity,
           CASE WHEN wage_bill > 0 THEN ln(wage_bill / employees) END AS log_mean_wage,
           year - min(year) OVER () AS trend,
           country || ':' || year AS country_year,
           coalesce(year - score_start_year, -1) AS event_time
    FROM firms f JOIN baseline b USING (firm_id)
"""


def main(demo: Path) -> None:
    started = time.perf_counter()
    panel = duckdb.sql(PANEL_SQL.format(path=demo / "enterprise" / "firms.csv")).df()
    for size in ("micro", "small", "medium"):
        panel[size] = (panel["size_class"] == size).astype(float)
        panel[f"{size}_x_trend"] = panel[size] * panel["trend"]
    read = time.perf_counter() - started
    drivers = "training + formal + exporter + female_share"
    fits = {
        "cross_level": ("log_labour_productivity ~ " + drivers + " + micro + small + medium"
                        " | country + year", "country"),
        "cross_level_wage": ("log_mean_wage ~ log_labour_productivity + " + drivers +
                             " + micro + small + medium | country + year", "country"),
        "sme_gap": ("log_labour_productivity ~ micro + small + medium + micro_x_trend + "
                    "small_x_trend + medium_x_trend + " + drivers + " | country_year + sector",
                    "country"),
        "score_twfe_event_study": ("log_labour_productivity ~ i(event_time, ref=-1) | firm_id + "
                                   "country_year", "firm_id"),
    }  # fmt: skip
    for name, (formula, cluster) in fits.items():
        began = time.perf_counter()
        pf.feols(formula, data=panel, vcov={"CRV1": cluster})
        print(f"plain {name}: {time.perf_counter() - began:.2f} s", flush=True)
    print(f"plain read: {read:.2f} s, {len(panel):,} firm-years")
    print(f"plain total: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
