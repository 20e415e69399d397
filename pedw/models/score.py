"""SCORE impact: staggered difference-in-differences of SCORE participation on firm outcomes."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd

from pedw.models.absorb import InsufficientDataError
from pedw.models.enterprise import UNWEIGHTED, WEIGHTED, add_model_columns, with_survey_weights
from pedw.models.event_study import StaggeredDesign, classic_twfe, interaction_weighted
from pedw.models.ledger import ModelLedger
from pedw.models.tidy import empty_estimates, fingerprint, tidy_rows

SCORE_OUTCOMES = ["log_labour_productivity", "log_mean_wage"]
# Firm effects, plus country-year and size-class-year effects: national shocks and the
# diverging trends of size classes are not mistaken for programme effects.
SCORE_DESIGN = StaggeredDesign(
    unit="firm_id",
    time="year",
    cohort="score_start_year",
    absorb=("country_year", "size_year"),
    cluster="firm_id",
)


def score_impact(
    panel: pd.DataFrame,
    design: StaggeredDesign = SCORE_DESIGN,
    ledger: ModelLedger | None = None,
) -> pd.DataFrame:
    """Interaction-weighted event study and ATT, with the classic TWFE estimate beside it.

    A panel without SCORE participants (or without non-participants) has nothing to
    estimate: both models are recorded in `ledger` as not run, with the reason.
    """
    ledger = ledger if ledger is not None else ModelLedger("enterprise")
    frame, weights = with_survey_weights(add_model_columns(panel))
    if weights is not None and design.weights is None:
        design = dataclasses.replace(design, weights=weights)
    weighting = WEIGHTED if design.weights else UNWEIGHTED
    by = f", {weighting}"
    weighted_by = [design.weights] if design.weights else []
    frames = []
    for outcome in SCORE_OUTCOMES:
        stamp = fingerprint(
            frame[
                [
                    "firm_id",
                    "year",
                    outcome,
                    "score_start_year",
                    "country",
                    "size_class",
                    *weighted_by,
                ]
            ]
        )
        try:
            rows, info = interaction_weighted(frame, outcome, design)
        except InsufficientDataError as error:
            for model in ("score_event_study", "score_twfe"):
                ledger.not_run(f"{model}_{outcome}", str(error))
            continue
        frames.append(
            tidy_rows(
                rows.to_dict("records"),
                f"score_event_study_{outcome}",
                "enterprise",
                "Sun-Abraham interaction-weighted event study, never-treated controls, CRV1 by "
                f"firm{by}",
                info.pop("specification"),
                outcome,
                stamp,
                info.pop("n_obs"),
                info.pop("n_clusters"),
                json.loads(json.dumps({**info, "weighting": weighting})),
            )
        )
        rows, info = classic_twfe(frame, outcome, design)
        frames.append(
            tidy_rows(
                rows.to_dict("records"),
                f"score_twfe_{outcome}",
                "enterprise",
                "Classic static two-way fixed effects DiD (biased under dynamic effects), CRV1 by "
                f"firm{by}",
                info.pop("specification"),
                outcome,
                stamp,
                info.pop("n_obs"),
                info.pop("n_clusters"),
                {**info, "weighting": weighting},
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()
