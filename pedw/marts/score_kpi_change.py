"""marts.score_kpi_change: how each SCORE KPI moved between baseline and follow-up, by module.

The change of a KPI for one enterprise is the log of follow-up over baseline (a relative
change that averages across enterprises of different sizes). Per country, module and KPI
(and over all countries, country 'ALL'), the mart holds the number of enterprises, mean
baseline and follow-up, the mean log change with a t interval, the implied percentage
change, and the share of enterprises that improved (lower is better for defects,
accidents, absenteeism and turnover). A descriptive before-after comparison: without a
comparison group it is not the effect of the module; docs/models.md says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.sources.score_monitoring import KPIS
from pedw.store import Store

KPI_CHANGE_SQL = """
    WITH pairs AS (
        SELECT country, module, kpi, unit, baseline, follow_up,
               ln(follow_up / baseline) AS log_change,
               CASE WHEN k.higher_is_better THEN follow_up > baseline
                    ELSE follow_up < baseline END AS improved
        FROM staging.score_monitoring JOIN _kpis k USING (kpi)
        WHERE baseline > 0 AND follow_up > 0
    )
    SELECT coalesce(country, 'ALL') AS country, module, kpi, any_value(unit) AS unit,
           count(*) AS enterprises,
           avg(baseline) AS mean_baseline, avg(follow_up) AS mean_follow_up,
           avg(log_change) AS mean_log_change,
           stddev_samp(log_change) / sqrt(count(*)) AS std_error,
           avg(improved::INTEGER) AS share_improved
    FROM pairs
    GROUP BY GROUPING SETS ((country, module, kpi), (module, kpi))
    ORDER BY country, module, kpi
"""


def kpi_change(store: Store) -> pd.DataFrame:
    """The aggregated changes, with 95% t intervals and percentage changes."""
    kpis = pd.DataFrame(
        [(code, higher) for code, (_label, _unit, higher) in KPIS.items()],
        columns=["kpi", "higher_is_better"],
    )
    con = store.connect()
    try:
        con.register("_kpis", kpis)
        frame = con.execute(KPI_CHANGE_SQL).df()
    finally:
        con.close()
    from scipy import stats  # 0.6 s of imports: paid by this step, not by every command

    t = stats.t.ppf(0.975, (frame["enterprises"] - 1).clip(lower=1))
    frame["ci_low"] = frame["mean_log_change"] - t * frame["std_error"]
    frame["ci_high"] = frame["mean_log_change"] + t * frame["std_error"]
    frame["change_pct"] = 100 * np.expm1(frame["mean_log_change"])
    return frame


def write_score_kpi_change(store: Store) -> int:
    """Build marts.score_kpi_change from staging.score_monitoring."""
    frame = kpi_change(store)
    con = store.connect()
    try:
        con.register("_changes", frame)
        return store.write(con, "marts", "score_kpi_change", "SELECT * FROM _changes")
    finally:
        con.close()
