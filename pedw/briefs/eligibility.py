"""Which economies get a country brief, and why the others get none: one rule and its named
thresholds (docs/briefs.md, "Who gets a brief").

A brief on productivity and decent work needs, for its economy, at least
MIN_PRODUCTIVITY_SERIES productivity series (its productivity section) and
MIN_DECENT_WORK_SERIES decent-work series (its scorecard) with a figure, and at least
MIN_SERIES of the brief's headline series (enough for three key messages). Projections never
count. How old the figures are is not this rule's business: a brief whose every headline
figure is older than verdict_rules.MAX_AGE is published with a banner saying so
(pedw.briefs.content.staleness). An economy below the rule gets no brief; the publication
lists it with the reason and the sources searched (meta.briefs_withheld).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pedw.briefs.content import BRIEF_SERIES, SCORECARD
from pedw.briefs.inputs import without_projections
from pedw.store import check_identifier

# The productivity series a brief shows (its productivity section), and the decent-work series
# (its scorecard).
PRODUCTIVITY_SERIES = ["output_per_worker"]
DECENT_WORK_SERIES = [indicator.variable for indicator in SCORECARD]
MIN_PRODUCTIVITY_SERIES = 1
MIN_DECENT_WORK_SERIES = 1
# Headline series with any figure (any age): enough for three key messages.
MIN_SERIES = 3

# The columns of meta.briefs_withheld, with their types (an empty table keeps them).
WITHHELD_COLUMNS = {"country": "string", "country_name": "string", "reason": "string",
                    "latest_productivity_year": "Int64",
                    "latest_decent_work_year": "Int64", "headline_series": "Int64",
                    "sources_searched": "string"}  # fmt: skip


def eligibility(panel: pd.DataFrame, sources: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per economy of `panel` (marts.national_panel with projections blanked): whether
    it gets a brief (`eligible`), and, when not, why (`reason`) and which sources were searched
    for what it lacks (`sources_searched`; `sources` names each headline series' source)."""
    sources = sources or {}
    present = [v for v in BRIEF_SERIES if v in panel]
    latest = (
        panel[["ref_area", "year", *present]]
        .melt(["ref_area", "year"], var_name="variable")
        .dropna(subset=["value"])
        .groupby(["ref_area", "variable"])["year"]
        .max()
        .unstack()
        .reindex(index=sorted(panel["ref_area"].unique()), columns=BRIEF_SERIES)
    )
    names = panel.drop_duplicates("ref_area").set_index("ref_area")["country_name"]
    rows = []
    for country, years in latest.iterrows():
        held = years.dropna()
        productivity = [v for v in PRODUCTIVITY_SERIES if v in held]
        decent_work = [v for v in DECENT_WORK_SERIES if v in held]
        headline = int(years.notna().sum())
        reasons = []
        if len(productivity) < MIN_PRODUCTIVITY_SERIES:
            reasons.append("no output per worker series")
        if len(decent_work) < MIN_DECENT_WORK_SERIES:
            reasons.append("no decent-work indicator of the scorecard")
        if headline < MIN_SERIES:
            reasons.append(f"{headline} of the brief's headline series, under {MIN_SERIES}")
        rows.append(
            {
                "country": country,
                "country_name": names.get(country),
                "eligible": not reasons,
                "reason": "; ".join(reasons),
                "latest_productivity_year": _year(years[PRODUCTIVITY_SERIES].max()),
                "latest_decent_work_year": _year(years[DECENT_WORK_SERIES].max()),
                "headline_series": headline,
                # Where each headline series it lacks was looked for.
                "sources_searched": "; ".join(
                    sources.get(v, f"{v} (no source in this catalog)")
                    for v in BRIEF_SERIES
                    if v not in held
                )
                if reasons
                else "",
            }
        )
    frame = pd.DataFrame(rows, columns=["eligible", *WITHHELD_COLUMNS])
    return frame.astype({"eligible": bool, **WITHHELD_COLUMNS})


def _year(value: float) -> int | None:
    return None if pd.isna(value) else int(value)


def load_eligibility(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """`eligibility` of the economies of the store's marts.national_panel (projections left
    out, as marts.series_choice marks them), with each series' indicator and source."""
    present = {r[0] for r in con.execute("DESCRIBE marts.national_panel").fetchall()}
    columns = ["ref_area", "country_name", "year", *(v for v in BRIEF_SERIES if v in present)]
    panel = con.execute(
        f"SELECT {', '.join(check_identifier(c) for c in columns)} FROM marts.national_panel"
    ).df()
    tables = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    if "marts.series_choice" in tables:
        projected = con.execute(
            "SELECT ref_area, variable, year, status FROM marts.series_choice "
            "WHERE chosen AND status = 'projected'"
        ).df()
        panel = without_projections(panel, projected)
    sources = {}
    if "staging.series_metadata" in tables:
        for variable, indicator, names in con.execute(
            "SELECT variable, indicator, source_names FROM staging.series_metadata "
            "WHERE level = 'national'"
        ).fetchall():
            sources[variable] = f"{indicator} ({names or 'no source in this catalog'})"
    return eligibility(panel, sources)
