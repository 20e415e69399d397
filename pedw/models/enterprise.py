"""Enterprise cross-level models and the SME gap (firm-years within sectors within countries)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedw.models.absorb import fe_ols
from pedw.models.frames import query_frames
from pedw.models.ledger import ModelLedger
from pedw.models.needs import estimable
from pedw.models.survey import SurveyDesign, design_estimates
from pedw.models.tidy import empty_estimates, fingerprint, tidy_fit

SIZE_DUMMIES = ["micro", "small", "medium"]  # large firms are the reference
FIRM_DRIVERS = ["training", "formal", "exporter", "female_share"]
CONTEXT_DRIVERS = ["national_human_capital", "sector_log_labour_productivity"]
SCORE_EVENT_BINS = ["score_participant", "score_e0", "score_e1", "score_e2", "score_e3plus"]
GAP_OUTCOMES = ["log_labour_productivity", "log_mean_wage"]
SME_GAP_TREND_COLUMNS = {"country": "string", "outcome": "string", "size_class": "string",
                         "weighting": "string",
                         "gap_first_year": float, "gap_first_year_se": float,
                         "trend_per_year": float, "trend_se": float, "trend_ci_low": float,
                         "trend_ci_high": float, "widening": bool, "narrowing": bool,
                         "n_obs": "int64", "firms_in_class": "int64",
                         "contributors_in_class": "int64", "large_contributors": "int64",
                         "top1_share": float, "top2_share": float, "large_top1_share": float,
                         "large_top2_share": float, "trend_origin_year": "int64"}  # fmt: skip
# The variable a gap outcome aggregates, in levels: what its dominance is measured on.
AGGREGATED = {"log_labour_productivity": "labour_productivity", "log_mean_wage": "wage_bill"}
# The column of the sampling weights a firm-level model is fitted with (weight 1 for the firms
# of an economy whose survey has none), and how each fit records its weighting.
SURVEY_WEIGHT = "survey_weight"
WEIGHTED, UNWEIGHTED = "sampling weights", "unweighted"


def with_survey_weights(panel: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """`panel` with the `survey_weight` column and its name when the firm data carry a
    sampling weight; otherwise `panel` and None (every firm-year counts alike)."""
    if not has_values(panel, "sampling_weight"):
        return panel, None
    return panel.assign(**{SURVEY_WEIGHT: _self_weighted(panel)}), SURVEY_WEIGHT


def unweighted_note(panel: pd.DataFrame, estimator: str) -> str:
    """The weighting a model that takes no weights records: unweighted, and why when the
    firm data carry sampling weights it leaves aside."""
    if has_values(panel, "sampling_weight"):
        return (
            f"{UNWEIGHTED}: {estimator} takes no sampling weights (the sample's firms count alike)"
        )
    return UNWEIGHTED


def estimator_text(weights: str | None, vcov: str = "CRV1") -> str:
    """models.estimates.estimator of an absorbed fixed-effects fit, naming its weighting."""
    if weights is None:
        return (
            f"OLS, absorbed fixed effects, {vcov}; unweighted (no sampling weight in the firm data)"
        )
    return (
        f"WLS with the survey's sampling weights (1 for firms of economies without), absorbed "
        f"fixed effects, {vcov}"
    )


def add_model_columns(panel: pd.DataFrame) -> pd.DataFrame:
    """Size dummies, a gap trend variable and SCORE event-time bins used as controls."""
    frame = panel.copy()
    for size in SIZE_DUMMIES:
        frame[size] = (frame["size_class"] == size).astype(float)
    frame["trend"] = frame["year"] - frame["year"].min()
    for size in SIZE_DUMMIES:
        frame[f"{size}_x_trend"] = frame[size] * frame["trend"]
    event = frame["score_event_time"].astype(float)  # NaN (never treated) compares False
    frame["score_participant"] = frame["score_participant"].astype(float)
    for bin_name, (low, high) in zip(
        SCORE_EVENT_BINS[1:], [(0, 0), (1, 1), (2, 2), (3, 10_000)], strict=True
    ):
        frame[bin_name] = ((event >= low) & (event <= high)).astype(float)
    frame["country_year"] = frame["country"] + ":" + frame["year"].astype(str)
    frame["size_year"] = frame["size_class"] + ":" + frame["year"].astype(str)
    return frame


def cross_level_models(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """Firm outcomes on firm, sector and national drivers | country + year, clustered by country.

    Country effects absorb everything constant about a country, so the national driver is
    identified from its changes within countries over time.
    """
    frame, weights = with_survey_weights(add_model_columns(panel))
    regressors = [*FIRM_DRIVERS, *SIZE_DUMMIES, *CONTEXT_DRIVERS]
    wage_regressors = ["log_labour_productivity", *FIRM_DRIVERS, *SIZE_DUMMIES, *CONTEXT_DRIVERS]
    frames = []
    for outcome, drivers in (("log_labour_productivity", regressors),
                             ("log_mean_wage", wage_regressors)):  # fmt: skip
        model_id = f"enterprise_cross_level_{outcome}"
        if not estimable(frame, model_id, [outcome, *drivers], ledger):
            continue
        fit = fe_ols(frame, outcome, drivers, ["country", "year"], "country", wild_bootstrap=True,
                     weights=weights)  # fmt: skip
        fit.extra["weighting"] = WEIGHTED if weights else UNWEIGHTED
        frames.append(tidy_fit(fit, model_id, "enterprise", outcome,
                               fingerprint(frame[["firm_id", "year", outcome, *drivers,
                                                  *([weights] if weights else [])]]),
                               estimator_text(weights)))  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()


def sme_gap_trend_models(panel: pd.DataFrame, ledger: ModelLedger | None = None) -> pd.DataFrame:
    """Gap of micro, small and medium firms against large ones, and its yearly change.

    outcome = sum_k gap_k * size_k + sum_k trend_k * size_k * (year - first year) + drivers
              + SCORE event-time bins | country x year + sector, clustered by country.
    A negative trend_k with a confidence interval below zero means the gap is widening.
    """
    frame, weights = with_survey_weights(add_model_columns(panel))
    weighted_by = [weights] if weights else []
    regressors = [
        *SIZE_DUMMIES,
        *(f"{s}_x_trend" for s in SIZE_DUMMIES),
        *FIRM_DRIVERS,
        *SCORE_EVENT_BINS,
    ]
    frames = []
    for outcome in GAP_OUTCOMES:
        if not estimable(frame, f"enterprise_sme_gap_{outcome}",
                         [outcome, *regressors, "sector"], ledger):  # fmt: skip
            continue
        fit = fe_ols(frame, outcome, regressors, ["country_year", "sector"], "country",
                     wild_bootstrap=True, weights=weights)  # fmt: skip
        fit.extra["trend_origin_year"] = int(frame["year"].min())
        fit.extra["weighting"] = WEIGHTED if weights else UNWEIGHTED
        frames.append(
            tidy_fit(
                fit,
                f"enterprise_sme_gap_{outcome}",
                "enterprise",
                outcome,
                fingerprint(frame[["firm_id", "year", outcome, *regressors, *weighted_by]]),
                estimator_text(weights),
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else empty_estimates()


def sme_gap_trend_by_country(panel: pd.DataFrame, min_firms: int = 10) -> pd.DataFrame:
    """The same gap-and-trend regression country by country (| year + sector, clustered by firm)."""
    frame, weights = with_survey_weights(add_model_columns(panel))
    origin = int(frame["year"].min()) if len(frame) else 0  # year where `trend` is 0
    rows = []
    for country, data in frame.groupby("country"):
        present = [
            s for s in SIZE_DUMMIES if data.loc[data[s] == 1, "firm_id"].nunique() >= min_firms
        ]
        if data.loc[data["size_class"] == "large", "firm_id"].nunique() < min_firms or not present:
            continue
        regressors = [*present, *(f"{s}_x_trend" for s in present), *FIRM_DRIVERS]
        for outcome in GAP_OUTCOMES:
            # A country's firms are weighted when its survey has weights.
            weighted = weights is not None and bool(data["sampling_weight"].notna().any())
            fit = fe_ols(data, outcome, regressors, ["year", "sector"], "firm_id",
                         weights=weights if weighted else None)  # fmt: skip
            table = fit.table().set_index("term")
            for size in present:
                if size in fit.dropped or f"{size}_x_trend" in fit.dropped:
                    continue  # not identified in this country (listed in the fit)
                level, trend = table.loc[size], table.loc[f"{size}_x_trend"]
                rows.append(
                    {
                        "country": country,
                        "outcome": outcome,
                        "size_class": size,
                        "weighting": WEIGHTED if weighted else UNWEIGHTED,
                        "gap_first_year": level.estimate,
                        "gap_first_year_se": level.std_error,
                        "trend_per_year": trend.estimate,
                        "trend_se": trend.std_error,
                        "trend_ci_low": trend.ci_low,
                        "trend_ci_high": trend.ci_high,
                        "widening": bool(trend.ci_high < 0),
                        "narrowing": bool(trend.ci_low > 0),
                        "n_obs": fit.n_obs,
                        "firms_in_class": int(data.loc[data[size] == 1, "firm_id"].nunique()),
                        # The firms the estimate rests on: those with the outcome observed.
                        "contributors_in_class": int(
                            data.loc[(data[size] == 1) & data[outcome].notna(), "firm_id"].nunique()
                        ),
                        "large_contributors": int(
                            data.loc[
                                (data["size_class"] == "large") & data[outcome].notna(), "firm_id"
                            ].nunique()
                        ),
                        **_pooled_dominance(data, data[size] == 1, outcome, ""),
                        **_pooled_dominance(data, data["size_class"] == "large", outcome, "large_"),
                        "trend_origin_year": origin,
                    }
                )
    # Typed even when no country has enough firms (a small panel): the columns are the table.
    return pd.DataFrame(rows, columns=list(SME_GAP_TREND_COLUMNS)).astype(SME_GAP_TREND_COLUMNS)


def _pooled_dominance(data: pd.DataFrame, members: pd.Series, outcome: str, side: str) -> dict:
    """Shares of the aggregated variable, summed over the trend's years, held by the largest
    one and two contributing firms of a group (the trend's own dominance measure); in a
    weighted survey each firm-year counts with its sampling weight, as in the cells
    (statistical offices measure dominance on weighted contributions)."""
    feeding = data.loc[members & data[outcome].notna()]
    level = feeding[AGGREGATED[outcome]]
    if "sampling_weight" in feeding.columns and feeding["sampling_weight"].notna().any():
        level = level * feeding["sampling_weight"].fillna(1.0)
    per_firm = level.groupby(feeding["firm_id"]).sum().clip(lower=0)
    total = float(per_firm.sum())
    top = per_firm.nlargest(2).to_numpy()
    if total <= 0 or len(top) == 0:
        return {f"{side}top1_share": np.nan, f"{side}top2_share": np.nan}
    return {f"{side}top1_share": top[0] / total, f"{side}top2_share": top.sum() / total}


SME_GAP_CELLS_SQL = """
    WITH measured AS (
        -- A firm contributes to a mean of logs only where the log exists (value added or
        -- wage bill above 0); dominance is measured on the variable being aggregated, in
        -- levels: labour productivity for the productivity gap, the wage bill for wages.
        -- In a weighted survey each firm contributes its weight times its value (the firms
        -- it stands for); the contributor counts stay counts of firms.
        SELECT country, year, size_class, firm_id, log_labour_productivity AS lp,
               log_mean_wage AS lw,
               CASE WHEN log_labour_productivity IS NOT NULL THEN labour_productivity * {weight} END AS lp_level,
               CASE WHEN log_mean_wage IS NOT NULL THEN wage_bill * {weight} END AS wage_level
        FROM panel
    ),
    ranked AS (
        SELECT *,
               row_number() OVER (PARTITION BY country, year, size_class
                                  ORDER BY lp_level DESC NULLS LAST) AS lp_rank,
               row_number() OVER (PARTITION BY country, year, size_class
                                  ORDER BY wage_level DESC NULLS LAST) AS wage_rank
        FROM measured
    ),
    cells AS (
        SELECT country, year, size_class, count(DISTINCT firm_id) AS firms,
               count(lp) AS lp_contributors, avg(lp) AS mean_lp, var_samp(lp) AS var_lp,
               count(lw) AS wage_contributors, avg(lw) AS mean_wage, var_samp(lw) AS var_wage,
               sum(lp_level) FILTER (WHERE lp_rank = 1) / nullif(sum(lp_level), 0) AS lp_top1_share,
               sum(lp_level) FILTER (WHERE lp_rank <= 2) / nullif(sum(lp_level), 0) AS lp_top2_share,
               sum(wage_level) FILTER (WHERE wage_rank = 1)
                   / nullif(sum(wage_level), 0) AS wage_top1_share,
               sum(wage_level) FILTER (WHERE wage_rank <= 2)
                   / nullif(sum(wage_level), 0) AS wage_top2_share
        FROM ranked GROUP BY ALL
    )
    SELECT c.country, c.year, c.size_class, c.firms, l.firms AS large_firms,
           c.lp_contributors, l.lp_contributors AS large_lp_contributors,
           c.wage_contributors, l.wage_contributors AS large_wage_contributors,
           c.mean_lp - l.mean_lp AS productivity_gap,
           sqrt(c.var_lp / c.lp_contributors + l.var_lp / l.lp_contributors) AS productivity_gap_se,
           c.mean_wage - l.mean_wage AS wage_gap,
           sqrt(c.var_wage / c.wage_contributors + l.var_wage / l.wage_contributors) AS wage_gap_se,
           c.lp_top1_share, c.lp_top2_share, l.lp_top1_share AS large_lp_top1_share,
           l.lp_top2_share AS large_lp_top2_share,
           c.wage_top1_share, c.wage_top2_share, l.wage_top1_share AS large_wage_top1_share,
           l.wage_top2_share AS large_wage_top2_share
    FROM cells c JOIN cells l ON l.country = c.country AND l.year = c.year AND l.size_class = 'large'
    WHERE c.size_class <> 'large'
    ORDER BY c.country, c.year, c.size_class
"""


def has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].notna().any())


def _self_weighted(panel: pd.DataFrame) -> pd.Series:
    """The sampling weights, with weight 1 for the firms of an economy whose survey gives
    none (a row without a weight in an economy that has them stays missing: refused)."""
    weighted = panel.groupby("country")["sampling_weight"].transform(lambda w: w.notna().any())
    return panel["sampling_weight"].where(weighted, 1.0)


def sme_gap_cells(panel: pd.DataFrame, design: SurveyDesign | None = None) -> pd.DataFrame:
    """Raw gaps in mean log productivity and log wage, by country, year and size class.

    Each cell carries, for itself and its large-firm comparison cell, the firms that
    contribute to each mean and the shares of the aggregated variable held by its largest
    one and two contributors: what pedw.disclosure needs to decide what may be published.

    With a survey `design` (by default when the panel has a `sampling_weight` column, with its
    `stratum` and `psu` columns where present), the gaps are weighted means with
    design-based standard errors (:mod:`pedw.models.survey`) and dominance is measured on
    weighted contributions; contributor counts stay unweighted, as statistical offices count.
    """
    if design is None and has_values(panel, "sampling_weight"):
        # Economies surveyed without weights (a census, the demo panel) count each firm once.
        panel = panel.assign(sampling_weight=_self_weighted(panel))
        # Their firms have no stratum or PSU either: one stratum, each firm its own PSU
        # (left empty they would form a single PSU and be refused).
        if has_values(panel, "stratum"):
            panel = panel.assign(stratum=panel["stratum"].astype("string").fillna(""))
        if has_values(panel, "psu"):
            firm = panel["firm_id"].astype("string")
            panel = panel.assign(psu=panel["psu"].astype("string").fillna(firm))
        design = SurveyDesign(
            "sampling_weight",
            "stratum" if has_values(panel, "stratum") else None,
            "psu" if has_values(panel, "psu") else None,
        )
    weight = '"' + design.weight.replace('"', '""') + '"' if design else "1.0"
    cells = query_frames(SME_GAP_CELLS_SQL.format(weight=weight), panel=panel)
    cells = cells.replace({np.inf: np.nan})
    if design is None or cells.empty:
        return cells
    keys, order = ["country", "year", "size_class"], list(cells.columns)
    for value, gap, se in (("log_labour_productivity", "productivity_gap", "productivity_gap_se"),
                           ("log_mean_wage", "wage_gap", "wage_gap_se")):  # fmt: skip
        weighted = design_estimates(panel, value, design, ["country", "year"], "size_class",
                                    reference="large")  # fmt: skip
        weighted = weighted.rename(columns={"estimate": gap, "std_error": se})[[*keys, gap, se]]
        weighted["year"] = weighted["year"].astype(cells["year"].dtype)
        cells = cells.drop(columns=[gap, se]).merge(weighted, on=keys, how="left")
    return cells[order]
