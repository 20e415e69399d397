"""The tidy layout every model writes to models.estimates: one row per model term."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from pedw.models.absorb import FitResult

ESTIMATE_COLUMNS = ["model_id", "level", "estimator", "specification", "outcome", "term",
                    "estimate", "std_error", "ci_low", "ci_high", "p_value", "wild_p_value",
                    "wild_ci_low", "wild_ci_high", "n_obs", "n_groups", "fit",
                    "input_fingerprint"]  # fmt: skip
UNCERTAINTY_COLUMNS = ["std_error", "ci_low", "ci_high", "p_value", "wild_p_value", "wild_ci_low",
                       "wild_ci_high"]  # fmt: skip


def fingerprint(frame: pd.DataFrame) -> str:
    """A short hash of the exact rows and columns a model saw (same input, same fingerprint)."""
    ordered = frame.reindex(sorted(frame.columns), axis=1)
    hashed = pd.util.hash_pandas_object(ordered, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(ordered.columns).encode()).hexdigest()[:16]


def tidy_fit(
    fit: FitResult,
    model_id: str,
    level: str,
    outcome: str,
    input_fingerprint: str,
    estimator: str = "OLS, absorbed fixed effects (statsmodels), CRV1",
) -> pd.DataFrame:
    """models.estimates rows for one fitted model."""
    table = fit.table()
    table.insert(0, "model_id", model_id)
    table.insert(1, "level", level)
    table.insert(2, "estimator", estimator)
    table.insert(3, "specification", fit.formula)
    table.insert(4, "outcome", outcome)
    table["n_obs"] = fit.n_obs
    table["n_groups"] = fit.n_clusters
    table["fit"] = json.dumps(
        {"r2_within": fit.r2_within, "absorbed_levels": fit.absorbed, "df_t": fit.df_t,
         "vcov": fit.vcov, "dropped_terms": fit.dropped, "n_dropped": fit.n_dropped,
         "dropped_rows": fit.dropped_rows, "k_total": fit.k_total, "weights": fit.weights,
         **fit.extra}
    )  # fmt: skip
    table["input_fingerprint"] = input_fingerprint
    return table[ESTIMATE_COLUMNS]


def tidy_rows(
    rows: list[dict],
    model_id: str,
    level: str,
    estimator: str,
    specification: str,
    outcome: str,
    input_fingerprint: str,
    n_obs: int,
    n_groups: int,
    fit: dict,
) -> pd.DataFrame:
    """models.estimates rows for estimates computed outside a FitResult (variance shares, ...)."""
    table = pd.DataFrame(rows)
    for column, value in {
        "model_id": model_id,
        "level": level,
        "estimator": estimator,
        "specification": specification,
        "outcome": outcome,
        "n_obs": n_obs,
        "n_groups": n_groups,
        "fit": json.dumps(fit),
        "input_fingerprint": input_fingerprint,
    }.items():
        table[column] = value
    for column in UNCERTAINTY_COLUMNS:
        if column not in table:
            table[column] = float("nan")
    return table[ESTIMATE_COLUMNS]


def empty_estimates() -> pd.DataFrame:
    """No estimable model (the catalog lacks the series): an empty, well-typed estimates frame."""
    frame = pd.DataFrame({column: pd.Series(dtype="object") for column in ESTIMATE_COLUMNS})
    for column in ("estimate", *UNCERTAINTY_COLUMNS):
        frame[column] = frame[column].astype(float)
    for column in ("n_obs", "n_groups"):
        frame[column] = frame[column].astype("int64")
    return frame


def statsmodels_rows(
    params: pd.Series, bse: pd.Series, conf: pd.DataFrame, pvalues: pd.Series
) -> list[dict]:
    """tidy_rows input for the terms of a fitted statsmodels result (one dict per term)."""
    return [{"term": term, "estimate": float(params[term]), "std_error": float(bse[term]),
             "ci_low": float(conf.loc[term, 0]), "ci_high": float(conf.loc[term, 1]),
             "p_value": float(pvalues[term])} for term in params.index]  # fmt: skip
