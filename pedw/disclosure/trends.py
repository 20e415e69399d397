"""Disclosure control of the SME-gap trends: the cells' primary rules on their pooled
contributors (count, dominance of the aggregated variable over the trend's years), and the LP
audit, which suppresses a trend that would let an adversary bracket a suppressed cell."""

from __future__ import annotations

import math

import pandas as pd

from pedw.disclosure.audit import PublishedTrend, feasible_intervals
from pedw.disclosure.cells import MEASURES, PRIMARY, PUBLISHED, SECONDARY, primary_reasons
from pedw.disclosure.rules import DisclosureRule

OUTCOME_MEASURE = {log: measure for measure, (_g, _s, log, _p) in MEASURES.items()}


def class_cells(cells: pd.DataFrame, country: str, size: str, measure: str) -> pd.DataFrame:
    gap, _se, _log, prefix = MEASURES[measure]
    rows = cells[(cells["country"] == country) & (cells["size_class"] == size)]
    return rows[["year", gap, f"{prefix}_contributors", f"{measure}_status"]].sort_values("year")


def cell_intervals(
    rows: pd.DataFrame, measure: str, rule: DisclosureRule, trend: PublishedTrend | None
) -> dict[int, tuple[float, float]]:
    """What an adversary can learn of each suppressed cell of one class from the published
    cells (to their rounding) and `trend`."""
    gap, _se, _log, prefix = MEASURES[measure]
    half = 0.5 * 10 ** (-rule.gap_decimals)
    shown = rows[rows[f"{measure}_status"] == PUBLISHED]
    published = {int(y): (round(v, rule.gap_decimals), half) for y, v in zip(shown["year"], shown[gap], strict=True)}  # fmt: skip
    return feasible_intervals(
        [int(y) for y in rows["year"]],
        [max(float(w), 1.0) for w in rows[f"{prefix}_contributors"].fillna(1)],
        published,
        trend,
    )


def protect_trends(trend: pd.DataFrame, cells: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """`trend` with `status`, `reason` and `audit_half_width` (the narrowest half-width to
    which, with this trend published, an adversary could bring a suppressed cell)."""
    result = trend.reset_index(drop=True).copy()
    primary = pd.Series("", index=result.index, dtype=object)
    for _gap, _se, log_column, prefix in MEASURES.values():
        mine = result["outcome"] == log_column
        if mine.any():  # the cells' primary rules, on the trend's pooled contributors
            pooled = result.loc[mine].rename(columns={
                "contributors_in_class": f"{prefix}_contributors",
                "large_contributors": f"large_{prefix}_contributors",
                **{f"{side}top{n}_share": f"{side}{prefix}_top{n}_share"
                   for side in ("", "large_") for n in (1, 2)},
            })  # fmt: skip
            primary.loc[mine] = primary_reasons(pooled, prefix, rule)
    status, reasons, widths = [], [], []
    for i, row in enumerate(result.itertuples()):  # one trend per country, outcome and class
        measure = OUTCOME_MEASURE[row.outcome]
        if primary.iloc[i]:
            status.append(PRIMARY)
            reasons.append(primary.iloc[i])
            widths.append(math.nan)
            continue
        published = PublishedTrend(row.trend_per_year, row.trend_se, row.gap_first_year,
                                   row.gap_first_year_se, int(row.trend_origin_year))  # fmt: skip
        intervals = cell_intervals(class_cells(cells, row.country, row.size_class, measure),
                                   measure, rule, published)  # fmt: skip
        width = min(((high - low) / 2 for low, high in intervals.values()), default=math.nan)
        widths.append(width)
        if intervals and width < rule.protection:
            status.append(SECONDARY)
            reasons.append(
                "with this trend published, a suppressed year of the class could be "
                f"bracketed within less than the protection of {rule.protection:g}"
            )
        else:
            status.append(PUBLISHED)
            reasons.append("")
    result["status"], result["reason"], result["audit_half_width"] = status, reasons, widths
    return result


TREND_VALUES = ["gap_first_year", "gap_first_year_se", "trend_per_year", "trend_se",
                "trend_ci_low", "trend_ci_high"]  # fmt: skip


def released_trends(protected: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """Published trends rounded as shown; suppressed ones keep only their key and reason."""
    shown = (protected["status"] == PUBLISHED).to_numpy()
    rows = protected[["country", "outcome", "size_class"]].copy()
    for column in TREND_VALUES:
        decimals = rule.gap_decimals if column.startswith("gap_first") else rule.trend_decimals
        rows[column] = protected[column].round(decimals).where(shown)
    rows["widening"] = protected["widening"].where(shown)
    rows["narrowing"] = protected["narrowing"].where(shown)
    rows["contributors"] = protected["contributors_in_class"].astype("Int64").where(shown)
    rows["status"], rows["reason"] = protected["status"], protected["reason"]
    return rows
