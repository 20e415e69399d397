"""marts.series_choice: which published value stands for an economy, variable and year, and why.

Several sources often publish the same national series (an ILOSTAT labour force survey, another
household survey, a census, the ILO modelled estimates). A statistician picks per year, not per
source: observed values before modelled ones, modelled before projected; among observed values,
a labour force survey before other household surveys, censuses, establishment surveys and
administrative records; then the source publishing more years of the series; then the lowest
source id. So the latest observed value wins whichever source publishes it, and a change of
source inside a series is marked (`source_change`) for charts to show as a break.

Before any of that, one variant per economy and variable: a median and a mean, or a value the
publisher notes as real and a nominal one, are different series (`variant`,
pedw/staging/qualifiers.py), never one trend. The economy's series is the variant of its
latest observed value (then of its latest value; then the one with more years; then the
standard one); values of another variant are kept in the mart, never chosen.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from pedw.store import check_identifier

STATUS_FILE = Path(__file__).with_name("observation_status.yml")
STATUS_RANK = {"observed": 1, "modelled": 2, "projected": 3}
OTHER_SOURCE = (6, "other source")


@cache
def observation_status() -> dict:
    """The decoded code lists of observation_status.yml."""
    return yaml.safe_load(STATUS_FILE.read_text(encoding="utf-8"))


def obs_status_frame() -> pd.DataFrame:
    """obs_status code -> what it means and which status class it puts a value in."""
    rows = [
        {"code": code, "note": d["note"], "status": d["status"]}
        for code, d in observation_status()["obs_status"].items()
    ]
    return pd.DataFrame(rows)


def source_type_frame() -> pd.DataFrame:
    """Source id prefix or label prefix -> source type and its rank (lower wins)."""
    rows = []
    for entry in observation_status()["source_types"]:
        for prefix in entry["ids"]:
            rows.append({"kind": "id", "prefix": prefix, "rank": entry["rank"], "type": entry["type"]})  # fmt: skip
        for prefix in entry["labels"]:
            rows.append({"kind": "label", "prefix": prefix, "rank": entry["rank"], "type": entry["type"]})  # fmt: skip
    return pd.DataFrame(rows)


def modelled_editions_frame() -> pd.DataFrame:
    """Indicator -> first year of ILO modelled estimates that is a projection."""
    rows = [
        {"indicator": indicator, "projected_from": int(d["projected_from"])}
        for indicator, d in observation_status()["modelled_editions"].items()
    ]
    return pd.DataFrame(rows, columns=["indicator", "projected_from"])


def register_code_lists(con) -> None:
    """Temp tables _obs_status, _source_types and _modelled_editions on `con`."""
    for name, frame in [
        ("_obs_status", obs_status_frame()),
        ("_source_types", source_type_frame()),
        ("_modelled_editions", modelled_editions_frame()),
    ]:
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")


def series_choice_sql(series: str, where: str = "TRUE") -> str:
    """Every candidate value of `series` (staging.national_series) with its decoded status,
    source type, rank among the candidates of its economy, variable and year, and the reason
    the chosen one (`chosen`) won. Needs register_code_lists on the connection."""
    check_identifier(series.split(".")[-1])
    other_rank, other_type = OTHER_SOURCE
    return f"""
        WITH typed AS (
            SELECT s.ref_area, s.variable, s.year, s.value, s.unit, s.indicator, s.source,
                   s.source_name, nullif(nullif(s.obs_status, ''), 'NA') AS obs_status,
                   coalesce(s.variant, '') AS variant,
                   coalesce(
                       (SELECT min(t.rank) FROM _source_types t
                        WHERE (t.kind = 'id' AND contains(s.source, ':')
                               AND split_part(s.source, ':', 1) = t.prefix)
                           OR (t.kind = 'label' AND starts_with(s.source, t.prefix))),
                       {other_rank}) AS source_rank
            FROM {series} s
            WHERE s.value IS NOT NULL AND {where}
        ),
        decoded AS (
            SELECT t.*,
                   coalesce((SELECT min(type) FROM _source_types x WHERE x.rank = t.source_rank),
                            '{other_type}') AS source_type,
                   o.note AS status_note,
                   CASE WHEN o.status = 'projected'
                          OR (t.source_rank = 7 AND t.year >= e.projected_from)
                          OR (t.obs_status = 'M' AND t.year > coalesce(max(t.year) FILTER
                                  (WHERE t.obs_status IS DISTINCT FROM 'M') OVER
                                  (PARTITION BY t.ref_area, t.variable, t.source), -1))
                          THEN 'projected'
                        WHEN o.status = 'modelled' OR t.source_rank = 7 THEN 'modelled'
                        ELSE 'observed' END AS status
            FROM typed t
            LEFT JOIN _obs_status o ON o.code = t.obs_status
            LEFT JOIN _modelled_editions e ON e.indicator = t.indicator
        ),
        variants AS (
            SELECT ref_area, variable, variant,
                   row_number() OVER (PARTITION BY ref_area, variable
                                      ORDER BY max(year) FILTER (WHERE status = 'observed')
                                                   DESC NULLS LAST,
                                               max(year) FILTER (WHERE status <> 'projected')
                                                   DESC NULLS LAST,
                                               count(DISTINCT year) DESC, variant) = 1
                       AS series_variant
            FROM decoded GROUP BY ref_area, variable, variant
        ),
        ranked AS (
            SELECT d.*, v.series_variant,
                   CASE d.status WHEN 'observed' THEN 1 WHEN 'modelled' THEN 2 ELSE 3 END
                       AS status_rank,
                   count(*) OVER (PARTITION BY ref_area, variable, variant, source)
                       AS source_years,
                   count(*) OVER (PARTITION BY ref_area, variable, year) AS candidates,
                   count(*) OVER (PARTITION BY ref_area, variable, variant, year) AS alike
            FROM decoded d JOIN variants v USING (ref_area, variable, variant)
        ),
        ordered AS (
            SELECT r.*,
                   row_number() OVER w AS choice_rank,
                   lead(status_rank) OVER w AS next_status_rank,
                   lead(source_rank) OVER w AS next_source_rank,
                   lead(source_years) OVER w AS next_source_years,
                   lead(source_type) OVER w AS next_source_type,
                   lead(status) OVER w AS next_status
            FROM ranked r
            WINDOW w AS (PARTITION BY ref_area, variable, variant, year
                         ORDER BY status_rank, source_rank, source_years DESC, source)
        ),
        explained AS (
            SELECT o.* EXCLUDE (next_status_rank, next_source_rank, next_source_years,
                                next_source_type, next_status, alike),
                   choice_rank = 1 AND series_variant AS chosen,
                   CASE WHEN NOT series_variant
                            THEN 'not chosen: ' || CASE variant WHEN '' THEN 'the standard'
                                 ELSE 'a ' || variant END || ' series, not this economy''s'
                        WHEN choice_rank > 1 THEN 'not chosen: another source ranks first'
                        WHEN alike = 1 AND candidates = 1 THEN 'only value published'
                        WHEN alike = 1 THEN 'only value of this economy''s series published'
                        WHEN status_rank < next_status_rank
                            THEN status || ' value before ' || next_status || ' value'
                        WHEN source_rank < next_source_rank
                            THEN source_type || ' before ' || next_source_type
                        WHEN source_years > next_source_years
                            THEN 'same kind of source: the one publishing more years'
                        ELSE 'same kind of source and years: lowest source id' END AS reason
            FROM ordered o
        )
        SELECT ref_area, variable, year, value, unit, indicator, source, source_name,
               variant, source_type, obs_status, status_note, status, candidates, chosen, reason,
               chosen AND lag(source) OVER (PARTITION BY ref_area, variable, chosen
                                            ORDER BY year) IS DISTINCT FROM source
                      AND lag(source) OVER (PARTITION BY ref_area, variable, chosen
                                            ORDER BY year) IS NOT NULL AS source_change
        FROM explained
        ORDER BY ref_area, variable, year, NOT series_variant, choice_rank"""
