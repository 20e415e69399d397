"""SDMX-CSV 2.0 of the national and sector panels, with ILOSTAT's dimension names, for
statistical offices (`pedw export marts.national_panel national.sdmx.csv`; on the public
release's `public.duckdb` the tables are `national.panel` and `sector.panel`).

One observation per economy, variable (and sector) and year: dimensions REF_AREA, FREQ (A),
MEASURE (the canonical variable, upper case), ECO for the sector panel (`ECO_ISIC4_<section>`,
a group of sections joined by `_`: D+E is ECO_ISIC4_D_E) and TIME_PERIOD; OBS_VALUE; the
attribute UNIT_MEASURE (the column's unit, or its `<variable>_unit` column where the unit
varies by row). Missing values are no observation, as in SDMX. The data structure (DSD and
dataflow, agency PEDW) is written beside the data as SDMX-ML (`<name>.structure.xml`), so
that any SDMX tool (sdmx1, .Stat Suite, the ECB's and ILO's) can read the CSV against it.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv

from pedw.query import BATCH_ROWS
from pedw.warehouse import quote_identifier

AGENCY = "PEDW"
VERSION = "1.0"
# The panels SDMX-CSV is written for: table -> (dataflow id, its key columns beside year).
PANELS = {
    "marts.national_panel": ("DF_NATIONAL_PANEL", ("ref_area",)),
    "national.panel": ("DF_NATIONAL_PANEL", ("ref_area",)),
    "marts.sector_panel": ("DF_SECTOR_PANEL", ("ref_area", "sector")),
    "sector.panel": ("DF_SECTOR_PANEL", ("ref_area", "sector")),
}
NUMERIC = re.compile(r"(TINY|SMALL|BIG|HUGE|U)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL.*")
UNIT = re.compile(r"Unit: (.*)\.$")


class SdmxError(ValueError):
    """A table SDMX-CSV is not written for; one line."""


def structure_path(path: Path) -> Path:
    """Where the DSD of `path` (x.sdmx.csv) is written: x.sdmx.structure.xml."""
    return path.with_name(path.name.removesuffix(".csv") + ".structure.xml")


def dimensions(table: str) -> list[str]:
    """ILOSTAT's dimension names for the panel, TIME_PERIOD last."""
    _, keys = PANELS[table]
    return ["REF_AREA", "FREQ", "MEASURE", *(["ECO"] if "sector" in keys else []), "TIME_PERIOD"]


def write_sdmx_csv(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple],
                   source_sql: str, path: Path, structure_to: Path) -> int:  # fmt: skip
    """Write `source_sql` (rows of `table`, columns (name, type, comment)) as SDMX-CSV 2.0 to
    `path` and its structure to `structure_to`; returns the observations written."""
    if table not in PANELS:
        raise SdmxError(
            f"SDMX-CSV is written for the national and sector panels ({', '.join(PANELS)}), "
            f"not {table}"
        )
    flow, keys = PANELS[table]
    names = {name for name, *_ in columns}
    measures = [
        (name, comment)
        for name, kind, comment in columns
        if NUMERIC.fullmatch(kind) and name not in ("year", *keys)
    ]
    units = []
    for name, comment in measures:
        found = UNIT.search(comment)
        fixed = f"'{found.group(1).replace(chr(39), chr(39) * 2)}'" if found else "NULL"
        if f"{name}_unit" in names:
            fixed = f"coalesce({quote_identifier(name + '_unit')}, {fixed})"
        elif found:  # "value_added_unit per person": the row's unit of value_added
            for unit_column in sorted(n for n in names if n.endswith("_unit")):
                if found.group(1).startswith(unit_column):
                    rest = found.group(1).removeprefix(unit_column).replace("'", "''")
                    fixed = f"{quote_identifier(unit_column)} || '{rest}'"
        units.append(f"WHEN '{name.upper()}' THEN {fixed}")
    eco = ", 'ECO_ISIC4_' || replace(sector, '+', '_') AS ECO" if "sector" in keys else ""
    cast = ", ".join(
        f"CAST({quote_identifier(name)} AS DOUBLE) AS {quote_identifier(name.upper())}"
        for name, _ in measures
    )
    key_columns = ", ".join(quote_identifier(k) for k in keys)
    sql = f"""
        WITH wide AS (SELECT {key_columns}, year, {cast},
                             {
        ", ".join(quote_identifier(n) for n in names if n.endswith("_unit")) or "NULL AS no_unit"
    }
                      FROM ({source_sql})),
             long AS (UNPIVOT wide ON {", ".join(quote_identifier(n.upper()) for n, _ in measures)}
                      INTO NAME measure VALUE obs_value)
        SELECT 'dataflow' AS STRUCTURE, '{AGENCY}:{flow}({VERSION})' AS STRUCTURE_ID,
               'I' AS ACTION, ref_area AS REF_AREA, 'A' AS FREQ, measure AS MEASURE{eco},
               CAST(year AS VARCHAR) AS TIME_PERIOD, obs_value AS OBS_VALUE,
               CASE measure {" ".join(units)} END AS UNIT_MEASURE
        FROM long ORDER BY ALL"""
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    rows = 0
    with pacsv.CSVWriter(path, reader.schema,
                         write_options=pacsv.WriteOptions(quoting_style="needed")) as writer:  # fmt: skip
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    _write_structure(table, structure_to)
    return rows


def dataflow(table: str):
    """The sdmx1 dataflow (with its DSD) of a panel's SDMX-CSV."""
    from sdmx.model import common
    from sdmx.model import v21 as m

    agency = common.Agency(id=AGENCY)
    flow_id, _ = PANELS[table]
    dsd = m.DataStructureDefinition(id=flow_id.replace("DF_", "DSD_"), maintainer=agency,
                                    version=VERSION)  # fmt: skip
    for order, name in enumerate(dimensions(table)):
        kind = m.TimeDimension if name == "TIME_PERIOD" else m.Dimension
        dsd.dimensions.append(kind(id=name, order=order))
    dsd.measures.append(m.PrimaryMeasure(id="OBS_VALUE"))
    dsd.attributes.append(
        m.DataAttribute(id="UNIT_MEASURE", related_to=m.PrimaryMeasureRelationship())
    )
    return m.DataflowDefinition(id=flow_id, maintainer=agency, version=VERSION, structure=dsd)


def _write_structure(table: str, path: Path) -> None:
    import sdmx
    from sdmx.message import StructureMessage

    flow = dataflow(table)
    message = StructureMessage()
    message.structure[flow.structure.id] = flow.structure
    message.dataflow[flow.id] = flow
    path.write_bytes(sdmx.to_xml(message, pretty_print=True))
