"""Staggered-adoption difference-in-differences and event studies for any firm panel.

`interaction_weighted` is the Sun & Abraham (2021) estimator: cohort-by-event-time effects
estimated against never-treated units, then averaged with the cohorts' shares at each event
time, so effects that differ by cohort or grow over time are not mixed with the wrong sign
as in a plain two-way fixed-effects regression (reported beside it by `classic_twfe`).
Usable on any panel with a unit id, a time column and a first-treatment column (NaN when
never treated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pedw.models.absorb import InsufficientDataError, fe_ols


@dataclass(frozen=True)
class StaggeredDesign:
    """Which columns identify units, periods and treatment timing, and what to absorb.

    The unit is always absorbed; `absorb` adds more fixed effects and defaults to the time
    column (unit + time, the two-way design). Give finer effects that contain time (e.g.
    country-year) in its place; `absorb=()` absorbs the unit alone, deliberately.
    """

    unit: str
    time: str
    cohort: str
    absorb: tuple[str, ...] | None = None
    cluster: str | None = None
    # Sampling weights (a column name): the fit is weighted least squares and each cohort's
    # share at an event time is its weighted count of firm-years.
    weights: str | None = None

    @property
    def effects(self) -> list[str]:
        """Every fixed effect of the design: the unit, then `absorb` (time by default)."""
        return [self.unit, *(self.absorb if self.absorb is not None else (self.time,))]


def _check_coding(frame: pd.DataFrame, design: StaggeredDesign) -> None:
    """Refuse the codings that silently break a staggered design, saying what to do instead:
    text years, and never-treated units coded 0 or inf instead of empty (NaN)."""
    for column in (design.time, design.cohort):
        if column not in frame.columns:
            raise KeyError(f"column {column!r} not in the frame")
        if not pd.api.types.is_numeric_dtype(frame[column]):
            example = frame[column].dropna().iloc[0] if frame[column].notna().any() else None
            raise TypeError(
                f"column {column!r} holds {frame[column].dtype} values (e.g. {example!r}):"
                f" years must be numbers (pd.to_numeric(frame[{column!r}]))"
            )
    cohort = frame[design.cohort].astype(float)
    for code, count in (("0", int((cohort == 0).sum())), ("inf", int(np.isinf(cohort).sum()))):
        if count:
            raise ValueError(
                f"column {design.cohort!r} has {count} rows coded {code}: never-treated units"
                " must have an empty (NaN) first-treatment year, as in"
                f" frame[{design.cohort!r}].replace({{{code}: np.nan}})"
            )


def _prepare(frame: pd.DataFrame, design: StaggeredDesign, outcome: str) -> pd.DataFrame:
    _check_coding(frame, design)
    weights = [design.weights] if design.weights else []
    columns = list(dict.fromkeys([design.time, design.cohort, outcome, *design.effects, *weights]))
    data = (
        frame[columns]
        .dropna(subset=[c for c in columns if c != design.cohort])
        .reset_index(drop=True)
    )
    data[design.cohort] = data[design.cohort].astype(float)  # NaN = never treated
    data["_event_time"] = data[design.time] - data[design.cohort]
    if not data[design.cohort].notna().any():
        raise InsufficientDataError(
            f"{outcome}: no treated units ({design.cohort} is always empty)"
        )
    if data[design.cohort].notna().all():
        raise InsufficientDataError(f"{outcome}: no never-treated units to compare with")
    return data


def interaction_weighted(
    frame: pd.DataFrame,
    outcome: str,
    design: StaggeredDesign,
    reference: int = -1,
    by_cohort: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Event-time effects (IW) and the overall post-treatment ATT, with cluster-robust SEs.

    With `by_cohort`, each cohort's own path is added (terms `cohort:<g>:event_time:<e>`).
    """
    data = _prepare(frame, design, outcome)
    treated = data[design.cohort].notna()
    in_cells = data.loc[treated & (data["_event_time"] != reference)]
    cells = (
        in_cells.groupby([design.cohort, "_event_time"])[design.weights].sum()
        if design.weights
        else in_cells[[design.cohort, "_event_time"]].value_counts()
    ).sort_index()
    names = []
    for (cohort, event), _ in cells.items():
        name = f"c{int(cohort)}_e{int(event)}".replace("-", "m")
        data[name] = ((data[design.cohort] == cohort) & (data["_event_time"] == event)).astype(
            float
        )
        names.append(name)
    fit = fe_ols(data, outcome, names, design.effects, design.cluster or design.unit,
                 wild_bootstrap=True, weights=design.weights)  # fmt: skip
    # Cells the fixed effects absorb (e.g. a cohort observed only at one event time) are
    # dropped from the fit and from the averages; the fit lists them.
    identified = [name in fit.params.index for name in names]
    cells = cells[identified]
    names = [name for name, keep in zip(names, identified, strict=True) if keep]
    beta, cov = fit.params[names].to_numpy(), fit.cov.loc[names, names].to_numpy()
    counts = cells.to_numpy(dtype=float)
    events = np.array([e for (_, e) in cells.index])
    t_crit = stats.t.ppf(0.975, fit.df_t)
    rows = []
    for event in sorted(set(events)):
        weights = np.where(events == event, counts, 0.0)
        rows.append(
            _weighted(
                f"event_time:{int(event)}", weights / weights.sum(), beta, cov, t_crit, fit.df_t
            )
        )
    post = np.where(events >= 0, counts, 0.0)
    if not post.any():
        raise InsufficientDataError(f"{outcome}: no identified post-treatment cell")
    rows.append(_weighted("att_post", post / post.sum(), beta, cov, t_crit, fit.df_t))
    if by_cohort:
        for i, (cohort, event) in enumerate(cells.index):
            weights = np.eye(len(names))[i]
            term = f"cohort:{int(cohort)}:event_time:{int(event)}"
            rows.append(_weighted(term, weights, beta, cov, t_crit, fit.df_t))
    info = {
        "n_obs": fit.n_obs,
        "n_clusters": fit.n_clusters,
        "cohorts": sorted({int(c) for c, _ in cells.index}),
        "never_treated_units": int(data.loc[~treated, design.unit].nunique()),
        "treated_units": int(data.loc[treated, design.unit].nunique()),
        "specification": f"{outcome} ~ sum_(g,e != {reference}) 1[cohort=g, event time=e] | "
        f"{' + '.join(design.effects)}, cluster({design.cluster or design.unit})",
        "r2_within": fit.r2_within,
        "dropped_terms": fit.dropped,
        "weights": design.weights,
    }
    return pd.DataFrame(rows), info


def _weighted(term, weights, beta, cov, t_crit, df_t) -> dict:
    estimate = float(weights @ beta)
    se = float(np.sqrt(weights @ cov @ weights))
    return {
        "term": term,
        "estimate": estimate,
        "std_error": se,
        "ci_low": estimate - t_crit * se,
        "ci_high": estimate + t_crit * se,
        "p_value": float(2 * stats.t.sf(abs(estimate / se), df_t)),
    }


def classic_twfe(
    frame: pd.DataFrame, outcome: str, design: StaggeredDesign
) -> tuple[pd.DataFrame, dict]:
    """The plain static two-way fixed-effects DiD: outcome on 1[treated and post] | unit + time."""
    data = _prepare(frame, design, outcome)
    data["treated_post"] = (data["_event_time"] >= 0).astype(float)
    fit = fe_ols(data, outcome, ["treated_post"], design.effects, design.cluster or design.unit,
                 wild_bootstrap=True, weights=design.weights)  # fmt: skip
    table = fit.table()
    table["term"] = "twfe_treated_post"
    return table, {
        "n_obs": fit.n_obs,
        "n_clusters": fit.n_clusters,
        "specification": fit.formula,
        "r2_within": fit.r2_within,
        "weights": design.weights,
    }
