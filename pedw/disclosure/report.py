"""Every firm-derived figure through the rules, and the audit report of the outcome."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pedw.disclosure.audit import PublishedTrend
from pedw.disclosure.cells import (
    MEASURES,
    PUBLISHED,
    cell_perturbation,
    protect_cells,
    released_cells,
)
from pedw.disclosure.effects import effect_units, protect_effects
from pedw.disclosure.estimates import (
    estimate_perturbation,
    releasable_estimates,
    released_estimates,
)
from pedw.disclosure.rules import DisclosureRule
from pedw.disclosure.terms import protect_terms, released_terms, term_support
from pedw.disclosure.trends import (
    OUTCOME_MEASURE,
    cell_intervals,
    class_cells,
    protect_trends,
    released_trends,
    trend_perturbation,
)
from pedw.marts.firm_indicators import (
    indicator_perturbation,
    protect_indicators,
    released_indicators,
)

AUDIT_COLUMNS = {"figure": "string", "measure": "string", "country": "string", "year": "Int64",
                 "size_class": "string", "model_id": "string", "term": "string",
                 "contributors": "Int64",
                 "large_contributors": "Int64", "control_firms": "Int64",
                 "treated_countries": "Int64", "dominance_share": float,
                 "changed_contributors": "Int64", "status": "string", "reason": "string",
                 "feasible_low": float, "feasible_high": float,
                 "half_width": float}  # fmt: skip


@dataclass(frozen=True)
class DisclosedFigures:
    """What may be released (cells, trends, effects and their terms) and the audit of every
    decision."""

    cells: pd.DataFrame
    trends: pd.DataFrame
    effects: pd.DataFrame
    terms: pd.DataFrame
    estimates: pd.DataFrame  # the firm-level model rows that may be released, perturbed
    audit: pd.DataFrame
    indicators: pd.DataFrame | None = None  # firm indicators per country-year, when given


def disclose(
    panel: pd.DataFrame,
    cells: pd.DataFrame,
    trends: pd.DataFrame,
    estimates: pd.DataFrame,
    rule: DisclosureRule,
    salt: str,
    indicators: pd.DataFrame | None = None,
) -> DisclosedFigures:
    """Apply the primary and secondary rules to every firm-derived figure, and the cell-key
    noise of `salt` (the store's secret, pedw.disclosure.cellkey) to the released values.
    `indicators` (marts.firm_indicators), when given, goes through its own rules
    (pedw.marts.firm_indicators) and into the same audit."""
    protected = protect_cells(cells, panel, rule)
    cell_noise, trend_noise = (
        cell_perturbation(panel, salt, rule),
        trend_perturbation(panel, salt, rule),
    )
    released = released_cells(protected, rule, cell_noise)
    protected_trends = protect_trends(trends, protected, rule, released, trend_noise)
    units = protect_effects(effect_units(panel, estimates), rule)
    terms = protect_terms(term_support(panel, estimates), rule)
    parts = [_cell_audit(protected, protected_trends, rule), _trend_audit(protected_trends),
             _effect_audit(units), _term_audit(terms)]  # fmt: skip
    shown_indicators = None
    if indicators is not None:
        decided = protect_indicators(indicators, panel, rule)
        noise = indicator_perturbation(panel, salt, rule)
        shown_indicators = released_indicators(decided, rule, noise)
        parts.append(_indicator_audit(decided, rule))
    audit = pd.concat(parts, ignore_index=True)
    releasable = releasable_estimates(estimates, units, terms)
    return DisclosedFigures(
        released,
        released_trends(protected_trends, rule, trend_noise),
        units,
        released_terms(terms),
        released_estimates(releasable, estimate_perturbation(panel, releasable, salt, rule), rule),
        audit.reindex(columns=list(AUDIT_COLUMNS)).astype(AUDIT_COLUMNS),
        shown_indicators,
    )


def _cell_audit(
    protected: pd.DataFrame, trends: pd.DataFrame, rule: DisclosureRule
) -> pd.DataFrame:
    frames = []
    for measure, (_gap, _se, _log_column, prefix) in MEASURES.items():
        n = rule.dominance_n
        frames.append(
            pd.DataFrame(
                {
                    "figure": "sme_gap_cell",
                    "measure": measure,
                    "country": protected["country"],
                    "year": protected["year"],
                    "size_class": protected["size_class"],
                    "contributors": protected[f"{prefix}_contributors"],
                    "large_contributors": protected[f"large_{prefix}_contributors"],
                    "dominance_share": np.fmax(
                        protected[f"{prefix}_top{n}_share"],
                        protected[f"large_{prefix}_top{n}_share"],
                    ),
                    "changed_contributors": protected[f"{measure}_changed"],
                    "status": protected[f"{measure}_status"],
                    "reason": protected[f"{measure}_reason"],
                }
            )
        )
    audit = pd.concat(frames, ignore_index=True)
    audit["feasible_low"], audit["feasible_high"] = np.nan, np.nan
    hidden = audit[audit["status"] != PUBLISHED]
    published_trends = trends[trends["status"] == PUBLISHED].set_index(
        ["country", "outcome", "size_class"]
    )
    for (country, size, measure), _rows in hidden.groupby(["country", "size_class", "measure"]):
        key = (country, MEASURES[measure][2], size)
        trend = None
        if key in published_trends.index:
            t = published_trends.loc[key]
            trend = PublishedTrend(t.trend_per_year, t.trend_se, t.gap_first_year,
                                   t.gap_first_year_se, int(t.trend_origin_year))  # fmt: skip
        intervals = cell_intervals(class_cells(protected, country, size, measure), measure,
                                   rule, trend)  # fmt: skip
        for year, (low, high) in intervals.items():
            at = (audit["country"] == country) & (audit["size_class"] == size) & (
                audit["measure"] == measure) & (audit["year"] == year)  # fmt: skip
            audit.loc[at, ["feasible_low", "feasible_high"]] = [low, high]
    audit["half_width"] = (audit["feasible_high"] - audit["feasible_low"]) / 2
    return audit


def _trend_audit(trends: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "figure": "sme_gap_trend",
            "measure": trends["outcome"].map(OUTCOME_MEASURE),
            "country": trends["country"],
            "size_class": trends["size_class"],
            "contributors": trends["contributors_in_class"],
            "large_contributors": trends["large_contributors"],
            "status": trends["status"],
            "reason": trends["reason"],
            "half_width": trends["audit_half_width"],
        }
    )


def _effect_audit(units: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "figure": "model_effect",
            "model_id": units["model_id"],
            "contributors": units["treated_firms"],
            "control_firms": units["control_firms"],
            "treated_countries": units["treated_countries"],
            "status": units["status"],
            "reason": units["reason"],
        }
    )


def _term_audit(terms: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "figure": "model_term",
            "model_id": terms["model_id"],
            "term": terms["term"],
            "contributors": terms["treated_firms"],
            "treated_countries": terms["treated_countries"],
            "status": terms["status"],
            "reason": terms["reason"],
        }
    )


def _indicator_audit(decided: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """One row per firm indicator cell (the indicator in `measure`): its contributing firms,
    the dominance share of a mean (weighted contributions), the contributors changed since
    its last published year, and the outcome."""
    return pd.DataFrame(
        {
            "figure": "firm_indicator",
            "measure": decided["indicator"],
            "country": decided["country"],
            "year": decided["year"],
            "contributors": decided["contributors"],
            "dominance_share": decided[f"top{rule.dominance_n}_share"],
            "changed_contributors": decided["changed"],
            "status": decided["status"],
            "reason": decided["reason"],
        }
    )
