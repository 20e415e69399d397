"""Firm-level model estimates as they may leave the warehouse (`disclosure.estimates`): the
published models' terms only, each with cell-key noise keyed by the firm-years it rests on.

Rounding alone does not protect an estimate from differencing: a pooled ATT moves by a
revised firm's change over the treated post-period firm-years, which the published counts
give, so two releases recover the firm (0.438 against 0.5 in the intruder suite). As for the
SME-gap cells (pedw.disclosure.cellkey), each term gets noise looked up by the key of its
contributions (firm-year and value), scaled by the largest firm's share of them: the same
contributions give the same noise in every release, one revised value a fresh draw.

The firm-years a term rests on: an event-time or cohort cell's treated firm-years
(pedw.disclosure.terms); a size-class term's class and its large-firm comparison group, each
with a draw of its own, as a gap's two means; otherwise the model's treated firm-years, or all
firm-years with its outcome for a model without a treatment. The standard error gets its own
draw and the noise's variance, the interval is redrawn around the released value with the
fit's critical value, and the p-value follows from them (normal); wild-bootstrap results stay
internal (they would give the unperturbed estimate back).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from pedw.disclosure.cellkey import cell_noise_sql
from pedw.disclosure.cells import PUBLISHED
from pedw.disclosure.effects import FIRM_FLAGS_SQL, TREATMENTS
from pedw.disclosure.rules import DisclosureRule
from pedw.disclosure.terms import term_cell
from pedw.models.frames import query_frames

# What keys a term's contributions when its outcome is not a panel column, in this order.
KEY_VALUES = ("log_sales", "log_employees", "log_labour_productivity")
SIZE_TERM = re.compile(r"\b(micro|small|medium)\b")
# Blank in a released row: numbers that would give the unperturbed estimate back, and texts.
INTERNAL_NUMBERS = ("wild_p_value", "wild_ci_low", "wild_ci_high")
INTERNAL_TEXTS = ("fit", "input_fingerprint")


def _sides(model_id: str, term: str) -> list[str]:
    """SQL conditions (on the panel joined to the firms' flags) of the firm-years `term` of
    `model_id` rests on: one per side that gets a draw of its own."""
    if (cell := term_cell(term)) is not None:
        return [f"score_start_year IS NOT NULL AND {cell}"]
    if match := SIZE_TERM.search(term.replace("_x_trend", " ")):
        return [f"size_class = '{match[1]}'", "size_class = 'large'"]
    treated, _control, among = next(
        (t for prefix, t in TREATMENTS.items() if model_id.startswith(prefix)),
        ("TRUE", None, "TRUE"),
    )
    return [f"({treated}) AND ({among})"]


def estimate_perturbation(
    panel: pd.DataFrame, estimates: pd.DataFrame, salt: str, rule: DisclosureRule
) -> pd.DataFrame:
    """Per firm-level model term: the noise of its released estimate and standard error and
    the noise's variance (summed over its sides)."""
    terms = estimates.loc[estimates["level"] == "enterprise", ["model_id", "outcome", "term"]]
    columns = ["model_id", "term", "noise", "se_noise", "noise_var"]
    selects = []
    for model_id, outcome, term in terms.drop_duplicates().itertuples(index=False):
        # The outcome keys the contributions (a revised value is a new one); an outcome built
        # from the panel (a recovery indicator) is keyed by the sales it comes from.
        value = next((c for c in (outcome, *KEY_VALUES) if c in panel.columns), None)
        if value is None:
            continue
        for side, condition in enumerate(_sides(model_id, term)):
            selects.append(
                f"SELECT {_quote(model_id)} AS model_id, {_quote(term)} AS term, {side} AS side, "
                f"firm_id, year, {value} AS value FROM panel JOIN firms USING (firm_id) "
                f"WHERE {condition} AND {value} IS NOT NULL"
            )
    if not selects:
        return pd.DataFrame(columns=columns)
    # Each term and side draws on its own: its name is part of every contribution's key.
    # Built and keyed in DuckDB: a term's contributions are its firm-years, tens of millions
    # over a 50,000-firm panel's terms (as a pandas frame: 19 GB and two minutes).
    contributions = (
        "SELECT model_id, term, side, firm_id::VARCHAR || '|' || model_id || '|' || term "
        "|| '|' || side::VARCHAR AS firm_id, year, value, 1.0 AS weight FROM ("
        + " UNION ALL ".join(selects) + ")"
    )  # fmt: skip
    inputs = f"firms AS ({FIRM_FLAGS_SQL}), contributions_in AS ({contributions}), "
    keyed = cell_noise_sql(["model_id", "term", "side"], "estimate", salt, rule.noise_bound,
                           inputs, slopes=False)  # fmt: skip
    noise = query_frames(keyed, panel=panel)
    return noise.groupby(["model_id", "term"], as_index=False)[
        ["noise", "se_noise", "noise_var"]
    ].sum()[columns]


def releasable_estimates(
    estimates: pd.DataFrame, effects: pd.DataFrame, terms: pd.DataFrame
) -> pd.DataFrame:
    """The firm-level rows of models.estimates that may leave the warehouse: published models
    (`effects`) and terms (`terms`) only. Only these are given noise: keying a withheld term's
    firm-years would cost the same and release nothing."""
    firm = estimates[estimates["level"] == "enterprise"]
    if firm.empty or "estimate" not in firm.columns:  # no firm-level fit to release
        return firm.iloc[0:0].reset_index(drop=True)
    published = set(effects.loc[effects["status"] == PUBLISHED, "model_id"])
    withheld = set(
        map(tuple, terms.loc[terms["status"] != PUBLISHED, ["model_id", "term"]].to_numpy())
    )
    keep = firm["model_id"].isin(published).to_numpy() & np.array(
        [(m, t) not in withheld for m, t in zip(firm["model_id"], firm["term"], strict=True)],
        dtype=bool,
    )
    return firm[keep].reset_index(drop=True)


def released_estimates(
    releasable: pd.DataFrame, perturbation: pd.DataFrame, rule: DisclosureRule
) -> pd.DataFrame:
    """The `releasable` estimates (see releasable_estimates) as they leave the warehouse:
    with their noise, rounded as shown; fit details and wild-bootstrap results blank."""
    if "estimate" not in releasable.columns:  # no firm-level fit to release
        return releasable
    rows = releasable.merge(perturbation, on=["model_id", "term"], how="left")
    noise, se_noise, variance = (rows[c].fillna(0.0) for c in ("noise", "se_noise", "noise_var"))
    estimate = rows["estimate"] + noise
    error = np.sqrt((rows["std_error"] + se_noise) ** 2 + variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        critical = ((rows["ci_high"] - rows["ci_low"]) / (2 * rows["std_error"])).where(
            rows["std_error"] > 0
        )
        p_value = 2 * stats.norm.sf(np.abs(estimate / error))
    released = rows.drop(columns=["noise", "se_noise", "noise_var"]).assign(
        estimate=estimate,
        std_error=error,
        ci_low=estimate - critical * error,
        ci_high=estimate + critical * error,
        p_value=pd.Series(p_value, index=rows.index).where(rows["p_value"].notna()),
    )
    for column in ("estimate", "std_error", "ci_low", "ci_high", "p_value"):
        released[column] = released[column].round(rule.gap_decimals)
    for column in INTERNAL_NUMBERS:
        if column in released.columns:
            released[column] = np.nan
    for column in INTERNAL_TEXTS:
        if column in released.columns:
            released[column] = pd.Series(pd.NA, index=released.index, dtype="string")
    return released.reset_index(drop=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
