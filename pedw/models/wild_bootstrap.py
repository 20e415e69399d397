"""Wild cluster restricted (WCR) bootstrap for few clusters: p-values and intervals.

With fewer than about 30 clusters, cluster-robust t-tests over-reject. The WCR bootstrap of
Cameron, Gelbach & Miller (2008) imposes the null, flips the restricted residuals cluster by
cluster and compares the t statistic with its bootstrap distribution (the "WCR11" of
MacKinnon, Nielsen & Webb 2023, as in Stata's boottest and fwildclusterboot). Webb's six-point
weights are used with 12 clusters or fewer, Rademacher weights above. The interval inverts
the test: every null value whose p-value is at least 1 - level.

The model is the demeaned one (fixed effects projected out). A bootstrap outcome
`X b_r + D a_r + u_r * w` refitted with the fixed effects `D` has residuals
`M_X M_D (u_r * w)`: when a fixed effect is not nested in the clusters (year effects with
country clusters), flipping residuals cluster by cluster moves the fixed effects' means, and
`M_D` must be applied to each cluster's flipped block, or the absorbed and the dummy
designs give different p-values. The sweep runs once per term on G columns (`project`).

Everything that touches the N rows is computed once per term: the restricted residuals are
linear in the null value (`u(b0) = u0 - b0 u1`), so each null value tried by the interval
search costs O(B), not O(N) or O(G² B).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import sparse

DRAWS = 9_999
SEED = 20_261_129
WEBB_WEIGHTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
WILD_COLUMNS = ["wild_p_value", "wild_ci_low", "wild_ci_high"]


def bootstrap_weights(n_clusters: int, draws: int = DRAWS, seed: int = SEED) -> np.ndarray:
    """G x B weights: Webb's six points for 12 clusters or fewer, Rademacher above."""
    rng = np.random.default_rng(seed)
    if n_clusters <= 12:
        return WEBB_WEIGHTS[rng.integers(0, 6, (n_clusters, draws))]
    return rng.choice(np.array([-1.0, 1.0]), (n_clusters, draws))


class WildBootstrap:
    """The WCR bootstrap of one fitted model: p-values at any null, intervals at any level.

    `y` and `x` are the model's outcome and kept regressors with the fixed effects swept out
    (and scaled by the square root of the weights in a weighted fit); `project` sweeps the
    fixed effects out of the columns of an n x m matrix, or is None when every fixed effect
    is nested in the clusters (then the sweep leaves a cluster's flipped block unchanged).
    `x` may also hold dummies of fixed effects that cross the clusters (then `project` is
    None); `report` names the terms the table gives (default: all).
    """

    def __init__(
        self,
        y: np.ndarray,
        x: np.ndarray,
        terms: list[str],
        clusters: np.ndarray,
        factor: float,
        params: pd.Series,
        project: Callable[[np.ndarray], np.ndarray] | None = None,
        draws: int = DRAWS,
        seed: int = SEED,
        report: list[str] | None = None,
    ) -> None:
        self.y, self.x, self.terms, self.factor = y, x, list(terms), factor
        self.report = list(report) if report is not None else list(terms)
        self.params = params.to_numpy(dtype=float)
        self.project = project
        self.n_clusters = int(clusters.max()) + 1
        n = len(clusters)
        self.indicator = sparse.csr_matrix(
            (np.ones(n), (np.arange(n), clusters)), shape=(n, self.n_clusters)
        )
        self.bread = np.linalg.inv(x.T @ x)
        k = x.shape[1]
        self.per_cluster_xx = np.zeros((self.n_clusters, k, k))
        order = np.argsort(clusters, kind="stable")
        bounds = np.searchsorted(clusters[order], np.arange(self.n_clusters + 1))
        ordered = x[order]
        for g in range(self.n_clusters):  # G < 30 blocks, not rows
            block = ordered[bounds[g] : bounds[g + 1]]
            self.per_cluster_xx[g] = block.T @ block
        self.weights = bootstrap_weights(self.n_clusters, draws, seed)
        self.xx, self.xty = x.T @ x, x.T @ y
        self.xy_per_cluster = self._scores(y)  # k x G: X_g' y_g
        residuals = y - x @ self.params
        scores = self._scores(residuals)
        self.se = np.sqrt(np.diag(factor * self.bread @ (scores @ scores.T) @ self.bread))
        self._pieces: dict[int, tuple[np.ndarray, ...]] = {}

    def _scores(self, residuals: np.ndarray) -> np.ndarray:
        """k x G cluster scores X_g' u_g."""
        return np.asarray(self.indicator.T @ (self.x * residuals[:, None])).T

    def _cross(self, a: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """The G x G matrix whose entry (g, h) is a' X_g' [M_D (u * 1_h)]_g, as a function of u:
        cluster g's score of cluster h's flipped residuals once the fixed effects are swept out
        again. M_D is symmetric, so this is sum over h's rows of u * M_D(Xa * 1_g): one sweep
        of G columns per term serves every residual vector."""
        if self.project is None:
            return lambda u: np.diag(a @ self._scores(u))
        xa = self.x @ a
        swept = self.project(self.indicator.multiply(xa[:, None]).toarray())  # n x G
        return lambda u: np.asarray(self.indicator.T @ (swept * u[:, None])).T

    def _term_pieces(self, j: int) -> tuple[np.ndarray, ...]:
        """For term j, the bootstrap numerator and squared standard error as polynomials in
        the null value b0, one coefficient vector (length B) each: computed once, so each
        null value the interval search tries costs O(B)."""
        if j in self._pieces:
            return self._pieces[j]
        others = [i for i in range(self.x.shape[1]) if i != j]
        # The restricted regressions (y and x_j on the other regressors) from k x k blocks,
        # and their cluster scores from the per-cluster blocks: no pass over the rows.
        xx, pcxx = self.xx, self.per_cluster_xx
        targets = np.column_stack([self.xty, xx[:, j]])  # X'y and X'x_j
        coef = np.linalg.solve(xx[np.ix_(others, others)], targets[others]) if others else None
        per_cluster_targets = [self.xy_per_cluster, pcxx[:, :, j].T]  # k x G each
        a = self.bread[j]
        cross = self._cross(a)
        drawn = []
        a_xx_bread = np.einsum("k,gkl->gl", a, pcxx) @ self.bread  # G x k: a' X_g'X_g (X'X)^-1
        for which, own in enumerate((self.y, self.x[:, j])):
            s = per_cluster_targets[which]
            if others:
                full = np.zeros(len(a))
                full[others] = coef[:, which]
                s = s - (pcxx @ full).T
            c = a @ s  # each cluster's share of the numerator
            d = a_xx_bread @ s  # G x G
            if self.project is None:
                crossed = np.diag(c)
            else:
                r = own - self.x[:, others] @ coef[:, which] if others else own
                crossed = cross(r)
            drawn.extend([c @ self.weights, (crossed - d) @ self.weights])
        num0, sc0, num1, sc1 = drawn  # numerator = num0 - b0 num1; scores = sc0 - b0 sc1
        self._pieces[j] = (
            num0,
            num1,
            (sc0**2).sum(axis=0),
            (sc0 * sc1).sum(axis=0),
            (sc1**2).sum(axis=0),
        )
        return self._pieces[j]

    def p_value(self, term: str, null: float = 0.0) -> float:
        """Share of bootstrap |t*| at least as large as the observed |t| under beta = null."""
        j = self.terms.index(term)
        num0, num1, q00, q01, q11 = self._term_pieces(j)
        numerator = num0 - null * num1
        variance = self.factor * np.maximum(q00 - 2 * null * q01 + null * null * q11, 0.0)
        se = np.sqrt(variance)
        t_star = numerator / np.where(se > 0, se, np.inf)
        t_observed = (self.params[j] - null) / self.se[j]
        return float(np.mean(np.abs(t_star) >= abs(t_observed) - 1e-12))

    def interval(self, term: str, level: float = 0.95) -> tuple[float, float]:
        """Every null value the test does not reject at 1 - level."""
        j = self.terms.index(term)
        estimate, se = float(self.params[j]), float(self.se[j])
        low, high = (
            _invert(lambda b: self.p_value(term, b), estimate, se, side, 1 - level)
            for side in (-1, 1)
        )
        return low, high

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """wild_p_value, wild_ci_low, wild_ci_high per term."""
        rows = []
        for term in self.report:
            low, high = self.interval(term, level)
            rows.append({"term": term, "wild_p_value": self.p_value(term), "wild_ci_low": low,
                         "wild_ci_high": high})  # fmt: skip
        return pd.DataFrame(rows, columns=["term", *WILD_COLUMNS]).set_index("term")


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
    for _ in range(60):  # bisection to se / 1e6
        if abs(outside - inside) <= 1e-6 * se:
            break
        middle = (inside + outside) / 2
        if p_value(middle) < alpha:
            outside = middle
        else:
            inside = middle
    return float((inside + outside) / 2)
