"""Design-based means and gaps (pedw.models.survey) against a hand computation of the
linearisation variance on small stratified cluster samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pedw.models.survey import SurveyDesign, design_estimates


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """Two surveys, 3 strata of 2-4 PSUs each, firms of three size classes, unequal weights."""
    rng = np.random.default_rng(4)
    n = 90
    frame = pd.DataFrame({"country": np.where(np.arange(n) < 50, "KEN", "GHA"),
                          "stratum": rng.integers(0, 3, n)})  # fmt: skip
    frame["psu"] = frame["stratum"] * 10 + rng.integers(0, 2 + frame["stratum"], n)
    frame["size"] = rng.choice(["large", "micro", "small"], n)
    frame["y"] = rng.normal(size=n) + (frame["size"] == "large")
    frame.loc[[3, 17], "y"] = np.nan  # no answer: no contribution, the PSU still counts
    frame["w"] = rng.uniform(1, 20, n)
    return frame


def hand_variance(frame: pd.DataFrame, z: pd.Series, strata: str | None, psu: str | None) -> float:
    """Σ_h n_h/(n_h - 1) Σ_j (z_hj - mean_h)², written out stratum by stratum."""
    total = 0.0
    stratum_of = frame[strata] if strata else pd.Series(0, index=frame.index)
    psu_of = frame[psu] if psu else pd.Series(frame.index, index=frame.index)
    for h in stratum_of.unique():
        in_h = stratum_of == h
        psu_totals = [z[in_h & (psu_of == j)].sum() for j in psu_of[in_h].unique()]
        n_h = len(psu_totals)
        mean = sum(psu_totals) / n_h
        total += n_h / (n_h - 1) * sum((t - mean) ** 2 for t in psu_totals)
    return total


def hand_linearised(frame: pd.DataFrame, members: pd.Series) -> tuple[float, pd.Series]:
    used = members & frame["y"].notna()
    w, y = frame["w"].where(used, 0.0), frame["y"].where(used, 0.0)
    mean = (w * y).sum() / w.sum()
    return mean, w * (y - mean) / w.sum()


@pytest.mark.parametrize(
    ("strata", "psu"), [("stratum", "psu"), (None, "psu"), ("stratum", None), (None, None)]
)
def test_domain_means_and_gaps_equal_the_hand_computation(sample, strata, psu):
    design = SurveyDesign("w", strata, psu)
    means = design_estimates(sample, "y", design, ["country"], "size").set_index(
        ["country", "size"]
    )
    gaps = design_estimates(sample, "y", design, ["country"], "size", reference="large")
    gaps = gaps.set_index(["country", "size"])
    assert list(gaps.index) == [(c, s) for c in ("GHA", "KEN") for s in ("micro", "small")]
    for country, survey in sample.groupby("country"):
        large_mean, large_z = hand_linearised(survey, survey["size"] == "large")
        for size in ("large", "micro", "small"):
            mean, z = hand_linearised(survey, survey["size"] == size)
            row = means.loc[(country, size)]
            assert row["estimate"] == pytest.approx(mean, rel=1e-12)
            assert row["std_error"] == pytest.approx(
                np.sqrt(hand_variance(survey, z, strata, psu)), rel=1e-9
            )
            if size != "large":
                gap = gaps.loc[(country, size)]
                assert gap["estimate"] == pytest.approx(mean - large_mean, rel=1e-12)
                expected = np.sqrt(hand_variance(survey, z - large_z, strata, psu))
                assert gap["std_error"] == pytest.approx(expected, rel=1e-9)
                assert (
                    gap["rows"]
                    == (survey["size"].isin([size, "large"]) & survey["y"].notna()).sum()
                )
        if strata and psu:
            psus = survey.groupby("stratum")["psu"].nunique()
            assert means.loc[(country, "large"), "df"] == psus.sum() - len(psus)


def test_a_single_psu_stratum_and_a_missing_weight_are_refused(sample):
    lonely = sample.copy()
    lonely.loc[lonely["stratum"] == 2, "psu"] = 99
    with pytest.raises(ValueError, match=r"single PSU \(first: stratum '2' of country="):
        design_estimates(lonely, "y", SurveyDesign("w", "stratum", "psu"), ["country"], "size")
    unweighted = sample.assign(w=sample["w"].where(sample.index != 5))
    with pytest.raises(
        ValueError,
        match=r"sampling weight 'w' is missing or not positive in 1 row\(s\), first at row 5:",
    ):
        design_estimates(unweighted, "y", SurveyDesign("w"), ["country"], "size")


@pytest.fixture(scope="module")
def surveyed() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo's firm population in its last wave, and an unequal-probability sample of it."""
    from pedw.demo.enterprise import draw_enterprise
    from pedw.demo.national import draw_national
    from pedw.demo.survey_sample import draw_survey_sample, size_classes

    rng = np.random.default_rng(2)
    national, _ = draw_national(rng)
    firms, _ = draw_enterprise(rng, national, 20_000)
    firms = firms.loc[firms["year"] == firms["year"].max()]
    firms = firms.assign(lp=np.log(firms["value_added"] / firms["employees"]),
                         size_class=size_classes(firms["employees"]))  # fmt: skip
    return firms, draw_survey_sample(firms, np.random.default_rng(9))


@pytest.mark.parametrize("weighted", [True, False])
def test_weighted_sme_gaps_recover_the_population_and_unweighted_ones_do_not(surveyed, weighted):
    population, sample = surveyed
    means = population.groupby("size_class")["lp"].mean()
    truth = (means - means["large"]).drop("large")  # every firm of the economy, not a sample
    assert sample["sampling_weight"].max() > 10 * sample["sampling_weight"].min()
    design = SurveyDesign("sampling_weight" if weighted else "unweighted", "stratum", "psu")
    gaps = design_estimates(sample.assign(unweighted=1.0), "lp", design, ["year"], "size_class",
                            reference="large").set_index("size_class")  # fmt: skip
    distance = ((gaps["estimate"] - truth) / gaps["std_error"]).abs()
    if weighted:
        assert (distance < 3).all(), distance.to_dict()  # measured: 0.2, 0.6 and 1.2 SE
    else:
        assert (distance > 3).all(), distance.to_dict()  # biased towards zero by 6-11 SE


def as_panel(firms: pd.DataFrame) -> pd.DataFrame:
    """The marts.enterprise_panel columns the SME-gap cells read."""
    productivity = firms["value_added"] / firms["employees"]
    mean_wage = firms["wage_bill"] / firms["employees"]
    return firms.assign(
        labour_productivity=productivity,
        log_labour_productivity=np.log(productivity.where(productivity > 0)),
        mean_wage=mean_wage,
        log_mean_wage=np.log(mean_wage.where(mean_wage > 0)),
    )


def test_sme_gap_cells_of_a_weighted_survey_are_design_based(surveyed):
    from pedw.models.enterprise import sme_gap_cells

    population, sample = surveyed
    panel = as_panel(sample)
    cells = sme_gap_cells(panel).set_index(["country", "year", "size_class"])
    unweighted = sme_gap_cells(panel.drop(columns=["sampling_weight"]))
    unweighted = unweighted.set_index(["country", "year", "size_class"])
    assert cells.index.equals(unweighted.index)
    design = SurveyDesign("sampling_weight", "stratum", "psu")
    expected = design_estimates(panel, "log_labour_productivity", design, ["country", "year"],
                                "size_class", reference="large")  # fmt: skip
    expected = expected.set_index(["country", "year", "size_class"]).reindex(cells.index)
    np.testing.assert_allclose(cells["productivity_gap"], expected["estimate"], rtol=1e-12)
    np.testing.assert_allclose(cells["productivity_gap_se"], expected["std_error"], rtol=1e-12)
    # Against every firm of each economy: weighted cells cover the truth as 3 SE should and
    # are unbiased on average; unweighted cells (the sample's own means) are biased upwards.
    full = as_panel(population)
    means = full.groupby(["country", "year", "size_class"])["log_labour_productivity"].mean()
    truth = (
        means - means.xs("large", level="size_class").reindex(means.index.droplevel(2)).to_numpy()
    )
    truth = truth.reindex(cells.index)
    covered = ((cells["productivity_gap"] - truth).abs() < 3 * cells["productivity_gap_se"]).mean()
    bias = {"weighted": (cells["productivity_gap"] - truth).mean(),
            "unweighted": (unweighted["productivity_gap"] - truth).mean()}  # fmt: skip
    assert covered > 0.95 and abs(bias["weighted"]) < 0.03 < bias["unweighted"], (covered, bias)
    # Dominance on weighted contributions; contributors are firms, unweighted.
    key = cells.index[0]
    firms_in = panel.set_index(["country", "year", "size_class"]).sort_index().loc[key]
    contribution = (firms_in["labour_productivity"] * firms_in["sampling_weight"])[
        firms_in["log_labour_productivity"].notna()]  # fmt: skip
    assert cells.loc[key, "lp_top1_share"] == pytest.approx(contribution.max() / contribution.sum())
    assert cells.loc[key, "lp_contributors"] == firms_in["log_labour_productivity"].notna().sum()


def test_a_single_psu_stratum_taken_with_certainty_adds_no_variance(sample):
    """The one firm of its stratum, taken whole (weight 1), as the largest firms of a
    business survey are: no sampling variance there, the other strata as by hand."""
    certain = sample.copy()
    certain.loc[certain["stratum"] == 2, ["psu", "w"]] = [99, 1.0]
    design = SurveyDesign("w", "stratum", "psu")
    means = design_estimates(certain, "y", design, ["country"], "size").set_index(
        ["country", "size"]
    )
    for country, survey in certain.groupby("country"):
        sampled = survey["stratum"] != 2
        for size in ("large", "micro", "small"):
            _, z = hand_linearised(survey, survey["size"] == size)
            expected = np.sqrt(hand_variance(survey[sampled], z[sampled], "stratum", "psu"))
            assert means.loc[(country, size), "std_error"] == pytest.approx(expected, rel=1e-9)
        psus = survey[sampled].groupby("stratum")["psu"].nunique()
        assert means.loc[(country, "large"), "df"] == psus.sum() - len(psus)
