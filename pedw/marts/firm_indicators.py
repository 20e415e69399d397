"""marts.firm_indicators: weighted means and shares of firm indicators per country and year,
with design-based standard errors, as Stata's `svy: mean` and `svy: proportion` give them.

An enterprise survey is an unequal-probability sample: the mean log productivity or the
share of SMEs of the *sample* is not that of the economy's firms. Each indicator is the
weighted mean Σwy/Σw over the firms of a country-year (a share when y is 0/1), with its
linearised standard error between PSUs within strata (pedw.models.survey.design_estimates).
An economy whose firm file carries no sampling weight counts each firm once (weight 1, each
firm its own PSU, one stratum: the usual s/√n when every firm has a value; a firm without one
stays a PSU of the design, as in R's survey), and its rows say `unweighted`.

The cells then go through the disclosure rules (`protect_indicators`): contributor counts
(firms, never weighted), dominance of weighted contributions for means, both sides of a share
(firms with and without the attribute) for shares, and differencing between years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pedw.disclosure.cellkey import cell_noise
from pedw.disclosure.cells import PRIMARY, PUBLISHED, SECONDARY, differencing_error
from pedw.disclosure.rules import DisclosureRule
from pedw.models.frames import query_frames
from pedw.models.survey import SurveyDesign, design_estimates
from pedw.store import Store

# indicator -> (statistic, value of each firm-year as SQL on the panel, for a mean the
# aggregated variable in levels whose weighted contributions the dominance rule measures)
INDICATORS = {
    "log_labour_productivity": ("mean", "log_labour_productivity", "labour_productivity"),
    "log_mean_wage": ("mean", "log_mean_wage", "wage_bill"),
    "sme": ("share", "CAST(size_class_current <> 'large' AS DOUBLE)", None),
    "formal": ("share", "CAST(formal AS DOUBLE)", None),
    "training": ("share", "CAST(training AS DOUBLE)", None),
    "exporter": ("share", "CAST(exporter AS DOUBLE)", None),
}
WEIGHTED, UNWEIGHTED = "weighted", "unweighted"
INDICATOR_COLUMNS = {"country": "string", "year": "int64", "indicator": "string",
                     "statistic": "string", "estimate": float, "std_error": float,
                     "ci_low": float, "ci_high": float, "df": "Int64", "contributors": "int64",
                     "holders": "Int64", "weight_total": float, "weighting": "string",
                     "top1_share": float, "top2_share": float}  # fmt: skip


def _long_sql(panel_columns: set[str]) -> str:
    """One row per firm-year and indicator, with its design: the economy's sampling weight
    (1 where its survey has none), stratum ('' without) and PSU (the firm without)."""
    weighted = "sampling_weight" in panel_columns
    weight = "coalesce(sampling_weight, CASE WHEN economy_weighted THEN NULL ELSE 1.0 END)"
    stratum = "coalesce(CAST(stratum AS VARCHAR), '')" if "stratum" in panel_columns else "''"
    psu = "coalesce(CAST(psu AS VARCHAR), firm_id)" if "psu" in panel_columns else "firm_id"
    selects = []
    for indicator, (_statistic, value, level) in INDICATORS.items():
        level_sql = f"CAST({level} AS DOUBLE)" if level else "1.0"
        selects.append(
            f"SELECT country, year, firm_id, '{indicator}' AS indicator, {value} AS y, "
            f"{level_sql} AS level, {weight if weighted else '1.0'} AS w, {stratum} AS h, "
            f"{psu} AS j, {'economy_weighted' if weighted else 'FALSE'} AS economy_weighted "
            "FROM firms"
        )
    economy = (
        "bool_or(sampling_weight IS NOT NULL) OVER (PARTITION BY country)" if weighted else "FALSE"
    )
    return (
        f"WITH firms AS (SELECT *, {economy} AS economy_weighted FROM panel) "
        + " UNION ALL ".join(selects)
    )


CELLS_SQL = """
    -- Contributors are firms (never weighted); dominance is measured on weighted
    -- contributions, w x the aggregated variable in levels (means) or w (shares' holders).
    WITH used AS (
        SELECT *, CASE WHEN y IS NOT NULL THEN w * greatest(level, 0) END AS contribution,
               row_number() OVER (PARTITION BY country, year, indicator
                                  ORDER BY CASE WHEN y IS NOT NULL THEN w * greatest(level, 0)
                                           END DESC NULLS LAST) AS rank
        FROM long WHERE y IS NOT NULL
    )
    SELECT country, year, indicator, count(DISTINCT firm_id) AS contributors,
           count(DISTINCT firm_id) FILTER (WHERE y = 1) AS holders,
           bool_or(economy_weighted) AS economy_weighted,
           sum(contribution) FILTER (WHERE rank = 1) / nullif(sum(contribution), 0) AS top1_share,
           sum(contribution) FILTER (WHERE rank <= 2) / nullif(sum(contribution), 0) AS top2_share
    FROM used GROUP BY ALL
"""


def indicator_rows(panel: pd.DataFrame) -> pd.DataFrame:
    """marts.firm_indicators from the firm panel (marts.enterprise_panel's columns)."""
    long = query_frames(_long_sql(set(panel.columns)), panel=panel)
    if long.empty or long["y"].notna().sum() == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in INDICATOR_COLUMNS.items()})
    estimates = design_estimates(long, "y", SurveyDesign("w", "h", "j"), ["country", "year"],
                                 "indicator")  # fmt: skip
    cells = query_frames(CELLS_SQL, long=long)
    frame = estimates.merge(cells, on=["country", "year", "indicator"], how="inner")
    statistic = frame["indicator"].map({k: v[0] for k, v in INDICATORS.items()})
    share = (statistic == "share").to_numpy()
    # A single firm has no sampling variance to estimate (weight 1 would read as certainty).
    se = frame["std_error"].where(frame["rows"] > 1)
    t = stats.t.ppf(0.975, frame["df"].clip(lower=1).astype(float))
    low, high = frame["estimate"] - t * se, frame["estimate"] + t * se
    # Shares: the logit interval Stata's `svy: proportion` reports (inside 0-1).
    # At 0 or 1 (every firm or none) it has no logit: left empty.
    p = frame["estimate"].where((frame["estimate"] > 0) & (frame["estimate"] < 1))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        half = t * se / (p * (1 - p))
        logit = np.log(p / (1 - p))
        low = low.where(~share, 1 / (1 + np.exp(-(logit - half))))
        high = high.where(~share, 1 / (1 + np.exp(-(logit + half))))
    result = pd.DataFrame(
        {
            "country": frame["country"],
            "year": frame["year"],
            "indicator": frame["indicator"],
            "statistic": statistic,
            "estimate": frame["estimate"],
            "std_error": se,
            "ci_low": low,
            "ci_high": high,
            "df": frame["df"],
            "contributors": frame["contributors"],
            "holders": frame["holders"].where(share),
            "weight_total": frame["weight_total"],
            "weighting": np.where(frame["economy_weighted"], WEIGHTED, UNWEIGHTED),
            "top1_share": frame["top1_share"].where(~share),
            "top2_share": frame["top2_share"].where(~share),
        }
    )
    order = result["indicator"].map({name: i for i, name in enumerate(INDICATORS)})
    result = result.assign(_order=order).sort_values(["country", "year", "_order"])
    return result.drop(columns="_order").reset_index(drop=True).astype(INDICATOR_COLUMNS)


def write_firm_indicators(store: Store) -> int:
    """Build marts.firm_indicators from marts.enterprise_panel."""
    if not store.exists("marts", "enterprise_panel"):
        raise ValueError("marts.enterprise_panel must be built before marts.firm_indicators")
    con = store.connect()
    try:
        panel = con.execute("SELECT * FROM marts.enterprise_panel").df()
        con.register("_indicators", indicator_rows(panel))
        return store.write(con, "marts", "firm_indicators", "SELECT * FROM _indicators")
    finally:
        con.close()


def primary_reasons(cells: pd.DataFrame, rule: DisclosureRule) -> pd.Series:
    """The first primary rule each indicator cell breaks ('' when none): the rules of the
    other firm-derived cells (pedw.disclosure.rules) on the firms a cell rests on."""
    n = rule.dominance_n
    share = cells["statistic"] == "share"
    holders = cells["holders"].fillna(0)
    top1 = cells["top1_share"].fillna(1.0)
    checks = [
        (cells["contributors"] < rule.min_contributors,
         f"fewer than {rule.min_contributors} firms contribute to it"),
        (share & (holders < rule.min_contributors),
         f"fewer than {rule.min_contributors} of its firms have the attribute"),
        (share & (cells["contributors"] - holders < rule.min_contributors),
         f"fewer than {rule.min_contributors} of its firms lack the attribute"),
        (~share & (cells[f"top{n}_share"].fillna(1.0) > rule.dominance_k),
         f"its {n} largest contributors hold more than {rule.dominance_k:.0%} of the "
         "weighted total"),
    ]  # fmt: skip
    if rule.p_percent is not None:
        rest = 1.0 - cells["top2_share"].fillna(1.0)
        checks.append((~share & (rest < rule.p_percent / 100 * top1),
                       f"the p% rule (p = {rule.p_percent:g})"))  # fmt: skip
    reasons = pd.Series("", index=cells.index, dtype=object)
    for broken, reason in reversed(checks):  # the first rule listed wins
        reasons = reasons.mask(broken.to_numpy(), reason)
    return reasons


def contributor_values(panel: pd.DataFrame) -> dict[tuple, pd.Series]:
    """(country, year, indicator) -> each contributing firm's value (what an intruder
    differencing two years would try to recover)."""
    long = query_frames(_long_sql(set(panel.columns)), panel=panel)
    long = long.loc[long["y"].notna(), ["country", "year", "indicator", "firm_id", "y"]]
    return {
        key: group.set_index("firm_id")["y"]
        for key, group in long.groupby(["country", "year", "indicator"], sort=False)
    }


def protect_indicators(
    cells: pd.DataFrame, panel: pd.DataFrame, rule: DisclosureRule
) -> pd.DataFrame:
    """`cells` (marts.firm_indicators) with status (published, primary, secondary), reason and
    `changed` (contributors that entered or left since the indicator's last published year).

    Two published years of an indicator whose contributors differ by 1 to
    `min_contributors - 1` firms could be differenced; the later one is suppressed when the
    attack would place the moved firms within `protection` of their value
    (pedw.disclosure.cells.differencing_error)."""
    result = cells.sort_values(["country", "indicator", "year"]).reset_index(drop=True)
    reasons = primary_reasons(result, rule)
    status = np.where(reasons != "", PRIMARY, PUBLISHED).astype(object)
    changed = np.full(len(result), np.nan)
    values = contributor_values(panel)
    empty = pd.Series(dtype=float)
    last: dict[tuple, tuple] = {}  # (country, indicator) -> (year, values)
    keys = zip(result["country"], result["year"], result["indicator"], strict=True)
    for i, (country, year, indicator) in enumerate(keys):  # one step per cell, not per row
        if status[i] != PUBLISHED:
            continue
        mine = values.get((country, year, indicator), empty)
        before = last.get((country, indicator))
        if before is not None:
            moved, error = differencing_error(before[1], mine)
            changed[i] = moved
            if 0 < moved < rule.min_contributors and error < rule.protection:
                status[i] = SECONDARY
                reasons.iloc[i] = (
                    f"differs from the published {before[0]} by fewer than "
                    f"{rule.min_contributors} contributing firms, which differencing the two "
                    f"years would place within {rule.protection:g} of their value"
                )
                continue
        last[(country, indicator)] = (year, mine)
    result["status"], result["reason"], result["changed"] = status, reasons.to_numpy(), changed
    return result.sort_values(["country", "year", "indicator"], kind="stable").reset_index(
        drop=True
    )


RELEASED_VALUES = ["estimate", "std_error", "ci_low", "ci_high"]
CELL = ["country", "year", "indicator"]


def indicator_perturbation(panel: pd.DataFrame, salt: str, rule: DisclosureRule) -> pd.DataFrame:
    """Per indicator cell, the cell-key noise of its released estimate and standard error
    (pedw.disclosure.cellkey, as for the SME-gap cells): keyed by its contributing firm-years
    and their values, so the same firms give the same noise in every release, and a release
    that differs by one firm or one revised value gives a fresh draw, not the firm."""
    long = query_frames(_long_sql(set(panel.columns)), panel=panel)
    long = long[long["y"].notna()].rename(columns={"y": "value", "w": "weight"})
    parts = [
        cell_noise(cells[["country", "year", "firm_id", "value", "weight"]], ["country", "year"],
                   f"indicator:{indicator}", salt, rule.noise_bound).assign(indicator=indicator)
        for indicator, cells in long.groupby("indicator")
    ]  # fmt: skip
    columns = [*CELL, "noise", "se_noise", "noise_var"]
    return pd.concat(parts)[columns] if parts else pd.DataFrame(columns=columns)


def released_indicators(
    protected: pd.DataFrame, rule: DisclosureRule, perturbation: pd.DataFrame
) -> pd.DataFrame:
    """What may leave the warehouse: published values with their cell-key noise
    (`indicator_perturbation`; the standard error with its own draw and the noise's variance,
    the interval redrawn around the released value), rounded as shown, with their firm count
    and weighting; a suppressed cell keeps only its key, status and reason."""
    shown = (protected["status"] == PUBLISHED).to_numpy()
    noise = protected[CELL].merge(
        perturbation.astype({"year": protected["year"].dtype}), on=CELL, how="left"
    )
    estimate = protected["estimate"] + noise["noise"].fillna(0).to_numpy()
    share = (protected["statistic"] == "share").to_numpy()
    estimate = estimate.where(~share, estimate.clip(0, 1))
    error = np.sqrt(
        (protected["std_error"] + noise["se_noise"].fillna(0).to_numpy()) ** 2
        + noise["noise_var"].fillna(0).to_numpy()
    )
    # An interval of the true width around the released value would give the true SE back.
    half = stats.t.ppf(0.975, protected["df"].clip(lower=1).astype(float)) * error
    released = {"estimate": estimate, "std_error": error, "ci_low": estimate - half,
                "ci_high": estimate + half}  # fmt: skip
    released["ci_low"] = released["ci_low"].where(~share, released["ci_low"].clip(0, 1))
    released["ci_high"] = released["ci_high"].where(~share, released["ci_high"].clip(0, 1))
    rows = protected[["country", "year", "indicator", "statistic"]].copy()
    for column in RELEASED_VALUES:
        rows[column] = released[column].round(rule.gap_decimals).where(shown)
    rows["contributors"] = protected["contributors"].astype("Int64").where(shown)
    rows["weighting"] = protected["weighting"].where(shown)
    rows["status"], rows["reason"] = protected["status"], protected["reason"]
    return rows
