"""Harmonise publishers' country names and labels to codes (ISO 3166 alpha-3 first)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pycountry
import yaml

from pedw.reference import ECONOMY_CODE_ALIASES, ECONOMY_NAMES, ILO_AGGREGATES

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


def economy_code_sql(column: str) -> str:
    """SQL for `column` with each publisher alias replaced by the code pedw uses."""
    cases = " ".join(
        f"WHEN '{alias}' THEN '{code}'" for alias, code in ECONOMY_CODE_ALIASES.items()
    )
    return f"CASE {column} {cases} ELSE {column} END"


def economy_names() -> dict[str, str]:
    """Code -> English name of every economy pycountry knows (current, then historic ones
    such as the Netherlands Antilles, ANT) and of the codes it does not (Kosovo)."""
    names = {c.alpha_3: c.name for c in pycountry.historic_countries if len(c.alpha_3) == 3}
    names.update({c.alpha_3: c.name for c in pycountry.countries})
    return {**names, **ECONOMY_NAMES}


@cache
def _aggregate_labels() -> dict[str, str]:
    return {label.casefold(): code for code, label in ILO_AGGREGATES.items() if label}


def ilo_aggregate_code(label: str | None) -> str | None:
    """The ILOSTAT aggregate code of a published aggregate label ("World" -> X01), or None."""
    if label is None:
        return None
    return _aggregate_labels().get(" ".join(label.split()).casefold())


def country_codes(names: Iterable[str | None]) -> dict[str | None, str | None]:
    """Map each distinct name once (vectorised callers look results up by name)."""
    return {name: country_code(name) for name in set(names)}
