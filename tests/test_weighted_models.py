"""The enterprise models fit with the survey's sampling weights when the firm data carry them
(weighted least squares through fe_ols), record which weighting they used, and are unchanged
when the data carry none."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pedw.demo import truth
from pedw.demo.enterprise import draw_enterprise
from pedw.demo.national import draw_national
from pedw.demo.sector import draw_sector
from pedw.demo.survey_sample import draw_survey_sample, size_classes
from pedw.models.absorb import fe_ols
from pedw.models.enterprise import (
    SME_GAP_TREND_COLUMNS,
    add_model_columns,
    sme_gap_cells,
    sme_gap_trend_by_country,
    sme_gap_trend_models,
)
from pedw.models.multilevel import multilevel_models
from pedw.models.score import score_impact

DESIGN = ["sampling_weight", "stratum", "psu"]


def firm_panel(firms: pd.DataFrame) -> pd.DataFrame:
    """The columns of marts.enterprise_panel the firm-level models read."""
    first = firms.sort_values("year").groupby("firm_id")["employees"].transform("first")
    panel = firms.assign(
        size_class=size_classes(first),
        labour_productivity=firms["value_added"] / firms["employees"],
        log_labour_productivity=np.log(
            (firms["value_added"] / firms["employees"]).where(firms["value_added"] > 0)
        ),
        log_mean_wage=np.log(
            (firms["wage_bill"] / firms["employees"]).where(firms["wage_bill"] > 0)
        ),
        score_event_time=firms["year"] - firms["score_start_year"],
        # The national context the multilevel model reads (any values varying by economy).
        national_human_capital=2 + pd.factorize(firms["country"])[0] / 20,
    )
    return panel.drop(columns=[c for c in ("size_class_current",) if c in panel])


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    rng = np.random.default_rng(truth.SEED)
    national, _ = draw_national(rng)
    draw_sector(rng, national)
    firms, _ = draw_enterprise(rng, national, 3000, "common")
    drawn = draw_survey_sample(firms, np.random.default_rng([truth.SEED, 1]))
    return firm_panel(drawn.drop(columns="size_class"))


def test_the_gap_models_are_weighted_least_squares_and_say_so(sample):
    rows = sme_gap_trend_models(sample)
    frame = add_model_columns(sample).assign(w=sample["sampling_weight"])
    regressors = ["micro", "small", "medium", "micro_x_trend", "small_x_trend",
                  "medium_x_trend", "training", "formal", "exporter", "female_share",
                  "score_participant", "score_e0", "score_e1", "score_e2", "score_e3plus"]  # fmt: skip
    direct = fe_ols(frame, "log_labour_productivity", regressors, ["country_year", "sector"],
                    "country", weights="w")  # fmt: skip
    mine = rows[rows["model_id"] == "enterprise_sme_gap_log_labour_productivity"].set_index("term")
    np.testing.assert_allclose(mine.loc[direct.params.index, "estimate"], direct.params, rtol=1e-10)
    np.testing.assert_allclose(mine.loc[direct.params.index, "std_error"], direct.std_errors,
                               rtol=1e-10)  # fmt: skip
    fit = json.loads(mine["fit"].iloc[0])
    assert fit["weighting"] == "sampling weights" and fit["weights"] == "survey_weight"
    assert mine["estimator"].iloc[0].startswith("WLS with the survey's sampling weights")
    assert "weights(survey_weight)" in mine["specification"].iloc[0]
    # The same firms without weights: ordinary least squares, recorded as unweighted.
    plain = sme_gap_trend_models(sample.drop(columns=DESIGN))
    plain_fit = json.loads(plain["fit"].iloc[0])
    assert plain_fit["weighting"] == "unweighted" and plain_fit["weights"] is None
    assert not plain["estimate"].equals(rows["estimate"])


def test_country_trends_record_their_weighting(sample):
    trends = sme_gap_trend_by_country(sample)
    assert list(trends.columns) == list(SME_GAP_TREND_COLUMNS)
    assert len(trends) and (trends["weighting"] == "sampling weights").all()
    # An economy surveyed without weights beside weighted ones: its trend is unweighted.
    mixed = sample.copy()
    first = trends["country"].iloc[0]
    mixed.loc[mixed["country"] == first, DESIGN] = np.nan
    trends = sme_gap_trend_by_country(mixed).set_index("country")
    assert (trends.loc[[first], "weighting"] == "unweighted").all()
    assert (trends.drop(index=first)["weighting"] == "sampling weights").all()
    # And its SME-gap cells count each firm once, each its own PSU (not one PSU: refused).
    cells = sme_gap_cells(mixed)
    assert cells.loc[cells["country"] == first, "productivity_gap_se"].gt(0).all()


def test_score_models_are_weighted_and_unweighted_estimators_say_why(sample):
    rows = score_impact(sample)
    assert len(rows)
    for fit, estimator in zip(rows["fit"], rows["estimator"], strict=True):
        assert json.loads(fit)["weighting"] == "sampling weights"
        assert estimator.endswith(", sampling weights")
    assert json.loads(rows["fit"].iloc[0])["weights"] == "survey_weight"
    multilevel = multilevel_models(sample)
    note = json.loads(multilevel["fit"].iloc[0])["weighting"]
    assert note.startswith("unweighted: MixedLM takes no sampling weights")


def test_the_weighted_event_study_averages_cohorts_by_their_weighted_firm_years(sample):
    from dataclasses import replace

    from pedw.models.event_study import interaction_weighted
    from pedw.models.score import SCORE_DESIGN

    frame = add_model_columns(sample)
    design = replace(SCORE_DESIGN, weights="sampling_weight")
    rows, info = interaction_weighted(frame, "log_labour_productivity", design, by_cohort=True)
    assert info["weights"] == "sampling_weight"
    table = rows.set_index("term")["estimate"]
    cells = table[table.index.str.startswith("cohort:")]
    parts = cells.index.str.split(":")
    cohort = parts.str[1].astype(int).to_numpy()
    event = parts.str[3].astype(int).to_numpy()
    used = frame.dropna(subset=["log_labour_productivity", "country_year", "size_year"])
    mass = (
        used.assign(e=used["year"] - used["score_start_year"])
        .groupby(["score_start_year", "e"])["sampling_weight"]
        .sum()
    )
    weights = np.array([mass[(g, e)] for g, e in zip(cohort, event, strict=True)])
    post = event >= 0
    expected = (weights[post] * cells.to_numpy()[post]).sum() / weights[post].sum()
    assert table["att_post"] == pytest.approx(expected, rel=1e-10)
    # Weights that are all equal change nothing.
    flat = replace(SCORE_DESIGN, weights="one")
    rows_flat, _ = interaction_weighted(frame.assign(one=3.0), "log_labour_productivity", flat)
    rows_plain, _ = interaction_weighted(frame, "log_labour_productivity", SCORE_DESIGN)
    np.testing.assert_allclose(rows_flat["estimate"], rows_plain["estimate"], rtol=1e-9)
    np.testing.assert_allclose(rows_flat["std_error"], rows_plain["std_error"], rtol=1e-9)


def test_trend_dominance_counts_weighted_contributions():
    """A trend's dominance measure counts each firm-year with its sampling weight, as the
    cells do: a small firm that stands for many firms of the economy dominates."""
    from pedw.models.enterprise import AGGREGATED, _pooled_dominance

    outcome = "log_labour_productivity"
    level = AGGREGATED[outcome]
    data = pd.DataFrame({"firm_id": ["A", "A", "B", "B", "C", "C"], "year": [1, 2] * 3,
                         outcome: 1.0, level: [100.0, 100.0, 10.0, 10.0, 5.0, 5.0],
                         "sampling_weight": [1.0, 1.0, 50.0, 50.0, 2.0, 2.0]})  # fmt: skip
    members = pd.Series(True, index=data.index)
    weighted = _pooled_dominance(data, members, outcome, "")
    assert weighted["top1_share"] == pytest.approx(1000 / (200 + 1000 + 20))
    assert weighted["top2_share"] == pytest.approx(1200 / 1220)
    unweighted = _pooled_dominance(data.drop(columns="sampling_weight"), members, outcome, "")
    assert unweighted["top1_share"] == pytest.approx(200 / 230)
