"""Federated pooling: fixed-effects estimates pooled from per-country sufficient statistics
equal fe_ols on the pooled microdata, and the meta-analysis of models that do not pool."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from pedw.demo.generate import generate_demo_data
from pedw.federated.sufficient import (
    ClusterMeat,
    CountryStatistics,
    PoolingSpec,
    cluster_meat,
    country_statistics,
    meta_analysis,
    pool,
    pooled_coefficients,
)
from pedw.models.absorb import fe_ols

TOLERANCE = 1e-8  # relative, on coefficients and standard errors


@pytest.fixture(scope="module")
def panel(tmp_path_factory) -> pd.DataFrame:
    """Firm-years of the demo (1,000 firms in 40 economies), straight from its firm file."""
    root = tmp_path_factory.mktemp("federated_demo")
    generate_demo_data(root, n_firms=1_000)
    f = pd.read_csv(root / "enterprise" / "firms.csv")
    first = f.sort_values("year").groupby("firm_id")["employees"].transform("first")
    f["size_class"] = pd.cut(first, [0, 9, 49, 249, np.inf],
                             labels=["micro", "small", "medium", "large"]).astype(str)  # fmt: skip
    for size in ("micro", "small", "medium"):
        f[size] = (f["size_class"] == size).astype(float)
    f["log_labour_productivity"] = np.log(f["value_added"].where(f["value_added"] > 0)
                                          / f["employees"])  # fmt: skip
    f["log_mean_wage"] = np.log(f["wage_bill"].where(f["wage_bill"] > 0) / f["employees"])
    f["log_employees"] = np.log(f["employees"])
    f["treated_post"] = (f["year"] >= f["score_start_year"]).astype(float)
    f["country_year"] = f["country"] + ":" + f["year"].astype(str)
    f["size_year"] = f["size_class"] + ":" + f["year"].astype(str)
    return f


FIRM_LEVEL = ("treated_post", "shock", "log_employees")
SPECS = [
    # firm + country-year effects: both nested in the country
    PoolingSpec("firm_cy_iid", "log_labour_productivity", FIRM_LEVEL, ("firm_id", "country_year")),
    PoolingSpec("firm_cy_crv1_firm", "log_mean_wage", FIRM_LEVEL, ("firm_id", "country_year"),
                cluster="firm_id"),
    # the cross-level model's design: country | year (crossing), clustered by country
    PoolingSpec("country_year_crv1_country", "log_mean_wage",
                ("log_labour_productivity", "training", "formal", "exporter", "female_share",
                 "micro", "small", "medium"), ("country",), ("year",), cluster="country"),
    # the SME-gap model's design: country-year | sector (crossing)
    PoolingSpec("gap_iid", "log_labour_productivity",
                ("micro", "small", "medium", "training", "formal", "exporter", "female_share"),
                ("country_year",), ("sector",)),
    # the SCORE TWFE's design: firm + country-year | size-year (crossing), clustered by firm
    PoolingSpec("twfe_crv1_firm", "log_mean_wage", ("treated_post", "log_employees"),
                ("firm_id", "country_year"), ("size_year",), cluster="firm_id"),
]  # fmt: skip


def federated_fit(panel: pd.DataFrame, spec: PoolingSpec):
    """What offices and centre do: statistics per country (through their JSON form, as they
    travel), round two where the clusters are within countries, then the pool."""
    offices = dict(tuple(panel.groupby("country")))
    statistics = [
        CountryStatistics.from_dict(json.loads(json.dumps(country_statistics(rows, spec).to_dict())))
        for rows in offices.values()
    ]  # fmt: skip
    meats = None
    if spec.cluster not in (None, spec.country):
        at = pooled_coefficients(statistics)
        meats = [ClusterMeat.from_dict(json.loads(json.dumps(cluster_meat(rows, spec, at).to_dict())))
                 for rows in offices.values()]  # fmt: skip
    return pool(statistics, meats), statistics


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_pooled_statistics_equal_fe_ols_on_pooled_microdata(panel, spec):
    fit, statistics = federated_fit(panel, spec)
    ref = fe_ols(panel, spec.outcome, list(spec.regressors), [*spec.absorb, *spec.crossing],
                 spec.cluster)  # fmt: skip
    assert len(statistics) == panel["country"].nunique() == 40
    assert list(fit.params.index) == list(ref.params.index)
    assert fit.dropped == ref.dropped
    np.testing.assert_allclose(fit.params, ref.params, rtol=TOLERANCE, atol=0)
    np.testing.assert_allclose(fit.std_errors, ref.std_errors, rtol=TOLERANCE, atol=0)
    np.testing.assert_allclose(fit.cov.to_numpy(), ref.cov.to_numpy(), rtol=1e-7, atol=1e-14)
    assert (fit.n_obs, fit.df_t, fit.k_total, fit.n_clusters, fit.vcov) == (
        ref.n_obs, ref.df_t, ref.k_total, ref.n_clusters, ref.vcov)  # fmt: skip
    assert fit.r2_within == pytest.approx(ref.r2_within, rel=1e-10)
    table, ref_table = fit.table(), ref.table()
    np.testing.assert_allclose(table["p_value"], ref_table["p_value"], rtol=1e-7, atol=1e-14)


def test_time_invariant_regressor_is_dropped_as_fe_ols_drops_it(panel):
    spec = PoolingSpec("firm_iid", "log_labour_productivity", ("training", "log_employees"),
                       ("firm_id",), ("year",))  # fmt: skip
    fit, _ = federated_fit(panel, spec)
    ref = fe_ols(panel, spec.outcome, ["training", "log_employees"], ["firm_id", "year"])
    assert fit.dropped == ref.dropped == {"training": "absorbed by the fixed effects"}
    np.testing.assert_allclose(fit.params, ref.params, rtol=TOLERANCE)


def test_statistics_are_sums_over_firms_never_rows(panel):
    spec = SPECS[1]
    rows = panel[panel["country"] == "KEN"]
    stats = country_statistics(rows, spec).to_dict()
    assert stats["n_units"] == rows["firm_id"].nunique()
    text = json.dumps(stats)
    assert not any(firm in text for firm in rows["firm_id"].unique())
    k = len(spec.regressors)
    assert np.asarray(stats["ztz"]).shape == (k, k)  # one k x k matrix, whatever the firms


def test_second_round_refuses_meat_at_other_coefficients(panel):
    spec = SPECS[1]
    offices = dict(tuple(panel.groupby("country")))
    statistics = [country_statistics(rows, spec) for rows in offices.values()]
    at = pooled_coefficients(statistics)
    meats = [cluster_meat(rows, spec, at * 1.01) for rows in offices.values()]
    with pytest.raises(ValueError, match="not at the pooled coefficients"):
        pool(statistics, meats)
    with pytest.raises(ValueError, match="round two"):
        pool(statistics)


def test_a_country_twice_is_refused(panel):
    spec = SPECS[0]
    kenya = country_statistics(panel[panel["country"] == "KEN"], spec)
    with pytest.raises(ValueError, match="appears twice"):
        pool([kenya, kenya])


def test_dersimonian_laird_by_hand():
    # y = 0.1, 0.3, 0.5; se = 0.1, 0.1, 0.2 -> w = 100, 100, 25 (sum 225)
    # fixed = (10 + 30 + 12.5) / 225 = 0.2333...; Q = 1.7778 + 0.4444 + 1.7778 = 4
    # C = 225 - (10000 + 10000 + 625) / 225 = 133.333; tau2 = (4 - 2) / 133.333 = 0.015
    # w* = 1 / (v + 0.015) = 40, 40, 18.1818 (sum 98.1818)
    # estimate = (4 + 12 + 9.0909) / 98.1818 = 0.25556; se = sqrt(1 / 98.1818) = 0.10092
    result = meta_analysis([0.1, 0.3, 0.5], [0.1, 0.1, 0.2])
    assert result.fixed_estimate == pytest.approx(52.5 / 225, rel=1e-12)
    assert result.q == pytest.approx(4.0, rel=1e-12)
    assert result.tau2 == pytest.approx(2 / (225 - 20625 / 225), rel=1e-12)
    assert result.estimate == pytest.approx((4 + 12 + 0.5 / 0.055) / (80 + 1 / 0.055), rel=1e-12)
    assert result.std_error == pytest.approx((80 + 1 / 0.055) ** -0.5, rel=1e-12)
    assert result.i2 == pytest.approx(0.5, rel=1e-12)
    assert result.ci_low == pytest.approx(result.estimate - 1.959963984540054 * result.std_error)
    # and statsmodels' DerSimonian-Laird agrees
    theirs = combine_effects(np.array([0.1, 0.3, 0.5]), np.array([0.01, 0.01, 0.04]),
                             method_re="dl").summary_frame()  # fmt: skip
    assert result.estimate == pytest.approx(theirs.loc["random effect", "eff"], rel=1e-10)
    assert result.std_error == pytest.approx(theirs.loc["random effect", "sd_eff"], rel=1e-10)


def test_meta_analysis_without_heterogeneity_is_the_fixed_effect_pool():
    result = meta_analysis([0.20, 0.21, 0.19], [0.1, 0.1, 0.1])  # Q < k - 1
    assert result.tau2 == 0.0
    assert result.estimate == pytest.approx(0.2, rel=1e-12)
    assert result.std_error == pytest.approx(0.1 / np.sqrt(3), rel=1e-12)
    with pytest.raises(ValueError, match="at least two"):
        meta_analysis([0.1], [0.1])


def test_iid_on_request_equals_fe_ols_without_cluster(panel):
    spec = SPECS[4]  # firm-clustered: iid needs no second round
    statistics = [country_statistics(rows, spec) for _, rows in panel.groupby("country")]
    fit = pool(statistics, vcov="iid")
    ref = fe_ols(panel, spec.outcome, list(spec.regressors), [*spec.absorb, *spec.crossing])
    np.testing.assert_allclose(fit.params, ref.params, rtol=TOLERANCE, atol=0)
    np.testing.assert_allclose(fit.std_errors, ref.std_errors, rtol=TOLERANCE, atol=0)
    assert (fit.vcov, fit.df_t, fit.k_total) == ("iid", ref.df_t, ref.k_total)


def test_meta_analysis_with_one_dominant_country_does_not_divide_by_zero():
    # w = 1e18, 100, 25: Σw - Σw²/Σw cancels to 0 in floating point when computed directly
    result = meta_analysis([0.17, 0.3, 0.2], [1e-9, 0.1, 0.2])
    assert result.tau2 == 0.0  # Q = 100 * 0.13² + 25 * 0.03² = 1.7125 < k - 1
    assert result.estimate == pytest.approx(0.17, abs=1e-12)


def test_dominance_share_against_a_hand_sweep(panel):
    """One firm's within variation made to dominate: the share of the two largest firms in
    the swept sums of squares, computed by hand with firm means, and the package refuses."""
    from pedw.disclosure.rules import DisclosureRule
    from pedw.federated.package import disclosure_problem
    from pedw.federated.sufficient import dominance_share

    rows = panel[panel["country"] == "KEN"].copy()
    spec = PoolingSpec("one", "log_labour_productivity", ("log_employees",), ("firm_id",))
    rows = rows.dropna(subset=[spec.outcome, "log_employees"])
    loud = rows["firm_id"].iloc[0]
    rows.loc[rows["firm_id"] == loud, "log_employees"] *= 1 + 100 * np.arange(
        (rows["firm_id"] == loud).sum()
    )  # fmt: skip
    shares = []
    for column in (spec.outcome, "log_employees"):
        swept = rows[column] - rows.groupby("firm_id")[column].transform("mean")
        per_firm = (swept**2).groupby(rows["firm_id"]).sum()
        shares.append(per_firm.nlargest(2).sum() / per_firm.sum())
    assert dominance_share(rows, spec, 2) == pytest.approx(max(shares), rel=1e-9)
    assert max(shares) > 0.85
    stats = country_statistics(rows, spec)
    assert "largest firms" in disclosure_problem(
        stats, DisclosureRule(min_contributors=3), max(shares)
    )
    assert disclosure_problem(stats, DisclosureRule(3, dominance_k=1.0), max(shares)) is None
