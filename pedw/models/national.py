"""National models (country-year): drivers of productivity, pass-through to decent work,
and five-year long differences, all two-way fixed effects clustered by country."""

from __future__ import annotations

import contextlib

import pandas as pd

from pedw.models.absorb import InsufficientDataError, fe_ols
from pedw.models.tidy import empty_estimates, fingerprint, tidy_fit

PRODUCTION_DRIVERS = ["human_capital", "log_capital_per_worker", "annual_hours", "trade_openness"]
DECENT_WORK_OUTCOMES = ["informality_rate", "labour_income_share", "log_mean_real_earnings",
                        "working_poverty_rate", "fatal_injury_rate"]  # fmt: skip
PASS_THROUGH_CONTROLS = ["human_capital"]
LONG_DIFFERENCE_YEARS = 5


def production_model(panel: pd.DataFrame) -> pd.DataFrame:
    """log output per worker on its drivers | country + year."""
    fit = fe_ols(
        panel, "log_output_per_worker", PRODUCTION_DRIVERS, ["ref_area", "year"], "ref_area"
    )
    fit.extra["panel_coverage"] = coverage(panel, "log_output_per_worker", PRODUCTION_DRIVERS)
    return tidy_fit(
        fit,
        "national_production_twfe",
        "national",
        "log_output_per_worker",
        fingerprint(panel[["ref_area", "year", "log_output_per_worker", *PRODUCTION_DRIVERS]]),
    )


def pass_through_models(panel: pd.DataFrame) -> pd.DataFrame:
    """Each decent-work outcome on log output per worker (+ controls) | country + year."""
    frames = []
    for outcome in DECENT_WORK_OUTCOMES:
        regressors = ["log_output_per_worker", *PASS_THROUGH_CONTROLS]
        try:
            fit = fe_ols(panel, outcome, regressors, ["ref_area", "year"], "ref_area")
        except InsufficientDataError:
            continue  # an outcome the catalog does not provide is skipped, not fatal
        fit.extra["panel_coverage"] = coverage(panel, outcome, regressors)
        frames.append(
            tidy_fit(
                fit,
                f"national_pass_through_{outcome}",
                "national",
                outcome,
                fingerprint(panel[["ref_area", "year", outcome, *regressors]]),
            )
        )
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


def long_difference_models(panel: pd.DataFrame) -> pd.DataFrame:
    """Robustness: five-year change of each outcome on the change of log output per worker | period."""
    changes = long_differences(panel)
    frames = []
    for outcome in DECENT_WORK_OUTCOMES:
        try:
            fit = fe_ols(changes, outcome, ["log_output_per_worker"], ["end_year"], "ref_area")
        except InsufficientDataError:
            continue
        frames.append(
            tidy_fit(
                fit,
                f"national_long_difference_{outcome}",
                "national",
                outcome,
                fingerprint(changes[["ref_area", "end_year", outcome, "log_output_per_worker"]]),
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


def national_models(panel: pd.DataFrame) -> pd.DataFrame:
    """Every national model, tidy."""
    parts = [pass_through_models(panel), long_difference_models(panel)]
    # Without a productivity series and its drivers, the pass-through models still run.
    with contextlib.suppress(InsufficientDataError):
        parts.insert(0, production_model(panel))

    return pd.concat(parts, ignore_index=True)
