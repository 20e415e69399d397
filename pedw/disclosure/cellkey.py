"""Consistent perturbation of published firm-derived values: the cell-key method.

As in the ABS TableBuilder and the UK and EU census outputs, every firm holds a permanent
random key, a cell's key comes from its contributors' keys (their sum modulo 1), and the
noise added to the cell is looked up in a fixed perturbation table by that key. The same
contributors with the same values therefore get the same noise in every table, run and
release, while a cell whose contributors (or one contributor's value) differ gets a fresh,
unrelated draw: differencing two releases, two years or two overlapping cells yields noise,
not a firm.

Keys are 32-bit integers so the sum modulo 2**32 is exact and independent of row order
(a release is reproducible from its inputs and the store's secret):

- firm key: the first 32 bits of md5(salt : firm_id), permanent for a firm id;
- contribution key: firm key + md5(salt : figure : firm_id : year : value to 6 decimals),
  so a revised value is a new contribution (a value the same firm reports again is not);
- cell key: the sum of its contributions' keys modulo 2**32, read as a share in [0, 1).

The salt is created once, at random, in the internal store (`<store>/_keys/cell_key_salt`),
outside every table: it is never published, not even in the internal warehouse. Without it
no key can be recomputed, so the perturbation table itself can be published.

Noise on a mean of firm values is `noise_bound * p(cell key) * s`, where p is the table's
value (evenly spread over (-1, 1), zero on average) and s the largest contributor's share of
the cell's weight (1 / contributors when unweighted): one firm's value then moves by at most
`noise_bound` log units under the noise, the same scale as its own influence on the mean.
Standard errors get an independent draw of `noise_bound * p * s ** 1.5` (the size that hides
one firm's squared distance from the mean, which a change of variance would show), and the
released standard error includes the noise's own variance over cell keys, so intervals and
claims built on it stay valid.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pandas as pd

from pedw.models.frames import query_frames

KEY_SPACE = 2**32
TABLE_ROWS = 64  # rows of the perturbation table: cell keys in [i/64, (i+1)/64)
SALT_FILE = Path("_keys") / "cell_key_salt"
TABLE_VARIANCE = (1 - 1 / TABLE_ROWS**2) / 3  # of p over uniform cell keys


def perturbation_table(rows: int = TABLE_ROWS) -> pd.DataFrame:
    """The published perturbation table: each cell-key interval and its value p, the middle
    of its share of (-1, 1) (uniform, symmetric: zero mean, variance (1 - 1/rows**2) / 3)."""
    index = pd.RangeIndex(rows)
    return pd.DataFrame(
        {
            "key_low": index / rows,
            "key_high": (index + 1) / rows,
            "perturbation": (2 * index + 1) / rows - 1,
        }
    )


def cell_key_salt(root: Path) -> str:
    """The store's secret (created once, at random, readable by its owner only): what makes
    the firms' keys permanent for this store and unknowable outside it."""
    path = Path(root) / SALT_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        temporary.write_text(secrets.token_hex(32))
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)  # never replaces a salt another process wrote first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    salt = path.read_text().strip()
    if len(salt) < 32:
        raise ValueError(f"{path}: the cell-key secret is damaged (too short)")
    return salt


def _lookup(key: str) -> str:
    """SQL: the perturbation table's value for the cell key `key` (an integer in [0, 2**32))."""
    return f"((2 * floor({key} * {TABLE_ROWS} / {KEY_SPACE}) + 1) / {TABLE_ROWS} - 1)"


def _uint32(text: str) -> str:
    return f"(md5_number_upper({text}) >> 32)"


# The most a slope over the years moves per unit of one firm-year's value.
LEVERAGE_SQL = """
        SELECT {groups},
               coalesce(max(weight * abs(t)) / nullif(sum(weight * t * t), 0), 0) AS leverage
        FROM (SELECT {groups}, weight,
                     year - sum(weight * year) OVER (PARTITION BY {groups})
                            / sum(weight) OVER (PARTITION BY {groups}) AS t
              FROM keyed)
        GROUP BY ALL"""
NO_SLOPES_SQL = "SELECT DISTINCT {groups}, NULL::DOUBLE AS leverage FROM keyed"

CELL_NOISE_SQL = """
    WITH {inputs}contributions AS (
        SELECT {groups}, firm_id, year, value, coalesce(weight, 1.0) AS weight,
               {firm_key} AS firm_key
        FROM contributions_in
        WHERE value IS NOT NULL AND isfinite(value)
    ),
    keyed AS (
        SELECT *,
               (firm_key + {mean_key}) % {space} AS mean_key,
               (firm_key + {spread_key}) % {space} AS spread_key
        FROM contributions
    ),
    cells AS (
        SELECT {groups}, count(DISTINCT firm_id) AS contributors,
               (sum(mean_key) % {space})::UBIGINT AS cell_key,
               (sum(spread_key) % {space})::UBIGINT AS spread_cell_key
        FROM keyed GROUP BY ALL
    ),
    shares AS (  -- the largest contributor's share of the cell's weight (1/n unweighted)
        SELECT {groups}, max(firm_weight) / sum(firm_weight) AS largest_share
        FROM (SELECT {groups}, firm_id, sum(weight) AS firm_weight FROM keyed GROUP BY ALL)
        GROUP BY ALL
    ),
    leverage AS ({leverage})
    SELECT {groups}, contributors, cell_key / {space} AS cell_key,
           {bound} * {mean_lookup} * largest_share AS noise,
           {bound} * {spread_lookup} * largest_share ** 1.5 AS se_noise,
           {bound} * {mean_lookup} * leverage AS slope_noise,
           {bound} * {spread_lookup} * leverage * sqrt(largest_share) AS slope_se_noise,
           -- the noise's variance over cell keys, for standard errors that account for it
           {variance} * ({bound} * largest_share) ** 2 AS noise_var,
           {variance} * ({bound} * leverage) ** 2 AS slope_noise_var
    FROM cells JOIN shares USING ({groups}) JOIN leverage USING ({groups})
"""


def cell_noise(
    contributions: pd.DataFrame, groups: list[str], figure: str, salt: str, bound: float
) -> pd.DataFrame:
    """Per cell (`groups`): contributors, the cell key in [0, 1), the noise of its mean and of
    its standard error, and of a slope over its years and of that slope's standard error
    (scaled by the largest leverage of one firm-year on a least-squares slope,
    max w|t - mean t| / sum w (t - mean t)^2, in place of the largest share).
    `contributions` has one row per firm-year feeding a cell: the `groups` columns, firm_id,
    year, value and an optional weight."""
    frame = contributions.copy()
    if "weight" not in frame.columns:
        frame["weight"] = 1.0
    return query_frames(cell_noise_sql(groups, figure, salt, bound), contributions_in=frame)


def cell_noise_sql(
    groups: list[str],
    figure: str,
    salt: str,
    bound: float,
    inputs: str = "",
    slopes: bool = True,
) -> str:
    """`cell_noise`'s query over a relation `contributions_in` (the `groups` columns, firm_id,
    year, value, weight), for callers that build their contributions in SQL: millions of
    them need not pass through pandas. `inputs`: CTEs it may read, "name AS (...), " each;
    without `slopes`, the slope columns are NULL (the window over every contribution that
    their leverage needs is not computed)."""
    quoted = salt.replace("'", "''")
    value = "printf('%.6f', value)"
    contribution = f"'{quoted}:{figure}:' || firm_id || ':' || year || ':' || {value}"
    names = ", ".join(groups)
    return CELL_NOISE_SQL.format(
        inputs=inputs,
        leverage=(LEVERAGE_SQL if slopes else NO_SLOPES_SQL).format(groups=names),
        groups=names,
        firm_key=_uint32(f"'{quoted}:' || firm_id"),
        mean_key=_uint32(f"'mean:' || {contribution}"),
        spread_key=_uint32(f"'spread:' || {contribution}"),
        space=KEY_SPACE,
        bound=float(bound),
        mean_lookup=_lookup("cell_key"),
        spread_lookup=_lookup("spread_cell_key"),
        variance=TABLE_VARIANCE,
    )
