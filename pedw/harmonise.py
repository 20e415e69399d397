"""Harmonise publishers' country names and labels to codes (ISO 3166 alpha-3 first)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pycountry
import yaml

COUNTRY_NAMES_FILE = Path(__file__).parent / "staging" / "country_names.yml"


@cache
def _name_overrides() -> dict[str, str]:
    mapping = yaml.safe_load(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))
    return {name.casefold(): code for name, code in mapping.items()}


def country_code(name: str | None) -> str | None:
    """ISO alpha-3 (or ILO/WB economy code) for a published country name; None if unknown.

    The reviewed mapping file wins over pycountry, and there is no fuzzy matching: an
    unknown name stays unknown (the row is then quarantined with the name in its message).
    """
    if name is None or not name.strip():
        return None
    key = " ".join(name.split()).casefold()
    if key in _name_overrides():
        return _name_overrides()[key]
    try:
        return pycountry.countries.lookup(name.strip()).alpha_3
    except LookupError:
        return None


def country_codes(names: Iterable[str | None]) -> dict[str | None, str | None]:
    """Map each distinct name once (vectorised callers look results up by name)."""
    return {name: country_code(name) for name in set(names)}
