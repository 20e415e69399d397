"""What a published value measures beyond its indicator code: the publisher's qualifiers.

ILOSTAT publishes one indicator code for series that measure different things: its "average"
monthly earnings (EAR_4MTH) are a median for some economies ("Central tendency measure:
Median") and carry "Value type: Real values" for others, said only in the free-text notes of
the label layouts (`note_indicator`, `note_classif`, `note_source`). A median is not a mean,
and a real value is not a nominal one: each qualifier is part of the series' identity
(`variant`), so marts.series_choice never mixes two in one trend and the briefs never compare
one with the other. The standard series (a mean, in the unit its definition states) has the
empty variant.

Only the label layouts' words are read: the bulk files' note codes (R1:3513_S3:8) need
ILOSTAT's note dictionaries, which no source here carries.
"""

from __future__ import annotations

# (qualifier, the pattern of the publisher's note that states it), in the order they are
# written in a variant: "median, real values". Case-insensitive regular expressions (DuckDB).
QUALIFIERS = [
    ("median", r"central tendency measure:\s*median"),
    ("real values", r"value type:\s*real values"),
    ("constant prices", r"\bconstant prices\b"),
]


def variant_sql(*notes: str) -> str:
    """SQL: the variant the notes in columns `notes` state ('' when none), e.g. 'median' or
    'median, real values'."""
    text = " || ' | ' || ".join(f"coalesce({note}, '')" for note in notes) or "''"
    parts = ", ".join(
        f"CASE WHEN regexp_matches({text}, '{pattern}', 'i') THEN '{name}' END"
        for name, pattern in QUALIFIERS
    )
    return f"concat_ws(', ', {parts})"


def measure_word(variant: str | None) -> str:
    """The central tendency a variant states: "Median" or "Mean"."""
    return "Median" if "median" in (variant or "") else "Mean"


def variant_label(label: str, variant: str | None) -> str:
    """A reader's label for a series as published: "Mean monthly earnings" of a median
    series reads "Median monthly earnings"; a value the publisher notes as real values or at
    constant prices says so ("..., real values (publisher's note)")."""
    if not variant:
        return label
    if label.startswith("Mean ") and "median" in variant:
        label = "Median " + label.removeprefix("Mean ")
    prices = [q for q in ("real values", "constant prices") if q in variant]
    if prices and ", real" not in label:
        label += f", {' and '.join(prices)} (publisher's note)"
    return label
