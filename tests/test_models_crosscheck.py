"""Fixed-effects estimates agree with independent implementations (pyfixest, linearmodels)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from linearmodels.panel import PanelOLS

from pedw.models.absorb import fe_ols
from pedw.models.enterprise import add_model_columns
from pedw.models.event_study import StaggeredDesign, interaction_weighted
from pedw.models.national import PRODUCTION_DRIVERS
from pedw.models.storage import read_table
from pedw.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def marts(pipeline):
    settings, _ = pipeline
    store = Store(settings.store_dir)
    return {
        name: read_table(store, "marts", name)
        for name in ("national_panel", "sector_panel", "enterprise_panel")
    }


def assert_same(ours, theirs_coef, theirs_se, rtol=1e-8):
    np.testing.assert_allclose(ours.params.to_numpy(), np.asarray(theirs_coef), rtol=rtol)
    np.testing.assert_allclose(ours.std_errors.to_numpy(), np.asarray(theirs_se), rtol=1e-6)


def test_national_twfe_matches_pyfixest(marts):
    panel = marts["national_panel"]
    ours = fe_ols(
        panel, "log_output_per_worker", PRODUCTION_DRIVERS, ["ref_area", "year"], "ref_area"
    )
    theirs = pf.feols(
        f"log_output_per_worker ~ {' + '.join(PRODUCTION_DRIVERS)} | ref_area + year",
        data=panel,
        vcov={"CRV1": "ref_area"},
    )
    assert_same(ours, theirs.coef(), theirs.se())


def test_national_twfe_coefficients_match_linearmodels(marts):
    panel = marts["national_panel"].dropna(subset=["log_output_per_worker", *PRODUCTION_DRIVERS])
    ours = fe_ols(
        panel, "log_output_per_worker", PRODUCTION_DRIVERS, ["ref_area", "year"], "ref_area"
    )
    indexed = panel.set_index(["ref_area", "year"])
    theirs = PanelOLS(
        indexed["log_output_per_worker"],
        indexed[PRODUCTION_DRIVERS],
        entity_effects=True,
        time_effects=True,
    ).fit(cov_type="clustered", cluster_entity=True)
    np.testing.assert_allclose(ours.params.to_numpy(), theirs.params.to_numpy(), rtol=1e-8)


def test_sector_fixed_effects_match_pyfixest(marts):
    panel = marts["sector_panel"].assign(country_sector=lambda f: f["ref_area"] + ":" + f["sector"])
    ours = fe_ols(
        panel,
        "log_mean_earnings",
        ["log_labour_productivity"],
        ["country_sector", "year"],
        "ref_area",
    )
    theirs = pf.feols(
        "log_mean_earnings ~ log_labour_productivity | country_sector + year",
        data=panel,
        vcov={"CRV1": "ref_area"},
    )
    assert_same(ours, theirs.coef(), theirs.se())


def test_three_way_enterprise_fixed_effects_match_pyfixest(marts):
    frame = add_model_columns(marts["enterprise_panel"])
    regressors = ["training", "formal", "exporter", "female_share", "micro", "small", "medium"]
    ours = fe_ols(
        frame, "log_labour_productivity", regressors, ["country_year", "sector"], "country"
    )
    theirs = pf.feols(
        f"log_labour_productivity ~ {' + '.join(regressors)} | country_year + sector",
        data=frame,
        vcov={"CRV1": "country"},
        fixef_tol=1e-12,
    )
    assert_same(ours, theirs.coef(), theirs.se(), rtol=1e-7)


def test_unbalanced_panel_with_gaps_matches_pyfixest():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"unit": rng.integers(0, 60, 900), "period": rng.integers(0, 15, 900)})
    frame = frame.drop_duplicates(["unit", "period"]).reset_index(drop=True)
    frame["x"] = rng.normal(size=len(frame)) + frame["unit"] * 0.05
    frame["y"] = (
        2.0 * frame["x"] + frame["unit"] * 0.1 + frame["period"] * 0.3 + rng.normal(size=len(frame))
    )
    ours = fe_ols(frame, "y", ["x"], ["unit", "period"], "unit")
    theirs = pf.feols("y ~ x | unit + period", data=frame, vcov={"CRV1": "unit"})
    assert_same(ours, theirs.coef(), theirs.se())
    assert ours.params["x"] == pytest.approx(2.0, abs=0.15)


def test_sun_abraham_event_study_matches_pyfixest_saturated_event_study(marts):
    """The interaction-weighted estimator (unit and year effects, never-treated controls)
    equals pyfixest's own: its saturated cohort-by-event-time regression aggregated with
    Sun & Abraham's period weights, estimate and clustered standard error per event time.

    pyfixest dates a unit's treatment by the first year it is observed treated, pedw by the
    recorded start year; they agree for firms observed in their start year, so the others
    (attrition in the demo) are left out of both."""
    frame = add_model_columns(marts["enterprise_panel"]).dropna(subset=["log_labour_productivity"])
    seen_at_start = frame.loc[frame["year"] == frame["score_start_year"], "firm_id"]
    frame = frame[frame["score_start_year"].isna() | frame["firm_id"].isin(seen_at_start)]
    design = StaggeredDesign(unit="firm_id", time="year", cohort="score_start_year")
    ours, _ = interaction_weighted(frame, "log_labour_productivity", design)
    data = frame.assign(
        cohort=frame["score_start_year"].fillna(0).astype(int),
        firm=pd.factorize(frame["firm_id"])[0],
    )[["firm", "year", "cohort", "log_labour_productivity"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyfixest marks the saturated event study as beta
        theirs = pf.event_study(data, yname="log_labour_productivity", idname="firm",
                                tname="year", gname="cohort", estimator="saturated")  # fmt: skip
        periods = theirs.aggregate(agg="period")
    periods.index = [f"event_time:{int(p)}" for p in periods.index]
    ours = ours.set_index("term").drop(index="att_post")
    assert list(ours.index) == list(periods.index)
    assert len(ours) >= 9  # leads and lags both
    np.testing.assert_allclose(ours["estimate"], periods["Estimate"].astype(float), rtol=1e-8)
    np.testing.assert_allclose(ours["std_error"], periods["Std. Error"].astype(float), rtol=1e-7)
