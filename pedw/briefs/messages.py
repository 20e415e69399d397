"""Three to five key messages for the top of a brief, each computed from the economy's own
figures (the cross-country model results are a document of their own, the annex).

Every message is a claim (`Claim`): its text, the indicator, years and values it rests on,
the group it compares with and that group's size, and the checks it passed. A brief prints
only claims that pass every check; briefs.claims keeps them all. Sentences come from the
templates below, which are tested for every sign combination (tests/test_brief_messages.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pedw.briefs.document import BriefContent
from pedw.briefs.verdict_rules import DATED_AGE, MAX_SPAN, annual_growth, recent

MAX_MESSAGES = 5
MIN_GROUP = 5  # economies a median must rest on to be compared with
# A change is called better or worse only beyond these: percentage points for rates, a
# relative change for levels (earnings, injury rates); and never in current (nominal) US$.
MIN_POINTS = 0.5
MIN_RELATIVE = 0.02
# The sector accounts' aggregate growth may differ from the headline output per worker's (other
# source, national prices) by at most this many percentage points a year for a key message.
HEADLINE_GAP = 1.0


@dataclass
class Claim:
    """One key message and what it rests on (a row of briefs.claims)."""

    kind: str
    text: str
    variable: str
    years: list[int]
    values: list[float]
    comparison: str = ""
    group_size: int | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    rank: float = 0.0
    printed: bool = False

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


def _pct(value: float) -> str:
    return f"{abs(value):.1f}%"


def nominal(unit: str) -> bool:
    """A unit in current (nominal) money: exchange rates and prices move it."""
    return "current" in unit and ("US$" in unit or "local currency" in unit)


def judge_change(change: float, since_value: float, unit: str, better: str) -> bool | None:
    """True (better), False (worse) or None (not judged): a change is judged only in real or
    PPP terms, and only beyond MIN_POINTS (rates) or MIN_RELATIVE (levels), on the change as
    printed (one decimal): "+0.5" is not beyond 0.5 points."""
    if change is None or math.isnan(change) or nominal(unit):
        return None
    shown = round(change, 1)
    if shown == 0:
        return None
    if "percent" in unit:
        if abs(shown) <= MIN_POINTS:
            return None
    elif math.isnan(since_value) or abs(shown) <= MIN_RELATIVE * abs(round(since_value, 1)):
        return None
    return (shown < 0) == (better == "lower")


def threshold_phrase(unit: str) -> str:
    """What "too small to call" means, true of every change it is said of (rounded as printed)."""
    if "percent" in unit:
        return f"a change of {MIN_POINTS} percentage points or less"
    return f"a change of {100 * MIN_RELATIVE:.0f}% or less"


def group_phrase(size: int, group: str) -> str:
    return f"the median of the {size} other economies of {group} with data"


def age_note(year: int, newest: int | None, what: str = "the latest figure,") -> str:
    """ "the latest figure, N years old" (`what`, then the age) for a figure more than
    DATED_AGE years behind the publication's year `newest` (it may still be a key message up
    to MAX_AGE: the reader is told it is old, not left to notice the year), else ""."""
    if newest is None or newest - year <= DATED_AGE:
        return ""
    return f"{what} {newest - year} years old"


def level_sentence(name: str, value: float, unit: str, year: int, median: float, size: int,
                   group: str | None, modelled: bool = False,
                   newest: int | None = None) -> str:  # fmt: skip
    """Output per worker and, with a group of at least MIN_GROUP, its gap to their median
    (a gap under MIN_RELATIVE is stated as such, not as above or below)."""
    label = f"{unit}, ILO modelled estimate" if modelled else unit
    dated = age_note(year, newest)
    text = f"Output per worker in {name} was {value:,.0f} ({label}) in {year}" + (
        f" ({dated})" if dated else ""
    )
    if group and size >= MIN_GROUP and not math.isnan(median):
        gap = 100 * (value / median - 1)
        if abs(gap) < 100 * MIN_RELATIVE:  # a gap this small is within measurement error
            text += (f", within {100 * MIN_RELATIVE:.0f}% of {group_phrase(size, group)} "
                     f"({median:,.0f})")  # fmt: skip
        else:
            text += f", {_gap_words(value / median)} {group_phrase(size, group)} ({median:,.0f})"
    return text + "."


def _gap_words(ratio: float) -> str:
    """A level against a median: "12.0% above", "35.5% below", or, from twice the median up,
    "2.4 times" ("675.0% above" reads as precise what is a ratio of two modelled levels)."""
    if ratio >= 2:
        return f"{ratio:.1f} times" if ratio < 10 else f"{ratio:.0f} times"
    gap = 100 * (ratio - 1)
    return f"{_pct(gap)} {'above' if gap > 0 else 'below'}"


def _moved(rate: float) -> str:
    shown = f"{abs(rate):.1f}"
    if shown == "0.0":
        return "was about unchanged"
    return f"{'grew' if rate > 0 else 'fell'} by {shown}% a year"


def growth_sentence(growth: float, start: int, end: int, peer: float, size: int,
                    group: str | None) -> str:  # fmt: skip
    """Average annual growth and how it compares with the group's median growth, in words
    that hold for every combination of signs (rounded as printed); rates less than
    MIN_POINTS apart are "about" alike, never ranked."""
    text = f"It {_moved(growth)} between {start} and {end}"
    if not group or size < MIN_GROUP or peer is None or math.isnan(peer):
        return text + "."
    own, other = round(growth, 1), round(peer, 1)
    median = group_phrase(size, group) + " for both years"
    close = abs(own - other) < MIN_POINTS  # rates this close are not ranked
    if own > 0 and other > 0:
        pace = "about as fast as" if close else "faster than" if own > other else "slower than"
        return text + f", {pace} {median} ({other:+.1f}% a year)."
    if own < 0 and other < 0:
        pace = (
            "about the same fall as"
            if close
            else "a steeper fall than"
            if own < other
            else "a milder fall than"
        )
        return text + f", {pace} {median} ({other:+.1f}% a year)."
    return text + f", while {median} {_moved(peer)}."


def productivity_claims(content: BriefContent) -> list[Claim]:
    h = content.headline
    if not h:
        return []
    group = content.region
    median, size = h.get("region_median", math.nan), h.get("region_median_n", 0)
    modelled = "ILO modelled estimate" in h.get("flags", [])
    level = Claim(
        "productivity_level",
        level_sentence(
            content.country_name,
            h["output_per_worker"],
            h["unit"],
            h["year"],
            median,
            size,
            group,
            modelled,
            h.get("newest_year"),
        ),
        "output_per_worker",
        [h["year"]],
        [h["output_per_worker"]] + ([median] if size >= MIN_GROUP else []),
        comparison=f"median of {group}" if group and size >= MIN_GROUP else "",
        group_size=size if group and size >= MIN_GROUP else None,
        rank=math.inf,
    )
    level.checks = _productivity_checks(h, level.text, size, h["year"])
    claims = [level]
    growth = h["growth_per_year"]
    if not math.isnan(growth):
        # The median of the peers' own growth, over those with both years (its own count).
        peer, peers = h.get("region_median_growth", math.nan), h.get("region_median_growth_n", 0)
        compared = bool(group) and peers >= MIN_GROUP and not math.isnan(peer)
        claims.append(
            Claim(
                "productivity_growth",
                growth_sentence(growth, h["growth_from"], h["year"], peer, peers, group),
                "output_per_worker",
                [h["growth_from"], h["year"]],
                [growth] + ([peer] if compared else []),
                comparison=f"median growth of {group}" if compared else "",
                group_size=peers if compared else None,
                rank=math.inf,
            )
        )
        claims[-1].checks = _productivity_checks(h, claims[-1].text, peers, h["growth_from"])
    return claims


def _productivity_checks(h: dict, text: str, size: int, since: int) -> dict[str, bool]:
    """not_projected (the latest value is no projection), recent (at most MAX_AGE years behind
    the newest output per worker, a span of at most MAX_SPAN years) and group_of_5_or_more
    (the sentence names a median only of at least MIN_GROUP others)."""
    return {
        "not_projected": h.get("status") != "projected" and "projected" not in h.get("flags", []),
        "recent": recent(h["year"], h.get("newest_year")) and h["year"] - since <= MAX_SPAN,
        "group_of_5_or_more": "median of the" not in text or size >= MIN_GROUP,
    }


def was(row: dict) -> str:
    """The past of "to be" agreeing with the row's label: "earnings were", "unemployment was"
    (a row's `plural` says the label's grammatical number; singular when not given)."""
    return "were" if row.get("plural") else "was"


def scorecard_sentence(row: dict) -> str:
    """One scorecard indicator's move (or level), better/worse only when judged: never across
    a break or change of source, on a value flagged unreliable or an implausible move. The
    verb agrees with the label ("Mean monthly earnings were")."""
    unit, label = row["unit"], row["label"]
    modelled = "" if row["observed"] else "ILO modelled estimates"
    notes = [n for n in (age_note(row["year"], row.get("newest_year")), modelled) if n]
    basis = f" ({'; '.join(notes)})" if notes else ""
    if row["since"] is None or math.isnan(row["change"]):
        note = row.get("change_note")
        return f"{label} {was(row)} {row['value']:,.1f} ({unit}) in {row['year']}{basis}" + (
            f"; {note}." if note else "."
        )
    span = f"between {row['since']} and {row['year']}{basis}"
    if f"{row['since_value']:,.1f}" == f"{row['value']:,.1f}" or f"{row['change']:.1f}" in (
        "0.0",
        "-0.0",
    ):
        return f"{label} {was(row)} unchanged at {row['value']:,.1f} ({unit}) {span}."
    moved = (
        f"{label} {'rose' if row['change'] > 0 else 'fell'} from {row['since_value']:,.1f} to "
        f"{row['value']:,.1f} ({unit}) {span}"
    )
    if nominal(unit):
        return moved + ", in current US dollars (exchange rates move it: not judged)."
    if row.get("unreliable"):
        return moved + ", resting on a value the publisher flags as unreliable (not judged)."
    if not row.get("plausible", True):
        return moved + ", a move too large to be one series' change (not judged)."
    judged = judge_change(row["change"], row["since_value"], unit, row["better"])
    if judged is None:  # no direction stated for a move the brief declines to call
        return (f"{label} changed little, from {row['since_value']:,.1f} to {row['value']:,.1f}"
                f" ({unit}) {span}: {threshold_phrase(unit)}, too small to call.")  # fmt: skip
    return moved + f": {'better' if judged else 'worse'}."


def scorecard_checks(row: dict) -> dict[str, bool]:
    """The checks of a scorecard message, computed from the row (verdict_rules.py):
    not_projected, latest_observed, verdict_in_real_terms, comparable (both ends from one
    source with no break at or between them), recent (at most MAX_AGE years behind the
    newest year of the variable, a change over at most MAX_SPAN years), not_unreliable (no
    value flagged U) and plausible (no implausible level or move)."""
    has_change = row["since"] is not None and not math.isnan(row["change"])
    judged = judge_change(row["change"], row["since_value"], row["unit"], row["better"])
    return {
        "not_projected": row.get("status") != "projected" and "projected" not in row["flags"],
        "latest_observed": row["observed"] or "ILO modelled estimate" in row["flags"],
        "verdict_in_real_terms": judged is None or not nominal(row["unit"]),
        "comparable": not has_change
        or (row.get("since_source") == row.get("source") and not row.get("breaks", 0)),
        "recent": recent(row["year"], row.get("newest_year"))
        and (not has_change or row["year"] - row["since"] <= MAX_SPAN),
        "not_unreliable": not row.get("unreliable", False),
        "plausible": bool(row.get("plausible", True)),
    }


def scorecard_claims(content: BriefContent) -> list[Claim]:
    """Indicators with the largest relative change first; without a change, the level."""
    claims = []
    for row in content.scorecard:
        has_change = row["since"] is not None and not math.isnan(row["change"])
        rank = (
            abs(row["change"]) / max(abs(row["since_value"]), 1e-9) if has_change else -1.0
        )  # a level alone ranks after every change
        judged = judge_change(row["change"], row["since_value"], row["unit"], row["better"])
        if has_change and judged is None:
            rank = -0.5  # a change too small to call ranks after the judged ones
        if nominal(row["unit"]):
            rank = -2.0  # a nominal figure is never judged: it ranks last
        claims.append(
            Claim(
                "scorecard",
                scorecard_sentence(row),
                row["variable"],
                [row["since"], row["year"]] if has_change else [row["year"]],
                [row["since_value"], row["value"]] if has_change else [row["value"]],
                checks=scorecard_checks(row),
                rank=rank,
            )
        )
    return sorted(claims, key=lambda c: -c.rank)


def structure_claims(content: BriefContent) -> list[Claim]:
    """One structural-change message: the whole period's decomposition, else the latest period,
    the first that passes every check (see structure_checks); when none does, the first that
    is not fragile (else the whole period), on record only, with the checks it failed."""
    rows = pd.concat([content.shift_share_whole, content.shift_share.iloc[::-1]])
    if not len(rows):
        return []
    basis = sector_basis(content.series)
    claims = []
    for row in rows.to_dict("records"):
        start, end = int(row["start_year"]), int(row["end_year"])
        within, total = row["within_sector_growth_pct"], row["total_change_growth_pct"]
        between = total - within
        dated = age_note(end, content.publication_year, "a period")
        text = (
            f"Between {start} and {end}{f' ({dated})' if dated else ''}, output per worker in the sector accounts{basis} changed "
            f"by {total:+.1f}%: {within:+.1f} points from growth within sectors and "
            f"{between:+.1f} points from workers moving between sectors (and sectors entering "
            "or leaving)."
        )
        claims.append(Claim("structural_change", text, "output_per_worker_by_sector",
                            [start, end], [total, within, between],
                            checks=structure_checks(row, content), rank=math.inf))  # fmt: skip
    steady = [c for c in claims if c.checks["decomposition_not_fragile"]]
    return [next((c for c in claims if c.passed), (steady or claims)[0])]


def structure_checks(row: dict, content: BriefContent) -> dict[str, bool]:
    """decomposition_not_fragile (no tiny sector drives its terms), recent (ends at most MAX_AGE
    years behind the publication's year, spans at most MAX_SPAN years) and in_step_with_headline
    (its aggregate growth is within HEADLINE_GAP points a year of the headline output per
    worker's over the same years, when that has both: the sector accounts differ in source
    and prices, and a message contradicting the brief's own chart would mislead)."""
    start, end = int(row["start_year"]), int(row["end_year"])
    fragile = row.get("fragile")
    headline = headline_growth(content, start, end)
    after = 100 + row["total_change_growth_pct"]  # a fall of 100% or more: never in step
    sector = annual_growth(100, after, end - start) if after > 0 and end > start else math.inf
    return {
        "decomposition_not_fragile": not (isinstance(fragile, bool | np.bool_) and fragile),
        "recent": recent(end, content.publication_year) and end - start <= MAX_SPAN,
        "in_step_with_headline": headline is None or abs(sector - headline) <= HEADLINE_GAP,
    }


def headline_growth(content: BriefContent, start: int, end: int) -> float | None:
    """Average annual growth (%) of the headline output per worker from `start` to `end`, or
    None when the headline series lacks either year."""
    series = content.productivity
    if not len(series) or end <= start:
        return None
    values = series.set_index("year")["country"]
    if start not in values.index or end not in values.index:
        return None
    first, last = float(values[start]), float(values[end])
    return annual_growth(first, last, end - start) if first > 0 and last > 0 else None


def sector_basis(series: pd.DataFrame) -> str:
    """ " (value added in <unit>)" when the sector value added the warehouse holds (its
    staging.series_metadata rows with observations) has one unit, else ""."""
    if not len(series) or "unit" not in series:
        return ""
    rows = series[(series["level"] == "sector") & (series["variable"] == "value_added")]
    units = sorted(set(rows["unit"].dropna()))
    return f" (value added in {units[0]})" if len(units) == 1 else ""


def sme_claims(content: BriefContent) -> list[Claim]:
    trend = content.sme_gap_trend
    if not len(trend):
        return []
    shown = trend[~trend["suppressed"]]
    if not len(shown):
        return []
    row = shown.sort_values("gap_first_year").iloc[0]  # the widest published gap
    reading = (
        "widening"
        if row["widening"]
        else "narrowing"
        if row["narrowing"]
        else "with no clear trend"
    )
    text = (
        f"{str(row['size_class']).capitalize()} firms' productivity was "
        f"{abs(100 * row['gap_first_year']):.0f} log points "
        f"{'below' if row['gap_first_year'] < 0 else 'above'} that of large firms in the first "
        f"year observed, {reading} ({100 * row['trend_per_year']:+.1f} log points a year)."
    )
    return [
        Claim(
            "sme_gap",
            text,
            "log_labour_productivity_gap",
            [],
            [float(row["gap_first_year"])],
            checks={"released_by_disclosure_control": True},
            rank=math.inf,
        )
    ]


def all_claims(content: BriefContent) -> list[Claim]:
    """Every candidate message in the order a brief would print them: productivity, the
    largest scorecard moves, structural change and the SME gap."""
    return (
        productivity_claims(content)
        + scorecard_claims(content)
        + structure_claims(content)
        + sme_claims(content)
    )


def key_messages(content: BriefContent) -> list[str]:
    """The brief's opening messages, from the claims that pass every check: productivity,
    then the largest scorecard moves, structural change and the SME gap; at most five."""
    claims = all_claims(content)
    content.claims = claims
    passed = [c for c in claims if c.passed]
    productivity = [c for c in passed if c.kind.startswith("productivity")]
    extra = [c for c in passed if c.kind in ("structural_change", "sme_gap")]
    scorecard = [c for c in passed if c.kind == "scorecard"]
    room = max(MAX_MESSAGES - len(productivity) - len(extra), 1)
    chosen = (productivity + scorecard[:room] + extra)[:MAX_MESSAGES]
    for claim in chosen:
        claim.printed = True
    return [c.text for c in chosen]


CLAIM_COLUMNS = ["country", "position", "kind", "text", "variable", "years", "values",
                 "comparison_group", "group_size", "checks", "passed", "printed",
                 "publication_id"]  # fmt: skip


def claims_frame(content: BriefContent, publication_id: str) -> pd.DataFrame:
    """briefs.claims rows of one brief: every candidate message, what it rests on, its checks
    and whether the brief printed it."""
    rows = []
    for position, claim in enumerate(content.claims, start=1):
        checks = claim.checks
        rows.append(
            {
                "country": content.country,
                "position": position,
                "kind": claim.kind,
                "text": claim.text,
                "variable": claim.variable,
                "years": "-".join(str(y) for y in claim.years if y is not None),
                "values": "; ".join(f"{v:.4g}" for v in claim.values if not math.isnan(v)),
                "comparison_group": claim.comparison,
                "group_size": claim.group_size,
                "checks": ", ".join(f"{k}={'pass' if v else 'fail'}" for k, v in checks.items()),
                "passed": all(checks.values()),
                "printed": claim.printed,
                "publication_id": publication_id,
            }
        )
    frame = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    return frame.astype({"position": "int64", "group_size": "Int64", "passed": bool,
                         "printed": bool})  # fmt: skip
