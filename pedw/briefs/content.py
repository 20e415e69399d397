"""Everything a country brief says, read from materialized tables (never typed into a template)."""

from __future__ import annotations

import math
from typing import NamedTuple

import pandas as pd

from pedw.briefs.document import BriefContent
from pedw.briefs.findings import NATIONAL_FINDINGS
from pedw.briefs.inputs import BriefInputs
from pedw.briefs.messages import judge_change, key_messages
from pedw.briefs.peers import MIN_PEERS, peer_count, peer_growth, peer_medians
from pedw.briefs.sources import SourceRelease, source_line
from pedw.briefs.verdict_rules import (
    MAX_AGE,
    UNRELIABLE_FLAG,
    annual_growth,
    breaks_between,
    comparable_start,
    implausible,
    is_rate,
    publication_year,
)
from pedw.disclosure.rules import DisclosureRule
from pedw.models.sector import FRAGILE_SHARE
from pedw.staging.qualifiers import variant_label


class Indicator(NamedTuple):
    """A scorecard indicator: its variable, the reader's label (the unit comes from
    staging.series_metadata), which direction is better, and whether the label is a plural
    noun ("earnings were", "unemployment was": the sentences agree with it)."""

    variable: str
    label: str
    better: str
    plural: bool = False


SCORECARD = [
    Indicator("informality_rate", "Informal employment (SDG 8.3.1)", "lower"),
    Indicator("informal_employment_rate", "Informal employment, all sectors", "lower"),
    Indicator("labour_income_share", "Labour income share (SDG 10.4.1)", "higher"),
    Indicator("mean_real_earnings", "Mean monthly earnings, real", "higher", True),
    Indicator("mean_monthly_earnings_usd", "Mean monthly earnings", "higher", True),
    Indicator("working_poverty_rate", "Working poverty (SDG 1.1.1)", "lower"),
    Indicator("unemployment_rate", "Unemployment (SDG 8.5.2)", "lower"),
    Indicator(
        "youth_neet_rate",
        "Share of youth not in employment, education or training (SDG 8.6.1)",
        "lower",
    ),
    Indicator("fatal_injury_rate", "Fatal occupational injuries (SDG 8.8.1)", "lower", True),
]
# Scorecard series that measure one concept: shown once, with what the other says and why
# they may differ.
SAME_CONCEPT = [
    (
        "informality_rate",
        "informal_employment_rate",
        "ILOSTAT's informal employment rate, often from another survey or year",
    )
]
# The brief's headline series: output per worker and the scorecard (which economies get a
# brief: pedw.briefs.eligibility).
BRIEF_SERIES = ["output_per_worker", *(indicator.variable for indicator in SCORECARD)]

# Where every figure of a brief is found in the warehouse (the brief prints this).
FIGURE_TABLES = {
    "productivity": "marts.national_panel (output_per_worker; medians over region / income_group)",
    "scorecard": "marts.national_panel (one column per indicator); status and flags in marts.series_choice",
    "shift_share": "models.shift_share",
    "sme_gap": "disclosure.sme_gap_cells and disclosure.sme_gap_trend (as released; audit in disclosure.audit)",
    "estimation samples": "marts.national_panel and models.status (models the annex reports)",
    "quality": "quality.quarantine and raw.* (this economy's rows), quality.validation_results, "
    "marts.series_choice (flags), quality.model_exclusions",
}


def brief_content(
    inputs: BriefInputs,
    country: str,
    rule: DisclosureRule,
    publication_id: str,
    cited: dict[str, SourceRelease],
    synthetic: bool = False,
) -> BriefContent:
    """Every figure of the brief for `country`, from the loaded marts, models and quality tables."""
    panel = inputs.panel
    mine = inputs.rows_of("panel", "ref_area", country).sort_values("year")
    if mine.empty:
        raise ValueError(f"{country} is not in marts.national_panel")
    first = mine.iloc[-1]
    with_output = mine.dropna(subset=["output_per_worker"])
    series = inputs.series
    content = BriefContent(
        country=country,
        country_name=str(first["country_name"]),
        region=first["region"] if isinstance(first["region"], str) else None,
        income_group=first["income_group"] if isinstance(first["income_group"], str) else None,
        latest_year=int(with_output["year"].max()) if len(with_output) else None,
        publication_id=publication_id,
        synthetic=synthetic,
        units=_national_units(series),
        disclosure=inputs.disclosure_text or rule.describe(),
        series=series,
        cited=cited,
        fingerprints=inputs.fingerprints,
        figure_tables=inputs.figure_tables,
    )
    flags = _rows_of(inputs, "flags", "ref_area", country) if len(inputs.flags) else inputs.flags
    clock = content.publication_year = _publication_year(panel)  # every figure's age from it
    _productivity(content, panel, mine, flags)
    _scorecard(content, panel, mine, flags, clock, inputs.flags)
    if content.headline:  # what the productivity messages' checks read
        content.headline["newest_year"] = clock
        status = _status(flags, "output_per_worker")
        content.headline["status"] = (
            status["status"].get(content.headline["year"], "observed")
            if len(status)
            else "observed"
        )
    content.stale = staleness(content, clock)
    _sectors(content, inputs)
    _enterprise(content, inputs)
    content.cross_country = _in_samples(inputs, country, len(content.sme_gap_cells) > 0)
    content.key_messages = key_messages(content)
    content.quality = _quality(inputs, mine, flags, country, cited, content.scorecard)
    content.series = _series_shown(content, series)
    content.source_lines = _source_lines(content)
    return content


def _publication_year(panel: pd.DataFrame) -> int | None:
    """verdict_rules.publication_year of the brief series, once per panel (every brief of a
    run has the same)."""
    if _CLOCK.get("panel") is not panel:
        _CLOCK.update(panel=panel, year=publication_year(panel, BRIEF_SERIES))
    return _CLOCK["year"]


_CLOCK: dict = {}


def _series_shown(content: BriefContent, series: pd.DataFrame) -> pd.DataFrame:
    """The staging.series_metadata rows of the series this brief shows (its sources table),
    each with a reader's label and the years this economy has (not all economies')."""
    if not len(series):
        return series
    national = {row["variable"] for row in content.scorecard}
    if content.headline:
        national.add("output_per_worker")
    shown = (series["level"] == "national") & series["variable"].isin(national)
    sectors = len(content.shift_share) or len(content.shift_share_whole)
    if sectors:
        shown |= (series["level"] == "sector") & series["variable"].isin(
            ["value_added", "employment"]
        )
    rows = series[shown].reset_index(drop=True)
    coverage = {
        c["variable"]: f"{c['first']}\u2013{c['last']} ({c['years']} year"
        + ("s)" if c["years"] != 1 else ")")
        for c in content.quality.get("coverage", [])
    }
    decomposed = pd.concat([content.shift_share, content.shift_share_whole])
    sector_years = (
        f"{int(decomposed['start_year'].min())}\u2013{int(decomposed['end_year'].max())}"
        if sectors
        else ""
    )
    labels = {
        "output_per_worker": "Output per worker",
        **{i.variable: i.label for i in SCORECARD},
        **{row["variable"]: row["label"] for row in content.scorecard},  # as this economy's
    }
    sector_labels = {"value_added": "Value added by sector", "employment": "Employment by sector"}
    national_rows = rows["level"] == "national"
    # A series this economy has as a variant (a median, real values) says so.
    noted = {row["variable"]: f" For {content.country_name}: the publisher's series is noted "
             f"\u201c{row['variant']}\u201d." for row in content.scorecard if row.get("variant")}  # fmt: skip
    rows = rows.assign(
        definition=rows["definition"]
        + rows["variable"].map(noted).where(national_rows, "").fillna("")
    )
    return rows.assign(
        label=rows["variable"]
        .map(labels)
        .where(national_rows, rows["variable"].map(sector_labels)),
        years=rows["variable"].map(coverage).where(national_rows, sector_years).fillna(""),
    )


def _national_units(series: pd.DataFrame) -> dict[str, str]:
    if not len(series):
        return {}
    national = series[series["level"] == "national"]
    return dict(zip(national["variable"], national["unit"], strict=True))


def _status(flags: pd.DataFrame, variable: str) -> pd.DataFrame:
    """One economy's chosen values of `variable` (marts.series_choice): year, status, note."""
    if not len(flags):
        return pd.DataFrame(columns=["year", "status", "status_note", "source_type",
                                     "source_change", "source", "obs_status"])  # fmt: skip
    cached = _STATUS.get(id(flags))
    if cached is None or cached[0] is not flags:  # a brief asks for each variable: split once
        _STATUS.clear()
        cached = _STATUS[id(flags)] = (flags, dict(iter(flags.groupby("variable", sort=False))), {})
    _, rows, by_year = cached
    if variable not in by_year:  # shared by the brief's sections, which only read it
        found = rows.get(variable)
        by_year[variable] = (found if found is not None else flags.iloc[:0]).set_index("year")
    return by_year[variable]


# One economy's chosen values: its frame, its rows by variable, and those indexed by year (the
# last economy's; the entry holds the frame, so its id stays unique).
_STATUS: dict[int, tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, pd.DataFrame]]] = {}


def _flag_notes(status: pd.DataFrame, year: int) -> list[str]:
    """What the publisher says about one figure: its decoded flag, modelled or not."""
    if year not in status.index:
        return []
    row = status.loc[year]
    notes = [row["status_note"]] if isinstance(row["status_note"], str) else []
    if row["status"] == "modelled":
        modelled = row["source_type"] == "ILO modelled estimates"
        notes.append("ILO modelled estimate" if modelled else "modelled estimate")
    if bool(row["source_change"]):
        notes.append("new source from this year (break in series)")
    return notes


# Views of the panel holding one variant of a variable (alike_panel), per panel seen.
_ALIKE: dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}


def alike_panel(
    panel: pd.DataFrame, flags: pd.DataFrame, variable: str, variant: str
) -> pd.DataFrame:
    """`panel` with `variable` blanked for every economy whose series of it is another
    variant than `variant` (marts.series_choice.variant of the chosen values in `flags`): a
    median is compared with medians only, a mean with means. The panel itself when no
    economy's series of `variable` is a variant."""
    if not len(flags) or "variant" not in flags:
        return panel
    cached = _ALIKE.get((variable, variant))
    if cached is not None and cached[0] is panel and cached[1] is flags:
        return cached[2]
    rows = flags[flags["variable"] == variable]
    view = panel  # every brief asks again: the answer is cached, the panel itself included
    if (rows["variant"].fillna("") != "").any():
        other = rows[rows["variant"].fillna("") != variant]
        blank = pd.MultiIndex.from_frame(panel[["ref_area", "year"]]).isin(
            pd.MultiIndex.from_frame(other[["ref_area", "year"]])
        )
        view = panel.copy()
        view.loc[blank, variable] = math.nan
    _ALIKE[(variable, variant)] = (panel, flags, view)
    return view


def _productivity(
    content: BriefContent, panel: pd.DataFrame, mine: pd.DataFrame, flags: pd.DataFrame
) -> None:
    series = mine[["year", "output_per_worker"]].rename(columns={"output_per_worker": "country"})
    for label, group_column, value in [
        ("region_median", "region", content.region),
        ("income_group_median", "income_group", content.income_group),
    ]:
        if value:
            stats = peer_medians(panel, group_column, value, "output_per_worker", content.country)
            stats = stats.rename(columns={"median": label, "count": f"{label}_n"})
            series = series.merge(stats, left_on="year", right_index=True, how="left")
    content.productivity = series.dropna(subset=["country"]).reset_index(drop=True)
    if content.latest_year is None:
        content.missing.append(
            "Productivity: no output-per-worker series for this economy in the warehouse."
        )
        return
    latest = content.productivity.set_index("year")
    start = max(content.latest_year - 10, int(latest.index.min()))
    years = content.latest_year - start
    level = float(latest.loc[content.latest_year, "country"])
    content.headline = {
        "output_per_worker": level,
        "unit": content.units.get("output_per_worker", "unit not recorded"),
        "year": content.latest_year,
        "growth_per_year": annual_growth(float(latest.loc[start, "country"]), level, years),
        "growth_from": start,
        "flags": _flag_notes(_status(flags, "output_per_worker"), content.latest_year),
    }
    for label, group_column, value in [
        ("region_median", "region", content.region),
        ("income_group_median", "income_group", content.income_group),
    ]:
        if label in latest:
            size = latest.loc[content.latest_year, f"{label}_n"]
            content.headline[label] = float(latest.loc[content.latest_year, label])
            content.headline[f"{label}_n"] = 0 if pd.isna(size) else int(size)
            growth, peers = peer_growth(panel, group_column, value, "output_per_worker",
                                        content.country, start, content.latest_year)  # fmt: skip
            content.headline[f"{label}_growth"] = growth
            content.headline[f"{label}_growth_n"] = peers


def _scorecard(
    content: BriefContent,
    panel: pd.DataFrame,
    mine: pd.DataFrame,
    flags: pd.DataFrame,
    clock: int | None,
    all_flags: pd.DataFrame | None = None,
) -> None:
    """Each indicator's latest observed value (an ILO modelled one only where nothing is
    observed; never a projection), its change over about five years within one comparable
    stretch of the series (pedw/briefs/verdict_rules.py), and the regional median of that year
    with the number of economies it rests on, over the economies whose series is of the same
    variant (`all_flags`: every economy's chosen values; a median only among medians).
    Changes and verdicts use the figures as printed (one decimal). The label names the series
    as published ("Median monthly earnings" for a median)."""
    all_flags = flags if all_flags is None else all_flags
    for variable, label, better, plural in SCORECARD:
        if variable not in mine or mine[variable].notna().sum() == 0:
            continue
        status = _status(flags, variable)
        known = mine[mine[variable].notna()]  # dropna(subset=[variable]), without its copy
        observed = known[known["year"].map(status["status"]).fillna("observed") == "observed"]
        basis = observed if len(observed) else known
        now = basis.iloc[-1]
        year = int(now["year"])
        unit = content.units.get(variable, "unit not recorded")
        rate = is_rate(unit)
        history = _history(basis, variable, status)
        start = comparable_start(history, rate)
        value = float(now[variable])
        since_value = start.value
        change = (  # as printed: the difference of the two rounded figures, never -0.0
            round(round(value, 1) - round(since_value, 1), 1) + 0.0
            if start.year is not None
            else math.nan
        )
        unreliable = UNRELIABLE_FLAG in (_flag_at(status, year), start.obs_status)
        plausible = not implausible(round(since_value, 1), round(value, 1), rate)
        variant = _variant_at(status, year)
        alike = alike_panel(panel, all_flags, variable, variant)
        peers = (
            peer_medians(alike, "region", content.region, variable, content.country)
            if content.region
            else pd.DataFrame(columns=["median", "count"])
        )
        peer = peers.loc[year] if year in peers.index else None
        unlike = (
            _unlike_peers(panel, alike, content.region, variable, content.country, year)
            if alike is not panel and content.region
            else 0
        )
        judged = judge_change(change, round(since_value, 1), unit, better)
        content.scorecard.append(
            {
                "variable": variable,
                "label": variant_label(label, variant),
                "plural": plural,
                "variant": variant,
                "unlike_peers": unlike,
                "unit": unit,
                "better": better,
                "year": year,
                "value": value,
                "observed": len(observed) > 0,
                "last_staged_year": int(known["year"].max()),
                "change": change,
                "since": start.year,
                "since_value": since_value,
                "change_note": start.note,
                "improved": judged if plausible and not unreliable else None,
                "peer_median": float(peer["median"]) if peer is not None else math.nan,
                "peer_n": int(peer["count"]) if peer is not None else 0,
                "flags": _flag_notes(status, year)
                + _peer_notes(variant, unlike, peer, content.region),
                "status": status["status"].get(year, "observed") if len(status) else "observed",
                "source": _source_at(status, year),
                "since_source": _source_at(status, start.year),
                "breaks": breaks_between(history, start.year, year, rate)
                if start.year is not None
                else 0,
                "unreliable": unreliable,
                "plausible": plausible,
                "newest_year": clock,
            }
        )
    _one_row_per_concept(content)
    if not content.scorecard:
        content.missing.append(
            "Decent-work scorecard: none of its indicators is observed for this economy."
        )


def _variant_at(status: pd.DataFrame, year: int) -> str:
    """The variant of the economy's chosen value in `year` ('' the standard series)."""
    if "variant" not in status or year not in status.index:
        return ""
    variant = status.loc[year, "variant"]
    return variant if isinstance(variant, str) else ""


def _unlike_peers(panel: pd.DataFrame, alike: pd.DataFrame, region: str, variable: str,
                  country: str, year: int) -> int:  # fmt: skip
    """How many other economies of `region` have a value of `variable` in `year` whose series
    is another variant (left out of the regional median)."""
    return peer_count(panel, "region", region, variable, country, year) - peer_count(
        alike, "region", region, variable, country, year
    )


def _peer_notes(variant: str, unlike: int, peer, region: str | None) -> list[str]:
    """What the regional median is over when economies' series differ in variant: like with
    like only, and how many were left out."""
    if not unlike or not region:
        return []
    kind = f"a series noted \u201c{variant}\u201d" if variant else "the standard series"
    if peer is None or peer["count"] < MIN_PEERS:
        have = "has" if unlike == 1 else "have"
        return [f"no regional median: fewer than {MIN_PEERS} other economies of {region} "
                f"have {kind} ({unlike} {have} another measure)"]  # fmt: skip
    others = f"{unlike} {'economy' if unlike == 1 else 'economies'}"
    return [f"regional median over the economies with {kind} only ({others} with another "
            "measure left out)"]  # fmt: skip


def _history(basis: pd.DataFrame, variable: str, status: pd.DataFrame) -> pd.DataFrame:
    """The values a change may be computed from, with the source and flag of each."""
    years = basis["year"].astype(int)
    return pd.DataFrame(
        {
            "year": years.to_numpy(),
            "value": basis[variable].astype(float).to_numpy(),
            "source": years.map(status["source"]).to_numpy() if "source" in status else None,
            "obs_status": years.map(status["obs_status"]).to_numpy()
            if "obs_status" in status
            else None,
        }
    )


def _flag_at(status: pd.DataFrame, year: int | None) -> str | None:
    if year is None or "obs_status" not in status or year not in status.index:
        return None
    flag = status.loc[year, "obs_status"]
    return flag if isinstance(flag, str) else None


def _source_at(status: pd.DataFrame, year: int | None) -> str | None:
    if year is None or "source" not in status or year not in status.index:
        return None
    source = status.loc[year, "source"]
    return source if isinstance(source, str) else None


def staleness(content: BriefContent, clock: int | None) -> dict | None:
    """When every headline figure of the brief (output per worker and the scorecard) is more
    than MAX_AGE years behind `clock`, the publication's year (verdict_rules.publication_year):
    the newest figure's year and how far behind it is (the brief carries a banner and no key
    message rests on such a figure)."""
    years = [int(row["year"]) for row in content.scorecard]
    if content.headline:
        years.append(int(content.headline["year"]))
    if not years or clock is None or clock - max(years) <= MAX_AGE:
        return None
    return {"newest_figure": max(years), "years_behind": clock - max(years),
            "publication_year": clock, "max_age": MAX_AGE}  # fmt: skip


def _one_row_per_concept(content: BriefContent) -> None:
    """Series measuring one concept (SAME_CONCEPT) are shown once: the one with the later
    latest value (ties: the first listed), with what the other says in its notes."""
    rows = {row["variable"]: row for row in content.scorecard}
    for first, second, differs in SAME_CONCEPT:
        if first not in rows or second not in rows:
            continue
        keep, drop = (
            (rows[second], rows[first])
            if rows[second]["year"] > rows[first]["year"]
            else (rows[first], rows[second])
        )
        same = keep["year"] == drop["year"] and abs(keep["value"] - drop["value"]) < 0.05
        keep["flags"] = [
            *keep["flags"],
            f"the same as {drop['label']}"
            if same
            else f"{drop['label']}: {drop['value']:,.1f} in {drop['year']} ({differs})",
        ]
        content.scorecard.remove(drop)


def _rows_of(inputs: BriefInputs, table: str, column: str, country: str) -> pd.DataFrame:
    """One country's rows of a loaded table, renumbered from 0."""
    return inputs.rows_of(table, column, country).reset_index(drop=True)


def _excluded_because(inputs: BriefInputs, model: str, country: str) -> str:
    rows = inputs.exclusions
    if not len(rows):
        return ""
    mine = rows[(rows["model_id"] == model) & (rows["ref_area"] == country)]
    return f" ({mine['detail'].iloc[0]})" if len(mine) else ""


def _sectors(content: BriefContent, inputs: BriefInputs) -> None:
    if not inputs.has("models.shift_share"):
        content.missing.append(
            "Structural change: this catalog has no sector-level source, so there is no "
            "sector decomposition."
        )
        return
    rows = _rows_of(inputs, "shift_share", "ref_area", content.country)
    if rows.empty:
        why = _excluded_because(inputs, "shift_share", content.country)
        content.missing.append(
            "Structural change: no sector value added and employment for this economy in "
            f"the sector data, or no complete pair of years{why}."
        )
        return
    content.shift_share = rows[~rows["whole_period"]].reset_index(drop=True)
    content.shift_share_whole = rows[rows["whole_period"]].reset_index(drop=True)
    if "fragile" in rows:
        fragile = rows[rows["fragile"].fillna(False).astype(bool)]
        content.shift_share_caveats = [
            {
                "period": ("the whole period " if r.whole_period else "")
                + f"{r.start_year}\u2013{r.end_year}",
                "why": fragile_reasons(r._asdict()),
                "threshold": f"{100 * FRAGILE_SHARE:g}%",
            }
            for r in fragile.sort_values("whole_period", ascending=False).itertuples()
        ]


def fragile_reasons(row: dict) -> list[str]:
    """Why one decomposition row is fragile (pedw.models.sector.fragile_periods), as the brief
    says it: which effect a tiny sector drives, with the terms, the sector and its share."""
    reasons = []
    share = row.get("reallocation_driver_share")
    if isinstance(share, float) and share < FRAGILE_SHARE:
        reasons.append(
            f"the movement between sectors (static {row['static_structural_change_growth_pct']:+.1f}"
            f" and dynamic {row['dynamic_reallocation_growth_pct']:+.1f} points, around a total "
            f"of {row['total_change_growth_pct']:+.1f}%) is driven by ISIC section "
            f"{row['reallocation_driver']}, which had {100 * share:.2f}% of employment in one "
            "of the two years"
        )
    share = row.get("within_driver_share")
    if isinstance(share, float) and share < FRAGILE_SHARE:
        reasons.append(
            f"growth within sectors ({row['within_sector_growth_pct']:+.1f} points) is driven "
            f"by ISIC section {row['within_driver']}, which had {100 * share:.2f}% of "
            "employment in one of the two years"
        )
    return reasons


def _enterprise(content: BriefContent, inputs: BriefInputs) -> None:
    """The SME section from the released cells and trends (pedw.disclosure decided them)."""
    if not inputs.has("disclosure.sme_gap_cells"):
        content.missing.append(
            "Productivity by enterprise size: the warehouse holds no enterprise survey, so "
            "small and medium enterprises cannot be compared with large ones."
        )
        return
    cells = _rows_of(inputs, "sme_gap_cells", "country", content.country)
    if cells.empty:
        content.missing.append(
            "Productivity by enterprise size: no enterprise survey for this economy in the "
            "warehouse."
        )
        return
    content.sme_gap_cells = _with_suppression(cells, "productivity_status", "productivity_reason")
    trend = _rows_of(inputs, "sme_gap_trend", "country", content.country)
    content.sme_gap_trend = _with_suppression(trend, "status", "reason")


def _with_suppression(rows: pd.DataFrame, status: str, reason: str) -> pd.DataFrame:
    shown = rows[status] == "published"
    kind = rows[status].map({"primary": "", "secondary": "to protect another cell: "})
    return rows.assign(suppressed=~shown, reason=(kind.fillna("") + rows[reason]).where(~shown, ""))


def _in_samples(inputs: BriefInputs, country: str, has_firms: bool) -> dict:
    """What the cross-country annex has to do with this economy: the national results whose
    estimation sample holds it (two or more usable years) and those whose sample does not,
    by topic; and whether its firms are pooled in the firm-level results (only said when it
    has firm data)."""
    samples = inputs.samples
    mine = inputs.rows_of("samples", "ref_area", country) if len(samples) else samples
    rows = dict(zip(mine["model_id"], mine["rows"], strict=True)) if len(mine) else {}
    estimated = set(samples["model_id"]) if len(samples) else set()
    reported = [f for f in NATIONAL_FINDINGS if f.model_id in estimated]
    return {
        "in_sample": [f.topic for f in reported if rows.get(f.model_id, 0) >= 2],
        "not_in_sample": [f.topic for f in reported if rows.get(f.model_id, 0) < 2],
        "reported": len(reported),
        "firms": has_firms,
    }


def _quality(
    inputs: BriefInputs,
    mine: pd.DataFrame,
    flags: pd.DataFrame,
    country: str,
    cited: dict[str, SourceRelease],
    content_rows: list[dict] | None = None,
) -> dict:
    """This economy's data quality: the sources with rows for it (rows read and rejected, by
    the rule that rejected them), the contract rules of those sources' datasets, and per
    series the years it has, how many were observed, modelled or projected, and the
    publisher's flags on the values chosen."""
    sources = inputs.economy_sources
    own = inputs.rows_of("economy_sources", "ref_area", country) if len(sources) else sources
    rejected = inputs.economy_quarantine
    own_rejected = (
        inputs.rows_of("economy_quarantine", "ref_area", country) if len(rejected) else rejected
    )
    # One row per source as a reader sees it named: catalog sources of one publisher and
    # dataset (ILOSTAT's bulk and explorer downloads) are merged, their counts added.
    merged: dict[str, dict] = {}
    refusals: dict[tuple, list[tuple]] = {}  # (source, dataset) -> (rule, rows), in table order
    if len(own_rejected):
        for name, dataset, rule, count in zip(own_rejected["source_name"], own_rejected["dataset"],
                                              own_rejected["rule"], own_rejected["rows"], strict=True):  # fmt: skip
            refusals.setdefault((name, dataset), []).append((rule, count))
    read: dict[tuple, list[tuple]] = {}  # (source, dataset) -> (level, rows read)
    if len(own):
        for name, dataset, level, count in zip(own["source_name"], own["dataset"], own["level"],
                                               own["rows_read"], strict=True):  # fmt: skip
            if isinstance(name, str) and isinstance(dataset, str):
                read.setdefault((name, dataset), []).append((level, count))
    for name, dataset in sorted(read):
        source = cited.get(name)
        who = ", ".join(p for p in (source.publisher, source.dataset) if p) if source else name
        row = merged.setdefault(
            f"{who} ({read[(name, dataset)][0][0]} data)",
            {"rows_read": 0, "rows_quarantined": 0, "why": {}},
        )
        row["rows_read"] += int(sum(count for _, count in read[(name, dataset)]))
        for rule, count in refusals.get((name, dataset), []):
            row["rows_quarantined"] += int(count)
            reason = rejection_reason(rule, dataset)
            row["why"][reason] = row["why"].get(reason, 0) + int(count)
    by_source = [
        {
            "source": label,
            "rows_read": row["rows_read"],
            "rows_quarantined": row["rows_quarantined"],
            "reasons": ", ".join(f"{why} ({n:,})" for why, n in row["why"].items()),
        }
        for label, row in sorted(merged.items())
    ]
    datasets = set(own["dataset"]) if len(own) else set()
    failed = [r for r in inputs.failed_rules if r["dataset"] in datasets]
    quality: dict = {
        "sources": by_source,
        "rules_checked": sum(inputs.rules_checked.get(d, 0) for d in datasets),
        "failed_rules": failed,
        "coverage": [],
    }
    labels = {row["variable"]: row["label"] for row in content_rows or []}  # as shown
    for variable, label, *_ in [*SCORECARD, ("output_per_worker", "Output per worker", "")]:
        present = mine[variable].notna() if variable in mine else None
        if present is None or not present.any():
            continue
        label = labels.get(variable, label)
        years = mine.loc[present, "year"]
        chosen = _status(flags, variable) if len(flags) else flags
        kinds = chosen["status"] if len(chosen) else pd.Series(dtype=object)
        status = {"modelled": int((kinds == "modelled").sum()),
                  "projected": int((kinds == "projected").sum())}  # fmt: skip
        shown = chosen[(kinds != "projected").to_numpy()] if len(chosen) else chosen
        written = shown["status_note"].dropna() if len(shown) else pd.Series(dtype=object)
        notes = written.value_counts().sort_index() if len(written) else pd.Series(dtype=int)
        quality["coverage"].append(
            {
                "variable": variable,
                "label": label,
                "years": len(years),
                "first": int(years.min()),
                "last": int(years.max()),
                "modelled": int(status.get("modelled", 0)),
                "projected": int(status.get("projected", 0)),
                "breaks": int(shown["source_change"].fillna(False).astype(bool).sum())
                if len(shown)
                else 0,
                "flags": ", ".join(f"{note} ({n})" for note, n in notes.items()),
            }
        )
    return quality


def rejection_reason(rule: str, dataset: str) -> str:
    """A contract rule as a reader should read it in the data-quality table: what the rule
    detects, not its code name (a unit_jump is a value far from its series' median)."""
    if rule == "unit_jump":
        from pedw.quality.contracts import ContractError, load_contract

        try:
            ratios = {r.ratio for r in load_contract(dataset).series_rules if r.rule == rule}
        except (ContractError, OSError):
            ratios = set()
        ratio = f"{min(ratios):,.0f}" if ratios else "many"
        return (
            f"{ratio} times above or below the median of its series (a units change; "
            "current-price series are not checked)"
        )
    return REJECTION_REASONS.get(rule, rule.replace("_", " "))


REJECTION_REASONS = {
    "required": "no value",
    "type": "not a number or date of its type",
    "range": "outside the range its unit allows",
    "codes": "a code not in its code list",
    "code_list": "a code not in its code list",
    "allowed_values": "a value not among those allowed",
    "unit_bounds": "outside the bounds its unit allows",
    "duplicate_key_conflict": "published twice with different values",
    "duplicate_key_identical": "an identical copy of another row",
    "malformed_row": "a line that could not be read",
}


def _source_lines(content: BriefContent) -> dict[str, str]:
    """A "Source: ..." line for every chart and table of the brief."""
    series, cited = content.series, content.cited
    lines = {
        "productivity": source_line(
            ["output_per_worker"],
            series,
            cited,
            "Regional and income-group medians: pedw, over the other economies in the warehouse "
            "(groups from the World Bank country metadata).",
        ),
        "scorecard": source_line([row["variable"] for row in content.scorecard], series, cited),
    }
    if len(content.shift_share) or len(content.shift_share_whole):
        sector = series[series["level"] == "sector"] if len(series) else series
        lines["shift_share"] = source_line(
            ["value_added", "employment"],
            sector,
            cited,
            "Decomposition: pedw, shift-share (method in the technical note).",
        )
    if len(content.sme_gap_cells):
        firms = [s for s in cited.values() if s.name in _enterprise_sources(cited)]
        lines["sme_gap"] = (
            "Source: "
            + (
                _package_cite(content.sme_gap_cells)
                or "; ".join(s.cite() for s in firms)
                or "the catalog's firm-level source"
            )
            + ". Gaps: pedw, mean log labour productivity of each size class minus that of "
            "large firms, under disclosure control."
        )
    return lines


def _package_cite(cells: pd.DataFrame) -> str:
    """At the centre (the cells come from an office's aggregate package, with its office,
    producer and publication): which package, as its office's disclosure control released
    them. Empty for an office's own cells."""
    if "producer" not in cells or not len(cells):
        return ""
    first = cells.iloc[0]
    return (
        f"the aggregate package of office {first['office']} (producer {first['producer']}, "
        f"publication {first['publication_id']}), the cells as that office's disclosure "
        "control released them"
    )


def _enterprise_sources(cited: dict[str, SourceRelease]) -> set[str]:
    return {name for name, s in cited.items() if s.level == "enterprise"}
