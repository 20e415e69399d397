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

# Why a model that was estimated is not read as a sentence in the annex (by model id prefix;
# the first that matches). Every estimated model the annex does not report is listed with
# its reason, so that no result is left out unsaid.
UNREPORTED = [
    ("national_production_twfe", "The production function", "output per worker on capital "
     "per worker, human capital, hours worked and trade: how output per worker is made, not "
     "how it goes with decent work, which is what this annex reports"),
    ("national_long_difference_", "The long-difference check on {outcome}", "each economy's "
     "change between its first and last years, a check of the result on {outcome} above "
     "that leaves out the year-to-year variation; the annex reads the main result only"),
    ("shift_share", "The shift-share decomposition", "a decomposition per economy, reported "
     "in each country brief's structural-change section"),
]  # fmt: skip
UNREPORTED_DEFAULT = "not among the results this annex reads as sentences"
UNREPORTED_NAME = "The model of {outcome}"
# Fixed effects that make a result a comparison of each unit with itself over time.
WITHIN = {"ref_area": "economies", "country": "economies", "firm_id": "firms"}


def design(specification: str, firms: bool) -> str:
    """What comparison a result rests on, from its model's specification: with economy (or
    firm) fixed effects, variation within each unit over time, not differences between
    units; otherwise differences across them."""
    absorbed = specification.split("|", 1)[1] if "|" in specification else ""
    effects = {t.strip() for t in absorbed.split(",")[0].split("+")}
    units = [WITHIN[e] for e in effects if e in WITHIN]
    if units:
        unit = "firms" if "firms" in units else units[0]
        one = {"economies": "economy", "firms": "firm"}[unit]
        shared = ", net of what all shared in a year" if "year" in effects else ""
        return f"within {unit} over time (each {one} compared with itself in other years{shared})"
    return "across the economies" + (" and firms" if firms else "") + " in the warehouse"


def unreported_models(estimates: pd.DataFrame, reported: set[str]) -> list[dict]:
    """Every model with an estimate that the annex does not read as a sentence, and why."""
    if not len(estimates):
        return []
    listed = []
    for model_id, rows in estimates.groupby("model_id", sort=True):
        if model_id in reported:
            continue
        outcome = str(rows["outcome"].iloc[0]).replace("_", " ") if "outcome" in rows else ""
        name, why = next(
            (
                (label, reason)
                for prefix, label, reason in UNREPORTED
                if model_id.startswith(prefix)
            ),
            (UNREPORTED_NAME, UNREPORTED_DEFAULT),
        )
        listed.append(
            {
                "model_id": model_id,
                "name": name.format(outcome=outcome),
                "reason": why.format(outcome=outcome),
            }
        )
    return listed


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
        pooled_from = row.get("pooled_from")
        if isinstance(pooled_from, str) and pooled_from:
            # The centre's exact pool of the offices' disclosure-checked statistics (no
            # office released this estimate itself: it exists only pooled).
            basis = (
                f"pooled across {pooled_from}: {int(row['n_obs']):,} firm-years in "
                f"{int(row['n_groups'])} economies"
            )
        elif row["level"] == "enterprise":
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
                "design": design(str(row["specification"]), bool(row["level"] == "enterprise")),
                "outcome": str(row.get("outcome", "")),
            }
        )
    return findings, withheld
