"""Linear models with absorbed fixed effects, and the standard errors econometricians ask for.

Fixed effects are swept out by alternating projections (the method of reghdfe and pyfixest),
stopping on a change *relative* to each variable's scale, so sales in local currency converge
as well as log points. Regressors that the fixed effects absorb, that never vary, or that
repeat a linear combination of earlier regressors are dropped and listed in the result, never
reported as zero.

Variance estimators follow pyfixest / fixest defaults (Stata reghdfe's conventions):

| `vcov` | estimator | small-sample factor | t degrees of freedom |
|---|---|---|---|
| `"iid"` | s² (X'X)⁻¹, s² = e'e / (N - K) | - | N - K |
| `"HC1"` | heteroskedasticity-robust | N / (N - K) | N - K |
| `"CRV1"` | cluster-robust, one or two-way | G/(G-1) · (N-1)/(N-K) | min(G) - 1 |

K counts the regressors kept, the intercept when nothing is absorbed, and the fixed-effect
levels (less one per extra fixed effect); with clustered errors the fixed effects nested in a
cluster variable are not counted. Two-way clustering is V₁ + V₂ - V₁₂ with G = min(G₁, G₂) in
every factor (`fixef_k` chooses how fixed effects count, as fixest does). With fewer than
`WILD_BOOTSTRAP_BELOW` clusters, a one-way CRV1 fit asked for it (`wild_bootstrap=True`) also
carries wild cluster bootstrap p-values and intervals (:mod:`pedw.models.wild_bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from pedw.models.wild_bootstrap import WILD_COLUMNS, WildBootstrap

TOLERANCE = 1e-10  # largest change of a demeaned value, relative to its within variation
WITHIN_FLOOR = 1e-9  # within variation below this share of a column's range counts as none
MAX_ITERATIONS = 10_000
COLLINEARITY_TOLERANCE = 1e-10  # share of a regressor's variation left after projection
MIN_CLUSTERS = 5
WILD_BOOTSTRAP_BELOW = 30
CROSSING_DUMMIES = 200  # levels of crossing fixed effects the wild bootstrap takes as dummies
VCOV_TYPES = ("iid", "HC1", "CRV1")
FIXEF_K = ("nested", "full", "none")


class InsufficientDataError(ValueError):
    """Too few complete rows or clusters to fit a model (the caller skips it and says so)."""


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
    vcov: str = "CRV1"
    dropped: dict[str, str] = field(default_factory=dict)  # term -> why it was dropped
    wild: pd.DataFrame | None = None  # wild bootstrap p-value and 95% interval per term
    extra: dict = field(default_factory=dict)
    n_dropped: int = 0  # rows left out of the fit
    dropped_rows: dict[str, int] = field(default_factory=dict)  # reason -> rows (may overlap)
    k_total: int = 0  # parameters counted in the small-sample factor
    fixef_k: str = "nested"
    weights: str | None = None
    bootstrap: WildBootstrap | None = field(default=None, repr=False)

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """estimate, std_error, ci_low, ci_high, p_value per term (and the wild bootstrap's),
        every interval at `level`."""
        if not 0 < level < 1:
            raise ValueError(f"level must lie between 0 and 1, not {level!r}")
        se = self.std_errors
        t_crit = stats.t.ppf(0.5 + level / 2, self.df_t)
        t_values = self.params / se
        table = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_error": se.to_numpy(),
                "ci_low": (self.params - t_crit * se).to_numpy(),
                "ci_high": (self.params + t_crit * se).to_numpy(),
                "p_value": 2 * stats.t.sf(np.abs(t_values.to_numpy()), self.df_t),
            }
        )
        if self.bootstrap is not None and level != 0.95:
            wild = self.bootstrap.table(level)
        else:
            wild = self.wild if self.wild is not None else pd.DataFrame(index=self.params.index)
        wild = wild.reindex(index=self.params.index, columns=WILD_COLUMNS)
        for column in WILD_COLUMNS:
            table[column] = wild[column].to_numpy(dtype=float)
        return table


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values, sort=True)[0]


def _indicator(codes: np.ndarray) -> sparse.csr_matrix:
    """The n x G 0/1 matrix of a fixed effect's levels."""
    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, codes.max() + 1))


def demean(
    matrix: np.ndarray, groups: list[np.ndarray], weights: np.ndarray | None = None
) -> np.ndarray:
    """Sweep every fixed effect out of each column of `matrix` (alternating projections),
    with weighted group means when `weights` is given (weighted least squares).

    Each column is centred first (its level carries no information once a fixed effect is
    absorbed), and a column has converged when no value moves by more than TOLERANCE times
    its current within variation (largest absolute demeaned value): a column at 1e9 that
    varies by 1e3 within firms is judged on the 1e3, not on the 1e9.
    """
    result = np.array(matrix, dtype=float, order="C", copy=True)  # row-major: no copy per sweep
    if not groups:
        return result
    w = np.ones(len(result)) if weights is None else np.asarray(weights, dtype=float)
    result -= (w @ result) / w.sum()
    floor = np.maximum(WITHIN_FLOOR * np.abs(result).max(axis=0), np.finfo(float).tiny)
    indicators = [_indicator(g) for g in groups]
    weighted = [sparse.csr_matrix(d.multiply(w[:, None])) for d in indicators]
    totals = [np.asarray(d.sum(axis=0)).ravel() for d in weighted]
    for _ in range(MAX_ITERATIONS):
        change = np.zeros(result.shape[1])
        for g, d, n in zip(groups, weighted, totals, strict=True):
            means = (d.T @ result) / n[:, None]
            result -= means[g]
            change = np.maximum(change, np.abs(means).max(axis=0))
        if len(groups) == 1:
            return result
        scale = np.maximum(np.abs(result).max(axis=0), floor)
        if (change / scale).max() < TOLERANCE:
            return result
    raise RuntimeError("fixed effects did not converge in alternating projections")


def collinear_terms(
    original: np.ndarray, demeaned: np.ndarray, names: list[str], absorbing: bool
) -> dict[str, str]:
    """Regressors to drop, each with the reason: no variation, absorbed by the fixed effects,
    or a linear combination of the regressors before it (the order the caller gave).

    Works on the k x k cross-product matrix (one pass over the rows), not on the rows once
    per regressor: an event study with 80 terms on 1M rows stays cheap.
    """
    dropped: dict[str, str] = {}
    centered = original - original.mean(axis=0) if absorbing else original
    total = (centered**2).sum(axis=0)
    gram = demeaned.T @ demeaned
    left = np.diag(gram)
    kept: list[int] = []
    for j, name in enumerate(names):
        if total[j] == 0 or not np.isfinite(total[j]):
            dropped[name] = "no variation (constant or all zeros)"
            continue
        if absorbing and left[j] <= COLLINEARITY_TOLERANCE * total[j]:
            dropped[name] = "absorbed by the fixed effects"
            continue
        if kept:
            coef, *_ = np.linalg.lstsq(gram[np.ix_(kept, kept)], gram[kept, j], rcond=None)
            residual = left[j] - gram[kept, j] @ coef  # squared norm left after projection
            if residual <= COLLINEARITY_TOLERANCE * left[j]:
                partners = [names[k] for k, c in zip(kept, coef, strict=True) if abs(c) > 1e-8]
                dropped[name] = "collinear with " + " + ".join(partners)
                continue
        kept.append(j)
    return dropped


def fixef_degrees(absorbed: dict[str, int], nested: set[str], fixef_k: str = "nested") -> int:
    """Fixed-effect parameters counted in K (the rules of fixest's `fixef.K`, pyfixest's
    `k_fixef`): the levels, less one per fixed effect beyond the first.

    "full" counts every fixed effect; "none" counts none; "nested" (fixest, reghdfe and
    pyfixest's default) does not count the levels of a fixed effect nested in a cluster
    variable but keeps one parameter for it (the constant reghdfe reports).
    """
    if not absorbed or fixef_k == "none":
        return 0
    levels = sum(absorbed.values()) - (len(absorbed) - 1)
    if fixef_k == "full":
        return levels
    return levels - sum(absorbed[a] for a in nested) + len(nested)


def _cluster_meat(x: np.ndarray, residuals: np.ndarray, codes: np.ndarray) -> np.ndarray:
    scores = _indicator(codes).T @ (x * residuals[:, None])
    return scores.T @ scores


def _names(value: object, argument: str) -> list[str]:
    """A list of column names from a list/tuple of strings; a clear error for anything else."""
    if isinstance(value, str):
        raise TypeError(
            f"{argument} must be a list of column names, not the string {value!r}"
            f" (did you mean [{value!r}]?)"
        )
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{argument} must be a list of column names, not {value!r}")
    return list(value)


def _check_finite(data: pd.DataFrame, columns: list[str]) -> None:
    """Refuse infinite values, naming the column, the count and the first row."""
    for column in columns:
        values = data[column]
        if not pd.api.types.is_numeric_dtype(values):
            raise TypeError(f"column {column!r} is not numeric (dtype {values.dtype})")
        infinite = np.isinf(values.to_numpy(dtype=float))
        if infinite.any():
            raise ValueError(
                f"column {column!r} has {int(infinite.sum())} infinite value(s), first at row"
                f" {data.index[infinite.argmax()]} (a log of zero or a division by zero?):"
                " replace them by NaN to drop those rows, or fix the input"
            )


def fe_ols(
    frame: pd.DataFrame,
    outcome: str,
    regressors: Sequence[str],
    absorb: Sequence[str],
    cluster: str | Sequence[str] | None = None,
    vcov: str | None = None,
    wild_bootstrap: bool = False,
    weights: str | None = None,
    fixef_k: str = "nested",
) -> FitResult:
    """Regress `outcome` on `regressors` with fixed effects `absorb`.

    `vcov` is "iid", "HC1" or "CRV1" (the default when `cluster` is given: one column, or two
    for two-way clustering; `cluster` with "iid" or "HC1" is refused). `weights` names a
    column of positive weights (weighted least squares, as pyfixest's default analytic
    weights: N counts rows). `fixef_k` sets how fixed effects count in the small-sample
    factor ("nested", "full" or "none"; see :func:`fixef_degrees`). Rows with a missing value
    in any variable are dropped and counted in `n_dropped` / `dropped_rows`; infinite values
    are refused. Without fixed effects an intercept is estimated. With one cluster column
    and fewer than WILD_BOOTSTRAP_BELOW clusters, `wild_bootstrap=True` adds a wild cluster
    bootstrap (opt-in: at 100k rows and 10 regressors it costs 2-4x the fit).
    """
    if not isinstance(outcome, str):
        raise TypeError(f"outcome must be a column name, not {outcome!r}")
    regressors = _names(regressors, "regressors")
    absorb = _names(absorb, "absorb")
    clusters = [cluster] if isinstance(cluster, str) else _names(cluster or [], "cluster")
    if vcov is not None and vcov not in VCOV_TYPES:
        raise ValueError(f"vcov must be one of {VCOV_TYPES}, not {vcov!r}")
    if clusters and vcov in ("iid", "HC1"):
        raise ValueError(
            f"cluster={cluster!r} conflicts with vcov={vcov!r}: give vcov='CRV1' (or no vcov)"
            " for clustered errors, or no cluster"
        )
    vcov = vcov or ("CRV1" if clusters else "iid")
    if vcov == "CRV1" and not 1 <= len(clusters) <= 2:
        raise ValueError("CRV1 needs one or two cluster columns")
    if fixef_k not in FIXEF_K:
        raise ValueError(f"fixef_k must be one of {FIXEF_K}, not {fixef_k!r}")
    if weights is not None and not isinstance(weights, str):
        raise TypeError(f"weights must be a column name, not {weights!r}")
    columns = list(dict.fromkeys([outcome, *regressors, *absorb, *clusters]))
    if weights is not None:
        columns = list(dict.fromkeys([*columns, weights]))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"column(s) {missing} not in the frame")
    numeric = list(dict.fromkeys([outcome, *regressors, *([weights] if weights else [])]))
    _check_finite(frame, numeric)
    if weights is not None and (frame[weights] < 0).any():
        bad = frame.index[(frame[weights] < 0).to_numpy()]
        raise ValueError(
            f"weights column {weights!r} has {len(bad)} negative value(s), first at row {bad[0]}"
        )
    incomplete = frame[columns].isna()
    complete = ~incomplete.any(axis=1)
    if weights is not None:
        complete &= frame[weights].fillna(0).to_numpy() > 0
    dropped_rows = {f"missing {c}": int(n) for c, n in incomplete.sum().items() if n}
    if weights is not None and (zero := int((frame[weights] == 0).sum())):
        dropped_rows[f"zero {weights}"] = zero
    n_dropped = int(len(frame) - complete.sum())
    data = frame.loc[complete, columns].reset_index(drop=True)
    cluster_codes = [_codes(data[c]) for c in clusters]
    n_clusters = min((int(c.max()) + 1 for c in cluster_codes), default=0) if len(data) else 0
    if data.empty or (clusters and n_clusters < MIN_CLUSTERS):
        raise InsufficientDataError(
            f"{outcome} ~ {' + '.join(regressors)}: {len(data)} complete rows"
            + (f" in {n_clusters} clusters (at least {MIN_CLUSTERS} clusters needed)" if clusters else "")
        )  # fmt: skip

    w = data[weights].to_numpy(float) if weights is not None else None
    root_w = np.sqrt(w) if w is not None else None
    groups = [_codes(data[a]) for a in absorb]
    names = list(regressors) if absorb else ["Intercept", *regressors]
    design = data[list(regressors)].to_numpy(float)
    if not absorb:
        design = np.column_stack([np.ones(len(data)), design])
    demeaned = demean(np.column_stack([data[outcome].to_numpy(float), design]), groups, w)
    if root_w is not None:  # WLS = OLS on rows scaled by the root of their weight
        demeaned *= root_w[:, None]
    y, x_all = demeaned[:, 0], demeaned[:, 1:]
    scaled = design * root_w[:, None] if root_w is not None else design
    dropped = collinear_terms(scaled, x_all, names, absorbing=bool(absorb))
    kept = [j for j, name in enumerate(names) if name not in dropped]
    if not kept:
        raise InsufficientDataError(
            f"{outcome}: every regressor was dropped ({'; '.join(f'{k}: {v}' for k, v in dropped.items())})"
        )
    x = x_all[:, kept]
    terms = [names[j] for j in kept]
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ (x.T @ y)
    residuals = y - x @ beta
    n, k = x.shape

    absorbed = {a: int(g.max() + 1) for a, g in zip(absorb, groups, strict=True)}
    nested = {a for a in absorb for c in clusters if _nested(data[a], data[c])}
    k_total = k + fixef_degrees(absorbed, nested, fixef_k)
    if n <= k_total:
        raise InsufficientDataError(f"{outcome}: {n} rows for {k_total} parameters")
    factor = 1.0
    if vcov == "iid":
        cov = residuals @ residuals / (n - k_total) * bread
        df_t = n - k_total
    elif vcov == "HC1":
        meat = (x * residuals[:, None] ** 2).T @ x
        cov = n / (n - k_total) * bread @ meat @ bread
        df_t = n - k_total
    else:
        factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - k_total)
        codes = list(cluster_codes)
        signs = [1.0] * len(codes)
        if len(codes) == 2:  # two-way: V1 + V2 - V(1 x 2)
            codes.append(
                _codes(pd.Series(codes[0]).astype(str) + ":" + pd.Series(codes[1]).astype(str))
            )
            signs.append(-1.0)
        meat = sum(s * _cluster_meat(x, residuals, c) for s, c in zip(signs, codes, strict=True))
        cov = factor * bread @ meat @ bread
        df_t = n_clusters - 1

    total = y @ y
    fit = FitResult(
        params=pd.Series(beta, index=terms),
        cov=pd.DataFrame(cov, index=terms, columns=terms),
        df_t=int(df_t),
        n_obs=int(n),
        n_clusters=int(n_clusters) if clusters else 0,
        r2_within=float(1 - residuals @ residuals / total) if total > 0 else float("nan"),
        absorbed=absorbed,
        formula=f"{outcome} ~ {' + '.join(regressors)}"
        + (f" | {' + '.join(absorb)}" if absorb else "")
        + (f", cluster({' + '.join(clusters)})" if clusters else f", vcov({vcov})")
        + (f", weights({weights})" if weights else ""),
        vcov=vcov,
        dropped=dropped,
        n_dropped=n_dropped,
        dropped_rows=dropped_rows,
        k_total=int(k_total),
        fixef_k=fixef_k,
        weights=weights,
    )
    if (
        wild_bootstrap
        and vcov == "CRV1"
        and len(clusters) == 1
        and n_clusters < WILD_BOOTSTRAP_BELOW
    ):
        fit.bootstrap = _wild_bootstrap(
            data, outcome, design[:, kept], terms, absorb, groups, nested, w,
            (y, x), cluster_codes[0], factor, fit.params,
        )  # fmt: skip
        fit.wild = fit.bootstrap.table(0.95)
    return fit


def _wild_bootstrap(
    data: pd.DataFrame,
    outcome: str,
    design: np.ndarray,
    terms: list[str],
    absorb: list[str],
    groups: list[np.ndarray],
    nested: set[str],
    w: np.ndarray | None,
    demeaned: tuple[np.ndarray, np.ndarray],
    clusters: np.ndarray,
    factor: float,
    params: pd.Series,
) -> WildBootstrap:
    """The wild bootstrap of a fit. Fixed effects nested in the clusters stay swept out.
    Fixed effects that cross the clusters enter as dummies when they have at most
    CROSSING_DUMMIES levels in all (as boottest does: the restricted fits then see them, and
    no draw needs a sweep); with more levels every cluster's flipped residuals are swept
    again (one sweep of G columns per term)."""
    crossing = [(a, g) for a, g in zip(absorb, groups, strict=True) if a not in nested]
    root_w = np.sqrt(w) if w is not None else None
    if not crossing:
        return WildBootstrap(*demeaned, terms, clusters, factor, params)
    if sum(int(g.max()) for _, g in crossing) > CROSSING_DUMMIES:

        def project(blocks: np.ndarray) -> np.ndarray:
            if root_w is None:
                return demean(blocks, groups)
            return demean(blocks / root_w[:, None], groups, w) * root_w[:, None]

        return WildBootstrap(*demeaned, terms, clusters, factor, params, project)
    inner = [g for a, g in zip(absorb, groups, strict=True) if a in nested]
    columns, names = [design], list(terms)
    if not inner:
        columns.append(np.ones((len(data), 1)))
        names.append("_constant")
    for a, g in crossing:  # every level but the first of each crossing fixed effect
        levels = int(g.max()) + 1
        columns.append((g[:, None] == np.arange(1, levels)[None, :]).astype(float))
        names += [f"_{a}:{level}" for level in range(1, levels)]
    original = np.column_stack(columns)
    swept = demean(np.column_stack([data[outcome].to_numpy(float), original]), inner, w)
    if root_w is not None:
        swept *= root_w[:, None]
        original = original * root_w[:, None]
    y, x = swept[:, 0], swept[:, 1:]
    redundant = collinear_terms(original, x, names, absorbing=bool(inner))
    keep = [j for j, name in enumerate(names) if name not in redundant]
    x, names = x[:, keep], [names[j] for j in keep]
    beta = np.linalg.solve(x.T @ x, x.T @ y)
    return WildBootstrap(y, x, names, clusters, factor, pd.Series(beta, index=names),
                         report=terms)  # fmt: skip


def _nested(inner: pd.Series, outer: pd.Series) -> bool:
    """True when every level of `inner` lies within a single level of `outer`."""
    return bool((pd.DataFrame({"i": inner, "o": outer}).groupby("i")["o"].nunique() <= 1).all())
