"""ILOSTAT CSV downloads: bulk code layout and data-explorer label layouts; plain, gzip or zip."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pedw.source import Source
from pedw.sources.ilostat_labels import codes_from_labels, is_label_layout
from pedw.sources.raw_table import raw_arrow, require_columns, with_release
from pedw.sources.text_table import TextTable, read_text_table

RAW_COLUMNS = ("ref_area", "indicator", "source", "sex", "classif1", "classif2", "time",
               "obs_value", "obs_status", "note_classif", "note_indicator", "note_source")  # fmt: skip
REQUIRED = ("ref_area", "indicator", "time", "obs_value")
LABEL_REQUIRED = ("ref_area.label", "time", "obs_value")
KNOWN_EXTRA = ("best_source",)
LABEL_COLUMNS = ("ref_area.label", "source.label", "indicator.label", "sex.label", "classif1.label",
                 "classif2.label", "obs_status.label", "note_classif.label", "note_indicator.label",
                 "note_source.label")  # fmt: skip


# ILOSTAT names a download after its indicator and the day it was made:
# GDP_211P_NOC_NB_A-full-2023-10-18.csv, EMP_NIFL_SEX_RT_A-20240726T0000.csv.
DOWNLOAD_DATE = re.compile(r"[-_]((?:19|20)\d\d)-?([01]\d)-?([0-3]\d)(?:T\d{4,6})?(?:[-_.]|$)")


# The edition an indicator label states: "Output per worker (...) -- ILO modelled
# estimates, Nov. 2022".
EDITION = re.compile(r"\bILO modelled estimates,?\s+([A-Z][a-z]{2,8}\.?\s+(?:19|20)\d\d)\b", re.I)


def download_date(path: Path) -> str | None:
    """The download date an ILOSTAT file name carries, as YYYY-MM-DD."""
    found = DOWNLOAD_DATE.search(path.name)
    return f"{found[1]}-{found[2]}-{found[3]} (download date)" if found else None


def stated_edition(labels: list[str]) -> str | None:
    """The one edition of the ILO modelled estimates the file's indicator labels state
    ("ILO modelled estimates, Nov. 2022"); None when they state none or several."""
    editions = {" ".join(m[1].split()) for label in labels if (m := EDITION.search(label or ""))}
    return f"ILO modelled estimates, {editions.pop()}" if len(editions) == 1 else None


def file_release(path: Path, labels: list[str]) -> str | None:
    """What an ILOSTAT file says of its release: the edition its labels state, with the
    download date of its name; else that date alone."""
    downloaded, edition = DOWNLOAD_DATE.search(path.name), stated_edition(labels)
    if edition and downloaded:
        return f"{edition} (downloaded {downloaded[1]}-{downloaded[2]}-{downloaded[3]})"
    return edition or download_date(path)


def load_ilostat_csv(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT file as raw observations, with the release it states: the edition of its
    indicator labels, the download date of its name."""
    table = _load_ilostat_csv(source, path)
    labels = (table.schema.metadata or {}).get(b"pedw_indicator_labels", b"")
    release = file_release(path, labels.decode().split("\n") if labels else [])
    notes = {k: v for k, v in (table.schema.metadata or {}).items()
             if k != b"pedw_indicator_labels"}  # fmt: skip
    return with_release(table.replace_schema_metadata(notes or None), release)


def _indicator_labels(text: TextTable) -> bytes:
    """The distinct indicator labels of a label or full layout download (none in bulk files)."""
    if "indicator.label" not in text.table.column_names:
        return b""
    labels = pc.unique(text.table.column("indicator.label")).drop_null().to_pylist()
    return "\n".join(str(label) for label in labels[:50]).encode()


def _load_ilostat_csv(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT file as raw observations (one row per published row, codes as published).

    Label layouts (no codes) are translated back to codes: English country names to ISO
    alpha-3 through pedw/staging/country_names.yml and pycountry, "Sex: Total" to SEX_T, and
    so on; the published name is kept in `ref_area_label`. The indicator comes from the
    file name (ILOSTAT names downloads after it) unless the catalog gives `options.indicator`.
    """
    text = read_text_table(path, **source.options.get("read", {}))
    header = text.table.column_names
    labels = _indicator_labels(text)
    if is_label_layout(header) and "ref_area" not in header:
        require_columns(text, LABEL_REQUIRED, "an ILOSTAT label-layout download")
        coded = codes_from_labels(text.table.to_pandas(), path, source.options.get("indicator"))
        text = TextTable(
            path=text.path,
            table=pa.Table.from_pandas(coded, preserve_index=False).cast(
                pa.schema([(c, pa.string()) for c in coded.columns])
            ),
            lines=text.lines,
            malformed=text.malformed,
            encoding=text.encoding,
            delimiter=text.delimiter,
        )
        mapping = {name: name for name in RAW_COLUMNS} | {"ref_area_label": "ref_area_label"}
        return _with_labels(raw_arrow(text, source, mapping), labels)

    require_columns(text, REQUIRED, "an ILOSTAT bulk file")
    present = set(header)
    mapping = {name: name if name in present else None for name in RAW_COLUMNS}
    # The "full" explorer layout carries codes and labels: keep the country label too.
    if "ref_area.label" in present:
        mapping["ref_area_label"] = "ref_area.label"
    ignored = {
        f"_{c}": c for c in (*KNOWN_EXTRA, *LABEL_COLUMNS) if c in present and c != "ref_area.label"
    }
    table = raw_arrow(text, source, mapping | ignored, warn_extra=True)
    return _with_labels(table.drop_columns(list(ignored)), labels)


def _with_labels(table: pa.Table, labels: bytes) -> pa.Table:
    if not labels:
        return table
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"pedw_indicator_labels": labels}
    )
