"""Multilevel model of firm outcomes: years within firms within sectors within countries.

Estimated in two stages, so the firm level is modelled without a random effect per firm in
one huge MixedLM (100,000+ levels):

1. Each firm's outcome, net of year effects, is averaged over its waves; the within-firm
   variance (year-to-year) is the pooled variance around those firm means.
2. statsmodels MixedLM fits the firm means with a country random intercept and a
   sector-within-country variance component (REML), firm drivers and the national driver as
   fixed effects. Its residual variance, less the share of within-firm noise left in a
   mean of T_f waves, is the between-firm variance.

The variance shares say how much of the spread of firm outcomes lies between countries,
between sectors of a country, between firms of a sector, and from year to year within firms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from pedw.models.enterprise import unweighted_note
from pedw.models.frames import query_frames
from pedw.models.ledger import ModelLedger
from pedw.models.needs import estimable
from pedw.models.tidy import empty_estimates, fingerprint, statsmodels_rows, tidy_rows
from pedw.store import check_identifier

MULTILEVEL_OUTCOMES = ("log_labour_productivity", "log_mean_wage")
FIXED_PART = ("C(size_class, Treatment('large')) + training + formal + exporter + female_share"
              " + national_human_capital")  # fmt: skip
OPTIMISERS = (["lbfgs"], ["bfgs"], ["powell", "lbfgs"])

FIRM_MEANS_SQL = """
    WITH rows AS (
        SELECT firm_id, country, sector, size_class, training, formal, exporter, female_share,
               national_human_capital, {outcome} - avg({outcome}) OVER (PARTITION BY year) AS y
        FROM panel WHERE {outcome} IS NOT NULL
    ),
    firms AS (
        SELECT firm_id, any_value(country) AS country, any_value(sector) AS sector,
               any_value(size_class) AS size_class, any_value(training) AS training,
               any_value(formal) AS formal, any_value(exporter) AS exporter,
               avg(female_share) AS female_share, avg(national_human_capital) AS national_human_capital,
               avg(y) AS y, count(*) AS waves, sum(y * y) - count(*) * avg(y) * avg(y) AS within_ss
        FROM rows GROUP BY firm_id
    )
    SELECT * FROM firms
"""


def firm_means(panel: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One row per firm: mean outcome net of year effects, covariates, waves, within-firm SS."""
    return query_frames(FIRM_MEANS_SQL.format(outcome=check_identifier(outcome)), panel=panel)


def fit_multilevel(firms: pd.DataFrame):
    """Fit the nested random-intercept model on firm means; try optimisers until one converges."""
    data = (
        firms.dropna(subset=["y", "national_human_capital", "female_share"])
        .sort_values(["country", "sector"])
        .reset_index(drop=True)
    )
    model = smf.mixedlm(
        f"y ~ {FIXED_PART}",
        data,
        groups="country",
        re_formula="1",
        vc_formula={"sector": "0 + C(sector)"},
    )
    attempts = []
    for method in OPTIMISERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = model.fit(reml=True, method=method)
        converged = bool(result.converged) and not any(
            "converge" in str(w.message).lower() for w in caught
        )
        attempts.append({"method": "+".join(method), "converged": converged})
        if converged:
            break
    return data, result, attempts


def variance_shares(panel: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """models.estimates rows: variance by level, their shares, and the fixed effects."""
    firms = firm_means(panel, outcome)
    data, result, attempts = fit_multilevel(firms)
    n_obs, n_firms = int(firms["waves"].sum()), len(firms)
    within = float(firms["within_ss"].sum() / max(n_obs - n_firms, 1))
    country = float(result.cov_re.iloc[0, 0])
    sector = float(result.vcomp[0])
    between_firms = max(float(result.scale) - within * float((1 / data["waves"]).mean()), 0.0)
    total = country + sector + between_firms + within
    # statsmodels keeps variance parameters relative to the residual variance, after the
    # fixed effects: [fixed..., country Var, sector Var]. Their standard errors here treat
    # the residual variance as known.
    bse, k_fe = np.asarray(result.bse), result.k_fe
    rows = [
        {
            "term": "variance:country",
            "estimate": country,
            "std_error": float(bse[k_fe]) * result.scale,
        },
        {
            "term": "variance:sector_within_country",
            "estimate": sector,
            "std_error": float(bse[k_fe + result.k_re2]) * result.scale,
        },
        {"term": "variance:firm", "estimate": between_firms},
        {"term": "variance:within_firm", "estimate": within},
        {"term": "share:country", "estimate": country / total},
        {"term": "share:sector_within_country", "estimate": sector / total},
        {"term": "share:firm", "estimate": between_firms / total},
        {"term": "share:within_firm", "estimate": within / total},
    ]
    rows += statsmodels_rows(result.fe_params, result.bse_fe, result.conf_int(), result.pvalues)
    fit = {
        "converged": attempts[-1]["converged"],
        "attempts": attempts,
        "reml": True,
        "log_likelihood": float(result.llf),
        "firms": n_firms,
        "firm_years": n_obs,
        "sector_cells": int(data.groupby(["country", "sector"]).ngroups),
        "weighting": unweighted_note(panel, "MixedLM"),
    }
    return tidy_rows(
        rows,
        f"enterprise_multilevel_{outcome}",
        "enterprise",
        "Two-stage: MixedLM (REML) on firm means with country random intercept and "
        "sector-within-country variance component; pooled within-firm variance",
        f"mean_f({outcome} - year effect) ~ {FIXED_PART} + (1 | country) + (1 | country:sector)",
        outcome,
        fingerprint(data),
        n_obs,
        int(data["country"].nunique()),
        fit,
    )


def multilevel_models(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """Variance shares of every multilevel outcome the catalog provides (an outcome or sector
    it lacks is recorded in `ledger` as not estimable; these models leave no country out)."""
    frames = [
        variance_shares(panel, outcome)
        for outcome in MULTILEVEL_OUTCOMES
        if estimable(panel, f"enterprise_multilevel_{outcome}", [outcome, "sector"], ledger)
    ]
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()
