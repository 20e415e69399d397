"""Disclosure control of single model terms: a term that rests on a few treated firms is
withheld, whatever the model as a whole rests on.

A SCORE event study published as "360 treated firms in 12 economies" can still carry an
event-time-5 term estimated from one firm, whose value then moves one for one with that firm's
productivity. Each term that is estimated from a subset of the treated firms (an event time, a
cohort's event time, an event-time bin of the SME-gap model) is counted on its own: the treated
firms observed with the model's outcome in that cell, and their economies. Terms estimated from
the whole sample (the pooled ATT, controls, variance components) rest on the model's units
(pedw.disclosure.effects).
"""

from __future__ import annotations

import re

import pandas as pd

from pedw.disclosure.cells import PUBLISHED
from pedw.disclosure.effects import OUTCOMES, decided
from pedw.disclosure.rules import DisclosureRule
from pedw.models.frames import query_frames

SUPPORT_COLUMNS = ["model_id", "term", "treated_firms", "treated_countries"]
EVENT_TIME = "year - score_start_year"
# A term's name -> the firm-years of the treated firms that identify it (SQL on the panel).
TERM_CELLS = [
    (re.compile(r"^event_time:(-?\d+)$"), lambda m: f"{EVENT_TIME} = {int(m[1])}"),
    (
        re.compile(r"^cohort:(\d+):event_time:(-?\d+)$"),
        lambda m: f"score_start_year = {int(m[1])} AND {EVENT_TIME} = {int(m[2])}",
    ),
    (re.compile(r"^score_e(\d+)$"), lambda m: f"{EVENT_TIME} = {int(m[1])}"),
    (re.compile(r"^score_e(\d+)plus$"), lambda m: f"{EVENT_TIME} >= {int(m[1])}"),
]


def term_cell(term: str) -> str | None:
    """The SQL condition of the treated firm-years a term is estimated from; None for a term
    that rests on the whole sample."""
    for pattern, condition in TERM_CELLS:
        if match := pattern.match(term):
            return condition(match)
    return None


def term_support(panel: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """Treated firms and their economies behind each firm-level term estimated from a subset
    of the treated (one row per model and term; none for whole-sample terms)."""
    terms = estimates.loc[estimates["level"] == "enterprise", ["model_id", "outcome", "term"]]
    selects = []
    for model_id, outcome, term in terms.drop_duplicates().itertuples(index=False):
        cell = term_cell(term)
        if cell is None:
            continue
        observed = f" AND {outcome} IS NOT NULL" if outcome in OUTCOMES else ""
        selects.append(
            f"SELECT {_literal(model_id)} AS model_id, {_literal(term)} AS term, "
            "count(DISTINCT firm_id) AS treated_firms, count(DISTINCT country) AS "
            f"treated_countries FROM panel WHERE score_start_year IS NOT NULL AND {cell}"
            f"{observed}"
        )
    if not selects:
        return pd.DataFrame(columns=SUPPORT_COLUMNS)
    return query_frames(" UNION ALL ".join(selects), panel=panel)


def protect_terms(support: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """`support` with status and reason: a term on fewer than `min_treated` treated firms, or
    on treated firms in fewer than `min_countries` economies, is withheld. Reasons state the
    rule, never the count."""
    return decided(support, [
        (support["treated_firms"] < rule.min_treated,
         f"this term rests on fewer than {rule.min_treated} treated firms"),
        (support["treated_countries"] < rule.min_countries,
         f"the treated firms this term rests on are in fewer than {rule.min_countries} economies"),
    ])  # fmt: skip


def released_terms(protected: pd.DataFrame) -> pd.DataFrame:
    """What may leave the warehouse: every term's decision; the counts of published terms
    only (a withheld term's count would tell how few firms it rests on)."""
    rows = protected.copy()
    shown = rows["status"] == PUBLISHED
    for column in ("treated_firms", "treated_countries"):
        rows[column] = rows[column].astype("Int64").where(shown)
    return rows


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"
