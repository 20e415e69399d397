"""ILOSTAT CSV downloads: bulk code layout and data-explorer label layouts; plain, gzip or zip."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

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


def download_date(path: Path) -> str | None:
    """The download date an ILOSTAT file name carries, as YYYY-MM-DD."""
    found = DOWNLOAD_DATE.search(path.name)
    return f"{found[1]}-{found[2]}-{found[3]} (download date)" if found else None


def load_ilostat_csv(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT file as raw observations, with the download date of its name as release."""
    return with_release(_load_ilostat_csv(source, path), download_date(path))


def _load_ilostat_csv(source: Source, path: Path) -> pa.Table:
    """One ILOSTAT file as raw observations (one row per published row, codes as published).

    Label layouts (no codes) are translated back to codes: English country names to ISO
    alpha-3 through pedw/staging/country_names.yml and pycountry, "Sex: Total" to SEX_T, and
    so on; the published name is kept in `ref_area_label`. The indicator comes from the
    file name (ILOSTAT names downloads after it) unless the catalog gives `options.indicator`.
    """
    text = read_text_table(path, **source.options.get("read", {}))
    header = text.table.column_names
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
        return raw_arrow(text, source, mapping)

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
    return table.drop_columns(list(ignored))
