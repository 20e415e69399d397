"""Every model says whether it ran and which countries or years it left out, and why."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.models.ledger import ModelLedger
from pedw.models.national import pass_through_models


def national_panel(countries: int = 8, years: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        [(f"C{c:02d}", 2000 + t) for c in range(countries) for t in range(years)],
        columns=["ref_area", "year"],
    )
    frame["log_output_per_worker"] = rng.normal(10, 1, len(frame))
    frame["human_capital"] = rng.normal(2.5, 0.3, len(frame))
    frame["informality_rate"] = (
        60 - 10 * frame["log_output_per_worker"] + rng.normal(0, 1, len(frame))
    )
    return frame


def test_dropped_rows_singletons_and_missing_outcomes_are_on_record():
    panel = national_panel()
    panel.loc[(panel["ref_area"] == "C01") & (panel["year"] < 2003), "human_capital"] = np.nan
    panel.loc[(panel["ref_area"] == "C02") & (panel["year"] > 2000), "log_output_per_worker"] = (
        np.nan
    )
    panel.loc[panel["ref_area"] == "C03", "human_capital"] = np.nan
    ledger = ModelLedger("national")
    estimates = pass_through_models(panel, ledger)
    status = ledger.status(estimates).set_index("model_id")
    informality = status.loc["national_pass_through_informality_rate"]
    assert (informality["status"], informality["n_obs"]) == ("estimated", 80 - 3 - 9 - 10)
    assert status.loc["national_pass_through_working_poverty_rate", "reason"] == (
        "no working_poverty_rate values in the panel"
    )
    recorded = ledger.exclusions().set_index("ref_area")
    assert recorded.loc["C01", "rule"] == "rows_dropped"
    assert recorded.loc["C01", "share_affected"] == 0.3
    assert "human_capital missing in 3" in recorded.loc["C01", "detail"]
    assert recorded.loc["C02", "rule"] == "singleton"  # its one row only fits its own effect
    assert recorded.loc["C03", "rule"] == "no_complete_row"
    assert set(recorded.index) == {"C01", "C02", "C03"}


def test_too_few_countries_is_not_run_with_the_reason():
    ledger = ModelLedger("national")
    assert pass_through_models(national_panel(countries=3), ledger).empty
    reason = (
        ledger.status(pd.DataFrame())
        .set_index("model_id")
        .loc["national_pass_through_informality_rate", "reason"]
    )
    assert "3 clusters (at least 5 clusters needed)" in reason


def test_models_the_firm_files_cannot_feed_say_why_instead_of_failing():
    """A cross-section with firm id, workers and value added only (no sector, wage bill or
    sales): every firm-level model records what it lacks in models.status."""
    from test_disclosure import firms, ids

    from pedw.models.enterprise import cross_level_models, sme_gap_trend_models
    from pedw.models.multilevel import multilevel_models
    from pedw.models.resilience import resilience_models

    rng = np.random.default_rng(11)
    panel = pd.concat(
        [firms(f"C{i}", size, [2020], ids(f"{i}{size}", 12), rng.normal(9, 0.4, 12))
         for i in range(6) for size in ("micro", "small", "large")],
        ignore_index=True,
    ).assign(sector=None, log_mean_wage=np.nan, log_sales=np.nan, log_employees=np.log(20),
             national_human_capital=2.5, sector_log_labour_productivity=np.nan)  # fmt: skip
    ledger = ModelLedger("enterprise")
    assert cross_level_models(panel, ledger=ledger).empty
    assert sme_gap_trend_models(panel, ledger=ledger).empty
    assert multilevel_models(panel, ledger=ledger).empty
    estimates, summary = resilience_models(panel, ledger)
    assert estimates.empty and "country" in summary.columns
    reasons = {s["model_id"]: s["reason"] for s in ledger.statuses}
    assert set(reasons) == {
        *(f"enterprise_{m}_{o}" for m in ("cross_level", "sme_gap", "multilevel")
          for o in ("log_labour_productivity", "log_mean_wage")),
        *(f"enterprise_resilience_drop_{o}" for o in ("log_sales", "log_employees",
                                                     "log_labour_productivity")),
    }  # fmt: skip
    assert "the firm files have no wage_bill" in reasons["enterprise_cross_level_log_mean_wage"]
    assert (
        "sector is empty (the firm files have no sector)"
        in reasons["enterprise_multilevel_log_labour_productivity"]
    )
    assert "the firm files have no sales" in reasons["enterprise_resilience_drop_log_sales"]
