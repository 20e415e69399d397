"""Design-based estimates for survey samples: weighted means, shares and gaps with
linearised (Taylor series) standard errors that respect strata and clusters.

Enterprise surveys are stratified cluster samples: a mean computed without the sampling
weights describes the sample, not the firms of the economy. Here a domain mean is the ratio
R = Σ w y / Σ w over the domain's rows, and its variance is that of the linearised total
z_i = w_i (y_i - R) / Σ w (zero outside the domain), between primary sampling units (PSUs)
within strata, with replacement and without finite-population correction:

    V = Σ_h n_h / (n_h - 1) Σ_j (z_hj - z̄_h)²,   z_hj = Σ_{i in PSU j of stratum h} z_i

the default of Stata's `svy: mean` and R's `survey::svymean` (`svyby` for domains). A gap
between two domains linearises as z_a - z_b, so the covariance of the two means (firms of
both classes in one PSU) is counted. n_h counts every PSU of the stratum in the survey, also
those with no row in the domain (domain estimation, not a subset design). Without strata the
survey is one stratum; without PSUs each row is its own PSU. A stratum with a single PSU has
no variance estimate: it is refused, named (R's and Stata's default).

All heavy work is DuckDB SQL over the rows (no Python loop over rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from pedw.models.frames import query_frames


@dataclass(frozen=True)
class SurveyDesign:
    """Which columns hold the sampling weight, the stratum and the PSU (cluster)."""

    weight: str
    strata: str | None = None
    psu: str | None = None

    def columns(self) -> list[str]:
        return [c for c in (self.weight, self.strata, self.psu) if c is not None]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def design_estimates(
    frame: pd.DataFrame,
    value: str,
    design: SurveyDesign,
    surveys: Sequence[str],
    group: str,
    reference: str | None = None,
) -> pd.DataFrame:
    """Per survey (e.g. country and year) and `group` (e.g. size class): the weighted mean of
    `value` (a share when it is 0/1), or with `reference` the gap mean(group) - mean(reference),
    with its linearised standard error.

    Columns: the survey keys, `group`, estimate, std_error, rows (contributing rows of the
    group and, for a gap, of the reference), weight_total (the group's Σ w), df (PSUs less
    strata of the survey: the degrees of freedom of a t interval). Rows whose value is missing
    do not contribute; they still count towards the design's PSUs.
    """
    surveys = list(surveys)
    missing = [c for c in [value, group, *surveys, *design.columns()] if c not in frame.columns]
    if missing:
        raise KeyError(f"column(s) {missing} not in the frame")
    weights = frame[design.weight]
    if weights.isna().any() or (weights <= 0).any():
        bad = frame.index[(weights.isna() | (weights <= 0)).to_numpy()]
        raise ValueError(
            f"sampling weight {design.weight!r} is missing or not positive in {len(bad)} row(s),"
            f" first at row {bad[0]}: every sampled unit needs its weight"
        )
    on = " AND ".join(f"a.{_quote(s)} = b.{_quote(s)}" for s in [*surveys, "h"]) or "TRUE"
    on_survey = " AND ".join(f"a.{_quote(s)} = b.{_quote(s)}" for s in surveys) or "TRUE"
    select_keys = "".join(f"{_quote(s)}, " for s in surveys)
    stratum = f"CAST({_quote(design.strata)} AS VARCHAR)" if design.strata else "''"
    psu = (
        f"CAST({_quote(design.psu)} AS VARCHAR)"
        if design.psu
        else "CAST(row_number() OVER () AS VARCHAR)"
    )
    design_rows = f"""
        SELECT {select_keys}CAST({_quote(group)} AS VARCHAR) AS grp,
               CAST({_quote(value)} AS DOUBLE) AS y, CAST({_quote(design.weight)} AS DOUBLE) AS w,
               {stratum} AS h, {psu} AS j
        FROM data
    """
    strata = query_frames(
        f"""
        WITH d AS ({design_rows})
        SELECT {select_keys}h, count(DISTINCT j) AS n_h,
               count(DISTINCT j) = 1 AND bool_and(w = 1) AS certain
        FROM d GROUP BY ALL
        """,
        data=frame,
    )
    # A stratum of one PSU taken with certainty (weight 1: the one large firm of its stratum,
    # taken whole) has no sampling variance (R's survey.lonely.psu = "certainty"); any other
    # stratum needs two PSUs.
    single = strata[(strata["n_h"] < 2) & ~strata["certain"]]
    if len(single):
        first = single.iloc[0]
        where = ", ".join(f"{s}={first[s]}" for s in surveys)
        raise ValueError(
            f"{len(single)} stratum/strata with a single PSU (first: stratum {first['h']!r}"
            + (f" of {where}" if where else "")
            + "): no variance can be estimated there; merge it with a neighbouring stratum"
        )
    pairs = (
        f"""
        SELECT DISTINCT {select_keys}grp AS estimate_grp, grp FROM cells
        UNION ALL
        SELECT {", ".join(f"c.{_quote(s)}" for s in surveys)}{", " if surveys else ""}
               c.grp AS estimate_grp, r.grp
        FROM cells c JOIN cells r ON {on_survey.replace("a.", "c.").replace("b.", "r.")}
        WHERE r.grp = $reference AND c.grp <> $reference
        """
        if reference is not None
        else f"SELECT {select_keys}grp AS estimate_grp, grp FROM cells"
    )
    sign = "CASE WHEN p.grp = p.estimate_grp THEN 1 ELSE -1 END" if reference else "1"
    keep = "WHERE estimate_grp <> $reference AND has_reference" if reference else ""
    sql = f"""
        WITH d AS MATERIALIZED ({design_rows}),
        strata AS (SELECT {select_keys}h, count(DISTINCT j) AS n_h,
                          count(DISTINCT j) = 1 AND bool_and(w = 1) AS certain
                   FROM d GROUP BY ALL),
        used AS (SELECT * FROM d WHERE y IS NOT NULL),
        cells AS (SELECT {select_keys}grp, sum(w * y) / sum(w) AS mean, sum(w) AS total_w,
                         count(*) AS n
                  FROM used GROUP BY ALL),
        pairs AS ({pairs}),
        z AS (SELECT {", ".join(f"u.{_quote(s)}" for s in surveys)}{", " if surveys else ""}
                     u.grp, u.h, u.j, sum(u.w * (u.y - c.mean) / c.total_w) AS z
              FROM used u JOIN cells c
                ON {on_survey.replace("a.", "u.").replace("b.", "c.")} AND u.grp = c.grp
              GROUP BY ALL),
        psu_z AS (SELECT {", ".join(f"p.{_quote(s)}" for s in surveys)}{", " if surveys else ""}
                         p.estimate_grp, z.h, z.j, sum({sign} * z.z) AS z
                  FROM pairs p JOIN z
                    ON {on_survey.replace("a.", "p.").replace("b.", "z.")} AND z.grp = p.grp
                  GROUP BY ALL),
        strata_z AS (SELECT {select_keys}estimate_grp, h, sum(z * z) AS s2, sum(z) AS s1
                     FROM psu_z GROUP BY ALL),
        variance AS (SELECT {", ".join(f"a.{_quote(s)}" for s in surveys)}{", " if surveys else ""}
                            a.estimate_grp,
                            sum(CASE WHEN b.certain THEN 0
                                     ELSE b.n_h / (b.n_h - 1) * (a.s2 - a.s1 * a.s1 / b.n_h)
                                END) AS v
                     FROM strata_z a JOIN strata b ON {on}
                     GROUP BY ALL),
        degrees AS (SELECT {select_keys}sum(n_h) - count(*) AS df FROM strata
                    WHERE NOT certain GROUP BY ALL),
        estimates AS (
            SELECT {", ".join(f"p.{_quote(s)}" for s in surveys)}{", " if surveys else ""}
                   p.estimate_grp,
                   sum({sign} * c.mean) AS estimate, sum(c.n) AS rows,
                   sum(c.total_w) FILTER (WHERE p.grp = p.estimate_grp) AS weight_total,
                   count(*) = 2 AS has_reference
            FROM pairs p JOIN cells c
              ON {on_survey.replace("a.", "p.").replace("b.", "c.")} AND c.grp = p.grp
            GROUP BY ALL
        )
        SELECT {", ".join(f"e.{_quote(s)}" for s in surveys)}{", " if surveys else ""}
               e.estimate_grp AS {_quote(group)}, e.estimate, sqrt(greatest(v.v, 0)) AS std_error,
               CAST(e.rows AS BIGINT) AS rows, e.weight_total, CAST(g.df AS BIGINT) AS df
        FROM estimates e
        JOIN variance v ON {on_survey.replace("a.", "e.").replace("b.", "v.")}
             AND v.estimate_grp = e.estimate_grp
        JOIN degrees g ON {on_survey.replace("a.", "e.").replace("b.", "g.")}
        {keep.replace("estimate_grp", "e.estimate_grp").replace("has_reference", "e.has_reference")}
        ORDER BY ALL
    """
    if reference is not None:
        sql = sql.replace("$reference", "'" + str(reference).replace("'", "''") + "'")
    return query_frames(sql, data=frame)
