"""Map staged ILOSTAT observations and PWT rows to canonical country(-sector)-year series."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from pedw.harmonise import economy_code_sql
from pedw.staging.qualifiers import variant_sql
from pedw.store import Store, sql_string

SERIES_FILE = Path(__file__).with_name("series.yml")
SERIES_COLUMNS = [
    "ref_area",
    "sector",
    "year",
    "variable",
    "value",
    "unit",
    "indicator",
    "source",
    "source_name",
    "obs_status",
    "variant",
]


# Variables that must come from one source for a country: sector productivity divides value
# added by employment, so both come from the source publishing both (then the one with most
# rows), never from two databases with different sector breakdowns.
RANKED_TOGETHER = {"sector": {"employment": "productivity", "value_added": "productivity"}}


@cache
def series_definitions() -> dict[str, dict[str, dict]]:
    """The national and sector series definitions from series.yml."""
    return yaml.safe_load(SERIES_FILE.read_text(encoding="utf-8"))


def _definitions_frame(level: str) -> pd.DataFrame:
    """One row per published series a variable can come from (a variable may list several)."""
    rows = [
        {
            "variable": name,
            "indicator": d["indicator"],
            "sex": d.get("sex"),
            "classif1": d.get("classif1"),
            "classif2": d.get("classif2"),
            "scale": float(d.get("scale", 1)),
            "unit": d["unit"],
            "definition": d["definition"],
            "ranked_with": RANKED_TOGETHER.get(level, {}).get(name, name),
        }
        for name, entry in series_definitions()[level].items()
        for d in (entry if isinstance(entry, list) else [entry])
    ]
    return pd.DataFrame(rows)


def ilostat_series_sql(level: str, observations: str) -> str:
    """SQL selecting the defined series from staged observations.

    National level: every source publishing a series is kept; marts.series_choice picks one
    value per economy, variable and year (pedw/marts/series_choice.py says how and why).
    Sector level: one source per country series, the one with the most years (ties: lowest
    source id), so a decomposition never mixes databases; variables ranked together
    (RANKED_TOGETHER) take one source between them: the one publishing most of them, then
    the one with most rows.
    """
    # Sector codes: an ISIC Rev.4 section (ECO_ISIC4_C -> C) or a group of sections as
    # databases like the GGDC ETD publish them (ECO_ISIC4GRP_D+E -> D+E); totals are left out.
    sector = (
        "regexp_extract(o.classif1, '^ECO_ISIC4(?:GRP)?_(.+)$', 1)" if level == "sector" else "NULL"
    )
    keep = "TRUE" if level == "national" else "r.preference = 1"
    classif1_match = "(d.classif1 IS NULL OR o.classif1 = d.classif1)"
    if level == "sector":
        classif1_match = "(regexp_full_match(o.classif1, 'ECO_ISIC4(GRP)?_.+') AND o.classif1 <> 'ECO_ISIC4_TOTAL')"
    return f"""
        WITH matched AS (
            SELECT {economy_code_sql("o.ref_area")} AS ref_area, {sector} AS sector, o.time AS year, d.variable,
                   o.obs_value * d.scale AS value, d.unit, o.indicator, o.source, o.source_name,
                   o.obs_status,
                   {variant_sql("o.note_indicator", "o.note_classif", "o.note_source")} AS variant,
                   d.ranked_with
            FROM {observations} o
            JOIN _series_definitions d
              ON o.indicator = d.indicator
             AND (d.sex IS NULL OR o.sex = d.sex)
             AND {classif1_match}
             AND (d.classif2 IS NULL OR o.classif2 = d.classif2)
        ),
        ranked AS (
            SELECT ref_area, ranked_with, source,
                   row_number() OVER (PARTITION BY ref_area, ranked_with
                                      ORDER BY count(DISTINCT variable) DESC, count(*) DESC,
                                               source) AS preference
            FROM matched GROUP BY ref_area, ranked_with, source
        )
        SELECT m.* EXCLUDE (ranked_with) FROM matched m
        JOIN ranked r USING (ref_area, ranked_with, source)
        WHERE {keep}"""


PWT_SERIES = {
    "human_capital": ("hc", "index", "PWT human capital index (years of schooling and returns)"),
    "capital_per_worker": (
        "rnna / emp",
        "{price_year} US$ per person engaged",
        "PWT capital stock at constant national prices per person engaged",
    ),
    "annual_hours": ("avh", "hours per worker per year", "PWT average annual hours worked"),
    "trade_openness": (
        "(csh_x - csh_m) * 100",
        "percent of GDP",
        "PWT merchandise exports plus imports as a share of GDP",
    ),
    "pwt_output_per_worker": (
        "rgdpo / emp",
        "{price_year} US$ per person engaged",
        "PWT output-side real GDP per person engaged",
    ),
}


def pwt_unit_text(unit: str) -> str:
    """A PWT series unit for documents: the price year is the release's, not a fixed one."""
    return unit.replace("{price_year} US$", "US$ of the PWT release's price year (price_year)")


def pwt_series_sql(drivers: str) -> str:
    """Long PWT driver series from the staged PWT table."""
    selects = [
        f"SELECT {economy_code_sql('countrycode')} AS ref_area, NULL::VARCHAR AS sector, year, {sql_string(name)} AS variable, "
        f"CAST({expr} AS DOUBLE) AS value, "
        f"replace({sql_string(unit)}, '{{price_year}}', CAST(price_year AS VARCHAR)) AS unit, "
        "'PWT' AS indicator, "
        f"'PWT' AS source, source_name, NULL::VARCHAR AS obs_status, '' AS variant FROM {drivers} "
        f"WHERE {expr} IS NOT NULL AND isfinite(CAST({expr} AS DOUBLE))"
        for name, (expr, unit, _) in PWT_SERIES.items()
    ]
    return " UNION ALL ".join(selects)


def write_series(store: Store, level: str) -> int:
    """Write staging.<level>_series (and the series metadata) from the staged inputs."""
    con = store.connect()
    try:
        con.register("_series_definitions_frame", _definitions_frame(level))
        con.execute(
            "CREATE TEMP TABLE _series_definitions AS SELECT * FROM _series_definitions_frame"
        )
        parts = []
        if store.exists("staging", f"{level}_observations"):
            parts.append(ilostat_series_sql(level, f"staging.{level}_observations"))
        if level == "national" and store.exists("staging", "pwt_drivers"):
            parts.append(pwt_series_sql("staging.pwt_drivers"))
        if not parts:
            raise ValueError(f"no staged {level} input to build staging.{level}_series from")
        query = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
        rows = store.write(
            con, "staging", f"{level}_series", f"SELECT {', '.join(SERIES_COLUMNS)} FROM ({query})"
        )
        metadata = _definitions_frame(level)[["variable", "indicator", "unit", "definition"]]
        if level == "national":
            metadata = pd.concat(
                [
                    metadata,
                    pd.DataFrame(
                        [
                            {"variable": k, "indicator": "PWT", "unit": u, "definition": d}
                            for k, (_, u, d) in PWT_SERIES.items()
                        ]
                    ),
                ],
                ignore_index=True,
            )
        metadata["level"] = level
        con.register("_metadata", metadata)
        store.attach_view(con, "staging", f"{level}_series")
        store.write(
            con,
            "staging",
            "series_metadata",
            f"""
            SELECT m.level, m.variable, m.indicator,
                   coalesce(string_agg(DISTINCT s.unit, ', '), m.unit) AS unit, m.definition,
                   string_agg(DISTINCT s.source_name, ', ') AS source_names,
                   string_agg(DISTINCT s.source, ', ') AS source_ids,
                   count(s.value) AS observations, count(DISTINCT s.ref_area) AS economies,
                   min(s.year) AS first_year, max(s.year) AS last_year
            FROM _metadata m LEFT JOIN staging.{level}_series s
              ON s.variable = m.variable AND s.indicator = m.indicator
            GROUP BY m.level, m.variable, m.indicator, m.unit, m.definition""",
            partition_column="level",
            partitions=[level],
        )
    finally:
        con.close()
    return rows
