"""Everything a country brief says, read from materialized tables (never typed into a template)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pedw.briefs.disclosure import DisclosureRule, suppress
from pedw.store import check_identifier

SCORECARD = [
    ("informality_rate", "Informal employment (% of employment)", "lower"),
    ("informal_employment_rate", "Informal employment rate, all sectors (%)", "lower"),
    ("labour_income_share", "Labour income share (% of GDP)", "higher"),
    ("mean_real_earnings", "Mean monthly earnings (2017 PPP $)", "higher"),
    ("mean_monthly_earnings_usd", "Mean monthly earnings (current US$)", "higher"),
    ("working_poverty_rate", "Working poverty rate (%)", "lower"),
    ("unemployment_rate", "Unemployment rate (%)", "lower"),
    ("youth_neet_rate", "Youth not in employment, education or training (%)", "lower"),
    ("fatal_injury_rate", "Fatal occupational injuries per 100,000 workers", "lower"),
]
# How a coefficient reads for a person: transform of the estimate, sentence, number format.
TRANSFORMS = {
    "per10pct": lambda b: b * math.log(1.1),  # level change for a 10% higher output per worker
    "pct_per10pct": lambda b: 100 * (1.1**b - 1),  # % change for a 10% higher output per worker
    "pct": lambda b: 100 * (math.exp(b) - 1),  # log points -> %
    "odds": math.exp,  # log-odds -> odds ratio
}
FINDINGS = [
    (
        "national_pass_through_informality_rate",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with informality {x} percentage points",
        "{:+.2f}",
    ),
    (
        "national_pass_through_labour_income_share",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with a labour income share {x} points",
        "{:+.2f}",
    ),
    (
        "national_pass_through_log_mean_real_earnings",
        "log_output_per_worker",
        "pct_per10pct",
        "a 10% higher output per worker goes with real earnings {x}%",
        "{:+.1f}",
    ),
    (
        "national_pass_through_working_poverty_rate",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with working poverty {x} percentage points",
        "{:+.2f}",
    ),
    (
        "national_pass_through_fatal_injury_rate",
        "log_output_per_worker",
        "per10pct",
        "a 10% higher output per worker goes with {x} fatal injuries per 100,000 workers",
        "{:+.2f}",
    ),
    (
        "score_event_study_log_labour_productivity",
        "att_post",
        "pct",
        "SCORE participants' labour productivity changes by {x}% after they start the programme",
        "{:+.1f}",
    ),
    (
        "score_twfe_log_labour_productivity",
        "twfe_treated_post",
        "pct",
        "the classic two-way fixed-effects estimate of the SCORE effect is {x}%",
        "{:+.1f}",
    ),
    (
        "enterprise_resilience_drop_log_sales",
        "drop:shock_year",
        "pct",
        "firms hit by a shock see their sales change by {x}% in the shock year",
        "{:+.1f}",
    ),
    (
        "enterprise_resilience_recovery_hazard",
        "training",
        "odds",
        "firms that train their workers have {x} times the odds of recovering in a given year",
        "{:.2f}",
    ),
]


@dataclass
class BriefContent:
    """The figures of one brief, with the tables they came from."""

    country: str
    country_name: str
    region: str | None
    income_group: str | None
    latest_year: int | None
    headline: dict = field(default_factory=dict)
    productivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorecard: list[dict] = field(default_factory=list)
    sme_gap_cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    sme_gap_trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    shift_share: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: list[dict] = field(default_factory=list)
    quality: dict = field(default_factory=dict)
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    fingerprints: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    disclosure: str = ""


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def table_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """Order-independent hash of a table's content (run ids excluded: same data, same print)."""
    columns = [
        r[0]
        for r in con.execute(f"DESCRIBE {schema}.{check_identifier(table)}").fetchall()
        if r[0] not in ("run_id", "model_group", "quarantined_at", "logged_at", "validated_at")
    ]
    packed = ", ".join(f'"{c}"' for c in columns)
    value = con.execute(
        f"SELECT count(*), bit_xor(hash(struct_pack({packed}))) FROM {schema}.{table}"
    ).fetchone()
    return f"{value[0]}:{(value[1] or 0):016x}"[:24]


@dataclass
class BriefInputs:
    """The materialized tables every brief reads, loaded once per run."""

    panel: pd.DataFrame
    estimates: pd.DataFrame
    sme_gap_cells: pd.DataFrame
    sme_gap_trend: pd.DataFrame
    shift_share: pd.DataFrame
    failed_rules: list[dict]
    rules_checked: int
    quarantined: list[dict]
    sources: pd.DataFrame
    fingerprints: dict[str, str]


def load_inputs(con: duckdb.DuckDBPyConnection) -> BriefInputs:
    """Read the marts, model results and quality tables the briefs are built from."""

    def table(schema: str, name: str, query: str) -> pd.DataFrame:
        return con.execute(query).df() if _has(con, schema, name) else pd.DataFrame()

    fingerprints = {
        f"{schema}.{name}": table_fingerprint(con, schema, name)
        for schema, name in [
            ("marts", "national_panel"),
            ("marts", "sector_panel"),
            ("models", "estimates"),
            ("models", "sme_gap_cells"),
            ("models", "shift_share"),
        ]
        if _has(con, schema, name)
    }
    failed = table(
        "quality",
        "validation_results",
        "SELECT dataset, rule, coalesce(\"column\", '') AS column, severity, observed "
        "FROM quality.validation_results WHERE NOT success ORDER BY severity, dataset",
    )
    return BriefInputs(
        panel=con.execute("SELECT * FROM marts.national_panel").df(),
        estimates=table("models", "estimates", "SELECT * FROM models.estimates"),
        sme_gap_cells=table(
            "models",
            "sme_gap_cells",
            "SELECT * EXCLUDE (run_id) FROM models.sme_gap_cells "
            "ORDER BY country, year, size_class",
        ),
        sme_gap_trend=table(
            "models",
            "sme_gap_trend",
            "SELECT * EXCLUDE (run_id) FROM models.sme_gap_trend "
            "WHERE outcome = 'log_labour_productivity'",
        ),
        shift_share=table(
            "models",
            "shift_share",
            # Successive windows in time order, then the whole period (the longest span).
            "SELECT * EXCLUDE (run_id) FROM models.shift_share ORDER BY ref_area, "
            "end_year - start_year = max(end_year - start_year) OVER (PARTITION BY ref_area), "
            "start_year",
        ),
        failed_rules=failed.to_dict("records"),
        rules_checked=int(
            table(
                "quality",
                "validation_results",
                "SELECT count(*) AS n FROM quality.validation_results",
            )
            .get("n", pd.Series([0]))
            .sum()
        ),
        quarantined=table(
            "quality",
            "load_log",
            "SELECT dataset, sum(rows_read) AS rows_read, sum(rows_quarantined) AS rows_quarantined "
            "FROM quality.load_log GROUP BY dataset ORDER BY dataset",
        ).to_dict("records"),
        sources=table(
            "staging",
            "series_metadata",
            "SELECT level, variable, unit, source_names, source_ids, first_year, last_year "
            "FROM staging.series_metadata WHERE observations > 0 ORDER BY level, variable",
        ),
        fingerprints=fingerprints,
    )


def brief_content(
    inputs: BriefInputs, country: str, rule: DisclosureRule, run_id: str
) -> BriefContent:
    """Every figure of the brief for `country`, from the loaded marts, models and quality tables."""
    panel = inputs.panel
    mine = panel[panel["ref_area"] == country].sort_values("year")
    if mine.empty:
        raise ValueError(f"{country} is not in marts.national_panel")
    first = mine.iloc[-1]
    with_output = mine.dropna(subset=["output_per_worker"])
    latest = int(with_output["year"].max()) if len(with_output) else None
    content = BriefContent(
        country=country,
        country_name=str(first["country_name"]),
        region=first["region"] if isinstance(first["region"], str) else None,
        income_group=first["income_group"] if isinstance(first["income_group"], str) else None,
        latest_year=latest,
        run_id=run_id,
        disclosure=rule.describe(),
    )
    _productivity(content, panel, mine)
    _scorecard(content, panel, mine)
    _enterprise(content, inputs, rule)
    if len(inputs.shift_share):
        content.shift_share = _rows_of(inputs.shift_share, "ref_area", country)
    if len(inputs.estimates):
        content.findings = _findings(inputs.estimates)
    content.quality = _quality(inputs, mine)
    content.sources = inputs.sources
    content.fingerprints = inputs.fingerprints
    return content


def _productivity(content: BriefContent, panel: pd.DataFrame, mine: pd.DataFrame) -> None:
    columns = ["year", "output_per_worker"]
    series = mine[columns].rename(columns={"output_per_worker": "country"})
    for label, group_column, value in [
        ("region_median", "region", content.region),
        ("income_group_median", "income_group", content.income_group),
    ]:
        if value:
            peers = (
                panel[panel[group_column] == value].groupby("year")["output_per_worker"].median()
            )
            series = series.merge(peers.rename(label), left_on="year", right_index=True, how="left")
    content.productivity = series.dropna(subset=["country"])
    if content.latest_year is None:
        return
    latest = content.productivity.set_index("year")
    start = max(content.latest_year - 10, int(latest.index.min()))
    years = content.latest_year - start
    level = float(latest.loc[content.latest_year, "country"])
    growth = (
        (level / float(latest.loc[start, "country"])) ** (1 / years) - 1 if years > 0 else math.nan
    )
    content.headline = {
        "output_per_worker": level,
        "year": content.latest_year,
        "growth_per_year": 100 * growth,
        "growth_from": start,
    }
    for label in ("region_median", "income_group_median"):
        if label in latest:
            peer_now, peer_then = latest.loc[content.latest_year, label], latest.loc[start, label]
            content.headline[label] = float(peer_now)
            content.headline[f"{label}_growth"] = (
                100 * ((peer_now / peer_then) ** (1 / years) - 1)
                if years > 0 and peer_then
                else math.nan
            )


def _scorecard(content: BriefContent, panel: pd.DataFrame, mine: pd.DataFrame) -> None:
    for variable, label, better in SCORECARD:
        if variable not in mine or mine[variable].notna().sum() == 0:
            continue
        known = mine.dropna(subset=[variable])
        now = known.iloc[-1]
        earlier = known[known["year"] <= now["year"] - 5]
        peers = panel[(panel["region"] == content.region) & (panel["year"] == now["year"])][
            variable
        ]
        change = float(now[variable] - earlier.iloc[-1][variable]) if len(earlier) else math.nan
        improved = None if math.isnan(change) else (change < 0) == (better == "lower")
        content.scorecard.append(
            {
                "variable": variable,
                "label": label,
                "year": int(now["year"]),
                "value": float(now[variable]),
                "change": change,
                "since": int(earlier.iloc[-1]["year"]) if len(earlier) else None,
                "improved": improved,
                "peer_median": float(peers.median()) if peers.notna().any() else math.nan,
            }
        )


def _rows_of(frame: pd.DataFrame, column: str, country: str) -> pd.DataFrame:
    """One country's rows of a loaded table, renumbered from 0."""
    return frame[frame[column] == country].reset_index(drop=True)


def _enterprise(content: BriefContent, inputs: BriefInputs, rule: DisclosureRule) -> None:
    if len(inputs.sme_gap_cells):
        cells = _rows_of(inputs.sme_gap_cells, "country", content.country)
        content.sme_gap_cells = suppress(
            cells,
            rule,
            count_columns=["firms", "large_firms"],
            share_columns=["top2_share", "large_top2_share"],
            value_columns=["productivity_gap", "productivity_gap_se", "wage_gap", "wage_gap_se"],
        )
    if len(inputs.sme_gap_trend):
        trend = _rows_of(inputs.sme_gap_trend, "country", content.country)
        content.sme_gap_trend = suppress(
            trend,
            rule,
            count_columns=["firms_in_class"],
            share_columns=[],
            value_columns=[
                "gap_first_year",
                "gap_first_year_se",
                "trend_per_year",
                "trend_se",
                "trend_ci_low",
                "trend_ci_high",
            ],
        )


def _findings(estimates: pd.DataFrame) -> list[dict]:
    """Model results in plain language, each with its 95% interval on the same scale."""
    found = []
    indexed = estimates.set_index(["model_id", "term"])
    for model_id, term, transform, sentence, number in FINDINGS:
        if (model_id, term) not in indexed.index:
            continue
        row = indexed.loc[(model_id, term)]
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        scale = TRANSFORMS[transform]
        interval = ""
        if not (math.isnan(row["ci_low"]) or math.isnan(row["ci_high"])):
            low, high = sorted([scale(row["ci_low"]), scale(row["ci_high"])])
            interval = f"95% interval {number.format(low)} to {number.format(high)}"
        found.append(
            {
                "model_id": model_id,
                "text": sentence.format(x=number.format(scale(row["estimate"]))),
                "interval": interval,
                "n_obs": int(row["n_obs"]),
                "specification": row["specification"],
            }
        )
    return found


def _quality(inputs: BriefInputs, mine: pd.DataFrame) -> dict:
    quality: dict = {
        "failed_rules": inputs.failed_rules,
        "rules_checked": inputs.rules_checked,
        "quarantined": inputs.quarantined,
        "coverage": [],
    }
    for variable, label, _ in [*SCORECARD, ("output_per_worker", "Output per worker", "")]:
        if variable in mine and mine[variable].notna().any():
            years = mine.loc[mine[variable].notna(), "year"]
            quality["coverage"].append(
                {
                    "label": label,
                    "years": len(years),
                    "first": int(years.min()),
                    "last": int(years.max()),
                }
            )
    return quality
