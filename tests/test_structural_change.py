"""The shift-share decomposition where sectors enter, leave or go missing (hand-computed cases)."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from pedw.models.ledger import ModelLedger
from pedw.models.sector import shift_share


def panel(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ref_area", "sector", "year", "employment", "value_added"])


def test_a_sector_entering_has_its_own_term_and_the_total_is_aggregate_growth():
    # 2000: A 50 workers / 100 VA, B 50 / 50, C 0 / 10.  2005: A 50 / 110, B 50 / 50, C 10 / 20.
    frame = panel([("XYZ", "A", 2000, 50, 100), ("XYZ", "B", 2000, 50, 50), ("XYZ", "C", 2000, 0, 10),
                   ("XYZ", "A", 2005, 50, 110), ("XYZ", "B", 2005, 50, 50), ("XYZ", "C", 2005, 10, 20)])  # fmt: skip
    ledger = ModelLedger("sector")
    row = shift_share(frame, ledger=ledger).set_index(["start_year", "end_year"]).loc[(2000, 2005)]
    assert row["productivity_start"] == pytest.approx(160 / 100, abs=1e-12)
    assert row["productivity_end"] == pytest.approx(180 / 110, abs=1e-12)
    assert row["total_change_growth_pct"] == pytest.approx(100 * (180 / 110 / 1.6 - 1), abs=1e-10)
    assert row["within_sector"] == pytest.approx(0.2 * 0.5, abs=1e-12)
    assert row["static_structural_change"] == pytest.approx(3 * (50 / 110 - 0.5), abs=1e-12)
    assert row["dynamic_reallocation"] == pytest.approx(0.2 * (50 / 110 - 0.5), abs=1e-12)
    assert row["entry_exit"] == pytest.approx(20 / 110 - 10 / 100, abs=1e-12)
    assert (row["sectors"], row["sectors_entry_exit"]) == (2, 1)
    recorded = ledger.exclusions()
    assert recorded[["rule", "start_year", "end_year"]].values.tolist() == [
        ["entry_exit", 2000, 2005]
    ]
    assert recorded["share_affected"].iloc[0] == pytest.approx(max(10 / 160, 20 / 180))


def test_one_sector_ten_percent_more_productive_is_growth_not_structural_change():
    # Sector C has no workers in 2000: before, the end-year shares covered C and the start-year
    # shares did not, and a 10% rise in A read as 0% growth with -9.1 points of structural change.
    frame = panel([("XYZ", "A", 2000, 100, 100), ("XYZ", "B", 2000, 100, 100), ("XYZ", "C", 2000, 0, 0),
                   ("XYZ", "A", 2005, 100, 110), ("XYZ", "B", 2005, 100, 100), ("XYZ", "C", 2005, 0, 0)])  # fmt: skip
    row = shift_share(frame).iloc[0]
    assert row["total_change_growth_pct"] == pytest.approx(5.0, abs=1e-10)
    assert row["within_sector_growth_pct"] == pytest.approx(5.0, abs=1e-10)
    assert row["static_structural_change"] == pytest.approx(0.0, abs=1e-12)
    assert row["entry_exit"] == pytest.approx(0.0, abs=1e-12)


def test_incomplete_years_are_left_out_and_recorded_and_productivity_is_one_number_per_year():
    rows = []
    for year in range(2000, 2011):
        rows += [("XYZ", "A", year, 100, 100 + 10 * (year - 2000)), ("XYZ", "B", year, 50, 80),
                 ("XYZ", "C", year, None if year == 2005 else 20, 30)]  # fmt: skip
        rows += [("QQQ", "A", year, 10, 10 + year - 2000), ("QQQ", "B", year, None, None)]
    ledger = ModelLedger("sector")
    result = shift_share(panel(rows), ledger=ledger)
    xyz = result[result["ref_area"] == "XYZ"]
    # 2005 is incomplete: 2000-2005 and 2005-2010 are not decomposed; the whole span is.
    assert xyz[["start_year", "end_year"]].values.tolist() == [[2000, 2010]]
    # QQQ never reports B: the decomposition uses A alone, in every year, and says so.
    qqq = result[result["ref_area"] == "QQQ"].set_index(["start_year", "end_year"])
    assert qqq.loc[(2005, 2010), "productivity_start"] == pytest.approx(1.5)
    assert qqq.loc[(2000, 2005), "productivity_end"] == pytest.approx(1.5)
    recorded = ledger.exclusions()
    rules = recorded.groupby(["ref_area", "rule"])
    assert rules.size().to_dict() == {
        ("QQQ", "sector_never_reported"): 1,
        ("XYZ", "incomplete_year"): 1,
        ("XYZ", "period_endpoint_incomplete"): 2,
    }
    incomplete = recorded[recorded["rule"] == "incomplete_year"].iloc[0]
    assert (incomplete["start_year"], incomplete["share_affected"]) == (2005, pytest.approx(1 / 3))
    never = recorded[recorded["rule"] == "sector_never_reported"].iloc[0]
    assert never["share_affected"] == pytest.approx(0.5) and "sector B" in never["detail"]


def test_a_country_with_a_single_complete_year_is_recorded_not_silently_dropped():
    frame = panel([("XYZ", "A", 2000, 10, 10), ("XYZ", "A", 2001, None, 12)])
    ledger = ModelLedger("sector")
    assert shift_share(frame, ledger=ledger).empty
    assert ledger.exclusions().set_index("rule").loc["too_few_years", "ref_area"] == "XYZ"


def test_a_tiny_high_value_sector_driving_offsetting_terms_makes_a_period_fragile():
    # Rwanda-like: 27 real-estate workers (L) with a huge value added in 1990, many in 1995.
    # The static and dynamic terms are offsetting giants; the total change is modest.
    frame = panel([("RWA", "A", 1990, 2_000_000, 2_000_000), ("RWA", "L", 1990, 27, 540_000),
                   ("RWA", "A", 1995, 2_100_000, 2_310_000), ("RWA", "L", 1995, 30_000, 630_000)])  # fmt: skip
    row = shift_share(frame).iloc[0]
    total = row["total_change"]
    assert abs(row["static_structural_change"]) > 3 * abs(total)
    assert row["reallocation_driver"] == "L"
    assert row["reallocation_driver_share"] == pytest.approx(27 / 2_000_027, rel=1e-9)
    assert bool(row["fragile"])
    # The same growth with no tiny sector is not fragile.
    steady = panel([("XYZ", "A", 1990, 100, 100), ("XYZ", "B", 1990, 100, 300),
                    ("XYZ", "A", 1995, 110, 121), ("XYZ", "B", 1995, 90, 280)])  # fmt: skip
    assert not bool(shift_share(steady).iloc[0]["fragile"])


def test_the_shift_share_chart_has_a_title_and_nothing_overlaps_or_is_clipped():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import Rectangle

    from pedw.briefs.charts import SHIFT_SHARE_PARTS, shift_share_figure

    # Rwanda's periods: a +194.8-point bar on top of a positive within-sector term.
    data = pd.DataFrame(
        {"start_year": [1990, 1995, 2000, 2005, 2010, 2015],
         "end_year": [1995, 2000, 2005, 2010, 2015, 2018],
         "within_sector_growth_pct": [-24.1, 1.5, 16.0, 93.7, 51.2, 10.0],
         "static_structural_change_growth_pct": [80.9, 194.8, 21.0, 11.5, 19.0, 5.0],
         "dynamic_reallocation_growth_pct": [-77.2, -148.7, -4.0, -86.4, -45.0, -3.0],
         "entry_exit_growth_pct": [0.0, 0.0, 0.0, 0.0, 0.2, 0.0],
         "total_change_growth_pct": [-20.4, 47.6, 33.0, 19.6, 25.4, 12.0]}
    )  # fmt: skip
    figure, axis = shift_share_figure(data)
    FigureCanvasAgg(figure).draw()  # lay it out as the PNG is drawn (charts._png)
    renderer = figure.canvas.get_renderer()
    assert axis.get_title(loc="left")
    low, high = axis.get_ylim()
    bars = [p for p in axis.patches if isinstance(p, Rectangle) and p.get_height() != 0]
    assert len(bars) >= len(data) * (len(SHIFT_SHARE_PARTS) - 1)
    for bar in bars:
        assert low < bar.get_y() < high and low < bar.get_y() + bar.get_height() < high
    legend = axis.get_legend().get_window_extent(renderer)
    for label in axis.get_xticklabels():
        box = label.get_window_extent(renderer)
        assert not box.overlaps(legend), label.get_text()
    boxes = [t.get_window_extent(renderer) for t in axis.get_xticklabels()]
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0  # x labels never run into each other


def test_a_tiny_sector_driving_the_between_effect_makes_a_period_fragile_without_giant_terms():
    # B has 5 of 995 workers in 2000 (0.5%) and 15 in 2005 at ten times A's productivity: it
    # drives the between effect (static +0.1005 of +0.0905 in all), which is not three times the
    # total change (+0.19): the former rule let it through.
    frame = panel([("XYZ", "A", 2000, 990, 990), ("XYZ", "B", 2000, 5, 50),
                   ("XYZ", "A", 2005, 980, 1078), ("XYZ", "B", 2005, 15, 150)])  # fmt: skip
    row = shift_share(frame).iloc[0]
    assert row["static_structural_change"] == pytest.approx(10 * 10 / 995 - 10 / 995, rel=1e-9)
    assert abs(row["static_structural_change"]) < 3 * abs(row["total_change"])
    assert (row["reallocation_driver"], row["within_driver"]) == ("B", "A")
    assert row["reallocation_driver_share"] == pytest.approx(5 / 995, rel=1e-9)
    assert row["within_driver_share"] == pytest.approx(980 / 995, rel=1e-9)
    assert bool(row["fragile"])
    # With B at 2% of employment (20 of 1,010 workers in 2000) the same moves are not fragile.
    larger = panel([("XYZ", "A", 2000, 990, 990), ("XYZ", "B", 2000, 20, 200),
                    ("XYZ", "A", 2005, 980, 1078), ("XYZ", "B", 2005, 30, 300)])  # fmt: skip
    row = shift_share(larger).iloc[0]
    assert row["reallocation_driver"] == "B" and not bool(row["fragile"])


def test_a_tiny_sector_driving_the_within_effect_makes_a_period_fragile():
    # Shares do not move (no between effect, so no reallocation driver); B's 5 workers of 1,005
    # go from 1 to 10 of value added per worker: all of the within effect (+9 x 5/1,005).
    frame = panel([("XYZ", "A", 2000, 1000, 1000), ("XYZ", "B", 2000, 5, 5),
                   ("XYZ", "A", 2005, 1000, 1000), ("XYZ", "B", 2005, 5, 50)])  # fmt: skip
    row = shift_share(frame).iloc[0]
    assert row["within_sector"] == pytest.approx(9 * 5 / 1005, rel=1e-9)
    assert row["static_structural_change"] == 0 and pd.isna(row["reallocation_driver"])
    assert row["within_driver"] == "B"
    assert row["within_driver_share"] == pytest.approx(5 / 1005, rel=1e-9)
    assert bool(row["fragile"])
    # The brief says why: which effect, the sector and its share of employment.
    from pedw.briefs.content import fragile_reasons

    assert fragile_reasons(row.to_dict()) == [
        "growth within sectors (+4.5 points) is driven by ISIC section B, which had 0.50% of "
        "employment in one of the two years"
    ]
    # A's productivity moving instead (B unchanged) is not fragile.
    steady = panel([("XYZ", "A", 2000, 1000, 1000), ("XYZ", "B", 2000, 5, 5),
                    ("XYZ", "A", 2005, 1000, 1045), ("XYZ", "B", 2005, 5, 5)])  # fmt: skip
    row = shift_share(steady).iloc[0]
    assert row["within_driver"] == "A" and not bool(row["fragile"])
