"""ILOSTAT data-explorer label layouts: labels back to ILOSTAT codes, names to ISO codes."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pedw.harmonise import country_codes

SEX = {"Sex: Total": "SEX_T", "Sex: Male": "SEX_M", "Sex: Female": "SEX_F", "Sex: Other": "SEX_O"}
CLASSIF_PATTERNS = [
    (re.compile(r"^Economic activity \(ISIC-Rev\.4\): ([A-U])\..*"), r"ECO_ISIC4_\1"),
    (re.compile(r"^Economic activity \(ISIC-Rev\.4\): Total$"), "ECO_ISIC4_TOTAL"),
    (re.compile(r"^Economic activity \(Aggregate\): Total$"), "ECO_AGGREGATE_TOTAL"),
    (re.compile(r"^Economic activity \(Aggregate\): Manufacturing$"), "ECO_AGGREGATE_MAN"),
    (re.compile(r"^Economic activity \(Broad sector\): Total$"), "ECO_SECTOR_TOTAL"),
    (re.compile(r"^Economic activity \(Broad sector\): Agriculture$"), "ECO_SECTOR_AGR"),
    (re.compile(r"^Economic activity \(Broad sector\): Industry$"), "ECO_SECTOR_IND"),
    (re.compile(r"^Economic activity \(Broad sector\): Services$"), "ECO_SECTOR_SER"),
    (re.compile(r"^Currency: U\.S\. dollars$"), "CUR_TYPE_USD"),
    (re.compile(r"^Currency: Local currency$"), "CUR_TYPE_LCU"),
    (re.compile(r"^Currency: (\d{4}) PPP \$$"), "CUR_TYPE_PPP"),
    (re.compile(r"^Age \(Youth, adults\): 15\+$"), "AGE_YTHADULT_YGE15"),
    (re.compile(r"^Age \(Youth, adults\): 15-24$"), "AGE_YTHADULT_Y15-24"),
]
OBS_STATUS = {"Break in series": "B", "Unreliable": "U", "Imputation": "I", "Imputed": "I",
              "Missing value": "M", "Projected": "P", "Estimate": "E"}  # fmt: skip
INDICATOR_IN_FILE_NAME = re.compile(r"^([A-Z0-9]+(?:_[A-Z0-9]+)+?)_[AQM](?:[-_.]|$)")


def is_label_layout(header: list[str]) -> bool:
    return any(column.endswith(".label") for column in header)


def indicator_from_file_name(path: Path) -> str | None:
    """ILOSTAT names downloads <INDICATOR>_<frequency>-...: EMP_NIFL_SEX_RT_A-2024.csv."""
    match = INDICATOR_IN_FILE_NAME.match(path.name)
    return match.group(1) if match else None


def classif_code(label: str | None) -> str | None:
    if label is None or label == "":
        return None
    for pattern, code in CLASSIF_PATTERNS:
        if pattern.match(label):
            return pattern.sub(code, label)
    return label  # unknown labels stay as published and are visible downstream


def codes_from_labels(frame: pd.DataFrame, path: Path, indicator: str | None) -> pd.DataFrame:
    """The code-layout columns of a label-layout frame (all text, as the raw stage keeps them)."""

    def column(name: str) -> pd.Series:
        if name in frame:
            return frame[name].astype(object).where(frame[name] != "", None)
        return pd.Series([None] * len(frame), dtype=object, index=frame.index)

    def either(published: pd.Series, fallback) -> pd.Series:
        """The published code, else the fallback (object dtype kept: no silent downcast)."""
        return published.where(published.notna(), fallback)

    names = column("ref_area.label")
    coded = pd.DataFrame(index=frame.index)
    mapped = names.map(country_codes(names.dropna().unique()))
    # A name that cannot be mapped is kept as published, so the contract quarantines it
    # with the name in its message instead of dropping it silently.
    coded["ref_area"] = either(column("ref_area"), either(mapped, names))
    coded["ref_area_label"] = names
    coded["indicator"] = either(
        column("indicator"), indicator or indicator_from_file_name(path) or ""
    )
    coded["source"] = either(column("source"), column("source.label"))
    coded["sex"] = either(column("sex"), column("sex.label").map(SEX))
    for classif in ("classif1", "classif2"):
        coded[classif] = either(column(classif), column(f"{classif}.label").map(classif_code))
    coded["time"] = column("time")
    coded["obs_value"] = column("obs_value")
    coded["obs_status"] = either(column("obs_status"), column("obs_status.label").map(OBS_STATUS))
    for note in ("note_classif", "note_indicator", "note_source"):
        coded[note] = either(column(note), column(f"{note}.label"))
    return coded
