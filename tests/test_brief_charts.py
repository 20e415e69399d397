"""The brief charts are drawn once and cropped to what was drawn, with PAD of white around it:
about the picture matplotlib's savefig(bbox_inches="tight") gives (that box also holds the
blank leading of the text lines), whatever the length of the names on it."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pedw.briefs import charts


def _series(country_name_length: int) -> tuple[pd.DataFrame, str]:
    years = list(range(2000, 2024))
    frame = pd.DataFrame(
        {
            "year": years,
            "country": np.linspace(10_000, 15_000, len(years)),
            "region_median": np.linspace(9_000, 16_000, len(years)),
            "income_group_median": np.linspace(8_000, 12_000, len(years)),
        }
    )
    return frame, ("Saint Vincent and the Grenadines " * 4)[:country_name_length]


@pytest.mark.parametrize("length", [5, 32, 90])
def test_a_chart_is_the_picture_savefig_tight_gives(length, monkeypatch):
    frame, name = _series(length)
    drawn = []
    crop = charts._png
    monkeypatch.setattr(charts, "_png", lambda figure: drawn.append(figure) or crop(figure))
    chart = charts.productivity_chart(frame, name, "2017 PPP $ per worker")
    picture = Image.open(io.BytesIO(chart.png))
    assert picture.mode == "RGB" and picture.info["dpi"] == pytest.approx((110, 110), abs=0.01)
    # Cropped at the ink: PAD of white on every side, and something drawn just inside it.
    pixels = np.asarray(picture)
    pad = round(charts.PAD * charts.DPI)
    ink = (pixels != 255).any(axis=2)
    assert not ink[:pad].any() and not ink[-pad:].any()
    assert not ink[:, :pad].any() and not ink[:, -pad:].any()
    assert ink[pad].any() and ink[-pad - 1].any() and ink[:, pad].any() and ink[:, -pad - 1].any()
    # About the figure savefig's tight box gives (a few pixels of text leading apart).
    tight = io.BytesIO()
    drawn[0].savefig(tight, format="png", dpi=110, bbox_inches="tight")
    expected = Image.open(tight)
    assert abs(picture.width - expected.width) <= 6 and abs(picture.height - expected.height) <= 6


def test_a_chart_larger_than_its_canvas_is_drawn_whole():
    """A title or label beyond the canvas widens the picture, as savefig's tight box does."""
    figure, axis = charts._axes(7, 3.6)
    axis.set_title("a title " * 30, loc="left")
    picture = Image.open(io.BytesIO(charts._png(figure)))
    assert picture.width > (7 + 2 * charts.ROOM) * charts.DPI
