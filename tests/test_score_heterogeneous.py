"""SCORE effects that differ by cohort and grow: the interaction-weighted estimator recovers
each cohort's path, while the classic TWFE DiD and a pooled dynamic TWFE are visibly off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pedw.demo import truth
from pedw.demo.enterprise import SIZE_BOUNDS, SIZE_NAMES, draw_enterprise
from pedw.demo.national import draw_national
from pedw.models.absorb import fe_ols
from pedw.models.event_study import classic_twfe, interaction_weighted
from pedw.models.score import SCORE_DESIGN

pytestmark = pytest.mark.slow
FIRMS = 20_000


@pytest.fixture(scope="module")
def firm_panel() -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(truth.SEED)
    national, _ = draw_national(rng)
    firms, realised = draw_enterprise(rng, national, FIRMS, score_effects="heterogeneous")
    size = pd.cut(firms.groupby("firm_id")["employees"].transform("max"),
                  [0] + [high for _, high in SIZE_BOUNDS[:3]] + [np.inf], labels=SIZE_NAMES)  # fmt: skip
    frame = firms.assign(
        log_labour_productivity=np.log(firms["value_added"] / firms["employees"]),
        country_year=firms["country"] + ":" + firms["year"].astype(str),
        size_year=size.astype(str) + ":" + firms["year"].astype(str),
    )
    return frame, realised


def true_effect(cohort: int, event: int) -> float:
    return truth.score_effect(event, cohort, kind="heterogeneous")


def test_interaction_weighted_recovers_each_cohorts_growing_path(firm_panel):
    frame, realised = firm_panel
    rows, _ = interaction_weighted(frame, "log_labour_productivity", SCORE_DESIGN, by_cohort=True)
    paths = rows[rows["term"].str.startswith("cohort:")].copy()
    parts = paths["term"].str.split(":", expand=True)
    paths["cohort"], paths["event"] = parts[1].astype(int), parts[3].astype(int)
    post = paths[paths["event"] >= 0]
    post = post.assign(
        truth=[true_effect(c, e) for c, e in zip(post["cohort"], post["event"], strict=True)]
    )
    z = (post["estimate"] - post["truth"]) / post["std_error"]
    assert len(post) == 6 + 5 + 4 + 3  # every post cell of the cohorts 2018-2021, up to 2023
    assert z.abs().max() < 4.0  # Bonferroni over the cells
    pre = paths[paths["event"] < -1]  # no anticipation: pre-trends are zero
    assert ((pre["estimate"] / pre["std_error"]).abs() < 4.0).all()
    att = rows.set_index("term").loc["att_post"]
    assert abs(att["estimate"] - realised["score_att"]) < 3.5 * att["std_error"]


def test_the_classic_and_pooled_twfe_are_biased_where_the_iw_is_not(firm_panel):
    frame, realised = firm_panel
    outcome = "log_labour_productivity"
    twfe = classic_twfe(frame, outcome, SCORE_DESIGN)[0].iloc[0]
    assert abs(twfe["estimate"] - realised["score_att"]) > 5 * twfe["std_error"]
    # A pooled dynamic TWFE (one dummy per event time, all cohorts together) against the IW
    # event-time averages of the true cohort paths.
    event = frame["year"] - frame["score_start_year"]
    dummies = {f"e{int(e)}".replace("-", "m"): (event == e).astype(float)
               for e in sorted(event.dropna().unique()) if e != -1}  # fmt: skip
    pooled = fe_ols(frame.assign(**dummies), outcome, list(dummies), SCORE_DESIGN.effects,
                    "firm_id").table().set_index("term")  # fmt: skip
    iw, _ = interaction_weighted(frame, outcome, SCORE_DESIGN)
    iw = iw.set_index("term")
    late = [e for e in range(3, 6) if f"event_time:{e}" in iw.index]
    pooled_error = max(abs(pooled.loc[f"e{e}", "estimate"] - iw.loc[f"event_time:{e}", "estimate"])
                       / pooled.loc[f"e{e}", "std_error"] for e in late)  # fmt: skip
    assert pooled_error > 4.0
