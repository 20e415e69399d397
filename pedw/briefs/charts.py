"""The brief's charts: drawn from the values the brief prints (rounded as shown), in a
colour-blind-safe palette (Okabe-Ito) with distinct markers and line styles, each with alt
text that says what it shows and the data behind it as a CSV frame.

Charts are PNG (raster): the HTML and the PDF carry the picture, not coordinates with more
digits than the tables beside it.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
PALETTE = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
           "sky": "#56B4E9", "purple": "#CC79A7", "grey": "#7F7F7F", "black": "#000000"}  # fmt: skip
SERIES_STYLE = {
    "country": (PALETTE["blue"], "-", "o"),
    "region_median": (PALETTE["orange"], "--", "s"),
    "income_group_median": (PALETTE["grey"], ":", "^"),
    "micro": (PALETTE["vermillion"], "-", "o"),
    "small": (PALETTE["orange"], "--", "s"),
    "medium": (PALETTE["sky"], ":", "D"),
}
SHIFT_SHARE_PARTS = [
    ("within_sector_growth_pct", "Within sectors", PALETTE["blue"], ""),
    ("static_structural_change_growth_pct", "Static structural change", PALETTE["orange"], "//"),
    ("dynamic_reallocation_growth_pct", "Dynamic reallocation", PALETTE["green"], ".."),
    ("entry_exit_growth_pct", "Sectors entering or leaving", PALETTE["grey"], "xx"),
]
matplotlib.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False,
                     "axes.spines.right": False})  # fmt: skip


@dataclass(frozen=True)
class Chart:
    """One chart of a brief: the picture, what it shows in words, and its data."""

    name: str
    png: bytes
    alt: str
    data: pd.DataFrame


DPI = 110
ROOM = 1.0  # inches of canvas on every side of a chart's width x height, for labels and legend
PAD = 0.1  # inches kept around what was drawn (matplotlib's savefig pad)


def _axes(width: float, height: float):
    """A figure and its axes, outside pyplot: no figure manager to create and close, no
    pyplot state (only `_reused_axes` keeps one figure of a worker for its next brief).

    The axes sit where they would on a `width` x `height` figure, on a canvas `ROOM` larger on
    every side: one draw then holds the titles, labels and the legend below the plot, and
    `_png` crops it to them (savefig's bbox_inches="tight" draws twice for the same picture)."""
    figure = Figure(figsize=(width + 2 * ROOM, height + 2 * ROOM), dpi=DPI)
    full_width, full_height = width + 2 * ROOM, height + 2 * ROOM
    figure.subplots_adjust(
        left=(ROOM + 0.125 * width) / full_width, right=(ROOM + 0.9 * width) / full_width,
        bottom=(ROOM + 0.11 * height) / full_height, top=(ROOM + 0.88 * height) / full_height,
    )  # fmt: skip
    return figure, figure.subplots()


# The productivity chart's figure (every brief has one), kept by a worker process from one
# brief to the next: its axes, ticks and the text metrics of its labels are made once (a new
# figure spent a third of the chart's time making them). A worker draws one chart at a time.
_REUSED: dict[str, tuple[Figure, object]] = {}


def _reused_axes(name: str, width: float, height: float):
    """`_axes(width, height)` the first time chart `name` is drawn in this process, after
    that the same figure and axes emptied of the lines and legend of the last brief (the
    data limits forgotten with them; title, labels and limits are set again by each)."""
    if name not in _REUSED:
        _REUSED[name] = _axes(width, height)
        return _REUSED[name]
    figure, axis = _REUSED[name]
    for line in list(axis.lines):
        line.remove()
    if axis.get_legend() is not None:
        axis.get_legend().remove()
    axis.relim()
    return figure, axis


def _png(figure: Figure) -> bytes:
    """The picture drawn once and cropped to what was drawn (labels and the legend below the
    plot fit whatever a country's name), with `PAD` around it.

    The crop is read from the pixels (the box of every pixel that is not the white
    background), not from the artists' extents: asking matplotlib for those lays out every
    tick and label again, a fifth of a chart's time."""
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else None
    canvas = canvas or FigureCanvasAgg(figure)  # a reused figure keeps its canvas and renderer
    canvas.draw()
    cropped = _at_ink(np.asarray(canvas.buffer_rgba()))
    if cropped is None:
        for name in [n for n, (f, _) in _REUSED.items() if f is figure]:
            del _REUSED[name]  # not reused after savefig's own draws
        # Larger than the canvas (a very long name): savefig's two draws widen the picture.
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=PAD)
        whole = np.asarray(Image.open(buffer).convert("RGBA"))
        cropped = _at_ink(whole)
        cropped = whole if cropped is None else cropped
    return _rgb_png(cropped)


def _at_ink(pixels: np.ndarray) -> np.ndarray | None:
    """`pixels` (RGBA rows) cut to the box of everything not opaque white, with `PAD` around
    it; None when that box with its pad does not fit (something drawn beyond the canvas)."""
    ink = pixels.view(np.uint32)[:, :, 0] != 0xFFFFFFFF
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return pixels
    pad = round(PAD * DPI)
    top, bottom = rows[0] - pad, rows[-1] + 1 + pad
    left, right = columns[0] - pad, columns[-1] + 1 + pad
    if top < 0 or left < 0 or bottom > pixels.shape[0] or right > pixels.shape[1]:
        return None
    return pixels[top:bottom, left:right]


def _rgb_png(pixels: np.ndarray) -> bytes:
    """An RGB PNG of `pixels` (RGBA rows; the figure is opaque, an alpha channel would only
    add bytes), written here rather than by Pillow: rows unfiltered and zlib level 1 give a
    file about 6% smaller than Pillow's adaptive filters at level 1, in 40% of its time."""
    height, width = pixels.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter 0, then RGB
    rows[:, 1:].reshape(height, width, 3)[:] = pixels[:, :, :3]
    per_metre = round(DPI / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _legend_below(axis, columns: int, below: float = -0.16) -> None:
    """The legend under the plot and its x labels (`below`: axes fraction), never over them."""
    axis.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, below),
                ncol=columns)  # fmt: skip


def productivity_chart(series: pd.DataFrame, country_name: str, unit: str) -> Chart:
    """Output per worker against the regional and income-group medians, as printed (whole units)."""
    labels = {
        "country": country_name,
        "region_median": "Regional median",
        "income_group_median": "Income-group median",
    }
    data = series[["year", *[c for c in labels if c in series]]].copy()
    for column in labels:
        if column in data:
            data[column] = data[column].round(0)
    figure, axis = _reused_axes("productivity", 7, 3.6)
    drawn = 0
    for column, label in labels.items():
        if column in data and data[column].notna().any():
            colour, style, marker = SERIES_STYLE[column]
            axis.plot(data["year"], data[column] / 1000, label=label, color=colour,
                      linestyle=style, marker=marker, markersize=3.5, markevery=max(len(data) // 8, 1),
                      linewidth=2.4 if column == "country" else 1.4)  # fmt: skip
            drawn += 1
    axis.set_title(f"Output per worker, {country_name} and peers", loc="left", fontsize=10)
    axis.set_ylabel(f"Output per worker\n(thousands, {unit})")
    axis.set_xlabel("Year")
    axis.grid(alpha=0.3)
    _legend_below(axis, drawn)
    known = data.dropna(subset=["country"])
    first, last = known.iloc[0], known.iloc[-1]
    alt = (
        f"Line chart of output per worker in {country_name} ({unit}), {int(first['year'])} to "
        f"{int(last['year'])}: from {first['country']:,.0f} to {last['country']:,.0f}"
        f" ({'up' if last['country'] >= first['country'] else 'down'}"
        f" {abs(100 * (last['country'] / first['country'] - 1)):.0f}%)"
    )
    if "region_median" in known and not math.isnan(last.get("region_median", math.nan)):
        alt += f"; the regional median was {last['region_median']:,.0f} in {int(last['year'])}"
    return Chart("productivity", _png(figure), alt + ".", data)


def sme_gap_chart(cells: pd.DataFrame) -> Chart:
    """Published (not suppressed) gaps in log points, rounded to one decimal as printed."""
    shown = cells[~cells["suppressed"]]
    data = pd.DataFrame(
        {
            "year": shown["year"],
            "size_class": shown["size_class"],
            "gap_log_points": (100 * shown["productivity_gap"]).round(1),
            "ci_low": (
                100 * (shown["productivity_gap"] - 1.96 * shown["productivity_gap_se"])
            ).round(1),
            "ci_high": (
                100 * (shown["productivity_gap"] + 1.96 * shown["productivity_gap_se"])
            ).round(1),
        }
    ).reset_index(drop=True)
    figure, axis = _axes(7, 3.6)
    drawn = []
    for size in ("micro", "small", "medium"):
        rows = data[data["size_class"] == size]
        if len(rows):
            colour, style, marker = SERIES_STYLE[size]
            axis.errorbar(rows["year"], rows["gap_log_points"],
                          yerr=[rows["gap_log_points"] - rows["ci_low"],
                                rows["ci_high"] - rows["gap_log_points"]],
                          label=f"{size} vs large", color=colour, linestyle=style, marker=marker,
                          capsize=3)  # fmt: skip
            drawn.append(size)
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_title("Productivity gap of smaller firms to large firms", loc="left", fontsize=10)
    axis.set_ylabel("Productivity gap to large firms\n(log points; below 0: behind)")
    axis.set_xlabel("Year")
    axis.grid(alpha=0.3)
    _legend_below(axis, max(len(drawn), 1))
    latest = data[data["year"] == data["year"].max()] if len(data) else data
    described = ", ".join(f"{r.size_class} {r.gap_log_points:+.1f}" for r in latest.itertuples())
    alt = (
        f"Chart of the productivity gap of micro, small and medium firms to large firms, in log "
        f"points with 95% intervals; in {int(data['year'].max()) if len(data) else '-'}: "
        f"{described or 'no published cell'} (negative: behind large firms)."
    )
    return Chart("sme_gap", _png(figure), alt, data)


def shift_share_chart(periods: pd.DataFrame) -> Chart:
    """The successive periods only: the whole-period total is a table row, not a bar on the
    same axis (it would dwarf the periods)."""
    columns = [c for c, *_ in SHIFT_SHARE_PARTS]
    data = periods[["start_year", "end_year", *columns, "total_change_growth_pct"]].copy()
    data[[*columns, "total_change_growth_pct"]] = data[[*columns, "total_change_growth_pct"]].round(
        1
    )
    figure, _ = shift_share_figure(data)
    best = data.loc[data["total_change_growth_pct"].idxmax()]
    worst = data.loc[data["total_change_growth_pct"].idxmin()]
    alt = (
        f"Stacked bar chart of productivity growth in {len(data)} periods from "
        f"{int(data['start_year'].min())} to {int(data['end_year'].max())}, split into growth "
        f"within sectors, structural change and sector entry or exit; the strongest period was "
        f"{int(best['start_year'])}-{int(best['end_year'])} ({best['total_change_growth_pct']:+.1f}%),"
        f" the weakest {int(worst['start_year'])}-{int(worst['end_year'])} "
        f"({worst['total_change_growth_pct']:+.1f}%)."
    )
    return Chart("shift_share", _png(figure), alt, data)


def shift_share_figure(data: pd.DataFrame):
    """The stacked bars of the shift-share chart (figure, axes), before it is drawn to PNG."""
    labels = [f"{s}-{e}" for s, e in zip(data["start_year"], data["end_year"], strict=True)]
    figure, axis = _axes(7, 3.8)
    positive = [0.0] * len(data)
    negative = [0.0] * len(data)
    for column, label, colour, hatch in SHIFT_SHARE_PARTS:
        values = data[column].fillna(0).tolist()
        bottoms = [p if v >= 0 else n for v, p, n in zip(values, positive, negative, strict=True)]
        axis.bar(labels, values, bottom=bottoms, label=label, color=colour, hatch=hatch,
                 edgecolor="white", linewidth=0.5)  # fmt: skip
        positive = [p + max(v, 0) for v, p in zip(values, positive, strict=True)]
        negative = [n + min(v, 0) for v, n in zip(values, negative, strict=True)]
    axis.plot(labels, data["total_change_growth_pct"], "kD", label="Aggregate growth")
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_title("Sources of productivity growth by period", loc="left", fontsize=10)
    axis.set_ylabel("Contribution to productivity\ngrowth over the period (%)")
    # Limits from the stacks themselves, with room above the tallest and below the deepest.
    totals = data["total_change_growth_pct"].fillna(0).tolist()
    top, bottom = max([*positive, *totals, 0.0]), min([*negative, *totals, 0.0])
    pad = 0.1 * max(top - bottom, 1.0)
    axis.set_ylim(bottom - pad, top + pad)
    axis.tick_params(axis="x", labelsize=8)  # horizontal labels: nothing runs into the legend
    _legend_below(axis, 3, below=-0.12)
    return figure, axis
