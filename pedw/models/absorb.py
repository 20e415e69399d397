"""Linear models with absorbed fixed effects and cluster-robust standard errors.

Fixed effects are swept out by alternating projections (the method of reghdfe and pyfixest),
then the demeaned model is fitted with a statsmodels formula. Standard errors are CRV1
cluster-robust with the small-sample factor G/(G-1) * (N-1)/(N-K), where K counts the
regressors and the fixed-effect levels not nested in the clusters, and inference uses a
t distribution with G-1 degrees of freedom: the conventions of reghdfe and pyfixest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

TOLERANCE = 1e-10
MAX_ITERATIONS = 10_000


class InsufficientDataError(ValueError):
    """Too few complete rows or clusters to fit a model (the caller skips it and says so)."""


MIN_CLUSTERS = 5


@dataclass
class FitResult:
    """Coefficients with their uncertainty, and what a referee asks about the fit."""

    params: pd.Series
    cov: pd.DataFrame
    df_t: int
    n_obs: int
    n_clusters: int
    r2_within: float
    absorbed: dict[str, int]
    formula: str
    extra: dict = field(default_factory=dict)

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """estimate, std_error, ci_low, ci_high, p_value per term."""
        se = self.std_errors
        t_crit = stats.t.ppf(0.5 + level / 2, self.df_t)
        t_values = self.params / se
        return pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_error": se.to_numpy(),
                "ci_low": (self.params - t_crit * se).to_numpy(),
                "ci_high": (self.params + t_crit * se).to_numpy(),
                "p_value": 2 * stats.t.sf(np.abs(t_values.to_numpy()), self.df_t),
            }
        )


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values, sort=True)[0]


def demean(matrix: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Sweep every fixed effect out of each column of `matrix` (alternating projections)."""
    result = np.array(matrix, dtype=float, copy=True)
    if not groups:
        return result
    counts = [np.bincount(g) for g in groups]
    for _ in range(MAX_ITERATIONS):
        previous = result.copy()
        for g, n in zip(groups, counts, strict=True):
            for j in range(result.shape[1]):
                result[:, j] -= (np.bincount(g, weights=result[:, j], minlength=len(n)) / n)[g]
        if len(groups) == 1 or np.max(np.abs(result - previous)) < TOLERANCE:
            return result
    raise RuntimeError("fixed effects did not converge in alternating projections")


def fe_ols(
    frame: pd.DataFrame, outcome: str, regressors: list[str], absorb: list[str], cluster: str
) -> FitResult:
    """Regress `outcome` on `regressors` with fixed effects `absorb`, clustering by `cluster`.

    Rows with a missing value in any variable are dropped first (unbalanced panels are fine);
    singleton fixed-effect groups are kept (they contribute nothing to the slope estimates).
    """
    columns = list(dict.fromkeys([outcome, *regressors, *absorb, cluster]))
    data = frame[columns].dropna().reset_index(drop=True)
    if data.empty or data[cluster].nunique() < MIN_CLUSTERS:
        raise InsufficientDataError(
            f"{outcome} ~ {' + '.join(regressors)}: {len(data)} complete rows in "
            f"{data[cluster].nunique()} clusters (at least {MIN_CLUSTERS} clusters needed)"
        )

    groups = [_codes(data[a]) for a in absorb]
    demeaned = demean(data[[outcome, *regressors]].to_numpy(float), groups)
    work = pd.DataFrame(demeaned, columns=[outcome, *regressors])
    formula = f"{outcome} ~ {' + '.join(regressors)} - 1"
    model = smf.ols(formula, data=work)
    fitted = model.fit()
    x = model.exog
    residuals = fitted.resid.to_numpy()
    clusters = _codes(data[cluster])
    n_clusters = clusters.max() + 1
    scores = np.zeros((n_clusters, x.shape[1]))
    np.add.at(scores, clusters, x * residuals[:, None])
    bread = np.linalg.pinv(x.T @ x)
    meat = scores.T @ scores
    n, k = x.shape
    absorbed_levels = {a: int(g.max() + 1) for a, g in zip(absorb, groups, strict=True)}
    k_fe = sum(
        levels for a, levels in absorbed_levels.items() if not _nested(data[a], data[cluster])
    )
    k_fe -= max(0, sum(1 for a in absorb if not _nested(data[a], data[cluster])) - 1) if k_fe else 0
    k_total = k + k_fe
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - k_total)
    cov = pd.DataFrame(
        factor * bread @ meat @ bread, index=model.exog_names, columns=model.exog_names
    )
    total = work[outcome].to_numpy()
    r2_within = 1 - residuals @ residuals / (total @ total) if total @ total > 0 else float("nan")
    return FitResult(
        params=fitted.params,
        cov=cov,
        df_t=int(n_clusters - 1),
        n_obs=int(n),
        n_clusters=int(n_clusters),
        r2_within=float(r2_within),
        absorbed=absorbed_levels,
        formula=f"{outcome} ~ {' + '.join(regressors)}"
        + (f" | {' + '.join(absorb)}" if absorb else "")
        + f", cluster({cluster})",
    )


def _nested(inner: pd.Series, outer: pd.Series) -> bool:
    """True when every level of `inner` lies within a single level of `outer`."""
    return bool((pd.DataFrame({"i": inner, "o": outer}).groupby("i")["o"].nunique() <= 1).all())
