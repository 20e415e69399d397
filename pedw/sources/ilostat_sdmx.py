"""ILOSTAT SDMX REST data: SDMX-ML 2.1 (generic or structure-specific) and SDMX-CSV, read with sdmx1.

ILOSTAT's SDMX API (sdmx.ilo.org/rest/data/ILO,DF_<indicator>/...) serves one dataflow per
bulk indicator: dimensions REF_AREA, FREQ, MEASURE, then the indicator's breakdowns (SEX,
AGE, ECO, OCU, NOC, ...) and TIME_PERIOD; attributes OBS_STATUS and the NOTE_* notes. The
codes are those of the bulk files (SEX_T, ECO_SECTOR_AGR, ...), so one row here is one row
of the bulk layout: the indicator is the dataflow id without its DF_ prefix, the first
breakdown other than SEX becomes classif1 and the second classif2.

A structure-specific message and SDMX-CSV need the data structure definition (DSD): give
its SDMX-ML file as `options.structure` (path relative to the catalog). SDMX-CSV 1.0 (a
leading DATAFLOW column, what ILOSTAT serves as text/csv) is read as SDMX-CSV 2.0 by
splitting that column into STRUCTURE and STRUCTURE_ID. `source_line` is the observation's
position in the message (for CSV, its line in the file when sdmx1 keeps file order).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_csv import RAW_COLUMNS
from pedw.sources.raw_table import raw_arrow
from pedw.sources.text_table import TextTable

FIXED_DIMENSIONS = {"REF_AREA", "FREQ", "MEASURE", "SEX", "TIME_PERIOD", "SOURCE"}
ATTRIBUTES = {"OBS_STATUS": "obs_status", "NOTE_CLASSIF": "note_classif",
              "NOTE_INDICATOR": "note_indicator", "NOTE_SOURCE": "note_source"}  # fmt: skip
DATAFLOW = re.compile(r"(?:[A-Z0-9_.]+:)?DF_(?P<indicator>[A-Z0-9_]+)(?:\([0-9.]+\))?")


def _structure(source: Source) -> tuple[object | None, list[str]]:
    """The DSD of `options.structure` and the ids of the dataflows that file defines."""
    import sdmx

    option = source.options.get("structure")
    if not option:
        return None, []
    path = Path(option) if Path(option).is_absolute() else source.base_dir / option
    try:
        message = sdmx.read_sdmx(path)
    except (OSError, ValueError) as error:
        raise SourceFileError(path, f"not a readable SDMX structure message ({error})") from None
    if not message.structure:
        raise SourceFileError(path, "holds no data structure definition (DSD)")
    return next(iter(message.structure.values())), [flow.id for flow in message.dataflow.values()]


def _csv_as_version_2(raw: bytes, path: Path) -> bytes:
    """SDMX-CSV 1.0 (DATAFLOW first) rewritten as 2.0 (STRUCTURE, STRUCTURE_ID, ACTION first)."""
    text = raw.decode("utf-8-sig")
    first, _, rest = text.partition("\n")
    if first.startswith("STRUCTURE"):
        return text.encode()
    if not first.startswith("DATAFLOW"):
        raise SourceFileError(path, f"not SDMX-CSV: the header starts with {first[:40]!r}", line=1)
    # ACTION "I" (information): sdmx1 keys data sets by action, 1.0 has none.
    lines = [first.replace("DATAFLOW", "STRUCTURE,STRUCTURE_ID,ACTION", 1)]
    lines += [
        "dataflow," + line.replace(",", ",I,", 1) for line in rest.splitlines() if line.strip()
    ]
    return "\n".join(lines).encode()


def _read(path: Path, structure) -> tuple[object, bool]:
    """The data message, and whether it was SDMX-ML (else SDMX-CSV)."""
    import sdmx

    raw = path.read_bytes()
    if not raw.strip():
        raise SourceFileError(path, "is empty")
    is_xml = raw.lstrip()[:1] == b"<"
    try:
        if is_xml:
            return sdmx.read_sdmx(io.BytesIO(raw), format="XML", structure=structure), True
        if structure is None:
            raise SourceFileError(
                path, "SDMX-CSV needs the dataflow's structure (DSD): set options.structure"
            )
        return sdmx.read_sdmx(
            io.BytesIO(_csv_as_version_2(raw, path)), format="CSV", structure=structure
        ), False
    except SourceFileError:
        raise
    except Exception as error:  # sdmx1 raises many types for a malformed message
        kind = "SDMX-ML" if is_xml else "SDMX-CSV"
        raise SourceFileError(path, f"not a readable {kind} data message ({error})") from None


def _indicator(message, source: Source, path: Path, flows: list[str]) -> str:
    """options.indicator, else the dataflow the message or its structure file names."""
    if source.options.get("indicator"):
        return source.options["indicator"]
    candidates = [getattr(message.dataflow, "id", None)]
    candidates += [getattr(ds.described_by, "id", None) for ds in message.data]
    candidates += [*flows, path.stem]
    for candidate in candidates:
        match = DATAFLOW.search(candidate or "")
        if match:
            return match["indicator"]
    raise SourceFileError(path, "no DF_<indicator> dataflow id: set options.indicator")


def load_ilostat_sdmx(source: Source, path: Path) -> pa.Table:
    """One SDMX data message as raw ILOSTAT observations (the bulk layout's columns)."""
    import sdmx

    structure, flows = _structure(source)
    message, is_xml = _read(path, structure)
    frames = [
        sdmx.to_pandas(dataset, attributes="o", dtype=None)
        for dataset in message.data
        if len(dataset.obs)
    ]
    if not frames:
        raise SourceFileError(path, "holds no observation")
    dimensions = list(frames[0].index.names)
    frame = pd.concat(frames).reset_index()
    if "TIME_PERIOD" not in dimensions or "REF_AREA" not in dimensions:
        raise SourceFileError(
            path, f"no REF_AREA and TIME_PERIOD among the dimensions {dimensions}"
        )
    breakdowns = [d for d in dimensions if d not in FIXED_DIMENSIONS]
    if len(breakdowns) > 2:  # never two observations under one key
        raise SourceFileError(
            path,
            f"{len(breakdowns)} breakdowns besides sex ({', '.join(breakdowns)}); the ILOSTAT "
            "key holds two (classif1, classif2)",
        )
    text = pd.DataFrame(
        {
            "ref_area": frame["REF_AREA"],
            "indicator": _indicator(message, source, path, flows),
            "source": frame.get("SOURCE"),
            "sex": frame.get("SEX"),
            "classif1": frame[breakdowns[0]] if breakdowns else None,
            "classif2": frame[breakdowns[1]] if len(breakdowns) > 1 else None,
            "time": frame["TIME_PERIOD"],
            "obs_value": frame["value"],
            **{name: frame.get(attribute) for attribute, name in ATTRIBUTES.items()},
        }
    )
    text = text.astype("string").replace("", pd.NA)
    table = pa.Table.from_pandas(text[list(RAW_COLUMNS)], preserve_index=False)
    table = table.cast(pa.schema([(c, pa.string()) for c in RAW_COLUMNS]))
    # SDMX-ML: the observation's position; SDMX-CSV: its line (the header is line 1).
    lines = np.arange(1, len(text) + 1) + (0 if is_xml else 1)
    read = TextTable(path=path, table=table, lines=lines, malformed=[])
    return raw_arrow(read, source, {c: c for c in RAW_COLUMNS})
