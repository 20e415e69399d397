"""Multilevel model of firm outcomes: firms within sectors within countries (statsmodels MixedLM).

Random intercepts for the country and for the sector within the country (a variance
component), fixed effects for firm drivers, the national driver and years. The variance
shares say how much of the spread of firm outcomes lies between countries, between sectors
of a country, and between firms (and years) within a sector.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from pedw.models.tidy import fingerprint, tidy_rows

FIXED_PART = (
    "C(size_class, Treatment('large')) + training + formal + exporter + female_share"
    " + national_human_capital + C(year)"
)
MULTILEVEL_OUTCOMES = ("log_labour_productivity", "log_mean_wage")
OPTIMISERS = (["lbfgs"], ["bfgs"], ["powell", "lbfgs"])
COLUMNS = ["country", "sector", "year", "size_class", "training", "formal", "exporter",
           "female_share", "national_human_capital"]  # fmt: skip


def fit_multilevel(frame: pd.DataFrame, outcome: str):
    """Fit the nested random-intercept model; try optimisers in turn until one converges."""
    data = (
        frame[[outcome, *COLUMNS]]
        .dropna()
        .sort_values(["country", "sector"])
        .reset_index(drop=True)
    )
    model = smf.mixedlm(
        f"{outcome} ~ {FIXED_PART}",
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


def variance_shares(frame: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """models.estimates rows: variance components, their shares and the fixed effects."""
    data, result, attempts = fit_multilevel(frame, outcome)
    country = float(result.cov_re.iloc[0, 0])
    sector = float(result.vcomp[0])
    residual = float(result.scale)
    total = country + sector + residual
    # statsmodels keeps variance parameters relative to the residual variance, after the
    # fixed effects: [fixed..., country Var, sector Var]. Their standard errors here treat
    # the residual variance as known (it is estimated from hundreds of thousands of rows).
    bse = np.asarray(result.bse)
    k_fe = result.k_fe
    rows = [
        {"term": "variance:country", "estimate": country, "std_error": float(bse[k_fe]) * residual},
        {
            "term": "variance:sector_within_country",
            "estimate": sector,
            "std_error": float(bse[k_fe + result.k_re2]) * residual,
        },
        {"term": "variance:firm_residual", "estimate": residual},
        {"term": "share:country", "estimate": country / total},
        {"term": "share:sector_within_country", "estimate": sector / total},
        {"term": "share:firm_residual", "estimate": residual / total},
    ]
    conf = result.conf_int()
    for term in result.fe_params.index:
        rows.append(
            {
                "term": term,
                "estimate": float(result.fe_params[term]),
                "std_error": float(result.bse_fe[term]),
                "ci_low": float(conf.loc[term, 0]),
                "ci_high": float(conf.loc[term, 1]),
                "p_value": float(result.pvalues[term]),
            }
        )
    fit = {
        "converged": attempts[-1]["converged"],
        "attempts": attempts,
        "reml": True,
        "log_likelihood": float(result.llf),
        "groups": int(data["country"].nunique()),
        "sector_cells": int(data.groupby(["country", "sector"]).ngroups),
    }
    return tidy_rows(
        rows,
        f"enterprise_multilevel_{outcome}",
        "enterprise",
        "MixedLM, REML: country random intercept + sector-within-country variance component (statsmodels)",
        f"{outcome} ~ {FIXED_PART} + (1 | country) + (1 | country:sector)",
        outcome,
        fingerprint(data),
        len(data),
        int(data["country"].nunique()),
        fit,
    )
