"""Wild cluster restricted (WCR) bootstrap for few clusters: p-values and intervals.

With fewer than about 30 clusters, cluster-robust t-tests over-reject. The WCR bootstrap of
Cameron, Gelbach & Miller (2008) imposes the null, flips the restricted residuals cluster by
cluster and compares the t statistic with its bootstrap distribution (the "WCR11" of
MacKinnon, Nielsen & Webb 2023, as in Stata's boottest and fwildclusterboot). Webb's six-point
weights are used with 12 clusters or fewer, Rademacher weights above. The interval inverts
the test: every null value whose p-value is at least 5%.

The model is the demeaned one (fixed effects projected out), so each draw costs O(G²), not
O(N): with `S` the k x G cluster scores of the restricted residuals and `H_g = X_g'X_g`, the
numerator and the cluster scores of every bootstrap draw are linear in the weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

DRAWS = 9_999
SEED = 20_261_129
WEBB_WEIGHTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def bootstrap_weights(n_clusters: int, draws: int = DRAWS, seed: int = SEED) -> np.ndarray:
    """G x B weights: Webb's six points for 12 clusters or fewer, Rademacher above."""
    rng = np.random.default_rng(seed)
    if n_clusters <= 12:
        return WEBB_WEIGHTS[rng.integers(0, 6, (n_clusters, draws))]
    return rng.choice(np.array([-1.0, 1.0]), (n_clusters, draws))


def _wild_p_value(
    y: np.ndarray,
    x: np.ndarray,
    j: int,
    null: float,
    indicator: sparse.csr_matrix,
    bread: np.ndarray,
    per_cluster_xx: np.ndarray,
    weights: np.ndarray,
    factor: float,
    t_observed: float,
) -> float:
    """Share of bootstrap |t*| at least as large as the observed |t| under beta_j = null."""
    others = [i for i in range(x.shape[1]) if i != j]
    target = y - null * x[:, j]
    if others:
        coef, *_ = np.linalg.lstsq(x[:, others], target, rcond=None)
        restricted = target - x[:, others] @ coef
    else:
        restricted = target
    scores = np.asarray(indicator.T @ (x * restricted[:, None])).T  # k x G
    a = bread[j]  # row j of (X'X)^-1
    c = a @ scores  # G: each cluster's contribution to the numerator
    d = np.einsum("k,gkl,lm,mh->gh", a, per_cluster_xx, bread, scores)  # G x G
    numerator = c @ weights  # B
    cluster_scores = c[:, None] * weights - d @ weights  # G x B
    se = np.sqrt(factor * (cluster_scores**2).sum(axis=0))
    t_star = numerator / np.where(se > 0, se, np.inf)
    return float(np.mean(np.abs(t_star) >= abs(t_observed) - 1e-12))


def wild_cluster_bootstrap(
    y: np.ndarray,
    x: np.ndarray,
    terms: list[str],
    clusters: np.ndarray,
    factor: float,
    params: pd.Series,
    level: float = 0.95,
    draws: int = DRAWS,
) -> pd.DataFrame:
    """wild_p_value, wild_ci_low, wild_ci_high per term of a demeaned OLS fit."""
    n_clusters = int(clusters.max()) + 1
    indicator = sparse.csr_matrix(
        (np.ones(len(clusters)), (np.arange(len(clusters)), clusters)),
        shape=(len(clusters), n_clusters),
    )
    bread = np.linalg.inv(x.T @ x)
    per_cluster_xx = np.zeros((n_clusters, x.shape[1], x.shape[1]))
    np.add.at(per_cluster_xx, clusters, np.einsum("nk,nl->nkl", x, x))
    weights = bootstrap_weights(n_clusters, draws)
    residuals = y - x @ params.to_numpy()
    scores = np.asarray(indicator.T @ (x * residuals[:, None]))
    se = np.sqrt(np.diag(factor * bread @ (scores.T @ scores) @ bread))
    rows = []
    for j, term in enumerate(terms):
        estimate = float(params.iloc[j])

        def p_value(null: float, j: int = j, estimate: float = estimate) -> float:
            t_observed = (estimate - null) / se[j]
            return _wild_p_value(
                y, x, j, null, indicator, bread, per_cluster_xx, weights, factor, t_observed
            )

        bounds = [_invert(p_value, estimate, se[j], side, 1 - level) for side in (-1, 1)]
        rows.append({"term": term, "wild_p_value": p_value(0.0), "wild_ci_low": bounds[0],
                     "wild_ci_high": bounds[1]})  # fmt: skip
    return pd.DataFrame(rows).set_index("term")


def _invert(p_value, estimate: float, se: float, side: int, alpha: float) -> float:
    """The null value on one side of the estimate where the p-value falls to alpha."""
    inside, step = estimate, se
    outside = estimate + side * step
    for _ in range(40):  # widen until the test rejects (few clusters: intervals can be wide)
        if p_value(outside) < alpha:
            break
        inside, step = outside, step * 2
        outside = estimate + side * step
    else:
        return float(side * np.inf)
    for _ in range(30):  # bisection to about se / 1e6
        middle = (inside + outside) / 2
        if p_value(middle) < alpha:
            outside = middle
        else:
            inside = middle
    return float((inside + outside) / 2)
