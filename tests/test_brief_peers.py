"""The peers' medians computed for every economy at once (pedw/briefs/peers.py) are those of
the direct definition, to the last bit: per year, pandas' median and count of the *other*
economies of the group with a value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pedw.briefs.peers import MIN_PEERS, peer_count, peer_growth, peer_medians


def _panel(seed: int) -> pd.DataFrame:
    """Two regions (one with an economy alone in a year), values with ties and gaps, an
    economy with no region, years as int32 as the warehouse has them."""
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(14):
        region = "A" if number < 9 else "B" if number < 13 else None
        for year in range(2000, 2012):
            value = float(rng.choice([np.nan, 1.5, 2.0, *rng.lognormal(3, 1, 5)]))
            if region == "B" and year == 2011:
                value = 3.0 if number == 9 else math.nan  # one economy alone in a year
            rows.append({"ref_area": f"E{number:02d}", "year": year, "region": region,
                         "output_per_worker": value})  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.astype({"year": "int32"}).sample(frac=1, random_state=seed)  # any row order


def _direct(panel: pd.DataFrame, group: str, country: str) -> pd.DataFrame:
    rows = panel[(panel["region"] == group) & (panel["ref_area"] != country)]
    stats = rows.dropna(subset=["output_per_worker"]).groupby("year")["output_per_worker"]
    stats = stats.agg(["median", "count"])
    stats.loc[stats["count"] < MIN_PEERS, "median"] = math.nan
    return stats


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_peer_medians_leave_each_economy_out(seed):
    panel = _panel(seed)
    for country in sorted(panel["ref_area"].unique()):
        for group in ("A", "B", "C"):  # C: no such group
            expected = _direct(panel, group, country)
            found = peer_medians(panel, "region", group, "output_per_worker", country)
            pd.testing.assert_frame_equal(found, expected, check_exact=True)
            for year in range(2000, 2012):
                counted = int(expected.loc[year, "count"]) if year in expected.index else 0
                assert peer_count(panel, "region", group, "output_per_worker", country,
                                  year) == counted  # fmt: skip
    # An economy alone in its group's year: no row for that year in its own medians.
    alone = peer_medians(panel, "region", "B", "output_per_worker", "E09")
    assert 2011 not in alone.index
    assert peer_medians(panel, "region", "B", "output_per_worker", "E10").loc[2011, "count"] == 1


def test_peer_growth_is_the_median_of_the_others_own_growth():
    panel = _panel(4)
    for country in sorted(panel["ref_area"].unique()):
        rows = panel[(panel["region"] == "A") & (panel["ref_area"] != country)]
        ends = rows.pivot_table(index="ref_area", columns="year", values="output_per_worker")
        ends = ends[(ends[2001] > 0) & (ends[2009] > 0)]
        growth = 100 * ((ends[2009] / ends[2001]) ** (1 / 8) - 1)
        median, count = peer_growth(panel, "region", "A", "output_per_worker", country, 2001, 2009)
        assert count == len(growth)
        if count >= MIN_PEERS:
            assert median == growth.median()
        else:
            assert math.isnan(median)
