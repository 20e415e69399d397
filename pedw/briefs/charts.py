"""The brief's charts (matplotlib, PNG bytes): productivity against peers, SME gap, structural change."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pandas as pd

COLOURS = {"country": "#1f4e79", "region_median": "#e07b39", "income_group_median": "#7f7f7f",
           "micro": "#c00000", "small": "#e07b39", "medium": "#2e75b6"}  # fmt: skip


def png(draw, *args) -> bytes:
    """Draw a chart on a new figure and return it as PNG bytes."""
    figure, axis = plt.subplots(figsize=(7, 3.4))
    draw(axis, *args)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def productivity_chart(axis, series: pd.DataFrame, country_name: str) -> None:
    labels = {
        "country": country_name,
        "region_median": "Regional median",
        "income_group_median": "Income-group median",
    }
    for column, label in labels.items():
        if column in series and series[column].notna().any():
            axis.plot(
                series["year"],
                series[column] / 1000,
                label=label,
                color=COLOURS[column],
                linewidth=2.4 if column == "country" else 1.4,
                linestyle="-" if column == "country" else "--",
            )
    axis.set_ylabel("Output per worker (thousands)")
    axis.set_title("Labour productivity against peers")
    axis.grid(alpha=0.3)
    axis.legend(frameon=False, fontsize=8)


def sme_gap_chart(axis, cells: pd.DataFrame) -> None:
    for size in ("micro", "small", "medium"):
        rows = cells[(cells["size_class"] == size) & ~cells["suppressed"]]
        if len(rows):
            axis.errorbar(
                rows["year"],
                100 * rows["productivity_gap"],
                yerr=196 * rows["productivity_gap_se"],
                label=f"{size} vs large",
                color=COLOURS[size],
                marker="o",
                capsize=3,
            )
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_ylabel("Gap in log productivity (x100)")
    axis.set_title("SME productivity gap against large firms (95% intervals)")
    axis.grid(alpha=0.3)
    axis.legend(frameon=False, fontsize=8)


def shift_share_chart(axis, periods: pd.DataFrame) -> None:
    labels = [f"{s}-{e}" for s, e in zip(periods["start_year"], periods["end_year"], strict=True)]
    parts = [
        ("within_sector_growth_pct", "Within sectors", "#1f4e79"),
        ("static_structural_change_growth_pct", "Static structural change", "#e07b39"),
        ("dynamic_reallocation_growth_pct", "Dynamic reallocation", "#70ad47"),
        ("entry_exit_growth_pct", "Sectors entering or leaving", "#7f7f7f"),
    ]
    positive = [0.0] * len(periods)
    negative = [0.0] * len(periods)
    for column, label, colour in parts:
        values = periods[column].tolist()
        bottoms = [p if v >= 0 else n for v, p, n in zip(values, positive, negative, strict=True)]
        axis.bar(labels, values, bottom=bottoms, label=label, color=colour)
        positive = [p + max(v, 0) for v, p in zip(values, positive, strict=True)]
        negative = [n + min(v, 0) for v, n in zip(values, negative, strict=True)]
    axis.plot(labels, periods["total_change_growth_pct"], "kD", label="Aggregate growth")
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_ylabel("Productivity growth (%)")
    axis.set_title("Where productivity growth came from")
    axis.tick_params(axis="x", rotation=45)
    axis.legend(frameon=False, fontsize=8)
