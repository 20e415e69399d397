"""Three to five key messages for the top of a brief, each computed from the economy's own
figures (the cross-country model findings are kept apart, further down)."""

from __future__ import annotations

import math

from pedw.briefs.document import BriefContent

MAX_MESSAGES = 5


def _pct(value: float) -> str:
    return f"{abs(value):.1f}%"


def _direction(change: float, better: str) -> str:
    """ "better" or "worse" for a change of an indicator whose better side is `better`."""
    return "better" if (change < 0) == (better == "lower") else "worse"


def productivity_messages(content: BriefContent) -> list[str]:
    h = content.headline
    if not h:
        return []
    name, unit = content.country_name, h["unit"]
    level = f"Output per worker in {name} was {h['output_per_worker']:,.0f} ({unit}) in {h['year']}"
    median = h.get("region_median")
    if median and not math.isnan(median):
        gap = 100 * (h["output_per_worker"] / median - 1)
        side = "above" if gap >= 0 else "below"
        level += f", {_pct(gap)} {side} the median of {content.region} ({median:,.0f})"
    messages = [level + "."]
    growth = h["growth_per_year"]
    if not math.isnan(growth):
        text = (
            f"It {'grew' if growth >= 0 else 'fell'} by {_pct(growth)} a year between "
            f"{h['growth_from']} and {h['year']}"
        )
        peer = h.get("region_median_growth")
        if peer is not None and not math.isnan(peer):
            pace = (
                "faster than" if growth > peer else "slower than" if growth < peer else "as fast as"
            )
            text += f", {pace} the regional median ({peer:+.1f}% a year)"
        messages.append(text + ".")
    return messages


def scorecard_messages(content: BriefContent) -> list[str]:
    """Indicators with the largest relative change first; without a change, the level."""
    ranked = []
    for row in content.scorecard:
        unit = row["unit"]
        if row["since"] is not None and not math.isnan(row["change"]):
            relative = abs(row["change"]) / max(abs(row["since_value"]), 1e-9)
            if row["change"] == 0:
                text = (
                    f"{row['label']} was unchanged at {row['value']:,.1f} ({unit}) between "
                    f"{row['since']} and {row['year']}."
                )
            else:
                text = (
                    f"{row['label']} {'rose' if row['change'] > 0 else 'fell'} from "
                    f"{row['since_value']:,.1f} to {row['value']:,.1f} ({unit}) between "
                    f"{row['since']} and {row['year']}: "
                    f"{_direction(row['change'], row['better'])}."
                )
        else:
            relative = -1.0  # a level alone ranks after every change
            text = f"{row['label']} was {row['value']:,.1f} ({unit}) in {row['year']}."
        ranked.append((relative, text))
    return [text for _, text in sorted(ranked, key=lambda r: -r[0])]


def structure_message(content: BriefContent) -> list[str]:
    rows = content.shift_share_whole if len(content.shift_share_whole) else content.shift_share
    if not len(rows):
        return []
    row = rows.iloc[-1]
    within, total = row["within_sector_growth_pct"], row["total_change_growth_pct"]
    between = total - within
    return [
        f"Between {row['start_year']} and {row['end_year']}, aggregate productivity changed by "
        f"{total:+.1f}%: {within:+.1f} points from growth within sectors and {between:+.1f} "
        "points from workers moving between sectors (and sectors entering or leaving)."
    ]


def sme_message(content: BriefContent) -> list[str]:
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
    return [
        f"{str(row['size_class']).capitalize()} firms' productivity was "
        f"{abs(100 * row['gap_first_year']):.0f} log points "
        f"{'below' if row['gap_first_year'] < 0 else 'above'} that of large firms in the first "
        f"year observed, {reading} ({100 * row['trend_per_year']:+.1f} log points a year)."
    ]


def key_messages(content: BriefContent) -> list[str]:
    """The brief's opening messages: productivity, then the largest scorecard moves, structural
    change and the SME gap where those sections exist; at most five."""
    productivity = productivity_messages(content)
    extra = structure_message(content) + sme_message(content)
    scorecard = scorecard_messages(content)
    room = max(MAX_MESSAGES - len(productivity) - len(extra), 1)
    return (productivity + scorecard[:room] + extra)[:MAX_MESSAGES]
