"""Sufficient statistics of a fixed-effects model, one country at a time, and their exact pool.

A linear model whose fixed effects are all nested in the country (firm, country, country-year)
is, after those effects are swept out, ordinary least squares on within-country demeaned rows.
Each country's rows are demeaned by its own office alone (a firm's or a country-year's mean
uses that country's rows only), so the pooled cross-products are sums of per-country ones:

    Z'Z = sum_c Z_c'Z_c,   Z'y = sum_c Z_c'y_c,   y'y = sum_c y_c'y_c

and the pooled coefficients, residual sum of squares and iid covariance follow exactly.
Fixed effects that cross countries (year, sector, size-year) cannot be swept per country;
they travel as indicator columns (`crossing`), demeaned like the regressors, and the pool
drops the indicators the nested effects make redundant: by Frisch-Waugh-Lovell the
regressors' coefficients and covariance are those of the model that absorbs them.

Cluster-robust (CRV1) covariances need the per-cluster score sums s_g = Z_g'e_g:

* clusters = countries: s_c = Z_c'y_c - Z_c'Z_c b, from the same statistics (one round);
* clusters nested in a country (firms): the centre sends the pooled coefficients back, each
  office returns M_c = sum_g s_g s_g' over its clusters (:func:`cluster_meat`, second round).

Degrees of freedom and the small-sample factor count the fixed effects as
:func:`pedw.models.absorb.fe_ols` does (`fixef_k`), from the levels each office reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from pedw.models.absorb import (
    COLLINEARITY_TOLERANCE,
    FIXEF_K,
    MIN_CLUSTERS,
    FitResult,
    InsufficientDataError,
    _codes,
    _nested,
    demean,
    fixef_degrees,
)

FORMAT_VERSION = 1  # of the statistics' JSON form (to_dict / from_dict)


@dataclass(frozen=True)
class PoolingSpec:
    """A fixed-effects model in a form whose statistics pool exactly.

    `absorb` lists fixed effects nested in `country` (swept out by each office); `crossing`
    fixed effects shared by countries (carried as indicator columns). `cluster` is None (iid
    errors), `country`, or a column nested in the country (e.g. `firm_id`).
    """

    name: str
    outcome: str
    regressors: tuple[str, ...]
    absorb: tuple[str, ...]
    crossing: tuple[str, ...] = ()
    cluster: str | None = None
    country: str = "country"
    unit: str = "firm_id"  # whose count the disclosure rules apply to

    def __post_init__(self) -> None:
        if not self.absorb:
            raise ValueError(
                f"{self.name}: absorb at least one fixed effect nested in the country"
                " (the country itself, or firm): without it the offices' intercepts differ"
            )
        for name in ("regressors", "absorb", "crossing"):
            if isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a tuple of column names")

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys([
            self.outcome, *self.regressors, *self.absorb, *self.crossing, self.country,
            *([self.cluster] if self.cluster else []), self.unit,
        ]))  # fmt: skip

    def to_dict(self) -> dict:
        return {
            "name": self.name, "outcome": self.outcome, "regressors": list(self.regressors),
            "absorb": list(self.absorb), "crossing": list(self.crossing),
            "cluster": self.cluster, "country": self.country, "unit": self.unit,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> PoolingSpec:
        return cls(
            name=data["name"], outcome=data["outcome"], regressors=tuple(data["regressors"]),
            absorb=tuple(data["absorb"]), crossing=tuple(data["crossing"]),
            cluster=data["cluster"], country=data["country"], unit=data["unit"],
        )  # fmt: skip


@dataclass
class CountryStatistics:
    """One country's within-transformed cross-products of [crossing indicators, regressors]
    (Z) and the outcome (y), and the counts the degrees of freedom and the disclosure rules
    need. Never a row of a firm: every entry sums over the country's firm-years."""

    spec: PoolingSpec
    country: str
    terms: list[str]  # crossing indicators ("year=2016"), then the regressors
    ztz: np.ndarray
    zty: np.ndarray
    yty: float
    n_obs: int
    n_units: int  # distinct firms behind the statistics
    n_clusters: int
    absorbed: dict[str, int]  # levels of each nested fixed effect in this country
    nested_in_cluster: dict[str, bool]  # is the fixed effect nested in the cluster variable
    crossing_levels: dict[str, list[str]]  # levels of each crossing fixed effect seen here
    sum_z: np.ndarray = field(default_factory=lambda: np.empty(0))  # unswept sums of Z
    sum_zz: np.ndarray = field(default_factory=lambda: np.empty(0))  # unswept sums of squares
    units_per_term: dict[str, int] = field(default_factory=dict)  # firms where it is not 0
    zero_units_per_term: dict[str, int] = field(default_factory=dict)  # firms where it is 0
    n_dropped: int = 0

    def to_dict(self) -> dict:
        return {
            "format_version": FORMAT_VERSION, "spec": self.spec.to_dict(),
            "country": self.country, "terms": self.terms, "ztz": self.ztz.tolist(),
            "zty": self.zty.tolist(), "yty": self.yty, "n_obs": self.n_obs,
            "n_units": self.n_units, "n_clusters": self.n_clusters,
            "absorbed": self.absorbed, "nested_in_cluster": self.nested_in_cluster,
            "crossing_levels": self.crossing_levels, "sum_z": self.sum_z.tolist(),
            "sum_zz": self.sum_zz.tolist(), "units_per_term": self.units_per_term,
            "zero_units_per_term": self.zero_units_per_term,
            "n_dropped": self.n_dropped,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> CountryStatistics:
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"statistics format {data.get('format_version')!r}, this pedw reads {FORMAT_VERSION}"
            )
        return cls(
            spec=PoolingSpec.from_dict(data["spec"]), country=data["country"],
            terms=list(data["terms"]), ztz=np.asarray(data["ztz"], dtype=float),
            zty=np.asarray(data["zty"], dtype=float), yty=float(data["yty"]),
            n_obs=int(data["n_obs"]), n_units=int(data["n_units"]),
            n_clusters=int(data["n_clusters"]), absorbed=dict(data["absorbed"]),
            nested_in_cluster=dict(data["nested_in_cluster"]),
            crossing_levels={k: list(v) for k, v in data["crossing_levels"].items()},
            sum_z=np.asarray(data["sum_z"], dtype=float),
            sum_zz=np.asarray(data["sum_zz"], dtype=float), units_per_term=dict(data["units_per_term"]),
            zero_units_per_term=dict(data["zero_units_per_term"]), n_dropped=int(data["n_dropped"]),
        )  # fmt: skip


@dataclass
class ClusterMeat:
    """Second round: one country's sum over its clusters of s_g s_g' at the pooled
    coefficients `at` (terms in the pool's order)."""

    country: str
    terms: list[str]
    at: np.ndarray
    meat: np.ndarray
    n_clusters: int

    def to_dict(self) -> dict:
        return {"country": self.country, "terms": self.terms, "at": self.at.tolist(),
                "meat": self.meat.tolist(), "n_clusters": self.n_clusters}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> ClusterMeat:
        return cls(data["country"], list(data["terms"]), np.asarray(data["at"], dtype=float),
                   np.asarray(data["meat"], dtype=float), int(data["n_clusters"]))  # fmt: skip


def _complete(frame: pd.DataFrame, spec: PoolingSpec) -> tuple[pd.DataFrame, int]:
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{spec.name}: column(s) {missing} not in the frame")
    numeric = [spec.outcome, *spec.regressors]
    for column in numeric:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise TypeError(f"column {column!r} is not numeric (dtype {frame[column].dtype})")
        if np.isinf(frame[column].to_numpy(dtype=float)).any():
            raise ValueError(f"column {column!r} has infinite values")
    complete = ~frame[spec.columns].isna().any(axis=1)
    data = frame.loc[complete, spec.columns].reset_index(drop=True)
    return data, int(len(frame) - complete.sum())


def _design(data: pd.DataFrame, spec: PoolingSpec) -> tuple[list[str], np.ndarray, dict]:
    """Z = [crossing indicators, regressors] of a country's complete rows, unswept."""
    names: list[str] = []
    blocks: list[np.ndarray] = []
    levels: dict[str, list[str]] = {}
    for fe in spec.crossing:
        values = data[fe].astype(str)
        seen = sorted(values.unique())
        levels[fe] = seen
        blocks.append((values.to_numpy()[:, None] == np.array(seen)[None, :]).astype(float))
        names += [f"{fe}={level}" for level in seen]
    blocks.append(data[list(spec.regressors)].to_numpy(float))
    names += list(spec.regressors)
    return names, np.column_stack(blocks) if blocks else np.empty((len(data), 0)), levels


def _swept(data: pd.DataFrame, spec: PoolingSpec) -> tuple[list[str], np.ndarray, np.ndarray, dict]:
    names, design, levels = _design(data, spec)
    groups = [_codes(data[a]) for a in spec.absorb]
    swept = demean(np.column_stack([data[spec.outcome].to_numpy(float), design]), groups)
    return names, swept[:, 0], swept[:, 1:], levels


def country_statistics(frame: pd.DataFrame, spec: PoolingSpec) -> CountryStatistics:
    """The sufficient statistics of `spec` on one country's rows (an office's round one)."""
    countries = frame[spec.country].dropna().unique()
    if len(countries) != 1:
        raise ValueError(
            f"{spec.name}: statistics are computed one country at a time, got {len(countries)}"
        )
    data, n_dropped = _complete(frame, spec)
    if data.empty:
        raise InsufficientDataError(f"{spec.name}: no complete rows in {countries[0]}")
    names, y, z, levels = _swept(data, spec)
    units = data[spec.unit].to_numpy()
    design = _design(data, spec)[1]
    units_per_term = {
        name: int(pd.unique(units[design[:, j] != 0]).size) for j, name in enumerate(names)
    }
    zero_units_per_term = {
        name: int(pd.unique(units[design[:, j] == 0]).size) for j, name in enumerate(names)
    }
    return CountryStatistics(
        spec=spec,
        country=str(countries[0]),
        terms=names,
        ztz=z.T @ z,
        zty=z.T @ y,
        yty=float(y @ y),
        n_obs=len(data),
        n_units=int(data[spec.unit].nunique()),
        n_clusters=int(data[spec.cluster].nunique()) if spec.cluster else 0,
        absorbed={a: int(data[a].nunique()) for a in spec.absorb},
        nested_in_cluster={
            a: bool(spec.cluster) and _nested(data[a], data[spec.cluster]) for a in spec.absorb
        },
        crossing_levels=levels,
        sum_z=design.sum(axis=0),
        sum_zz=(design**2).sum(axis=0),
        units_per_term=units_per_term,
        zero_units_per_term=zero_units_per_term,
        n_dropped=n_dropped,
    )


def dominance_share(frame: pd.DataFrame, spec: PoolingSpec, largest: int = 2) -> float:
    """The largest share, over the outcome and every column of Z, of the swept sum of
    squares held by the `largest` firms contributing most to it: how far one or two firms
    drive the country's cross-products (the (n, k) dominance rule applied to them). Computed
    at the office and never shipped."""
    data, _ = _complete(frame, spec)
    if data.empty:
        return float("nan")
    _, y, z, _ = _swept(data, spec)
    squares = pd.DataFrame(np.column_stack([y, z]) ** 2)
    per_firm = squares.groupby(data[spec.unit].to_numpy()).sum()
    totals = per_firm.sum(axis=0)
    top = per_firm.apply(lambda c: c.nlargest(largest).sum())
    shares = (top / totals.where(totals > 0)).dropna()
    return float(shares.max()) if len(shares) else float("nan")


@dataclass
class PooledSystem:
    """The summed statistics in one term order, with the terms the pool keeps."""

    spec: PoolingSpec
    terms: list[str]  # every term of every country: crossing indicators, then regressors
    kept: list[str]  # terms left after dropping redundant indicators and collinear regressors
    dropped: dict[str, str]
    ztz: np.ndarray  # over `kept`
    zty: np.ndarray
    yty: float
    per_country: dict[str, tuple[np.ndarray, np.ndarray]]  # country -> (Z'Z, Z'y) over kept
    n_obs: int
    absorbed: dict[str, int]
    nested: set[str]
    countries: list[str]
    n_clusters: int


def _stack(statistics: Sequence[CountryStatistics]) -> PooledSystem:
    if not statistics:
        raise InsufficientDataError("no country statistics to pool")
    spec = statistics[0].spec
    for s in statistics:
        if s.spec != spec:
            raise ValueError(f"{s.country}: statistics of {s.spec.name!r}, not of {spec.name!r}")
    countries = [s.country for s in statistics]
    if len(set(countries)) != len(countries):
        raise ValueError(f"a country appears twice: {sorted(countries)}")
    levels = {fe: sorted({v for s in statistics for v in s.crossing_levels[fe]})
              for fe in spec.crossing}  # fmt: skip
    terms = [f"{fe}={v}" for fe in spec.crossing for v in levels[fe]] + list(spec.regressors)
    index = {t: i for i, t in enumerate(terms)}
    k = len(terms)
    ztz, zty, yty = np.zeros((k, k)), np.zeros(k), 0.0
    sum_z, sum_zz = np.zeros(k), np.zeros(k)
    embedded = {}
    for s in statistics:
        where = np.array([index[t] for t in s.terms])
        a, b = np.zeros((k, k)), np.zeros(k)
        a[np.ix_(where, where)] = s.ztz
        b[where] = s.zty
        embedded[s.country] = (a, b)
        ztz += a
        zty += b
        yty += s.yty
        sum_z[where] += s.sum_z
        sum_zz[where] += s.sum_zz
    n_obs = sum(s.n_obs for s in statistics)
    total = sum_zz - sum_z**2 / n_obs  # each column's variation about its pooled mean
    kept_idx, dropped = _independent(ztz, total, terms, len(terms) - len(spec.regressors))
    kept = [terms[j] for j in kept_idx]
    absorbed = {a: sum(s.absorbed[a] for s in statistics) for a in spec.absorb}
    absorbed.update({fe: len(levels[fe]) for fe in spec.crossing})
    # A nested fixed effect is nested in the cluster when it is in every country; a crossing
    # one spans countries, hence clusters (documented in docs/federated.md).
    nested = {
        a for a in spec.absorb if spec.cluster and all(s.nested_in_cluster[a] for s in statistics)
    }
    if spec.cluster == spec.country:
        n_clusters = len(statistics)
    else:
        n_clusters = sum(s.n_clusters for s in statistics)
    ix = np.ix_(kept_idx, kept_idx)
    return PooledSystem(
        spec=spec, terms=terms, kept=kept, dropped=dropped, ztz=ztz[ix], zty=zty[kept_idx],
        yty=yty, per_country={c: (a[ix], b[kept_idx]) for c, (a, b) in embedded.items()},
        n_obs=n_obs, absorbed=absorbed, nested=nested,
        countries=countries, n_clusters=n_clusters,
    )  # fmt: skip


def _independent(
    gram: np.ndarray, total: np.ndarray, names: list[str], n_indicators: int
) -> tuple[list[int], dict]:
    """The columns fe_ols would keep, by its rules (collinear_terms) on the pooled Gram
    matrix: no variation, absorbed by the nested fixed effects (what is left after the sweep
    is below COLLINEARITY_TOLERANCE of the variation), or a combination of the columns kept
    before it. Indicators come first, so a regressor that a crossing fixed effect absorbs is
    the one dropped, as fe_ols (which absorbs that effect) drops it; redundant indicators
    are dropped silently (fe_ols's sweep never sees them)."""
    kept: list[int] = []
    dropped: dict[str, str] = {}
    for j, name in enumerate(names):
        left = gram[j, j]
        if total[j] <= 0 or not np.isfinite(total[j]):
            reason = "no variation (constant or all zeros)"
        elif left <= COLLINEARITY_TOLERANCE * total[j]:
            reason = "absorbed by the fixed effects"
        else:
            reason = None
            if kept:
                coef, *_ = np.linalg.lstsq(gram[np.ix_(kept, kept)], gram[kept, j], rcond=None)
                if left - gram[kept, j] @ coef <= COLLINEARITY_TOLERANCE * left:
                    reason = "collinear with earlier terms or the fixed effects"
        if reason is None:
            kept.append(j)
        elif j >= n_indicators:
            dropped[name] = reason
    return kept, dropped


def pooled_coefficients(statistics: Sequence[CountryStatistics]) -> pd.Series:
    """Every kept term's pooled coefficient (indicators included): what the centre sends
    back to the offices for the second round when clusters are nested in countries."""
    system = _stack(statistics)
    return pd.Series(np.linalg.solve(system.ztz, system.zty), index=system.kept)


def cluster_meat(frame: pd.DataFrame, spec: PoolingSpec, at: pd.Series) -> ClusterMeat:
    """Round two at an office: sum over its clusters of s_g s_g', s_g = Z_g'(y_g - Z_g b),
    at the pooled coefficients `at` (from :func:`pooled_coefficients`)."""
    if spec.cluster is None or spec.cluster == spec.country:
        raise ValueError(f"{spec.name}: cluster meat is for clusters nested in the country")
    countries = frame[spec.country].dropna().unique()
    if len(countries) != 1:
        raise ValueError(f"{spec.name}: one country at a time, got {len(countries)}")
    data, _ = _complete(frame, spec)
    names, y, z, _ = _swept(data, spec)
    position = {n: j for j, n in enumerate(names)}
    terms = list(at.index)
    # A term this country does not have (an indicator of another country's year) is a zero
    # column here: it adds nothing to the residuals and its scores are zero.
    zk = np.column_stack(
        [z[:, position[t]] if t in position else np.zeros(len(data)) for t in terms]
    )
    residuals = y - zk @ at.to_numpy()
    codes = _codes(data[spec.cluster])
    scores = np.zeros((int(codes.max()) + 1, len(terms)))
    np.add.at(scores, codes, zk * residuals[:, None])
    return ClusterMeat(str(countries[0]), terms, at.to_numpy(), scores.T @ scores,
                       int(codes.max()) + 1)  # fmt: skip


def pool(
    statistics: Sequence[CountryStatistics],
    meats: Sequence[ClusterMeat] | None = None,
    fixef_k: str = "nested",
    vcov: str | None = None,
) -> FitResult:
    """The pooled fit from the offices' statistics: coefficients, covariance (iid without a
    cluster; CRV1 by country from the statistics alone; CRV1 by a cluster nested in the
    country from each office's :func:`cluster_meat`), degrees of freedom, R² within, as
    fe_ols gives them on the pooled rows. `vcov="iid"` asks for iid errors whatever the
    spec's cluster (what fe_ols gives without `cluster`)."""
    if fixef_k not in FIXEF_K:
        raise ValueError(f"fixef_k must be one of {FIXEF_K}, not {fixef_k!r}")
    if vcov not in (None, "iid"):
        raise ValueError(f"vcov must be None (the spec's) or 'iid', not {vcov!r}")
    system = _stack(statistics)
    spec = system.spec
    if vcov == "iid":
        spec = replace(spec, cluster=None)
        system.spec, system.nested = spec, set()
    a, b = system.ztz, system.zty
    bread = np.linalg.inv(a)
    beta = bread @ b
    rss = system.yty - 2 * beta @ b + beta @ a @ beta
    reported = [j for j, t in enumerate(system.kept) if t in spec.regressors]
    if not reported:
        raise InsufficientDataError(f"{spec.name}: every regressor was dropped")
    n = system.n_obs
    k_total = len(reported) + fixef_degrees(system.absorbed, system.nested, fixef_k)
    if n <= k_total:
        raise InsufficientDataError(f"{spec.name}: {n} rows for {k_total} parameters")
    if spec.cluster is None:
        cov = rss / (n - k_total) * bread
        df_t, vcov = n - k_total, "iid"
    else:
        g = system.n_clusters
        if g < MIN_CLUSTERS:
            raise InsufficientDataError(
                f"{spec.name}: {g} clusters (at least {MIN_CLUSTERS} clusters needed)"
            )
        if spec.cluster == spec.country:
            meat = np.zeros_like(a)
            for a_c, b_c in system.per_country.values():
                score = b_c - a_c @ beta
                meat += np.outer(score, score)
        else:
            meat = _meat_from_offices(system, beta, meats)
        factor = g / (g - 1) * (n - 1) / (n - k_total)
        cov = factor * bread @ meat @ bread
        df_t, vcov = g - 1, "CRV1"
    # R² within of the model that absorbs the crossing effects too: y swept of the
    # indicators has y'y - b_D' (D'D)^-1 b_D.
    indicators = [j for j, t in enumerate(system.kept) if t not in spec.regressors]
    total = system.yty
    if indicators:
        d = np.ix_(indicators, indicators)
        total -= b[indicators] @ np.linalg.solve(a[d], b[indicators])
    terms = [system.kept[j] for j in reported]
    return FitResult(
        params=pd.Series(beta[reported], index=terms),
        cov=pd.DataFrame(cov[np.ix_(reported, reported)], index=terms, columns=terms),
        df_t=int(df_t),
        n_obs=int(n),
        n_clusters=int(system.n_clusters) if spec.cluster else 0,
        r2_within=float(1 - rss / total) if total > 0 else float("nan"),
        absorbed=system.absorbed,
        formula=f"{spec.outcome} ~ {' + '.join(spec.regressors)} | "
        + " + ".join([*spec.absorb, *spec.crossing])
        + (f", cluster({spec.cluster})" if spec.cluster else ", vcov(iid)")
        + f", pooled from {len(system.countries)} countries",
        vcov=vcov,
        dropped=system.dropped,
        k_total=int(k_total),
        fixef_k=fixef_k,
        extra={"countries": system.countries},
    )


def _meat_from_offices(
    system: PooledSystem, beta: np.ndarray, meats: Sequence[ClusterMeat] | None
) -> np.ndarray:
    spec = system.spec
    if not meats:
        raise ValueError(
            f"{spec.name}: CRV1 by {spec.cluster} needs each office's cluster_meat at the pooled"
            " coefficients (round two)"
        )
    by_country = {m.country: m for m in meats}
    missing = sorted(set(system.countries) - set(by_country))
    if missing:
        raise ValueError(f"{spec.name}: no cluster meat from {missing}")
    meat = np.zeros((len(system.kept), len(system.kept)))
    for country in system.countries:
        m = by_country[country]
        if m.terms != system.kept or not np.allclose(m.at, beta, rtol=1e-12, atol=0):
            raise ValueError(
                f"{spec.name}: {country}'s cluster meat is not at the pooled coefficients"
            )
        meat += m.meat
    return meat


# --- Models that do not pool exactly: per-country estimates and a meta-analysis ------------


@dataclass(frozen=True)
class MetaAnalysis:
    """DerSimonian-Laird random-effects pool of per-country estimates."""

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    tau2: float  # between-country variance of the true effects
    q: float  # Cochran's Q
    i2: float  # share of the variation that is heterogeneity, 0..1
    fixed_estimate: float  # inverse-variance (common effect) estimate
    fixed_std_error: float
    k: int  # countries


def meta_analysis(
    estimates: Sequence[float], std_errors: Sequence[float], level: float = 0.95
) -> MetaAnalysis:
    """Random-effects meta-analysis (DerSimonian and Laird, 1986) of one term's per-country
    estimates: tau² = max(0, (Q - (k-1)) / (Σw - Σw²/Σw)), w = 1/se², weights 1/(se² + tau²),
    a normal interval at `level`."""
    y = np.asarray(estimates, dtype=float)
    v = np.asarray(std_errors, dtype=float) ** 2
    if len(y) != len(v) or len(y) < 2:
        raise InsufficientDataError("a meta-analysis needs estimates from at least two countries")
    if not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("every estimate needs a finite value and a positive standard error")
    w = 1 / v
    fixed = float(w @ y / w.sum())
    q = float(w @ (y - fixed) ** 2)
    u = w / w.max()  # Σw - Σw²/Σw, without cancelling when one weight dominates
    c = float(w.max() * (u.sum() - (u**2).sum() / u.sum()))
    tau2 = max(0.0, (q - (len(y) - 1)) / c) if c > 0 else 0.0
    w_star = 1 / (v + tau2)
    estimate = float(w_star @ y / w_star.sum())
    se = float(np.sqrt(1 / w_star.sum()))
    z = stats.norm.ppf(0.5 + level / 2)
    return MetaAnalysis(
        estimate=estimate, std_error=se, ci_low=estimate - z * se, ci_high=estimate + z * se,
        tau2=tau2, q=q, i2=max(0.0, (q - (len(y) - 1)) / q) if q > 0 else 0.0,
        fixed_estimate=fixed, fixed_std_error=float(np.sqrt(1 / w.sum())), k=len(y),
    )  # fmt: skip
