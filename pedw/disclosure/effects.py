"""Disclosure control of firm-level model results: each published effect states, and needs,
enough treated and control firms in enough economies (rows are firm-years, not units)."""

from __future__ import annotations

import pandas as pd

from pedw.disclosure.cells import PRIMARY, PUBLISHED
from pedw.disclosure.rules import DisclosureRule
from pedw.models.frames import query_frames

# Model families by model_id prefix: (who is treated, who is the control group, among which
# firms), as SQL conditions on the per-firm flags below. Other firm models have no treatment:
# their units are the firms with the outcome.
TREATMENTS = {
    "score_": ("participant = 1", "participant = 0", "TRUE"),
    "enterprise_resilience_drop": ("shocked = 1", "shocked = 0", "TRUE"),
    "enterprise_resilience_recovery": ("trained = 1", "trained = 0", "shocked = 1"),
}
OUTCOMES = ("log_labour_productivity", "log_mean_wage", "log_sales", "log_employees")
FIRM_FLAGS_SQL = f"""
    SELECT firm_id, any_value(country) AS country,
           max(coalesce(score_participant, 0))::INT AS participant,
           max(coalesce(shock, 0))::INT AS shocked, max(coalesce(training, 0))::INT AS trained,
           list(DISTINCT outcome_name) FILTER (WHERE outcome_name IS NOT NULL) AS outcomes
    FROM (UNPIVOT (SELECT firm_id, country, score_participant, shock, training,
                          {", ".join(OUTCOMES)} FROM panel)
          ON {", ".join(OUTCOMES)}
          INTO NAME outcome_name VALUE outcome_value)
    GROUP BY firm_id
"""


def effect_units(panel: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """Per firm-level model: treated and control firms (with its outcome observed) and the
    economies of the treated."""
    models = estimates[estimates["level"] == "enterprise"][["model_id", "outcome"]].drop_duplicates(
        "model_id"
    )
    if models.empty:
        return pd.DataFrame(columns=["model_id", "treated_firms", "control_firms",
                                     "treated_countries"])  # fmt: skip
    selects = []
    for model_id, outcome in zip(models["model_id"], models["outcome"], strict=True):
        treated, control, among = next(
            (t for prefix, t in TREATMENTS.items() if model_id.startswith(prefix)),
            ("TRUE", None, "TRUE"),
        )
        has = f"list_contains(outcomes, '{outcome}')" if outcome in OUTCOMES else "TRUE"
        controls = f"count(*) FILTER (WHERE {control})" if control else "NULL"
        selects.append(
            f"SELECT '{model_id}' AS model_id, count(*) FILTER (WHERE {treated}) AS treated_firms,"
            f" {controls} AS control_firms, count(DISTINCT country) FILTER (WHERE {treated}) "
            f"AS treated_countries FROM firms WHERE {among} AND {has}"
        )
    sql = f"WITH firms AS ({FIRM_FLAGS_SQL}) " + " UNION ALL ".join(selects)
    return query_frames(sql, panel=panel)


def protect_effects(units: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """`units` with status and reason: too few treated or control firms, or economies."""
    return decided(units, [
        (units["treated_firms"] < rule.min_treated, f"fewer than {rule.min_treated} treated firms"),
        (units["control_firms"].fillna(rule.min_control) < rule.min_control,
         f"fewer than {rule.min_control} control firms"),
        (units["treated_countries"] < rule.min_countries,
         f"the treated firms are in fewer than {rule.min_countries} economies"),
    ])  # fmt: skip


def decided(figures: pd.DataFrame, checks: list[tuple[pd.Series, str]]) -> pd.DataFrame:
    """`figures` with status (published or primary) and reason: the first of `checks` (a
    broken-rule mask and its reason) each row breaks."""
    result = figures.copy()
    reasons = pd.Series("", index=result.index, dtype=object)
    for broken, reason in reversed(checks):  # the first listed wins
        reasons = reasons.mask(broken.to_numpy(), reason)
    result["status"] = (reasons != "").map({True: PRIMARY, False: PUBLISHED})
    result["reason"] = reasons
    return result
