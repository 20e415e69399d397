"""SCORE monitoring: workbooks as published, checked through their contract, and KPI changes."""

from assets.factories import raw_asset, referential_asset, source_asset, staged_asset
from assets.marts import mart_asset
from pedw.datasets import dataset
from pedw.marts.score_kpi_change import write_score_kpi_change

SCORE_SOURCES = [source_asset(dataset("score_monitoring"))]
raw_score_monitoring = raw_asset(dataset("score_monitoring"))
score_monitoring = staged_asset(dataset("score_monitoring"))
score_monitoring_references = referential_asset(dataset("score_monitoring"))


score_kpi_change = mart_asset(
    "score_kpi_change",
    [score_monitoring],
    write_score_kpi_change,
    "Per country (and ALL), SCORE module and KPI: enterprises, mean baseline and follow-up, "
    "mean log change with its 95% interval, % change, share improved.",
)


SCORE_ASSETS = [
    raw_score_monitoring,
    score_monitoring,
    score_monitoring_references,
    score_kpi_change,
]
