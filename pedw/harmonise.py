"""Harmonise publishers' country names and labels to codes (ISO 3166 alpha-3 first)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pycountry
import yaml

from pedw.reference import ECONOMY_CODE_ALIASES, ECONOMY_NAMES, ILO_AGGREGATES

COUNTRY_NAMES_FILE = Path(__file__).parent / "staging" / "country_names.yml"


def _key(name: str) -> str:
    """A name as looked up: spaces collapsed, case folded, typographic apostrophes plain."""
    return " ".join(name.replace("\u2019", "'").split()).casefold()


@cache
def _name_overrides() -> dict[str, str]:
    mapping = yaml.safe_load(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))
    return {_key(name): code for name, code in mapping.items()}


# ISO 3166 writes "Korea, Republic of" (name) and "Plurinational State of Bolivia" (official
# name); the UN (M49) and ILOSTAT write the same names as "Micronesia (Federated States of)",
# "Republic of Korea", "United Republic of Tanzania", "Netherlands (Kingdom of the)".
QUALIFIED = re.compile(r"^(?P<country>[^,()]+) \([^()]+\)$")
TITLE_FIRST = re.compile(r"^(?P<title>.+ of(?: the)?) (?P<country>[^,()]+)$")


def name_forms(name: str) -> set[str]:
    """The ways publishers write one ISO 3166 name: as it is, "Country (Title of)", "Title
    of Country" and "Country, Title of", each derived from the other, and a name without
    its qualifier in brackets."""
    forms = {name}
    if name.count(", ") == 1:  # ISO's "Country, Title of" / "Virgin Islands, British"
        country, title = name.split(", ")
        forms |= {f"{country} ({title})", f"{title.removeprefix('The ')} {country}"}
        if title.startswith("The "):
            forms.add(f"{country} ({title.removeprefix('The ')})")
    qualified = QUALIFIED.match(name)
    if qualified:  # "Holy See (Vatican City State)", "Falkland Islands (Malvinas)"
        forms.add(qualified["country"])
    found = TITLE_FIRST.match(name)
    if found:  # "Title of the Country" (ISO official names)
        title, country = found["title"].removeprefix("The "), found["country"]
        forms |= {f"{country} ({title})", f"{country}, {title}"}
    return forms


@cache
def _derived_names() -> dict[str, str]:
    """Every form (name_forms) of every name ISO 3166 gives a current country (pycountry:
    name, official and common name) -> its alpha-3. A form two countries share is left out."""
    codes: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            for form in name_forms(getattr(country, attribute, None) or country.name):
                codes.setdefault(_key(form), set()).add(country.alpha_3)
    return {key: next(iter(found)) for key, found in codes.items() if len(found) == 1}


def country_code(name: str | None) -> str | None:
    """ISO alpha-3 (or ILO/WB economy code) for a published country name; None if unknown.

    The reviewed mapping file wins, then the name forms derived from ISO 3166 (pycountry),
    then pycountry's own lookup. There is no fuzzy matching: an unknown name stays unknown
    (the row is then quarantined with the name in its message).
    """
    if name is None or not name.strip():
        return None
    key = _key(name)
    if key in _name_overrides():
        return _name_overrides()[key]
    if key in _derived_names():
        return _derived_names()[key]
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
