"""The fixed-effects estimator on panels an analyst brings: conventions matched to pyfixest,
large-valued variables, rank deficiency, few clusters and staggered designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from pedw.models.absorb import InsufficientDataError, fe_ols
from pedw.models.enterprise import sme_gap_trend_models
from pedw.models.event_study import StaggeredDesign, classic_twfe, interaction_weighted
from pedw.models.ledger import ModelLedger
from pedw.models.score import score_impact


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 4_000
    frame = pd.DataFrame(
        {
            "firm": rng.integers(0, 400, n),
            "year": rng.integers(2010, 2018, n),
            "region": rng.integers(0, 15, n),
        }
    )
    frame["x1"] = rng.normal(size=n) + 0.01 * frame["firm"]
    frame["x2"] = rng.normal(size=n)
    frame["y"] = 0.5 * frame["x1"] - 0.2 * frame["x2"] + 0.01 * frame["firm"] + rng.normal(size=n)
    frame["y"] += rng.normal(size=15)[frame["region"]] * frame["x2"]  # clustered errors
    # Sales in local currency: values around 1e6-1e7 (the old absolute stopping rule never met).
    frame["sales"] = np.exp(14 + 0.3 * frame["x1"] + 0.02 * (frame["year"] - 2010)
                            + rng.normal(0, 0.5, n))  # fmt: skip
    return frame


@pytest.mark.parametrize(
    ("absorb", "ours", "theirs"),
    [
        (["firm", "year"], {"vcov": "iid"}, "iid"),
        (["firm", "year"], {"vcov": "HC1"}, "hetero"),
        (["firm", "year"], {"cluster": "region"}, {"CRV1": "region"}),
        ([], {"vcov": "iid"}, "iid"),  # the intercept counts in K
        ([], {"vcov": "HC1"}, "hetero"),
        ([], {"cluster": "region"}, {"CRV1": "region"}),
        (["firm"], {"cluster": ["region", "year"]}, {"CRV1": "region+year"}),
    ],
)
def test_every_variance_estimator_matches_pyfixest(panel, absorb, ours, theirs):
    fit = fe_ols(panel, "y", ["x1", "x2"], absorb, **ours)
    formula = "y ~ x1 + x2" + (f" | {' + '.join(absorb)}" if absorb else "")
    reference = pf.feols(formula, data=panel, vcov=theirs)
    np.testing.assert_allclose(fit.params.to_numpy(), reference.coef().to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(fit.std_errors.to_numpy(), reference.se().to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(
        fit.table()["p_value"].to_numpy(), reference.pvalue().to_numpy(), rtol=1e-6, atol=1e-12
    )


def test_local_currency_outcomes_converge_with_two_fixed_effects(panel):
    # Before: "fixed effects did not converge" (absolute change of 1e-10 on values of 1e6+).
    fit = fe_ols(panel, "sales", ["x1", "x2"], ["firm", "year"], "region")
    reference = pf.feols("sales ~ x1 + x2 | firm + year", data=panel, vcov={"CRV1": "region"})
    np.testing.assert_allclose(fit.params.to_numpy(), reference.coef().to_numpy(), rtol=1e-8)


def test_absorbed_constant_and_duplicated_regressors_are_dropped_and_listed(panel):
    frame = panel.assign(firm_trait=panel["firm"] % 7, zeros=0.0, x1_copy=panel["x1"] * 2)
    fit = fe_ols(frame, "y", ["x1", "firm_trait", "zeros", "x2", "x1_copy"], ["firm", "year"],
                 "region")  # fmt: skip
    assert list(fit.params.index) == ["x1", "x2"]
    assert fit.dropped == {
        "firm_trait": "absorbed by the fixed effects",
        "zeros": "no variation (constant or all zeros)",
        "x1_copy": "collinear with x1",
    }
    # The coefficient is not split between the copies: it equals the fit without them.
    alone = fe_ols(frame, "y", ["x1", "x2"], ["firm", "year"], "region")
    np.testing.assert_allclose(fit.params.to_numpy(), alone.params.to_numpy(), rtol=1e-12)
    assert "firm_trait" not in set(fit.table()["term"])
    with pytest.raises(InsufficientDataError, match="every regressor was dropped"):
        fe_ols(frame, "y", ["firm_trait", "zeros"], ["firm", "year"], "region")


def test_few_clusters_get_a_wild_bootstrap_beside_the_analytic_interval(panel):
    fit = fe_ols(panel, "y", ["x1", "x2"], ["firm", "year"], "region", wild_bootstrap=True)
    table = fit.table().set_index("term")
    # x1 is strongly identified; x2's effect varies by region (few clusters, wide interval).
    assert table.loc["x1", "wild_p_value"] < 0.001
    for term in ("x1", "x2"):
        row = table.loc[term]
        assert row["wild_ci_low"] < row["estimate"] < row["wild_ci_high"]
    wide = table.loc["x2"]
    assert wide["wild_ci_high"] - wide["wild_ci_low"] > 0.8 * (wide["ci_high"] - wide["ci_low"])
    many = fe_ols(panel, "y", ["x1", "x2"], ["firm", "year"], "firm")  # 400 clusters: none
    assert many.table()["wild_p_value"].isna().all()


def test_wild_bootstrap_p_value_agrees_with_the_wildboottest_package(panel):
    wildboottest = pytest.importorskip("wildboottest.wildboottest")
    import statsmodels.api as sm

    fit = fe_ols(panel, "y", ["x1", "x2"], [], "region", wild_bootstrap=True)
    design = sm.add_constant(panel[["x1", "x2"]])
    model = sm.OLS(panel["y"], design)
    theirs = wildboottest.wildboottest(
        model, param="x2", cluster=panel["region"], B=9_999, seed=1, show=False
    )
    ours = fit.table().set_index("term").loc["x2", "wild_p_value"]
    assert ours == pytest.approx(float(np.asarray(theirs["p-value"]).ravel()[0]), abs=0.02)


def staggered_panel(seed: int = 1) -> tuple[pd.DataFrame, float]:
    """Units adopting in 2014, 2016 or never, a common time trend, effect 0.5 after adoption."""
    rng = np.random.default_rng(seed)
    units, years = 300, np.arange(2010, 2020)
    cohort = rng.choice([2014.0, 2016.0, np.nan], units)
    frame = pd.DataFrame({"unit": np.repeat(np.arange(units), len(years)),
                          "year": np.tile(years, units), "cohort": np.repeat(cohort, len(years))})  # fmt: skip
    treated = frame["year"] >= frame["cohort"]
    frame["y"] = (rng.normal(size=units)[frame["unit"]] + 0.3 * (frame["year"] - 2010)
                  + 0.5 * treated + rng.normal(0, 0.2, len(frame)))  # fmt: skip
    return frame, 0.5


def test_a_staggered_design_absorbs_unit_and_time_by_default():
    frame, truth = staggered_panel()
    design = StaggeredDesign(unit="unit", time="year", cohort="cohort")
    assert design.effects == ["unit", "year"]
    rows, _info = interaction_weighted(frame, "y", design)
    att = rows.set_index("term").loc["att_post"]
    assert abs(att["estimate"] - truth) < 3 * att["std_error"]
    twfe = classic_twfe(frame, "y", design)[0].iloc[0]
    assert abs(twfe["estimate"] - truth) < 3 * twfe["std_error"]
    # Absorbing the unit alone (before: the default) mistakes the time trend for an effect.
    unit_only = classic_twfe(frame, "y", StaggeredDesign("unit", "year", "cohort", absorb=()))[0]
    assert unit_only["estimate"].iloc[0] > truth + 0.5


def test_a_firm_panel_without_participants_is_not_run_and_no_zero_rows_are_written(pipeline):
    from pedw.models.storage import read_table
    from pedw.store import Store

    settings, _ = pipeline
    firms = read_table(Store(settings.store_dir), "marts", "enterprise_panel")
    firms = firms.assign(score_participant=0, score_start_year=np.nan, score_event_time=np.nan)
    ledger = ModelLedger("enterprise")
    assert score_impact(firms, ledger=ledger).empty
    status = ledger.status(pd.DataFrame()).set_index("model_id")["reason"]
    assert status["score_event_study_log_labour_productivity"].endswith("no treated units "
                                                                        "(score_start_year is always empty)")  # fmt: skip
    gap = sme_gap_trend_models(firms)
    assert not gap["term"].str.startswith("score_").any()
    assert not ((gap["estimate"] == 0) & (gap["std_error"] == 0)).any()
    assert '"score_e0": "no variation' in gap["fit"].iloc[0]
