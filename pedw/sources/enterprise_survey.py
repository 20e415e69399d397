"""World Bank Enterprise Survey firm-level files (Stata .dta, standard variable names, value labels).

One row per establishment and survey. The survey's standard variables map to the columns
of the enterprise_firms contract (each can be renamed with `options.variables`):

| contract column | WBES variable(s) | how |
|---|---|---|
| firm_id | idstd | as published |
| country, year | country ("Kenya2018") | name -> ISO alpha-3 (reviewed name map + pycountry); year from the digits, or a `year` variable |
| sector | d1a2 (ISIC Rev.3.1, 4 digits) | division -> ISIC Rev.4 section (main section of the division) |
| employees | l1 | permanent full-time workers |
| sales | d2 | local currency of the survey year (not converted: see docs/sources.md) |
| value_added | d2 - n2e | sales minus raw materials and intermediate goods |
| wage_bill | n2a | total cost of labour |
| training | l10 | 1 Yes -> 1, 2 No -> 0 |
| formal | b6a | 1 Yes -> 1, 2 No -> 0 (registered when it started) |
| exporter | d3b + d3c | 1 when direct plus indirect exports are at least 10% of sales |
| sampling_weight | wmedian (`options.weight`: median, strict or weak) | as published; missing when the file has no weights |
| stratum | strata | as published |
| psu | - | empty: WBES draws establishments one by one within strata |

The WBES provides three weights, which differ in how establishments of unknown eligibility
are counted: strict (as ineligible), weak (as eligible) and median (by the eligibility rate
observed in the stratum). The survey's documentation recommends the median weights for most
estimates; `options: {weight: strict}` (or weak) chooses another.

Negative codes that carry a value label (-9 "Don't know", -8 "Refused", -7 "Does not
apply", ...) are non-responses, never numbers: they become missing, and a missing required
value sends the row to quarantine with its reason. `source_line` is the Stata observation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pedw.harmonise import country_codes
from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import frame_as_text, raw_arrow

VARIABLES = {"firm_id": "idstd", "country": "country", "year": "year", "isic": "d1a2",
             "employees": "l1", "sales": "d2", "intermediates": "n2e", "wage_bill": "n2a",
             "training": "l10", "formal": "b6a", "exports_indirect": "d3b",
             "exports_direct": "d3c", "weight": "wmedian", "strata": "strata"}  # fmt: skip
WEIGHTS = {"median": "wmedian", "strict": "wstrict", "weak": "wweak"}
REQUIRED = ("firm_id", "country", "employees")  # the key and the size; measures optional
YES, NO = 1, 2

# ISIC Rev.3.1 division (2 digits) -> the ISIC Rev.4 section holding most of it.
REV31_TO_REV4 = {
    **dict.fromkeys(range(1, 6), "A"), **dict.fromkeys(range(10, 15), "B"),
    **dict.fromkeys(range(15, 38), "C"), 40: "D", 41: "E", 45: "F",
    **dict.fromkeys(range(50, 53), "G"), 55: "I", **dict.fromkeys(range(60, 64), "H"),
    64: "J", **dict.fromkeys(range(65, 68), "K"), 70: "L", 71: "N", 72: "J", 73: "M",
    74: "N", 75: "O", 80: "P", 85: "Q", 90: "E", 91: "S", 92: "R", 93: "S",
    **dict.fromkeys(range(95, 98), "T"), 99: "U",
}  # fmt: skip


def _read(path: Path) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The data as stored (codes, not labels) and each variable's value labels."""
    if not path.exists():
        raise SourceFileError(path, "file not found")
    try:
        with pd.io.stata.StataReader(path) as reader:
            frame = reader.read(convert_categoricals=False)
            label_sets = reader.value_labels()
            # Stata attaches a label set to a variable by name; pandas keeps that list
            # privately, and WBES names each set after its variable.
            attached = getattr(reader, "_lbllist", list(frame.columns))
    except (ValueError, OSError) as error:
        raise SourceFileError(path, f"not a readable Stata .dta file ({error})") from None
    labels = {
        column: label_sets[name]
        for column, name in zip(frame.columns, attached, strict=False)
        if name in label_sets
    }
    return frame, labels


def _answers(frame: pd.DataFrame, column: str, labels: dict) -> tuple[pd.Series, pd.Series]:
    """Numeric answers with non-responses as missing, and the non-responses as text.

    A non-response is a negative code (WBES: -9 Don't know, -8 Refused, -7 Does not
    apply, ...), described by its value label when the file has one.
    """
    if column not in frame:
        empty = pd.Series(np.nan, index=frame.index)
        return empty, empty.astype(object)
    values = pd.to_numeric(frame[column], errors="coerce")
    negative = values < 0
    described = values.where(negative).map(labels.get(column, {})).fillna("non-response")
    text = (described + " (" + values.astype("Int64").astype(str) + ")").where(negative)
    return values.mask(negative), text


def _yes_no(values: pd.Series) -> pd.Series:
    return values.map({YES: 1, NO: 0})


def load_enterprise_survey(source: Source, path: Path) -> pa.Table:
    """One WBES firm-level .dta as raw enterprise rows (the enterprise_firms contract's columns)."""
    frame, labels = _read(path)
    odd = sorted(set(source.columns) - set(VARIABLES)) + sorted(
        set(source.constants) - {"country", "year"}
    )
    if odd:
        raise SourceFileError(
            path,
            f"the catalog's columns:/constants: name {odd}, which a WBES file does not have "
            f"that way; columns: can rename {', '.join(VARIABLES)}; constants: can set "
            "country and year",
        )
    choice = source.options.get("weight", "median")
    if choice not in WEIGHTS:
        raise SourceFileError(
            path, f"options.weight is {choice!r}: one of {', '.join(WEIGHTS)} (WBES weights)"
        )
    names = VARIABLES | {"weight": WEIGHTS[choice]} | source.options.get("variables", {})
    names |= source.columns
    if "country" in source.constants:  # a single-country file without a country variable
        frame = frame.assign(_pedw_country=source.constants["country"])
        names["country"] = "_pedw_country"
    missing = [names[k] for k in REQUIRED if names[k] not in frame]
    if missing:
        raise SourceFileError(
            path,
            f"not a WBES firm-level file: variable(s) {missing} missing "
            f"(rename them with options.variables)",
            line=1,
            column=missing[0],
        )
    answers = {key: _answers(frame, name, labels) for key, name in names.items()}
    value = {key: numbers for key, (numbers, _) in answers.items()}
    survey = frame[names["country"]]
    if names["country"] in labels:  # a labelled numeric country code
        survey = survey.map(labels[names["country"]])
    survey = survey.astype(str).str.strip()
    name_part = survey.str.replace(r"\s*\d{4}$", "", regex=True)
    codes = country_codes(name_part.unique())
    year = survey.str.extract(r"(\d{4})$")[0]
    if names["year"] in frame:
        year = value["year"].astype("Int64").astype(str).replace("<NA>", None)
    if "year" in source.constants:
        year = pd.Series(source.constants["year"], index=frame.index)
    division = (value["isic"] // 100).where(value["isic"] >= 100, value["isic"])
    exports = value["exports_indirect"].fillna(0) + value["exports_direct"].fillna(0)
    exports = exports.where(value["exports_indirect"].notna() | value["exports_direct"].notna())
    firms = pd.DataFrame(
        {
            "firm_id": frame[names["firm_id"]].astype(str).str.replace(r"\.0$", "", regex=True),
            # An unknown name is kept as published: the contract quarantines it, named.
            "country": name_part.map(codes).fillna(name_part),
            "sector": division.map(REV31_TO_REV4),
            "year": year,
            "employees": value["employees"],
            "sales": value["sales"],
            "value_added": value["sales"] - value["intermediates"],
            "wage_bill": value["wage_bill"],
            "training": _yes_no(value["training"]),
            "formal": _yes_no(value["formal"]),
            "exporter": (exports >= 10).astype("Int64").where(exports.notna()),
            "sampling_weight": value["weight"],
            "stratum": frame[names["strata"]].astype(str) if names["strata"] in frame else None,
        }
    )
    text = frame_as_text(firms, path, 1)
    table = text.table
    for key in ("employees", "sales"):  # a required answer not given: say which code it was
        given = pc.coalesce(table[key], pa.array(answers[key][1], pa.string(), from_pandas=True))
        table = table.set_column(table.schema.get_field_index(key), key, given)
    text = replace(text, table=table)
    return raw_arrow(text, source, {c: c for c in firms.columns})
