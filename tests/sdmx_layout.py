"""Write real ILOSTAT bulk rows as the SDMX messages ILOSTAT's SDMX API serves, with sdmx1.

The DSD mirrors ILO's: dimensions REF_AREA, FREQ, MEASURE, the indicator's breakdowns
(SEX, then ECO/AGE/NOC as in the bulk file's classif1 and classif2) and TIME_PERIOD; attributes
OBS_STATUS, SOURCE and NOTE_SOURCE at observation level. One observation per series key,
as the API serves (the bulk file may hold several sources per country-year; the first is kept).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sdmx
from sdmx.message import DataMessage, StructureMessage
from sdmx.model import common
from sdmx.model import v21 as m

ILO = common.Agency(id="ILO")


def bulk_rows(path: Path, limit: int | None = None) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    keys = [c for c in ("ref_area", "sex", "classif1", "time") if c in frame]
    frame = frame.drop_duplicates(keys)
    return frame.head(limit) if limit else frame


def dataflow_for(frame: pd.DataFrame) -> tuple[m.DataflowDefinition, list[str]]:
    indicator = frame["indicator"].iloc[0]
    breakdowns = [frame[c].iloc[0].split("_")[0] for c in ("classif1", "classif2") if c in frame]
    dimensions = ["REF_AREA", "FREQ", "MEASURE"]
    dimensions += ["SEX"] if "sex" in frame else []
    dimensions += breakdowns
    dsd = m.DataStructureDefinition(id=f"DSD_{indicator}", maintainer=ILO, version="1.0")
    for order, name in enumerate([*dimensions, "TIME_PERIOD"]):
        kind = m.TimeDimension if name == "TIME_PERIOD" else m.Dimension
        dsd.dimensions.append(kind(id=name, order=order))
    dsd.measures.append(m.PrimaryMeasure(id="OBS_VALUE"))
    for attribute in ("OBS_STATUS", "SOURCE", "NOTE_SOURCE"):
        dsd.attributes.append(
            m.DataAttribute(id=attribute, related_to=m.PrimaryMeasureRelationship())
        )
    flow = m.DataflowDefinition(id=f"DF_{indicator}", maintainer=ILO, version="1.0", structure=dsd)
    return flow, dimensions


def data_message(frame: pd.DataFrame, generic: bool = False) -> DataMessage:
    flow, dimensions = dataflow_for(frame)
    dsd = flow.structure
    kind = m.GenericDataSet if generic else m.StructureSpecificDataSet
    dataset = kind(described_by=flow, structured_by=dsd)
    measure = "_".join(frame["indicator"].iloc[0].split("_")[:2])
    for row in frame.to_dict("records"):
        values = {"REF_AREA": row["ref_area"], "FREQ": "A", "MEASURE": measure}
        values |= {"SEX": row["sex"]} if "SEX" in dimensions else {}
        first = dimensions.index("MEASURE") + 1 + ("SEX" in dimensions)
        for name, column in zip(dimensions[first:], ("classif1", "classif2"), strict=False):
            values[name] = row[column]
        key = dsd.make_key(m.Key, {**values, "TIME_PERIOD": row["time"]})
        attributes = {
            name: m.AttributeValue(value=row[column], value_for=dsd.attributes.get(name))
            for name, column in (
                ("OBS_STATUS", "obs_status"),
                ("SOURCE", "source"),
                ("NOTE_SOURCE", "note_source"),
            )
            if row.get(column)
        }
        dataset.obs.append(
            m.Observation(
                dimension=key,
                value=row["obs_value"],
                attached_attribute=attributes,
                value_for=dsd.measures[0],
            )
        )
    return DataMessage(data=[dataset], dataflow=flow)


def write_structure(frame: pd.DataFrame, path: Path) -> Path:
    flow, _ = dataflow_for(frame)
    message = StructureMessage()
    message.structure[flow.structure.id] = flow.structure
    message.dataflow[flow.id] = flow
    path.write_bytes(sdmx.to_xml(message, pretty_print=True))
    return path


def write_xml(frame: pd.DataFrame, path: Path, generic: bool = False) -> Path:
    path.write_bytes(sdmx.to_xml(data_message(frame, generic), pretty_print=True))
    return path


def write_csv_v1(frame: pd.DataFrame, path: Path) -> Path:
    """SDMX-CSV 1.0 as ILOSTAT serves it: DATAFLOW, the dimensions, OBS_VALUE, attributes."""
    flow, dimensions = dataflow_for(frame)
    measure = "_".join(frame["indicator"].iloc[0].split("_")[:2])
    table = pd.DataFrame({"DATAFLOW": f"ILO:{flow.id}(1.0)", "REF_AREA": frame["ref_area"]})
    table["FREQ"], table["MEASURE"] = "A", measure
    if "SEX" in dimensions:
        table["SEX"] = frame["sex"]
    first = dimensions.index("MEASURE") + 1 + ("SEX" in dimensions)
    for name, column in zip(dimensions[first:], ("classif1", "classif2"), strict=False):
        table[name] = frame[column]
    table["TIME_PERIOD"] = frame["time"]
    table["OBS_VALUE"] = frame["obs_value"]
    table["OBS_STATUS"] = frame.get("obs_status", "")
    table["SOURCE"] = frame["source"]
    table["NOTE_SOURCE"] = frame.get("note_source", "")
    table.to_csv(path, index=False)
    return path
