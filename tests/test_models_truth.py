"""Every model recovers the documented ground truth of the demo (docs/demo_data.md).

Estimates come from the warehouse published by the end-to-end Dagster run on the 8,000-firm
test demo. A test asserts that the estimate is close to the truth (a tolerance stated per
quantity) and that the truth lies inside the confidence interval. About forty truths are
tested together, so the interval is the Bonferroni one for a 5% family-wise error rate
(estimate +/- 3.4 standard errors); the 95% intervals are what the warehouse stores.
"""

from __future__ import annotations

import pytest

from pedw.warehouse import connect_read_only

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def estimates(pipeline):
    settings, _ = pipeline
    con = connect_read_only(settings.warehouse_path)
    frame = con.execute("SELECT * FROM models.estimates").df()
    con.close()
    return frame.set_index(["model_id", "term"])


FAMILY_WISE_Z = 3.4  # two-sided 5% / 40 tests


def covers(estimates, model_id, term, true_value, tolerance):
    row = estimates.loc[(model_id, term)]
    low, high = (
        row.estimate - FAMILY_WISE_Z * row.std_error,
        row.estimate + FAMILY_WISE_Z * row.std_error,
    )
    assert low <= true_value <= high, (
        f"{model_id} {term}: {row.estimate:.4f} +/- {FAMILY_WISE_Z} SE [{low:.4f}, {high:.4f}] misses {true_value}"
    )
    assert abs(row.estimate - true_value) <= tolerance, (
        f"{model_id} {term}: {row.estimate:.4f} is not within {tolerance} of {true_value}"
    )


@pytest.mark.parametrize(
    "term", ["human_capital", "log_capital_per_worker", "trade_openness", "annual_hours"]
)
def test_national_production_drivers(estimates, truth, term):
    tolerance = {
        "human_capital": 0.15,
        "log_capital_per_worker": 0.03,
        "trade_openness": 0.001,
        "annual_hours": 0.0002,
    }[term]
    covers(
        estimates, "national_production_twfe", term, truth["national_production"][term], tolerance
    )


@pytest.mark.parametrize(
    "outcome",
    [
        "informality_rate",
        "labour_income_share",
        "log_mean_real_earnings",
        "working_poverty_rate",
        "fatal_injury_rate",
    ],
)
def test_national_pass_through(estimates, truth, outcome):
    true_value = truth["national_pass_through"][outcome]
    covers(
        estimates,
        f"national_pass_through_{outcome}",
        "log_output_per_worker",
        true_value,
        0.25 * abs(true_value),
    )
    covers(
        estimates,
        f"national_long_difference_{outcome}",
        "log_output_per_worker",
        true_value,
        0.6 * abs(true_value),
    )


@pytest.mark.parametrize("outcome", ["log_mean_earnings", "fatal_injury_rate"])
def test_sector_pass_through(estimates, truth, outcome):
    true_value = truth["sector_pass_through"][outcome]
    covers(
        estimates,
        f"sector_pass_through_{outcome}",
        "log_labour_productivity",
        true_value,
        0.05 * abs(true_value),
    )


def test_variance_components_by_level(estimates, truth):
    model = "enterprise_multilevel_log_labour_productivity"
    true = truth["variance_components"]
    variance = {
        level: estimates.loc[(model, f"variance:{level}")].estimate
        for level in ("country", "sector_within_country", "firm", "within_firm")
    }
    # Country and sector effects are rescaled to these exact sample variances. The firm level
    # is a_f (0.298); year-to-year noise (0.002) plus the shock and SCORE effects, which the
    # model leaves out, are within firms.
    assert variance["country"] == pytest.approx(true["country"], abs=0.03)
    assert variance["sector_within_country"] == pytest.approx(
        true["sector_within_country"], abs=0.02
    )
    assert variance["firm"] + variance["within_firm"] == pytest.approx(true["firm"], abs=0.03)
    assert variance["within_firm"] < 0.03
    share = estimates.loc[(model, "share:country")].estimate
    assert share == pytest.approx(true["country"] / sum(true.values()), abs=0.04)


@pytest.mark.parametrize("term", ["training", "formal", "exporter", "female_share"])
def test_cross_level_firm_drivers(estimates, truth, term):
    # female_share varies little (Beta(2, 3)), so its coefficient is the least precise.
    tolerance = 0.12 if term == "female_share" else 0.05
    covers(
        estimates,
        "enterprise_cross_level_log_labour_productivity",
        term,
        truth["firm_drivers"][term],
        tolerance,
    )


def test_cross_level_national_driver_and_wage_pass_through(estimates, truth):
    covers(
        estimates,
        "enterprise_cross_level_log_labour_productivity",
        "national_human_capital",
        truth["national_driver_in_firms"]["human_capital"],
        0.2,
    )
    covers(
        estimates,
        "enterprise_cross_level_log_mean_wage",
        "log_labour_productivity",
        truth["firm_wage_elasticity"],
        0.01,
    )


@pytest.mark.parametrize("size", ["micro", "small", "medium"])
def test_sme_gap_level_and_widening_trend(estimates, truth, size):
    model = "enterprise_sme_gap_log_labour_productivity"
    true = truth["sme_gap"][size]
    covers(estimates, model, f"{size}_x_trend", true["trend"], 0.004)
    assert estimates.loc[(model, f"{size}_x_trend")].ci_high < 0  # the gap is widening
    level = estimates.loc[(model, size)].estimate
    # Larger firms train, export and are formal more often, so they recover faster from the
    # 2020 shock; the gap regression leaves recovery out, which moves the level by ~0.02-0.06.
    assert level == pytest.approx(true["level"], abs=0.08)


@pytest.mark.parametrize("event_time", [0, 1, 2, 3, 4])
def test_score_event_study_recovers_dynamic_effects(estimates, truth, event_time):
    true_value = truth["score_effect_by_event_time"][str(min(event_time, 3))]
    covers(
        estimates,
        "score_event_study_log_labour_productivity",
        f"event_time:{event_time}",
        true_value,
        0.03,
    )


@pytest.mark.parametrize("event_time", [-4, -3, -2])
def test_score_event_study_has_no_pre_trends(estimates, event_time):
    covers(
        estimates,
        "score_event_study_log_labour_productivity",
        f"event_time:{event_time}",
        0.0,
        0.03,
    )


def test_score_att_and_the_classic_twfe_beside_it(estimates, truth):
    att = truth["realised"]["score_att"]
    covers(estimates, "score_event_study_log_labour_productivity", "att_post", att, 0.02)
    assert ("score_twfe_log_labour_productivity", "twfe_treated_post") in estimates.index
    covers(
        estimates,
        "score_event_study_log_mean_wage",
        "att_post",
        truth["firm_wage_elasticity"] * att,
        0.02,
    )


def test_resilience_drop_and_recovery_hazard(estimates, truth):
    covers(
        estimates,
        "enterprise_resilience_drop_log_labour_productivity",
        "drop:shock_year",
        -truth["shock"]["productivity_drop"],
        0.02,
    )
    for term in ("training", "exporter", "formal"):
        covers(
            estimates,
            "enterprise_resilience_recovery_hazard",
            term,
            truth["recovery_hazard_logit"][term],
            0.35,
        )
