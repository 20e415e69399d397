"""Which enterprise models pool exactly across offices, in the form of :class:`PoolingSpec`.

Each spec is the model of pedw/models/ it names, with the fixed effects split into those
nested in the country (swept by each office) and those that cross countries (carried as
indicator columns): pooled from the offices' statistics it gives fe_ols's coefficients,
standard errors and degrees of freedom on the pooled rows (tests/test_federated.py).

| model (models.estimates) | fixed effects: nested / crossing | cluster | pools |
|---|---|---|---|
| enterprise_cross_level_<outcome> | country / year | country | one round |
| enterprise_sme_gap_<outcome> | country-year / sector | country | one round |
| score_twfe_<outcome> | firm, country-year / size-year | firm | two rounds |

What does not pool exactly (the wild bootstrap p-values, the Sun-Abraham aggregation, the
multilevel and hazard models, the per-country SME-gap trends) is listed in docs/federated.md
with what travels for it instead.
"""

from __future__ import annotations

import pandas as pd

from pedw.federated.sufficient import PoolingSpec
from pedw.models.enterprise import (
    CONTEXT_DRIVERS,
    FIRM_DRIVERS,
    GAP_OUTCOMES,
    SCORE_EVENT_BINS,
    SIZE_DUMMIES,
    add_model_columns,
)
from pedw.models.score import SCORE_DESIGN, SCORE_OUTCOMES


def exact_specs() -> list[PoolingSpec]:
    """The enterprise models whose pooled estimates the centre computes exactly."""
    specs = []
    base = [*FIRM_DRIVERS, *SIZE_DUMMIES, *CONTEXT_DRIVERS]
    for outcome, regressors in (("log_labour_productivity", base),
                                ("log_mean_wage", ["log_labour_productivity", *base])):  # fmt: skip
        specs.append(PoolingSpec(f"enterprise_cross_level_{outcome}", outcome,
                                 tuple(regressors), ("country",), ("year",), "country"))  # fmt: skip
    gap_regressors = (*SIZE_DUMMIES, *(f"{s}_x_trend" for s in SIZE_DUMMIES), *FIRM_DRIVERS,
                      *SCORE_EVENT_BINS)  # fmt: skip
    for outcome in GAP_OUTCOMES:
        specs.append(PoolingSpec(f"enterprise_sme_gap_{outcome}", outcome, gap_regressors,
                                 ("country_year",), ("sector",), "country"))  # fmt: skip
    nested = tuple(e for e in SCORE_DESIGN.effects if e != "size_year")
    for outcome in SCORE_OUTCOMES:
        specs.append(PoolingSpec(f"score_twfe_{outcome}", outcome, ("treated_post",), nested,
                                 ("size_year",), SCORE_DESIGN.cluster))  # fmt: skip
    return specs


def model_frame(panel: pd.DataFrame, trend_origin: int | None = None) -> pd.DataFrame:
    """The enterprise panel with the columns the models derive (pedw.models.enterprise's
    add_model_columns, and the TWFE's treated-and-post indicator, never-treated firms 0).

    `trend` counts years from `trend_origin` (default: the panel's first year, as
    add_model_columns does). Every office must use the same origin, the study's first year
    agreed beforehand, or the offices' gap levels refer to different years."""
    frame = add_model_columns(panel)
    if trend_origin is not None:
        frame["trend"] = frame["year"] - trend_origin
        for size in SIZE_DUMMIES:
            frame[f"{size}_x_trend"] = frame[size] * frame["trend"]
    cohort = frame[SCORE_DESIGN.cohort].astype(float)
    frame["treated_post"] = (frame[SCORE_DESIGN.time] - cohort >= 0).astype(float)
    return frame
