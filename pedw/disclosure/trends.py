"""Disclosure control of the SME-gap trends: the cells' primary rules on their pooled
contributors (count, dominance of the aggregated variable over the trend's years), and the LP
audit, which suppresses a trend that would let an adversary bracket a suppressed cell."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pedw.disclosure.audit import PublishedTrend, feasible_intervals
from pedw.disclosure.cellkey import cell_noise
from pedw.disclosure.cells import (
    MEASURES,
    PRIMARY,
    PUBLISHED,
    SECONDARY,
    contributions,
    primary_reasons,
)
from pedw.disclosure.rules import DisclosureRule

OUTCOME_MEASURE = {log: measure for measure, (_g, _s, log, _p) in MEASURES.items()}


def class_cells(cells: pd.DataFrame, country: str, size: str, measure: str) -> pd.DataFrame:
    gap, _se, _log, prefix = MEASURES[measure]
    rows = cells[(cells["country"] == country) & (cells["size_class"] == size)]
    return rows[["year", gap, f"{prefix}_contributors", f"{measure}_status"]].sort_values("year")


def cell_intervals(
    rows: pd.DataFrame,
    measure: str,
    rule: DisclosureRule,
    trend: PublishedTrend | None,
    weights: list[float] | None = None,
) -> dict[int, tuple[float, float]]:
    """What an adversary can learn of each suppressed cell of one class from the published
    cells (to their rounding) and `trend`, weighting the years by `weights` (default: the
    true contributor counts, what an insider knows)."""
    gap, _se, _log, prefix = MEASURES[measure]
    half = 0.5 * 10 ** (-rule.gap_decimals)
    shown = rows[rows[f"{measure}_status"] == PUBLISHED]
    published = {int(y): (round(v, rule.gap_decimals), half) for y, v in zip(shown["year"], shown[gap], strict=True)}  # fmt: skip
    if weights is None:
        weights = [max(float(w), 1.0) for w in rows[f"{prefix}_contributors"].fillna(1)]
    return feasible_intervals([int(y) for y in rows["year"]], weights, published, trend)


def guessed_weights(rows: pd.DataFrame, measure: str) -> list[list[float]]:
    """The year weights an outside adversary can put on a class's trend fit: a published
    year's released contributor count, and for a suppressed year (its count withheld) the
    mean, the smallest or the largest published count; or every year alike."""
    prefix = MEASURES[measure][3]
    shown = rows[f"{measure}_status"] == PUBLISHED
    counts = rows[f"{prefix}_contributors"].astype(float).where(shown)
    guesses = [1.0]
    if shown.any():
        known = counts[shown].clip(lower=1.0)
        guesses = [known.mean(), known.min(), known.max()]
    filled = [counts.fillna(guess).clip(lower=1.0).tolist() for guess in guesses]
    return [*filled, [1.0] * len(rows)]


def protect_trends(
    trend: pd.DataFrame,
    cells: pd.DataFrame,
    rule: DisclosureRule,
    seen_cells: pd.DataFrame | None = None,
    noise: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`trend` with `status`, `reason` and `audit_half_width` (the narrowest half-width to
    which, with this trend published, an adversary could bring a suppressed cell).

    With the cell-key noise, the audit runs again on what an adversary actually sees
    (`seen_cells`: the cells as released; `noise`: the trends' perturbation, applied and
    rounded by `released_trends`), taking the released values as exact, with the true
    contributor weights and with the weights an outsider can guess from the published
    counts (`_seen_widths`). Noisy values can make the LP's constraints tighter than the
    true ones; the narrowest interval counts."""
    result = trend.reset_index(drop=True).copy()
    seen = cells
    if seen_cells is not None:
        seen = cells.copy()
        for gap, _se, _log, _prefix in MEASURES.values():
            seen[gap] = seen_cells[gap].to_numpy()
        if noise is None:
            noise = pd.DataFrame(columns=[*TREND_KEYS, *TREND_NOISE, "gap_var", "slope_var"])
        # What each trend would show if published, exactly as released_trends shows it.
        shown = released_trends(result.assign(status=PUBLISHED, reason=""), rule, noise)
    primary = pd.Series("", index=result.index, dtype=object)
    for _gap, _se, log_column, prefix in MEASURES.values():
        mine = result["outcome"] == log_column
        if mine.any():  # the cells' primary rules, on the trend's pooled contributors
            pooled = result.loc[mine].rename(columns={
                "contributors_in_class": f"{prefix}_contributors",
                "large_contributors": f"large_{prefix}_contributors",
                **{f"{side}top{n}_share": f"{side}{prefix}_top{n}_share"
                   for side in ("", "large_") for n in (1, 2)},
            })  # fmt: skip
            primary.loc[mine] = primary_reasons(pooled, prefix, rule)
    status, reasons, widths = [], [], []
    for i, row in enumerate(result.itertuples()):  # one trend per country, outcome and class
        measure = OUTCOME_MEASURE[row.outcome]
        if primary.iloc[i]:
            status.append(PRIMARY)
            reasons.append(primary.iloc[i])
            widths.append(math.nan)
            continue
        published = PublishedTrend(row.trend_per_year, row.trend_se, row.gap_first_year,
                                   row.gap_first_year_se, int(row.trend_origin_year))  # fmt: skip
        intervals = cell_intervals(class_cells(cells, row.country, row.size_class, measure),
                                   measure, rule, published)  # fmt: skip
        widths_seen = []
        if seen is not cells:
            r = shown.iloc[i]
            released = PublishedTrend(r.trend_per_year, r.trend_se, r.gap_first_year,
                                      r.gap_first_year_se, int(row.trend_origin_year))  # fmt: skip
            widths_seen = _seen_widths(
                class_cells(seen, row.country, row.size_class, measure),
                class_cells(cells, row.country, row.size_class, measure), measure, rule,
                released,
            )  # fmt: skip
        width = min([*((high - low) / 2 for low, high in intervals.values()), *widths_seen],
                    default=math.nan)  # fmt: skip
        widths.append(width)
        if intervals and width < rule.protection:
            status.append(SECONDARY)
            reasons.append(
                "with this trend published, a suppressed year of the class could be "
                f"bracketed within less than the protection of {rule.protection:g}"
            )
        else:
            status.append(PUBLISHED)
            reasons.append("")
    result["status"], result["reason"], result["audit_half_width"] = status, reasons, widths
    return result


def _seen_widths(
    seen: pd.DataFrame,
    true: pd.DataFrame,
    measure: str,
    rule: DisclosureRule,
    released: PublishedTrend,
) -> list[float]:
    """Half-widths of what an adversary brackets from the released values: with the true
    contributor weights (an insider's), every interval counts; with weights guessed from the
    published counts (`guessed_weights`), an interval counts when it holds the true value (a
    narrow interval around a wrong value discloses nothing)."""
    gap = MEASURES[measure][0]
    actual = dict(zip(true["year"].astype(int), true[gap], strict=True))
    widths = [(high - low) / 2 for low, high in cell_intervals(seen, measure, rule, released).values()]  # fmt: skip
    for weights in guessed_weights(seen, measure):
        for year, (low, high) in cell_intervals(seen, measure, rule, released, weights).items():
            if low <= actual[year] <= high:
                widths.append((high - low) / 2)
    return widths


TREND_VALUES = ["gap_first_year", "gap_first_year_se", "trend_per_year", "trend_se",
                "trend_ci_low", "trend_ci_high"]  # fmt: skip
TREND_KEYS = ["country", "outcome", "size_class"]
TREND_NOISE = ["gap_noise", "gap_se_noise", "slope_noise", "slope_se_noise"]


def trend_perturbation(panel: pd.DataFrame, salt: str, rule: DisclosureRule) -> pd.DataFrame:
    """Per trend (country, outcome, class), the cell-key noise of its released values. The
    first-year gap is perturbed like a cell's gap, from the keys of every firm-year the trend
    rests on (class and large firms); the slope by an independent draw scaled by the largest
    leverage of one firm-year on a slope over the years (what one firm-year's value moves it
    by); the standard errors by their own draws likewise."""
    frames = []
    for outcome in OUTCOME_MEASURE:
        if outcome not in panel.columns:
            continue
        feeding = contributions(panel, outcome, ["country", "size_class"])
        draws = None
        for part, mean, spread, var in (("level", "noise", "se_noise", "noise_var"),
                                        ("slope", "slope_noise", "slope_se_noise",
                                         "slope_noise_var")):  # fmt: skip
            noise = cell_noise(feeding, ["country", "size_class"], f"trend_{part}:{outcome}",
                               salt, rule.noise_bound)  # fmt: skip
            large = noise[noise["size_class"] == "large"]
            pairs = noise[noise["size_class"] != "large"].merge(
                large[["country", mean, spread, var]], on="country", suffixes=("", "_large")
            )  # a trend compares a class with the large firms: none without them
            pairs[f"{part}_noise"] = pairs[mean] - pairs[f"{mean}_large"]
            pairs[f"{part}_se_noise"] = pairs[spread] + pairs[f"{spread}_large"]
            pairs[f"{part}_var"] = pairs[var] + pairs[f"{var}_large"]
            pairs = pairs[["country", "size_class", f"{part}_noise", f"{part}_se_noise",
                           f"{part}_var"]]  # fmt: skip
            draws = pairs if draws is None else draws.merge(pairs, on=["country", "size_class"])
        frames.append(pd.DataFrame({
            "country": draws["country"], "outcome": outcome, "size_class": draws["size_class"],
            "gap_noise": draws["level_noise"], "gap_se_noise": draws["level_se_noise"],
            "slope_noise": draws["slope_noise"], "slope_se_noise": draws["slope_se_noise"],
            "gap_var": draws["level_var"], "slope_var": draws["slope_var"],
        }))  # fmt: skip
    columns = [*TREND_KEYS, *TREND_NOISE, "gap_var", "slope_var"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)  # fmt: skip


def released_trends(
    protected: pd.DataFrame, rule: DisclosureRule, perturbation: pd.DataFrame
) -> pd.DataFrame:
    """Published trends with their cell-key noise (`trend_perturbation`; the interval is the
    released slope +- the fit's critical value x the released standard error, the widening
    and narrowing flags are read from it), rounded as shown; suppressed ones keep only their
    key and reason."""
    shown = (protected["status"] == PUBLISHED).to_numpy()
    noise = protected[TREND_KEYS].merge(perturbation, on=TREND_KEYS, how="left").fillna(0.0)
    values = {
        "gap_first_year": protected["gap_first_year"] + noise["gap_noise"].to_numpy(),
        "gap_first_year_se": np.sqrt((protected["gap_first_year_se"]
                                      + noise["gap_se_noise"].to_numpy()) ** 2
                                     + noise["gap_var"].to_numpy()),
        "trend_per_year": protected["trend_per_year"] + noise["slope_noise"].to_numpy(),
        "trend_se": np.sqrt((protected["trend_se"] + noise["slope_se_noise"].to_numpy()) ** 2
                            + noise["slope_var"].to_numpy()),
    }  # fmt: skip
    # The interval is drawn again around the released slope with the released standard
    # error and the fit's own critical value (a function of its degrees of freedom only): an
    # interval of the true width would give the true standard error back.
    critical = (protected["trend_ci_high"] - protected["trend_ci_low"]) / (
        2 * protected["trend_se"]
    )
    values["trend_ci_low"] = values["trend_per_year"] - critical * values["trend_se"]
    values["trend_ci_high"] = values["trend_per_year"] + critical * values["trend_se"]
    rows = protected[TREND_KEYS].copy()
    for column in TREND_VALUES:
        decimals = rule.gap_decimals if column.startswith("gap_first") else rule.trend_decimals
        rows[column] = values[column].round(decimals).where(shown)
    rows["widening"] = (rows["trend_ci_high"] < 0).where(shown)
    rows["narrowing"] = (rows["trend_ci_low"] > 0).where(shown)
    rows["contributors"] = protected["contributors_in_class"].astype("Int64").where(shown)
    rows["status"], rows["reason"] = protected["status"], protected["reason"]
    return rows
