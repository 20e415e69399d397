"""Sampling weights end to end: a firm file written as an enterprise survey publishes it (an
unequal-probability sample with weights, strata and PSUs) loads them through the contract
into marts.enterprise_panel, and the SME-gap cells are the design-based weighted gaps."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from pedw.demo.generate import generate_demo_data
from pedw.models.survey import SurveyDesign, design_estimates
from pedw.settings import resolve_settings
from pedw.warehouse import connect_read_only
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory):
    demo = tmp_path_factory.mktemp("survey_demo")
    generate_demo_data(demo, n_firms=3000, survey_sample=True)
    settings = resolve_settings(
        demo / "catalog.yml", tmp_path_factory.mktemp("survey_wh") / "pedw.duckdb"
    )
    with dg.instance_for_test() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert summary.success, summary.failures
    con = connect_read_only(settings.warehouse_path)
    try:
        panel = con.execute("SELECT * FROM marts.enterprise_panel").df()
        cells = con.execute("SELECT * FROM models.sme_gap_cells").df()
    finally:
        con.close()
    published = pd.read_csv(demo / "enterprise" / "firms.csv", dtype={"stratum": str})
    return published, panel, cells


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
