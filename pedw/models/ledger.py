"""What each model did with its data: estimated or not run (and why), and every country or
country-period it excluded or altered, with the share of the data affected.

Model functions take an optional :class:`ModelLedger` and write to it; the model assets publish
it as `models.status` and `quality.model_exclusions`, so no country or year leaves a model
without a trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from pedw.models.absorb import FitResult

STATUS_COLUMNS = {"model_id": "object", "level": "object", "status": "object",
                  "reason": "object", "n_obs": "Int64", "n_groups": "Int64"}  # fmt: skip
EXCLUSION_COLUMNS = {"model_id": "object", "ref_area": "object", "start_year": "Int64",
                     "end_year": "Int64", "rule": "object", "detail": "object",
                     "share_affected": "float64", "affected_measure": "object"}  # fmt: skip

ESTIMATED = "estimated"
NOT_RUN = "not run"


def typed_frame(rows: list[dict] | pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """A frame with exactly `columns` in their dtypes, also when there are no rows."""
    frame = pd.DataFrame(rows).reindex(columns=list(columns))
    return frame.astype(columns)


@dataclass
class ModelLedger:
    """Collects the status of every model a step tries and the rows each one leaves out."""

    level: str
    statuses: list[dict] = field(default_factory=list)
    exclusion_frames: list[pd.DataFrame] = field(default_factory=list)

    def not_run(self, model_id: str, reason: str) -> None:
        self.statuses.append(
            {"model_id": model_id, "level": self.level, "status": NOT_RUN, "reason": reason}
        )

    def exclude(self, rows: pd.DataFrame | list[dict]) -> None:
        """Record excluded or altered country-periods (columns of EXCLUSION_COLUMNS)."""
        frame = typed_frame(rows, EXCLUSION_COLUMNS)
        if len(frame):
            self.exclusion_frames.append(frame)

    def status(self, estimates: pd.DataFrame) -> pd.DataFrame:
        """One row per model: those in `estimates` as estimated, then those not run."""
        fitted = (
            estimates.groupby("model_id", sort=True)
            .agg(n_obs=("n_obs", "max"), n_groups=("n_groups", "max"))
            .reset_index()
            .assign(level=self.level, status=ESTIMATED, reason="")
            if len(estimates)
            else []
        )
        frame = pd.concat(
            [typed_frame(fitted, STATUS_COLUMNS), typed_frame(self.statuses, STATUS_COLUMNS)],
            ignore_index=True,
        )
        return frame.drop_duplicates("model_id", keep="first").reset_index(drop=True)

    def exclusions(self) -> pd.DataFrame:
        if not self.exclusion_frames:
            return typed_frame([], EXCLUSION_COLUMNS)
        return pd.concat(self.exclusion_frames, ignore_index=True)


def sample_exclusions(
    frame: pd.DataFrame,
    model_id: str,
    outcome: str,
    regressors: list[str],
    unit: str = "ref_area",
    time: str = "year",
    absorbed_unit: bool = True,
) -> pd.DataFrame:
    """Countries whose observed outcome rows a regression could not use, in whole or in part.

    A row is used when the outcome and every regressor are present. A country left with one
    usable row is recorded too when its own effect is absorbed: that row fits exactly and
    carries no information about the slopes.
    """
    observed = frame[frame[outcome].notna()]
    if observed.empty:
        return typed_frame([], EXCLUSION_COLUMNS)
    usable = observed[regressors].notna().all(axis=1)
    summary = (
        observed.assign(_used=usable, _time=observed[time])
        .groupby(unit, sort=True)
        .agg(
            observed=("_used", "size"),
            used=("_used", "sum"),
            first=("_time", "min"),
            last=("_time", "max"),
        )
    )
    missing = observed.loc[~usable, regressors].isna().groupby(observed.loc[~usable, unit]).sum()
    rows = []
    for country, counts in summary.iterrows():  # one row per country, not per observation
        lost = int(counts["observed"] - counts["used"])
        if lost == 0 and not (absorbed_unit and counts["used"] == 1):
            continue
        if counts["used"] == 0:
            rule, detail = "no_complete_row", f"none of {lost} {outcome} rows has every regressor"
        elif absorbed_unit and counts["used"] == 1:
            rule, detail = "singleton", "one usable row: absorbed by the country effect"
        else:
            rule = "rows_dropped"
            detail = f"{lost} of {int(counts['observed'])} {outcome} rows lack a regressor"
        if lost:
            lacking = missing.loc[country]
            detail += (
                " (" + ", ".join(f"{c} missing in {int(n)}" for c, n in lacking.items() if n) + ")"
            )
        rows.append({
            "model_id": model_id, "ref_area": country, "start_year": counts["first"],
            "end_year": counts["last"], "rule": rule, "detail": detail,
            "share_affected": 1.0 if rule != "rows_dropped" else lost / counts["observed"],
            "affected_measure": "rows",
        })  # fmt: skip
    return typed_frame(rows, EXCLUSION_COLUMNS)


def fit_recorded(
    ledger: ModelLedger,
    model_id: str,
    frame: pd.DataFrame,
    outcome: str,
    regressors: list[str],
    absorb: list[str],
    cluster: str,
    unit: str = "ref_area",
    time: str = "year",
    **options,
) -> FitResult | None:
    """`fe_ols`, with the model's status and dropped rows written to `ledger`.

    A model that cannot be fitted (its outcome absent from the panel, too few clusters) is
    recorded as not run with the reason, and None is returned.
    """
    from pedw.models.absorb import InsufficientDataError, fe_ols  # scipy: when a model fits

    if outcome not in frame or frame[outcome].isna().all():
        ledger.not_run(model_id, f"no {outcome} values in the panel")
        return None
    try:
        options.setdefault("wild_bootstrap", True)  # national panels: few rows, cheap
        fit = fe_ols(frame, outcome, regressors, absorb, cluster, **options)
    except InsufficientDataError as error:
        ledger.not_run(model_id, str(error))
        return None
    ledger.exclude(
        sample_exclusions(
            frame, model_id, outcome, regressors, unit, time, absorbed_unit=unit in absorb
        )
    )
    return fit
