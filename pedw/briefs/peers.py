"""What a brief compares an economy with: the *other* economies of its region or income group
(never its own value), only those with data for the years compared, and no median of fewer
than MIN_PEERS.

The statistics are computed for every economy at once, once per panel, and looked up per
brief: per group and year the sorted values, with each member's own value left out
(leave-one-out), so that a run of 182 briefs does not re-filter and re-group the panel 182
times. The numbers are those of pandas' median of the others' values, to the last bit: the
middle value, or the mean of the two middle values, (a + b) / 2.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pedw.briefs.verdict_rules import annual_growth

# A median of fewer economies than this (the economy's own value among them) is not shown.
MIN_PEERS = 5


class _GroupMedians:
    """Per group and year, the median and count of `variable` over the group's economies
    with a value, and the same for each member with its own value left out."""

    def __init__(self, panel: pd.DataFrame, group_column: str, variable: str):
        rows = panel.loc[
            panel[variable].notna() & panel[group_column].notna(),
            [group_column, "year", "ref_area", variable],
        ]
        self.year_dtype = panel["year"].dtype
        codes, names = pd.factorize(rows[group_column])
        years = rows["year"].to_numpy()
        values = rows[variable].to_numpy(dtype=np.float64)
        order = np.lexsort((values, years, codes))
        codes, years, values = codes[order], years[order], values[order]
        areas = rows["ref_area"].to_numpy(dtype=object)[order]
        # Blocks of one group and year (sorted values): their start and size, each row's
        # block and rank in it, and each block's place among its group's years.
        new = np.ones(len(values), dtype=bool)
        new[1:] = (codes[1:] != codes[:-1]) | (years[1:] != years[:-1])
        starts = np.flatnonzero(new)
        sizes = np.diff(np.append(starts, len(values)))
        block = np.cumsum(new) - 1
        rank = np.arange(len(values)) - starts[block]
        block_codes = codes[starts]
        first = np.ones(len(starts), dtype=bool)
        first[1:] = block_codes[1:] != block_codes[:-1]
        group_starts = np.flatnonzero(first)
        place = np.arange(len(starts)) - group_starts[np.cumsum(first) - 1]
        ends = np.append(group_starts[1:], len(starts))[: len(group_starts)]
        self.full = {
            names[block_codes[a]]: (years[starts[a:b]], _middle(values, starts[a:b], sizes[a:b]),
                                    sizes[a:b])
            for a, b in zip(group_starts, ends, strict=True)
        }  # fmt: skip
        # Each member's own value left out: `left` values, the k-th of which is the block's
        # k-th below the member's rank and its (k + 1)-th from the rank on.
        left = sizes[block] - 1
        start = starts[block]

        def kth(k: np.ndarray) -> np.ndarray:
            return values[np.minimum(start + k + (k >= rank), len(values) - 1)]

        high = kth(left // 2)
        low = kth(np.maximum(left // 2 - 1, 0))
        median = np.where(left % 2 == 1, high, (high + low) / 2)
        members = pd.DataFrame({"group": names[codes], "area": areas}).groupby(
            ["group", "area"], sort=False
        )
        self.own = {
            key: (place[block[at]], median[at], left[at]) for key, at in members.indices.items()
        }

    def of(self, group: str, country: str) -> pd.DataFrame:
        """Per year, the median and count over the other economies of `group` with a value."""
        years, median, count = self.full.get(group, (np.array([], dtype=int), [], []))
        own = self.own.get((group, country))
        if own is not None:
            median, count = np.array(median, dtype=np.float64), np.array(count, dtype=np.int64)
            median[own[0]], count[own[0]] = own[1], own[2]
            kept = count > 0  # a year with no other economy has no row
            years, median, count = years[kept], median[kept], count[kept]
        index = pd.Index(np.asarray(years, dtype=self.year_dtype), name="year")
        return pd.DataFrame(
            {"median": np.array(median, dtype=np.float64),
             "count": np.array(count, dtype=np.int64)},
            index=index,
        )  # fmt: skip


def _middle(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The median of each sorted block: its middle value, or the mean of its two middle ones."""
    high = values[starts + sizes // 2]
    low = values[starts + np.maximum(sizes // 2 - 1, 0)]
    return np.where(sizes % 2 == 1, high, (high + low) / 2)


# The statistics of the panels last seen (the panel and its views of one series variant):
# every brief of a worker reads the same panels. The cache holds each panel: ids stay unique.
_MEDIANS: dict[tuple[int, str, str], tuple[pd.DataFrame, _GroupMedians]] = {}
_WIDE: dict[tuple[int, str, str], tuple[pd.DataFrame, dict[str, pd.DataFrame]]] = {}
_CACHED_MAX = 64


def _cached(cache: dict, panel: pd.DataFrame, group_column: str, variable: str, build):
    key = (id(panel), group_column, variable)
    found = cache.get(key)
    if found is None or found[0] is not panel:
        found = (panel, build())
        if len(cache) >= _CACHED_MAX:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return found[1]


def peer_stats(
    panel: pd.DataFrame, group_column: str, group: str, variable: str, country: str
) -> pd.DataFrame:
    """Per year: the median of `variable` over the *other* economies of `group` with a value
    (never the economy's own value), and how many they are (the median not yet blanked)."""
    medians = _cached(_MEDIANS, panel, group_column, variable,
                      lambda: _GroupMedians(panel, group_column, variable))  # fmt: skip
    return medians.of(group, country)


def peer_medians(
    panel: pd.DataFrame, group_column: str, group: str, variable: str, country: str
) -> pd.DataFrame:
    """Per year: the median of `variable` over the *other* economies of `group` with a value
    (never the economy's own value), and how many they are; blank when fewer than MIN_PEERS
    (a median of a handful says little)."""
    stats = peer_stats(panel, group_column, group, variable, country)
    stats.loc[stats["count"] < MIN_PEERS, "median"] = math.nan
    return stats


def peer_count(panel: pd.DataFrame, group_column: str, group: str, variable: str,
               country: str, year: int) -> int:  # fmt: skip
    """How many other economies of `group` have a value of `variable` in `year`."""
    stats = peer_stats(panel, group_column, group, variable, country)
    return int(stats.loc[year, "count"]) if year in stats.index else 0


def peer_growth(
    panel: pd.DataFrame, group_column: str, group: str, variable: str, country: str,
    start: int, end: int,
) -> tuple[float, int]:  # fmt: skip
    """The median of the *other* economies' own average annual growth (percent) of `variable`
    from `start` to `end`, over those with a value in both years, and how many they are;
    NaN below MIN_PEERS. Not the growth of the median level: the economy at the median is
    not the same one in both years."""
    wide = _cached(_WIDE, panel, group_column, variable,
                   lambda: _wide(panel, group_column, variable))  # fmt: skip
    ends = wide.get(group)
    if end <= start or ends is None or start not in ends or end not in ends:
        return math.nan, 0
    ends = ends[ends.index != country]
    ends = ends[(ends[start] > 0) & (ends[end] > 0)]
    growth = annual_growth(ends[start], ends[end], end - start)
    count = int(growth.count())
    return (float(growth.median()) if count >= MIN_PEERS else math.nan), count


def _wide(panel: pd.DataFrame, group_column: str, variable: str) -> dict[str, pd.DataFrame]:
    """Each group's values of `variable`, one row an economy, one column a year."""
    return {
        group: rows.pivot_table(index="ref_area", columns="year", values=variable, aggfunc="first")
        for group, rows in panel.groupby(group_column, sort=False)
    }
