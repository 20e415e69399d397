"""The model results the cross-country annex reports, and how each reads for a person.

A result is a finding only when its 95% interval excludes no effect; otherwise it reads "no
clear association". A firm-level result is shown only as disclosure control released it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

# How a coefficient reads for a person: transform of the estimate, sentence, number format.
TRANSFORMS = {
    "per10pct": lambda b: b * math.log(1.1),  # level change for a 10% higher output per worker
    "pct_per10pct": lambda b: 100 * (1.1**b - 1),  # % change for a 10% higher output per worker
    "pct": lambda b: 100 * (math.exp(b) - 1),  # log points -> %
    "odds": math.exp,  # log-odds -> odds ratio
}


@dataclass(frozen=True)
class Finding:
    """One model result the annex reports: the model, its term, how it reads, and its topic
    (what a country brief calls it when it says whether the economy is in its sample)."""

    model_id: str
    term: str
    transform: str
    sentence: str
    number: str
    topic: str


FINDINGS = [
    Finding(
        "national_pass_through_informality_rate",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with informality {x} percentage points",
        "{:+.2f}",
        "informality",
    ),
    Finding(
        "national_pass_through_labour_income_share",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with a labour income share {x} points",
        "{:+.2f}",
        "the labour income share",
    ),
    Finding(
        "national_pass_through_log_mean_real_earnings",
        "log_output_per_worker",
        "pct_per10pct",
        "a 10% higher output per worker goes with real earnings {x}%",
        "{:+.1f}",
        "real earnings",
    ),
    Finding(
        "national_pass_through_working_poverty_rate",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with working poverty {x} percentage points",
        "{:+.2f}",
        "working poverty",
    ),
    Finding(
        "national_pass_through_fatal_injury_rate",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with {x} fatal injuries per 100,000 workers",
        "{:+.2f}",
        "fatal injuries",
    ),
    Finding(
        "score_event_study_log_labour_productivity",
        "att_post",
        "pct",
        "SCORE participants' labour productivity changes by {x}% after they start the programme",
        "{:+.1f}",
        "the SCORE programme",
    ),
    Finding(
        "score_twfe_log_labour_productivity",
        "twfe_treated_post",
        "pct",
        "the classic two-way fixed-effects estimate of the SCORE effect is {x}%",
        "{:+.1f}",
        "the SCORE programme",
    ),
    Finding(
        "enterprise_resilience_drop_log_sales",
        "drop:shock_year",
        "pct",
        "firms hit by a shock see their sales change by {x}% in the shock year",
        "{:+.1f}",
        "shocks",
    ),
    Finding(
        "enterprise_resilience_recovery_hazard",
        "training",
        "odds",
        "firms that train their workers have {x} times the odds of recovering in a given year",
        "{:.2f}",
        "recovery from shocks",
    ),
]
NATIONAL_FINDINGS = [f for f in FINDINGS if f.model_id.startswith("national_")]


def cross_country_findings(
    estimates: pd.DataFrame, effects: pd.DataFrame
) -> tuple[list[dict], list[str]]:
    """Model results in plain language, each with its 95% interval on the same scale and the
    units it rests on; a firm-level effect only when disclosure control released it. Returns
    the findings and, for each firm-level result withheld, why."""
    findings: list[dict] = []
    withheld: list[str] = []
    if not len(estimates):
        return findings, withheld
    indexed = estimates.set_index(["model_id", "term"])
    released = effects.set_index("model_id") if len(effects) else pd.DataFrame()
    for f in FINDINGS:
        if (f.model_id, f.term) not in indexed.index:
            continue
        row = indexed.loc[(f.model_id, f.term)]
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        if row["level"] == "enterprise":
            if f.model_id not in released.index:
                continue  # no disclosure decision: never published
            units = released.loc[f.model_id]
            if units["status"] != "published":
                withheld.append(
                    f"The result on {f.topic} is withheld by disclosure control: {units['reason']}."
                )
                continue
            basis = (
                f"{int(units['treated_firms']):,} treated firms in "
                f"{int(units['treated_countries'])} economies"
                + (
                    f", {int(units['control_firms']):,} control firms"
                    if pd.notna(units["control_firms"])
                    else ""
                )
            )
        else:
            basis = f"{int(row['n_obs']):,} observations, {int(row['n_groups'])} economies"
        scale = TRANSFORMS[f.transform]
        interval = ""
        # A finding only when the 95% interval excludes no effect (0 in the model's own
        # scale); otherwise the estimate is printed as "no clear association".
        clear = False
        if not (math.isnan(row["ci_low"]) or math.isnan(row["ci_high"])):
            low, high = sorted([scale(row["ci_low"]), scale(row["ci_high"])])
            interval = f"95% interval {f.number.format(low)} to {f.number.format(high)}"
            clear = bool(row["ci_low"] > 0 or row["ci_high"] < 0)
        findings.append(
            {
                "model_id": f.model_id,
                "excludes_zero": clear,
                "firms": bool(row["level"] == "enterprise"),
                "term": f.term,
                "topic": f.topic,
                "text": f.sentence.format(x=f.number.format(scale(row["estimate"]))),
                "interval": interval,
                "basis": basis,
                "specification": row["specification"],
            }
        )
    return findings, withheld
