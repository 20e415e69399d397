"""SCORE monitoring: workbooks as published, checked through their contract, and KPI changes."""

from assets.factories import raw_asset, staged_asset
from assets.marts import mart_asset
from pedw.marts.score_kpi_change import write_score_kpi_change

raw_score_monitoring = raw_asset(
    "score_monitoring",
    "enterprise",
    ("score_monitoring",),
    "SCORE monitoring workbooks as published: one row per enterprise, module and KPI pair "
    "(text), with the spreadsheet row.",
)
score_monitoring = staged_asset(
    "score_monitoring",
    "score_monitoring",
    "score_monitoring",
    "enterprise",
    "Typed SCORE KPIs (baseline, follow-up) that passed the score_monitoring contract.",
)


score_kpi_change = mart_asset(
    "score_kpi_change",
    [score_monitoring],
    write_score_kpi_change,
    "Per country (and ALL), SCORE module and KPI: enterprises, mean baseline and follow-up, "
    "mean log change with its 95% interval, % change, share improved.",
)


SCORE_ASSETS = [raw_score_monitoring, score_monitoring, score_kpi_change]
