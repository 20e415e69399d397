"""Sampling weights end to end: a firm file written as an enterprise survey publishes it (an
unequal-probability sample with weights, strata and PSUs) loads them through the contract
into marts.enterprise_panel, and the SME-gap cells are the design-based weighted gaps."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from pedw.demo.generate import generate_demo_data
from pedw.marts.firm_indicators import indicator_rows
from pedw.models.survey import SurveyDesign, design_estimates
from pedw.settings import resolve_settings
from pedw.warehouse import connect_read_only
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def survey_run(tmp_path_factory):
    demo = tmp_path_factory.mktemp("survey_demo")
    generate_demo_data(demo, n_firms=3000, survey_sample=True)
    settings = resolve_settings(
        demo / "catalog.yml", tmp_path_factory.mktemp("survey_wh") / "pedw.duckdb"
    )
    with dg.instance_for_test() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert summary.success, summary.failures
    return demo, settings


def published_tables(settings, *names: str) -> list[pd.DataFrame]:
    con = connect_read_only(settings.warehouse_path)
    try:
        return [con.execute(f"SELECT * FROM {name}").df() for name in names]
    finally:
        con.close()


@pytest.fixture(scope="module")
def surveyed(survey_run):
    demo, settings = survey_run
    panel, cells = published_tables(settings, "marts.enterprise_panel", "models.sme_gap_cells")
    published = pd.read_csv(demo / "enterprise" / "firms.csv", dtype={"stratum": str})
    return published, panel, cells


@pytest.fixture(scope="module")
def survey_tables(survey_run):
    """The survey run's firm indicators (internal and released), firm models and truth."""
    demo, settings = survey_run
    names = ["marts.enterprise_panel", "marts.firm_indicators", "disclosure.firm_indicators",
             "models.estimates", "models.sme_gap_trend"]  # fmt: skip
    tables = dict(zip(names, published_tables(settings, *names), strict=True))
    tables["truth"] = json.loads((demo / "truth.json").read_text())
    return tables


def test_weights_strata_and_psus_reach_the_firm_panel(surveyed):
    published, panel, _ = surveyed
    merged = published.merge(panel, on=["firm_id", "year"], suffixes=("_file", ""))
    assert len(merged) == len(published) == len(panel)
    # Read from the same text by two parsers: equal to the last bit or one ulp apart.
    np.testing.assert_allclose(merged["sampling_weight"], merged["sampling_weight_file"],
                               rtol=1e-15)  # fmt: skip
    assert (merged["stratum"] == merged["stratum_file"]).all()
    assert (merged["psu"] == merged["psu_file"]).all()
    assert panel["sampling_weight"].max() > 10 * panel["sampling_weight"].min()


def test_sme_gap_cells_are_the_design_based_weighted_gaps(surveyed):
    _, panel, cells = surveyed
    design = SurveyDesign("sampling_weight", "stratum", "psu")
    expected = design_estimates(panel, "log_labour_productivity", design, ["country", "year"],
                                "size_class", reference="large")  # fmt: skip
    keys = ["country", "year", "size_class"]
    both = cells.merge(expected, on=keys)
    assert len(both) == len(cells) > 100
    np.testing.assert_allclose(both["productivity_gap"], both["estimate"], rtol=1e-10)
    np.testing.assert_allclose(both["productivity_gap_se"], both["std_error"], rtol=1e-10)
    # The sample oversamples high-turnover SMEs: its unweighted gaps sit above the weighted
    # ones (biased towards zero), which is what the weights undo.
    unweighted = design_estimates(panel.assign(one=1.0), "log_labour_productivity",
                                  SurveyDesign("one"), ["country", "year"], "size_class",
                                  reference="large")  # fmt: skip
    shift = (unweighted.set_index(keys)["estimate"] - expected.set_index(keys)["estimate"]).mean()
    assert shift > 0.05, shift


def test_firm_indicators_are_published_weighted_and_recover_the_population(survey_tables):
    panel, mart = survey_tables["marts.enterprise_panel"], survey_tables["marts.firm_indicators"]
    keys = ["country", "year", "indicator"]
    assert len(mart) > 100 and (mart["weighting"] == "weighted").all()
    expected = indicator_rows(panel)
    both = mart.merge(expected, on=keys, suffixes=("", "_expected"))
    assert len(both) == len(mart) == len(expected)
    np.testing.assert_allclose(both["estimate"], both["estimate_expected"], rtol=1e-12)
    # Zero variances (shares fixed by the strata) come out as sqrt of rounding: atol.
    np.testing.assert_allclose(both["std_error"], both["std_error_expected"], rtol=1e-9, atol=1e-8)
    # The documented truth (the population's values in truth.json): pooled over
    # country-years, the weighted error is within 3 SE for every indicator; the same sample
    # unweighted is off by more than 3 SE for every one.
    population = pd.DataFrame(survey_tables["truth"]["survey_sample"]["population_indicators"])
    unweighted = indicator_rows(panel.drop(columns=["sampling_weight", "stratum", "psu"]))
    for rows, far in ((mart, False), (unweighted, True)):
        merged = rows.merge(population, on=keys)
        error = merged.assign(e=merged["estimate"] - merged["value"], v=merged["std_error"] ** 2)
        pooled = error.groupby("indicator").apply(
            lambda g: g["e"].mean() / (np.sqrt(g["v"].sum()) / len(g)), include_groups=False
        )
        assert len(pooled) == 6
        assert ((pooled.abs() > 3) if far else (pooled.abs() < 3)).all(), pooled
    released = survey_tables["disclosure.firm_indicators"]
    assert set(released["status"]) <= {"published", "primary", "secondary"}
    assert len(released) == len(mart) and (released["status"] == "published").any()
    hidden = released[released["status"] != "published"]
    assert hidden[["estimate", "std_error", "contributors"]].isna().all().all()


def test_enterprise_models_record_the_sampling_weights(survey_tables):
    estimates = survey_tables["models.estimates"]
    firm = estimates[estimates["level"] == "enterprise"]
    weighting = firm.groupby("model_id")["fit"].first().map(lambda f: json.loads(f)["weighting"])
    fitted = [m for m in weighting.index if m.startswith(("enterprise_sme_gap", "score_",
                                                          "enterprise_cross_level"))]  # fmt: skip
    assert fitted and (weighting[fitted] == "sampling weights").all(), weighting
    others = weighting.drop(index=fitted)
    assert others.str.startswith("unweighted: ").all(), others
    trends = survey_tables["models.sme_gap_trend"]
    assert len(trends) and (trends["weighting"] == "sampling weights").all()
