"""Enterprise resilience: how far shocked firms fall, how fast they recover, and what predicts it.

A firm's outcome is measured relative to firms never hit by a shock in the same country,
sector, size class and year, so common downturns and trends cancel out. The drop is the
shock-year change against the firm's own pre-shock mean; a firm has recovered in the first
later year in which it has regained at least half of its own drop. Recovery is modelled as
a discrete-time hazard (logit on firm-years at risk), the duration model that fits yearly
panels with right-censoring at the last wave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from pedw.models.enterprise import unweighted_note
from pedw.models.frames import query_frames
from pedw.models.ledger import ModelLedger
from pedw.models.needs import estimable
from pedw.models.tidy import empty_estimates, fingerprint, statsmodels_rows, tidy_rows
from pedw.store import check_identifier

RECOVERY_SHARE = 0.5
# models.resilience_by_country, also when no shock could be measured (no sales, no sector).
SUMMARY_COLUMNS = {"country": pd.Series(dtype="string"), "shocked_firms": pd.Series(dtype="int64"),
                   "mean_sales_drop": pd.Series(dtype=float),
                   "recovered_firms": pd.Series(dtype="int64"),
                   "median_years_to_recover": pd.Series(dtype=float)}  # fmt: skip
HAZARD_DRIVERS = ["training", "exporter", "formal", "female_share", "micro", "small", "medium",
                  "national_human_capital"]  # fmt: skip

RELATIVE_SQL = """
    WITH firms AS (
        SELECT *, min(year) FILTER (WHERE shock = 1) OVER (PARTITION BY firm_id) AS shock_year
        FROM panel WHERE {outcome} IS NOT NULL
    ),
    shock_years AS (SELECT DISTINCT shock_year FROM firms WHERE shock_year IS NOT NULL),
    -- Every firm's deviation from its own mean before a shock year: firm effects cancel, so
    -- a peer group whose membership changes between waves does not move the comparison.
    deviations AS (
        SELECT f.firm_id, f.country, f.sector, f.size_class, f.year, s.shock_year AS reference_year,
               f.shock_year, f.{outcome} - avg(f.{outcome}) FILTER (WHERE f.year < s.shock_year)
                   OVER (PARTITION BY f.firm_id, s.shock_year) AS deviation
        FROM firms f CROSS JOIN shock_years s
        WHERE f.shock_year IS NULL OR f.shock_year = s.shock_year
    ),
    peers AS (
        SELECT country, sector, size_class, reference_year, year, avg(deviation) AS peer_change,
               count(*) AS peers
        FROM deviations WHERE shock_year IS NULL GROUP BY ALL
    )
    SELECT d.firm_id, d.country, d.year, d.shock_year, d.year - d.shock_year AS event_time,
           d.deviation - p.peer_change AS change, p.peers
    FROM deviations d
    JOIN peers p ON p.country = d.country AND p.sector = d.sector AND p.size_class = d.size_class
                AND p.reference_year = d.reference_year AND p.year = d.year
    WHERE d.shock_year IS NOT NULL AND d.year >= d.shock_year AND d.deviation IS NOT NULL
"""


def relative_changes(panel: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Shocked firms' change against their pre-shock mean, net of unshocked peers, by event time."""
    return query_frames(RELATIVE_SQL.format(outcome=check_identifier(outcome)), panel=panel)


def recovery_periods(changes: pd.DataFrame) -> pd.DataFrame:
    """Observed firm-years at risk of recovery after the shock, up to and including recovery.

    A firm has recovered in the first observed year in which it has regained at least
    RECOVERY_SHARE of its own shock-year drop; firms with no drop are not at risk.
    """
    drop = changes[changes["event_time"] == 0].set_index("firm_id")["change"].rename("drop")
    after = changes[changes["event_time"] > 0].join(drop, on="firm_id", how="inner")
    after = after[after["drop"] < 0].sort_values(["firm_id", "event_time"])
    after["recovers"] = (after["change"] >= RECOVERY_SHARE * after["drop"]).astype(int)
    already = after.groupby("firm_id")["recovers"].cumsum() - after["recovers"]
    return after[already == 0].reset_index(drop=True)


def recovery_spells(periods: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """One row per shocked firm: drop, years to recover (NaN if censored), last year observed."""
    spells = periods.groupby("firm_id").agg(drop=("drop", "first"))
    spells["last_observed"] = changes.groupby("firm_id")["event_time"].max()
    recovered = periods[periods["recovers"] == 1].groupby("firm_id")["event_time"].min()
    return spells.join(recovered.rename("years_to_recover")).reset_index()


def resilience_models(
    panel: pd.DataFrame, ledger: ModelLedger | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """models.estimates rows (drops, hazard) and a per-country summary of shocks and recovery;
    a model whose outcome or shock flag the catalog lacks is recorded in `ledger` as not
    estimable."""
    frame = panel.copy()
    for size in ("micro", "small", "medium"):
        frame[size] = (frame["size_class"] == size).astype(float)
    estimates, summaries = [], []
    for outcome in ("log_sales", "log_employees", "log_labour_productivity"):
        model_id = f"enterprise_resilience_drop_{outcome}"
        # Peers are the unshocked firms of the same country, sector and size class.
        if not estimable(frame, model_id, [outcome, "shock", "sector"], ledger):
            continue
        changes = relative_changes(frame, outcome)
        if changes.empty:
            if ledger is not None:
                ledger.not_run(model_id, "no shocked firm observed before its shock beside "
                               "unshocked peers of its country, sector and size class")  # fmt: skip
            continue
        drops = changes[changes["event_time"] == 0]["change"]
        t_crit = stats.t.ppf(0.975, max(len(drops) - 1, 1))
        se = float(drops.std(ddof=1) / np.sqrt(len(drops)))
        rows = [
            {
                "term": "drop:shock_year",
                "estimate": float(drops.mean()),
                "std_error": se,
                "ci_low": float(drops.mean()) - t_crit * se,
                "ci_high": float(drops.mean()) + t_crit * se,
            }
        ]
        periods = recovery_periods(changes)
        spells = recovery_spells(periods, changes)
        for years in (1, 2, 3):
            eligible = spells[spells["last_observed"] >= years]
            if len(eligible):
                share = float((eligible["years_to_recover"] <= years).mean())
                rows.append(
                    {
                        "term": f"share_recovered_within:{years}",
                        "estimate": share,
                        "std_error": float(np.sqrt(share * (1 - share) / len(eligible))),
                    }
                )
        estimates.append(
            tidy_rows(
                rows,
                f"enterprise_resilience_drop_{outcome}",
                "enterprise",
                "Mean change against own pre-shock level, net of unshocked peers",
                f"{outcome}: shock-year change; recovered = regained {RECOVERY_SHARE:.0%} of own drop",
                outcome,
                fingerprint(changes),
                len(drops),
                int(changes["country"].nunique()),
                {
                    "shocked_firms": len(drops),
                    "firms_with_a_drop": len(spells),
                    "weighting": unweighted_note(panel, "the peer-netted mean change"),
                },
            )
        )
        if outcome == "log_sales":
            firms = (frame.sort_values("year").groupby("firm_id")
                     [["country", *HAZARD_DRIVERS]].last().reset_index())  # fmt: skip
            estimates.append(_hazard(periods.merge(firms.drop(columns="country"), on="firm_id"),
                                     unweighted_note(panel, "the logit hazard")))  # fmt: skip
            summary = spells.merge(firms[["firm_id", "country"]], on="firm_id")
            summaries.append(
                summary.groupby("country")
                .agg(
                    shocked_firms=("firm_id", "count"),
                    mean_sales_drop=("drop", "mean"),
                    recovered_firms=("years_to_recover", "count"),
                    median_years_to_recover=("years_to_recover", "median"),
                )
                .reset_index()
            )
    summary = summaries[0] if summaries else pd.DataFrame(SUMMARY_COLUMNS)
    return (pd.concat(estimates, ignore_index=True) if estimates else empty_estimates()), summary


def _hazard(at_risk: pd.DataFrame, weighting: str) -> pd.DataFrame:
    formula = "recovers ~ " + " + ".join(HAZARD_DRIVERS)
    data = at_risk.dropna(subset=HAZARD_DRIVERS).reset_index(drop=True)
    result = smf.logit(formula, data).fit(
        disp=False, cov_type="cluster", cov_kwds={"groups": pd.factorize(data["firm_id"])[0]}
    )
    rows = statsmodels_rows(result.params, result.bse, result.conf_int(), result.pvalues)
    return tidy_rows(
        rows,
        "enterprise_resilience_recovery_hazard",
        "enterprise",
        "Discrete-time logit hazard of recovery (statsmodels), SE clustered by firm",
        formula + " (firm-years at risk after the shock)",
        "recovered_sales",
        fingerprint(data),
        len(data),
        int(data["firm_id"].nunique()),
        {
            "converged": bool(result.mle_retvals.get("converged", True)),
            "events": int(data["recovers"].sum()),
            "pseudo_r2": float(result.prsquared),
            "weighting": weighting,
        },
    )
