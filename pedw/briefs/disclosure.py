"""Disclosure control for figures derived from enterprise microdata.

A published cell must rest on at least `min_firms` firms and must not be dominated: the two
largest firms may not hold more than `dominance_k` of the cell's value added (the (n, k)
dominance rule with n = 2). A suppressed cell keeps its row, marked with the reason, and
loses every value that could reveal a firm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DisclosureRule:
    """Minimum firms per cell and the (2, k) dominance threshold."""

    min_firms: int = 10
    dominance_k: float = 0.85

    def describe(self) -> str:
        return (
            f"cells with fewer than {self.min_firms} firms, or where the two largest firms "
            f"hold more than {self.dominance_k:.0%} of value added, are suppressed"
        )


def suppress(
    frame: pd.DataFrame,
    rule: DisclosureRule,
    count_columns: list[str],
    share_columns: list[str],
    value_columns: list[str],
) -> pd.DataFrame:
    """Blank `value_columns` (and the counts) of cells that break the rule; add `suppressed`, `reason`."""
    result = frame.copy()
    too_few = np.zeros(len(result), dtype=bool)
    for column in count_columns:
        too_few |= result[column].fillna(0).to_numpy() < rule.min_firms
    dominated = np.zeros(len(result), dtype=bool)
    for column in share_columns:
        dominated |= result[column].fillna(0).to_numpy() > rule.dominance_k
    result["suppressed"] = too_few | dominated
    result["reason"] = np.where(
        too_few,
        f"fewer than {rule.min_firms} firms",
        np.where(dominated, "dominated by its two largest firms", ""),
    )
    blank = result["suppressed"].to_numpy()
    for column in [*value_columns, *count_columns, *share_columns]:
        result[column] = result[column].astype(float).where(~blank, np.nan)
    return result
