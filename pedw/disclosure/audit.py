"""The linear-programming audit: how well could an adversary pin a suppressed cell down from
everything published beside it?

For one country and size class, the unknowns are the gaps of every year. The published cells
are known to their rounding; a published trend and first-year level are linear functions of
the gaps (their weighted least-squares slope and intercept over the years, by contributors),
known to within one standard error; and an adversary may assume any gap lies within
+-`PRIOR_BOUND` log units. The audit minimises and maximises each suppressed gap under those
constraints; the interval it finds is what the adversary can learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

PRIOR_BOUND = 3.0  # log units: a gap of +-300 log points is beyond any real economy


@dataclass(frozen=True)
class PublishedTrend:
    """A published slope (per year) and level at `origin`, each with its standard error."""

    slope: float
    slope_se: float
    level: float
    level_se: float
    origin: int


def feasible_intervals(
    years: list[int],
    weights: list[float],
    published: dict[int, tuple[float, float]],
    trend: PublishedTrend | None,
) -> dict[int, tuple[float, float]]:
    """(lowest, highest) value each unpublished year's gap can take given `published`
    (year -> (value, half-width)) and `trend`."""
    hidden = [y for y in years if y not in published]
    if not hidden:
        return {}
    n = len(years)
    bounds = [
        (published[y][0] - published[y][1], published[y][0] + published[y][1])
        if y in published
        else (-PRIOR_BOUND, PRIOR_BOUND)
        for y in years
    ]
    rows, limits = [], []
    if trend is not None and n >= 2:
        rows, limits = _trend_constraints(years, weights, trend, bounds)
    a_ub = np.vstack(rows) if rows else None
    b_ub = np.asarray(limits) if rows else None
    intervals = {}
    for year in hidden:
        target = np.zeros(n)
        target[years.index(year)] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            fit = linprog(sign * target, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            ends.append(sign * fit.fun if fit.success else sign * -PRIOR_BOUND)
        intervals[year] = (ends[0], ends[1])
    return intervals


def _trend_constraints(
    years: list[int], weights: list[float], trend: PublishedTrend, bounds: list[tuple]
) -> tuple[list[np.ndarray], list[float]]:
    """Slope and level as linear constraints on the gaps. The published trend comes from a
    firm-level regression, not from the cell means, so the adversary's tolerance is the
    smallest multiple of its standard errors (1, 2, 4, ...) that the published cells allow."""
    w = np.asarray(weights, dtype=float)
    x = np.asarray(years, dtype=float) - trend.origin
    centre = (w * x).sum() / w.sum()
    spread = (w * (x - centre) ** 2).sum()
    if spread <= 0:
        return [], []
    slope = w * (x - centre) / spread
    level = w / w.sum() - centre * slope
    for tolerance in (1, 2, 4, 8, 16):
        rows, limits = [], []
        for coefficients, value, se in ((slope, trend.slope, trend.slope_se),
                                        (level, trend.level, trend.level_se)):  # fmt: skip
            rows += [coefficients, -coefficients]
            limits += [value + tolerance * se, -(value - tolerance * se)]
        check = linprog(np.zeros(len(years)), A_ub=np.vstack(rows), b_ub=np.asarray(limits),
                        bounds=bounds, method="highs")  # fmt: skip
        if check.success:
            return rows, limits
    return [], []
