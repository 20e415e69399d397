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
