"""The disclosure rules: what a firm-derived figure needs before it may leave the warehouse.

Primary rules apply to the firms that feed a statistic (its contributors, not the rows of
its cell): at least `min_contributors` of them, no domination of the aggregated variable by
its `dominance_n` largest contributors (share above `dominance_k`), and optionally the p%
rule. Model effects need `min_treated` treated and `min_control` control firms in at least
`min_countries` economies. Secondary suppression then protects what could be derived from
the published set (docs/disclosure.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DisclosureRule:
    """Thresholds of the primary and secondary rules (defaults follow common NSI practice)."""

    min_contributors: int = 10
    dominance_n: int = 2  # 1 or 2: the largest contributor(s) whose share is limited
    dominance_k: float = 0.85
    p_percent: float | None = None  # the p% rule: the rest must exceed p% of the largest
    min_treated: int = 10
    min_control: int = 10
    min_countries: int = 3
    # The LP audit: a suppressed cell must stay uncertain by at least this much either side
    # (log units: 0.10 is 10 log points) given everything published beside it.
    protection: float = 0.10
    # Decimals of released values in log units (gaps are shown in log points with one
    # decimal: 0.001 log units; trends per year with two: 0.0001).
    gap_decimals: int = 3
    trend_decimals: int = 4
    # The cell-key method (pedw.disclosure.cellkey): one firm's value moves by at most this
    # many log units under the noise of a released mean (noise_bound / contributors on the
    # mean); 0 releases values unperturbed (only for studies inside the warehouse).
    noise_bound: float = 2.0

    def __post_init__(self) -> None:
        if self.dominance_n not in (1, 2):
            raise ValueError("dominance_n must be 1 or 2")
        if not 0 < self.dominance_k <= 1:
            raise ValueError("dominance_k must be a share in (0, 1]")
        if self.noise_bound < 0:
            raise ValueError("noise_bound must be 0 or more")

    def describe(self) -> str:
        text = (
            f"a figure is suppressed when fewer than {self.min_contributors} firms contribute "
            f"to it, or its {self.dominance_n} largest contributors hold more than "
            f"{self.dominance_k:.0%} of the aggregated variable"
        )
        if self.p_percent is not None:
            text += (
                f", or the other contributors sum to less than {self.p_percent:g}% of the largest"
            )
        return text + "; cells that would reveal a suppressed one are suppressed too"
