"""National models (country-year): drivers of productivity, pass-through to decent work,
and five-year long differences, all two-way fixed effects clustered by country."""

from __future__ import annotations

import pandas as pd

from pedw.models.ledger import ModelLedger, fit_recorded
from pedw.models.tidy import empty_estimates, fingerprint, tidy_fit

PRODUCTION_DRIVERS = ["human_capital", "log_capital_per_worker", "annual_hours", "trade_openness"]
DECENT_WORK_OUTCOMES = ["informality_rate", "labour_income_share", "log_mean_real_earnings",
                        "working_poverty_rate", "fatal_injury_rate"]  # fmt: skip
PASS_THROUGH_CONTROLS = ["human_capital"]
LONG_DIFFERENCE_YEARS = 5


def production_model(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """log output per worker on its drivers | country + year."""
    ledger = ledger if ledger is not None else ModelLedger("national")
    model_id = "national_production_twfe"
    outcome = "log_output_per_worker"
    fit = fit_recorded(
        ledger, model_id, panel, outcome, PRODUCTION_DRIVERS, ["ref_area", "year"], "ref_area"
    )
    if fit is None:
        return empty_estimates()
    fit.extra["panel_coverage"] = coverage(panel, outcome, PRODUCTION_DRIVERS)
    stamp = fingerprint(panel[["ref_area", "year", outcome, *PRODUCTION_DRIVERS]])
    return tidy_fit(fit, model_id, "national", outcome, stamp)


def pass_through_models(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """Each decent-work outcome on log output per worker (+ controls) | country + year."""
    ledger = ledger if ledger is not None else ModelLedger("national")
    frames = []
    regressors = ["log_output_per_worker", *PASS_THROUGH_CONTROLS]
    for outcome in DECENT_WORK_OUTCOMES:
        model_id = f"national_pass_through_{outcome}"
        fit = fit_recorded(
            ledger, model_id, panel, outcome, regressors, ["ref_area", "year"], "ref_area"
        )
        if fit is None:
            continue  # an outcome the catalog does not provide: on record, not fatal
        fit.extra["panel_coverage"] = coverage(panel, outcome, regressors)
        stamp = fingerprint(panel[["ref_area", "year", outcome, *regressors]])
        frames.append(tidy_fit(fit, model_id, "national", outcome, stamp))
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()


def long_differences(panel: pd.DataFrame, years: int = LONG_DIFFERENCE_YEARS) -> pd.DataFrame:
    """Non-overlapping `years`-year changes ending in the last year of the panel."""
    last = int(panel["year"].max())
    ends = list(range(last, int(panel["year"].min()) + years - 1, -years))
    wide = panel.set_index(["ref_area", "year"]).select_dtypes("number")
    rows = []
    for end in ends:
        start = end - years
        if start not in wide.index.get_level_values("year"):
            continue
        change = wide.xs(end, level="year") - wide.xs(start, level="year")
        change["end_year"] = end
        rows.append(change.reset_index())
    return pd.concat(rows, ignore_index=True)


def long_difference_models(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """Robustness: five-year change of each outcome on the change of log output per worker | period."""
    ledger = ledger if ledger is not None else ModelLedger("national")
    changes = long_differences(panel)
    frames = []
    for outcome in DECENT_WORK_OUTCOMES:
        model_id = f"national_long_difference_{outcome}"
        fit = fit_recorded(
            ledger, model_id, changes, outcome, ["log_output_per_worker"], ["end_year"],
            "ref_area", time="end_year",
        )  # fmt: skip
        if fit is None:
            continue
        stamp = fingerprint(changes[["ref_area", "end_year", outcome, "log_output_per_worker"]])
        frames.append(
            tidy_fit(
                fit,
                model_id,
                "national",
                outcome,
                stamp,
                estimator="OLS on 5-year changes with period effects (statsmodels), CRV1",
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()


def coverage(panel: pd.DataFrame, outcome: str, regressors: list[str]) -> dict:
    """How unbalanced the estimation sample is: countries, years, share of cells used, gaps."""
    used = panel[["ref_area", "year", outcome, *regressors]].dropna()
    possible = panel["ref_area"].nunique() * panel["year"].nunique()
    years = used.groupby("ref_area")["year"]
    gaps = int((years.max() - years.min() + 1 - years.size()).sum())  # missing years inside spans
    return {
        "countries": int(used["ref_area"].nunique()),
        "years": int(used["year"].nunique()),
        "share_of_country_years": round(len(used) / possible, 4) if possible else 0.0,
        "interior_gaps": gaps,
    }


def national_models(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """Every national model, tidy; what could not run, and why, goes to `ledger`."""
    ledger = ledger if ledger is not None else ModelLedger("national")
    return pd.concat(
        [
            production_model(panel, ledger),
            pass_through_models(panel, ledger),
            long_difference_models(panel, ledger),
        ],
        ignore_index=True,
    )
