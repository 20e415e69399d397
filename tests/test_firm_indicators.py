"""Weighted means and shares of firm indicators (marts.firm_indicators): design-based standard
errors against a hand computation and statsmodels, the survey demo's population recovered by
the weighted estimates and missed by the unweighted ones, and the disclosure rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from pedw.demo import truth
from pedw.demo.enterprise import draw_enterprise
from pedw.demo.national import draw_national
from pedw.demo.sector import draw_sector
from pedw.demo.survey_sample import draw_survey_sample, population_indicators, size_classes
from pedw.disclosure.rules import DisclosureRule
from pedw.marts.firm_indicators import (
    indicator_perturbation,
    indicator_rows,
    protect_indicators,
    released_indicators,
)

KEYS = ["country", "year", "indicator"]


def as_panel(firms: pd.DataFrame) -> pd.DataFrame:
    """The columns of marts.enterprise_panel the indicators read, from a demo firm frame."""
    productivity = firms["value_added"] / firms["employees"]
    wage = firms["wage_bill"] / firms["employees"]
    panel = pd.DataFrame(
        {
            "firm_id": firms["firm_id"],
            "country": firms["country"],
            "year": firms["year"],
            "labour_productivity": productivity,
            "log_labour_productivity": np.log(productivity.where(firms["value_added"] > 0)),
            "wage_bill": firms["wage_bill"],
            "log_mean_wage": np.log(wage.where(firms["wage_bill"] > 0)),
            "size_class_current": size_classes(firms["employees"]),
            "formal": firms["formal"],
            "training": firms["training"],
            "exporter": firms["exporter"],
        }
    )
    for column in ("sampling_weight", "stratum", "psu"):
        if column in firms:
            panel[column] = firms[column]
    return panel


@pytest.fixture(scope="module")
def design_panel() -> pd.DataFrame:
    """KEN: a weighted survey of 3 strata with 2-4 PSUs of several firms each; GHA: a firm
    file without weights (its rows carry none, as a census would)."""
    rng = np.random.default_rng(11)
    n = 120
    ken = pd.DataFrame({"country": "KEN", "stratum": rng.integers(0, 3, n)})
    ken["psu"] = (ken["stratum"] * 10 + rng.integers(0, 2 + ken["stratum"], n)).astype(str)
    ken["sampling_weight"] = rng.uniform(1.5, 40, n)
    gha = pd.DataFrame({"country": ["GHA"] * 40, "stratum": None, "psu": None,
                        "sampling_weight": np.nan})  # fmt: skip
    frame = pd.concat([ken, gha], ignore_index=True)
    m = len(frame)
    frame["firm_id"] = [f"F{i:04d}" for i in range(m)]
    frame["year"] = 2020
    frame["labour_productivity"] = np.exp(rng.normal(9, 1, m))
    frame["log_labour_productivity"] = np.log(frame["labour_productivity"])
    frame.loc[[4, 50, 130], "log_labour_productivity"] = np.nan  # no value added: no log
    frame["wage_bill"] = np.exp(rng.normal(11, 1, m))
    frame["log_mean_wage"] = rng.normal(8, 0.5, m)
    frame["size_class_current"] = rng.choice(["micro", "small", "large"], m)
    frame["formal"] = rng.integers(0, 2, m)
    frame["training"] = rng.integers(0, 2, m)
    frame["exporter"] = rng.integers(0, 2, m)
    return frame


def hand_mean_and_se(frame: pd.DataFrame, y: pd.Series) -> tuple[float, float]:
    """Σwy/Σw and the linearisation variance Σ_h n_h/(n_h-1) Σ_j (z_hj - z̄_h)², written
    out stratum by stratum; rows without y feed no z but their PSU still counts."""
    w = frame["sampling_weight"]
    used = y.notna()
    mean = (w[used] * y[used]).sum() / w[used].sum()
    z = (w * (y - mean) / w[used].sum()).where(used, 0.0)
    variance = 0.0
    for _, stratum in frame.groupby("stratum"):
        totals = z[stratum.index].groupby(stratum["psu"]).sum().to_numpy()
        n_h = len(totals)
        variance += n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
    return mean, float(np.sqrt(variance))


def test_weighted_means_and_shares_equal_the_hand_linearisation(design_panel):
    rows = indicator_rows(design_panel).set_index(KEYS)
    ken = design_panel[design_panel["country"] == "KEN"]
    values = {
        "log_labour_productivity": ken["log_labour_productivity"],
        "log_mean_wage": ken["log_mean_wage"],
        "sme": (ken["size_class_current"] != "large").astype(float),
        "formal": ken["formal"].astype(float),
        "training": ken["training"].astype(float),
        "exporter": ken["exporter"].astype(float),
    }
    for indicator, y in values.items():
        row = rows.loc[("KEN", 2020, indicator)]
        mean, se = hand_mean_and_se(ken, y)
        assert row["estimate"] == pytest.approx(mean, rel=1e-12)
        assert row["std_error"] == pytest.approx(se, rel=1e-9, abs=1e-12)
        assert row["weighting"] == "weighted"
        assert row["contributors"] == y.notna().sum()
        assert row["weight_total"] == pytest.approx(ken.loc[y.notna(), "sampling_weight"].sum())
        assert row["df"] == ken["psu"].nunique() - ken["stratum"].nunique()
    # Shares: the logit interval of Stata's svy: proportion, inside 0-1.
    share = rows.loc[("KEN", 2020, "formal")]
    t = share["ci_high"] - share["estimate"], share["estimate"] - share["ci_low"]
    assert 0 < share["ci_low"] < share["estimate"] < share["ci_high"] < 1 and t[0] != t[1]


def test_a_file_without_weights_gives_the_unweighted_mean_and_says_so(design_panel):
    rows = indicator_rows(design_panel).set_index(KEYS)
    gha = design_panel[design_panel["country"] == "GHA"]
    for indicator, y in (("log_mean_wage", gha["log_mean_wage"]),
                         ("formal", gha["formal"].astype(float))):  # fmt: skip
        row = rows.loc[("GHA", 2020, indicator)]
        reference = DescrStatsW(y.to_numpy())
        assert row["weighting"] == "unweighted"
        assert row["estimate"] == pytest.approx(reference.mean, rel=1e-12)
        assert row["std_error"] == pytest.approx(reference.std_mean, rel=1e-9)
        assert row["df"] == len(y) - 1
    # A firm without a value is outside the domain but still a PSU of the design (as R's
    # survey with na.rm): weight 1, each firm its own PSU, one stratum.
    units = gha.assign(sampling_weight=1.0, stratum="", psu=gha["firm_id"])
    mean, se = hand_mean_and_se(units, gha["log_labour_productivity"])
    row = rows.loc[("GHA", 2020, "log_labour_productivity")]
    assert row["estimate"] == pytest.approx(mean, rel=1e-12)
    assert row["std_error"] == pytest.approx(se, rel=1e-9)
    # The same rows with no weight column at all: the same unweighted numbers.
    bare = indicator_rows(gha.drop(columns=["sampling_weight", "stratum", "psu"]))
    both = bare.merge(rows.reset_index(), on=KEYS, suffixes=("", "_mixed"))
    assert len(both) == 6 and (both["weighting"] == "unweighted").all()
    np.testing.assert_allclose(both["std_error"], both["std_error_mixed"], rtol=1e-12)


@pytest.fixture(scope="module")
def survey_demo():
    """The demo's population of 3,000 firms and its unequal-probability survey sample."""
    rng = np.random.default_rng(truth.SEED)
    national, _ = draw_national(rng)
    draw_sector(rng, national)
    firms, _ = draw_enterprise(rng, national, 3000, "common")
    sample = draw_survey_sample(firms, np.random.default_rng([truth.SEED, 1]))
    return pd.DataFrame(population_indicators(firms)), as_panel(sample)


def pooled_z(rows: pd.DataFrame, population: pd.DataFrame) -> pd.Series:
    """Per indicator: the mean error over country-years in standard errors of that mean
    (the samples of different years are drawn independently)."""
    both = rows.merge(population, on=KEYS)
    both["error"] = both["estimate"] - both["value"]
    return both.groupby("indicator").apply(
        lambda g: g["error"].mean() / (np.sqrt((g["std_error"] ** 2).sum()) / len(g)),
        include_groups=False,
    )


def test_weighted_indicators_recover_the_population_and_unweighted_ones_do_not(survey_demo):
    population, sample = survey_demo
    weighted = indicator_rows(sample)
    unweighted = indicator_rows(sample.drop(columns=["sampling_weight", "stratum", "psu"]))
    assert (weighted["weighting"] == "weighted").all()
    assert (unweighted["weighting"] == "unweighted").all()
    z_weighted, z_unweighted = pooled_z(weighted, population), pooled_z(unweighted, population)
    assert len(z_weighted) == 6
    assert (z_weighted.abs() < 3).all(), z_weighted
    assert (z_unweighted.abs() > 3).all(), z_unweighted
    # Cell by cell, the means' truth lies within 3 design-based SE in nearly every
    # country-year (about 20 firms each: t with few df has fatter tails than 3 SE allow).
    means = weighted[weighted["statistic"] == "mean"].merge(population, on=KEYS)
    within = (means["estimate"] - means["value"]).abs() <= 3 * means["std_error"]
    assert within.mean() > 0.97, within.mean()
    # Size class stratifies the sample: the weighted SME share is the population's exactly.
    sme = weighted[weighted["indicator"] == "sme"].merge(population, on=KEYS)
    np.testing.assert_allclose(sme["estimate"], sme["value"], rtol=1e-12)


def test_indicator_cells_go_through_the_disclosure_rules():
    rule = DisclosureRule()
    firms = [f"F{i:02d}" for i in range(30)]
    rows, cells = [], []
    for year, members in ((2019, firms[:20]), (2020, firms[:19]), (2021, firms[:6])):
        for firm in members:
            rows.append({"firm_id": firm, "country": "KEN", "year": year,
                         "log_labour_productivity": 9.0 + int(firm[1:]) / 10,
                         "labour_productivity": 1.0, "wage_bill": 1.0, "log_mean_wage": None,
                         "size_class_current": "micro", "formal": int(firm[1:]) < 3,
                         "training": None, "exporter": None})  # fmt: skip
    panel = pd.DataFrame(rows)
    cells = indicator_rows(panel)
    protected = protect_indicators(cells, panel, rule).set_index(KEYS)
    lp = protected.xs("log_labour_productivity", level="indicator")
    assert lp.loc[("KEN", 2019), "status"] == "published"
    # One firm left and the others did not move: differencing the two years finds it.
    assert lp.loc[("KEN", 2020), "status"] == "secondary"
    assert lp.loc[("KEN", 2021), "status"] == "primary"
    assert "fewer than 10 firms contribute" in lp.loc[("KEN", 2021), "reason"]
    formal = protected.xs("formal", level="indicator")
    assert (formal["status"] == "primary").all()  # 3 formal firms at most
    assert "have the attribute" in formal.loc[("KEN", 2019), "reason"]
    noise = indicator_perturbation(panel, "a secret", rule)
    released = released_indicators(protected.reset_index(), rule, noise)
    hidden = released[released["status"] != "published"]
    assert hidden[["estimate", "std_error", "ci_low", "ci_high", "contributors",
                   "weighting"]].isna().all().all()  # fmt: skip
    shown = released[released["status"] == "published"]
    cell = ("KEN", 2019, "log_labour_productivity")
    drawn = noise.set_index(KEYS).loc[cell, "noise"]
    # The released mean carries its cell-key noise, within noise_bound x 1/20 firms.
    assert 0 < abs(drawn) <= rule.noise_bound / 20
    assert len(shown) == 1
    assert shown["estimate"].iloc[0] == round(
        cells.set_index(KEYS).loc[cell, "estimate"] + drawn, 3
    )
    # Its standard error: its own draw, and the noise's variance so intervals stay valid.
    drawn_se, variance = noise.set_index(KEYS).loc[cell, ["se_noise", "noise_var"]]
    true_se = cells.set_index(KEYS).loc[cell, "std_error"]
    assert shown["std_error"].iloc[0] == round(np.hypot(true_se + drawn_se, np.sqrt(variance)), 3)
    # The same firms and values: the same noise in every release, whatever the row order;
    # one revised value: a fresh draw, so differencing the releases does not give the firm.
    shuffled = indicator_perturbation(panel.sample(frac=1, random_state=3), "a secret", rule)
    assert shuffled.set_index(KEYS).loc[cell, "noise"] == drawn
    revised = panel.copy()
    revised.loc[revised["year"] == 2019, "log_labour_productivity"] += [0.5] + [0.0] * 19
    assert (
        indicator_perturbation(revised, "a secret", rule).set_index(KEYS).loc[cell, "noise"]
        != drawn
    )
