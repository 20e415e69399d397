"""Row-level contract rules compiled to DuckDB SQL: type, required, range, code list, duplicates.

A raw table (all text, with provenance) goes in; two results come out: the typed rows that
pass every rule (staging) and one quarantine row per broken rule, with file, line, column,
rule, offending value and a message a person understands. Nothing is dropped silently:
every raw row is either staged or quarantined (duplicates of an identical row included).
"""

from __future__ import annotations

import re

import duckdb

from pedw.quality.code_lists import register_code_lists
from pedw.quality.contracts import ColumnSpec, Contract
from pedw.store import check_identifier, sql_string

PROVENANCE = ("source_name", "source_file", "source_line")
VIOLATION_TYPE = "STRUCT(column_name VARCHAR, rule VARCHAR, value VARCHAR, message VARCHAR)"
CELL_NOTE = " (this cell only: the row's other values are loaded, this one is left empty)"


def cell_columns(contract: Contract) -> set[str]:
    """Columns whose broken rules quarantine the cell, not the row (contract `quarantine:
    cell`): every column outside the key that is not required."""
    if contract.quarantine != "cell":
        return set()
    return {c.name for c in contract.columns if c.name not in contract.key and not c.required}


NUMERIC = {"BIGINT", "INTEGER", "DOUBLE"}
QUARANTINE_COLUMNS = (
    "dataset",
    "run_id",
    "source_name",
    "source_file",
    "source_line",
    "column_name",
    "rule",
    "value",
    "message",
)


def _literal(value: str) -> str:
    return sql_string(value)


def cleaned_text(column: str, contract: Contract) -> str:
    """Trimmed text with empty strings and statistical-office missing markers turned into NULL."""
    markers = ", ".join(_literal(m) for m in contract.missing_markers)
    return (
        f"CASE WHEN lower(trim({column})) IN ({markers}) OR trim({column}) = '' "
        f"THEN NULL ELSE trim({column}) END"
    )


def number_value(text: str) -> str:
    """A number from text; thousands separators (1,234 / 1 234) and decimal commas (12,5)
    are read too. A plain number is cast directly: the patterns only run on the rest."""
    normalised = (
        f"CASE WHEN regexp_full_match({text}, '-?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?') "
        f"THEN replace({text}, ',', '') "
        f"WHEN regexp_full_match({text}, '-?[0-9]{{1,3}}( [0-9]{{3}})+([.,][0-9]+)?') "
        f"THEN replace(replace({text}, ' ', ''), ',', '.') "
        f"WHEN regexp_full_match({text}, '-?[0-9]+,[0-9]+') THEN replace({text}, ',', '.') "
        f"ELSE {text} END"
    )
    return f"coalesce(TRY_CAST({text} AS DOUBLE), TRY_CAST({normalised} AS DOUBLE))"


def typed_value(spec: ColumnSpec, number: str, text: str) -> str:
    """The typed value of a column from its cleaned `text` and, for numeric columns, the
    column `number` holding number_value(text) (computed once per row)."""
    if spec.type not in NUMERIC:
        if spec.type == "BOOLEAN":
            return f"TRY_CAST({text} AS BOOLEAN)"
        if spec.type == "DATE":  # 2019-03-01, or a spreadsheet's 2019-03-01 00:00:00
            return (
                f"coalesce(TRY_CAST({text} AS DATE), CAST(TRY_CAST({text} AS TIMESTAMP) AS DATE))"
            )
        return text
    if spec.type in {"BIGINT", "INTEGER"}:
        # "2019.0" is an integer written by a spreadsheet; "2019.5" is not.
        return (
            f"CASE WHEN {number} = round({number}) AND abs({number}) < 9e15 "
            f"THEN CAST({number} AS {spec.type}) END"
        )
    return number


def conditional_bound_violation(bound, contract: Contract) -> str:
    """The violation of one conditional bound (see ConditionalBound), or NULL."""
    typed, key = f"_typed_{bound.column}", f"_typed_{bound.when['column']}"
    applies = f"regexp_matches({key}, {_literal(bound.when['pattern'])})"
    if bound.unless:
        applies += f" AND NOT regexp_matches({key}, {_literal(bound.unless)})"
    outside = " OR ".join(
        [f"{typed} < {bound.min!r}"] * (bound.min is not None)
        + [f"{typed} > {bound.max!r}"] * (bound.max is not None)
    )
    spec = contract.column(bound.column)
    words = (
        f"between {bound.min:g} and {bound.max:g}"
        if bound.min is not None and bound.max is not None
        else f"at least {bound.min:g}"
        if bound.min is not None
        else f"at most {bound.max:g}"
    )
    return _violation(
        f"{applies} AND ({outside})",
        bound.column,
        "unit_bounds",
        spec.name,
        f"{_literal(bound.column)} || ' value ' || CAST({typed} AS VARCHAR) || "
        f"{_literal(' is outside the bounds of its unit (must be ' + words + ' for ')} || "
        f"{key} || {_literal('): ' + bound.description)}",
    )


def _violation(condition: str, column: str | None, rule: str, value: str, message: str) -> str:
    column_sql = _literal(column) if column else "NULL"
    return (
        f"CASE WHEN {condition} THEN {{'column_name': {column_sql}, 'rule': {_literal(rule)}, "
        f"'value': CAST({value} AS VARCHAR), 'message': {message}}} END"
    )


def _shown(expression: str) -> str:
    """SQL that shows a value in double quotes inside a message."""
    return "'\"' || " + expression + " || '\"'"


TYPE_WORDS = {
    "BIGINT": "an integer",
    "INTEGER": "an integer",
    "DOUBLE": "a number",
    "BOOLEAN": "true or false",
    "DATE": "a date (YYYY-MM-DD)",
}


def column_violations(spec: ColumnSpec, contract: Contract) -> list[str]:
    """SQL expressions that are a violation struct when the rule fails and NULL otherwise."""
    # `_clean_<column>` is computed once per row by check_rows (trimmed, markers as NULL).
    raw, text, typed = spec.name, f"_clean_{spec.name}", f"_typed_{spec.name}"
    label = _literal(spec.name)
    unit = f" {spec.unit}" if spec.unit else ""
    checks = []
    if spec.required:
        checks.append(
            _violation(
                f"{text} IS NULL",
                spec.name,
                "required",
                raw,
                f"{label} || ' is required but ' || CASE WHEN trim(coalesce({raw}, '')) = '' "
                f"THEN 'empty' ELSE 'the missing marker ' || {_shown(f'trim({raw})')} END",
            )
        )
    if spec.type != "VARCHAR":
        checks.append(
            _violation(
                f"{text} IS NOT NULL AND {typed} IS NULL",
                spec.name,
                "type",
                raw,
                f"{label} || ' value ' || {_shown(raw)} || {_literal(' is not ' + TYPE_WORDS[spec.type])}",
            )
        )
    if spec.min is not None:
        checks.append(
            _violation(
                f"{typed} < {spec.min!r}",
                spec.name,
                "range",
                raw,
                f"{label} || ' value ' || CAST({typed} AS VARCHAR) || "
                f"{_literal(f' is below the minimum {spec.min:g}{unit}')}",
            )
        )
    if spec.above is not None:
        checks.append(
            _violation(
                f"{typed} <= {spec.above!r}",
                spec.name,
                "range",
                raw,
                f"{label} || ' value ' || CAST({typed} AS VARCHAR) || "
                f"{_literal(f' is not above {spec.above:g}{unit}')}",
            )
        )
    if spec.max is not None:
        checks.append(
            _violation(
                f"{typed} > {spec.max!r}",
                spec.name,
                "range",
                raw,
                f"{label} || ' value ' || CAST({typed} AS VARCHAR) || "
                f"{_literal(f' is above the maximum {spec.max:g}{unit}')}",
            )
        )
    if spec.codes:
        lists = (spec.codes,) if isinstance(spec.codes, str) else spec.codes
        in_lists = ", ".join(_literal(name) for name in lists)
        described = " or ".join(lists)
        checks.append(
            _violation(
                f"{typed} IS NOT NULL AND {typed} NOT IN (SELECT code FROM code_lists WHERE list IN "
                f"({in_lists}))",
                spec.name,
                "code_list",
                raw,
                f"{label} || ' code ' || {_shown(raw)} || {_literal(f' is not in the code list {described}')}",
            )
        )

    if spec.allowed:
        allowed = ", ".join(_literal(v) for v in spec.allowed)
        checks.append(
            _violation(
                f"{typed} IS NOT NULL AND CAST({typed} AS VARCHAR) NOT IN ({allowed})",
                spec.name,
                "allowed_values",
                raw,
                f"{label} || ' value ' || {_shown(raw)} || "
                f"{_literal(' is not one of ' + ', '.join(spec.allowed))}",
            )
        )
    return checks


def check_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    source: str,
    name: str,
    slice_sql: str = "NULL::VARCHAR",
) -> str:
    """Type and check every row of relation `source`; create temp table `name` and return it.

    The table has the typed contract columns (`_typed_<column>`), the provenance columns,
    `slice` (the value of `slice_sql`) and `violations`, a list of structs (column_name,
    rule, value, message); an empty list means the row is good. The published text of a
    failing value travels in its violation, so the raw columns are not kept: one pass, one
    table, about the size of the typed data.
    """
    register_code_lists(con)
    available = {r[0] for r in con.execute(f"DESCRIBE {source}").fetchall()}
    # Clean each column once (trim, missing markers), then type it once: the rules below
    # read these columns instead of repeating the expressions.
    cleaned, numbers, typed = [], [], []
    for spec in contract.columns:
        text, number = f"_clean_{spec.name}", f"_number_{spec.name}"
        if spec.name in available:
            cleaned.append(f"{cleaned_text(spec.name, contract)} AS {text}")
            if spec.type in NUMERIC:
                numbers.append(f"{number_value(text)} AS {number}")
            typed.append(f"{typed_value(spec, number, text)} AS _typed_{spec.name}")
        else:
            cleaned.append(f"CAST(NULL AS VARCHAR) AS {spec.name}")
            cleaned.append(f"CAST(NULL AS VARCHAR) AS {text}")
            typed.append(f"CAST(NULL AS {spec.type}) AS _typed_{spec.name}")
    raw_record = "raw_record" if "raw_record" in available else "CAST(NULL AS VARCHAR)"
    partition_key = "partition_key" if "partition_key" in available else "NULL::VARCHAR"
    # A row the parser could not split has no column values: it fails as a whole, once.
    malformed = _violation(
        "true",
        None,
        "malformed_row",
        raw_record,
        "'row does not have the header''s number of fields (truncated line or stray delimiter)'",
    )
    checks, cell_checks = [], []
    cells = cell_columns(contract)
    for spec in contract.columns:
        (cell_checks if spec.name in cells else checks).extend(column_violations(spec, contract))
    for bound in contract.conditional_bounds:
        violation = conditional_bound_violation(bound, contract)
        (cell_checks if bound.column in cells else checks).append(violation)
    checks_sql = ",\n    ".join(checks)
    typed_names = ", ".join(f"_typed_{c.name}" for c in contract.columns)
    # A quarantined cell is emptied in the row that loads; its violation says so.
    cell_sql = (
        f"list_transform(list_filter([{', '.join(cell_checks)}], lambda v: v IS NOT NULL), "
        f"lambda v: struct_pack(column_name := v.column_name, rule := v.rule, value := v.value, "
        f"message := v.message || {_literal(CELL_NOTE)}))"
        if cell_checks
        else f"CAST([] AS {VIOLATION_TYPE}[])"
    )
    emptied = "".join(
        f", CASE WHEN list_contains(list_transform(_cell_violations, lambda v: v.column_name), "
        f"{_literal(c)}) THEN NULL ELSE _typed_{c} END AS _typed_{c}"
        for c in sorted(cells)
    )
    rows_sql = f"""
        SELECT source_name, source_file, source_line, partition_key, slice,
               {typed_names}, _row_violations, _cell_violations
        FROM (SELECT * EXCLUDE ({typed_names}){emptied},
                     {", ".join(f"_typed_{c.name}" for c in contract.columns if c.name not in cells)}
              FROM (
        SELECT source_name, source_file, source_line, {partition_key} AS partition_key,
               {slice_sql} AS slice, {typed_names},
               CASE WHEN {raw_record} IS NOT NULL THEN [{malformed}]
                    ELSE list_filter([{checks_sql}], lambda v: v IS NOT NULL) END AS _row_violations,
               CASE WHEN {raw_record} IS NOT NULL THEN CAST([] AS {VIOLATION_TYPE}[])
                    ELSE {cell_sql} END AS _cell_violations
        FROM (SELECT *, {", ".join(typed)}
              FROM (SELECT *{"".join(", " + n for n in numbers)}
                    FROM (SELECT *, {", ".join(cleaned)} FROM {source})))))"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_rows AS {rows_sql}")
    for rule in contract.series_rules:  # rules over whole series, once the rows are typed
        _apply_unit_jump(con, f"{name}_rows", rule)
    key_columns = [f"_typed_{k}" for k in contract.key]
    key = ", ".join(key_columns)
    # Keys are unique within a partition (a country's firms): a partition's rows are staged
    # alike whichever partitions are checked with it.
    within = ["partition_key", *key_columns]
    matches = " AND ".join(f"d.{k} IS NOT DISTINCT FROM r.{k}" for k in within)
    # Duplicated keys among otherwise good rows: identical copies keep their first row,
    # conflicting values quarantine every copy (no silent choice between two numbers).
    # Only the rows of duplicated keys (usually none) go through the window functions.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name}_duplicates AS
        SELECT {", ".join(within)} FROM {name}_rows WHERE len(_row_violations) = 0
        GROUP BY ALL HAVING count(*) > 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {name} AS
        WITH keyed AS (
            SELECT *,
                   count(*) OVER k AS _copies,
                   min(hash({typed_names})) OVER k <> max(hash({typed_names})) OVER k AS _conflict,
                   row_number() OVER (k ORDER BY source_file, source_line) AS _copy,
                   first_value(source_line) OVER (k ORDER BY source_file, source_line) AS _first_line
            FROM {name}_rows r
            WHERE len(_row_violations) = 0
              AND EXISTS (SELECT 1 FROM {name}_duplicates d WHERE {matches})
            WINDOW k AS (PARTITION BY partition_key, {key})
        )
        SELECT * EXCLUDE (_copies, _conflict, _copy, _first_line, _row_violations),
               CASE WHEN _conflict THEN [{{'column_name': {_literal(", ".join(contract.key))},
                        'rule': 'duplicate_key_conflict', 'value': CAST(({key}) AS VARCHAR),
                        'message': 'key appears ' || _copies || ' times with different values; none is loaded'}}]
                    WHEN _copy > 1 THEN [{{'column_name': {_literal(", ".join(contract.key))},
                        'rule': 'duplicate_key_identical', 'value': CAST(({key}) AS VARCHAR),
                        'message': 'identical copy of the row at line ' || _first_line || '; the first copy is loaded'}}]
                    ELSE [] END AS violations
        FROM keyed
        UNION ALL BY NAME
        SELECT * EXCLUDE (_row_violations), _row_violations AS violations
        FROM {name}_rows r
        WHERE len(_row_violations) > 0
           OR NOT EXISTS (SELECT 1 FROM {name}_duplicates d WHERE {matches})""")
    return name


def _apply_unit_jump(con: duckdb.DuckDBPyConnection, table: str, rule) -> None:
    """Flag values `ratio` times above or below their series median (thousands vs units),
    in the series the rule applies to (`applies_when`, none of `unless`)."""
    series = ", ".join(f"_typed_{c}" for c in rule.series)
    value = f"_typed_{rule.column}"
    applies = "true"
    if rule.applies_when:
        column = check_identifier(rule.applies_when["column"])
        re.compile(rule.applies_when["pattern"])
        applies = f"regexp_matches(_typed_{column}, {_literal(rule.applies_when['pattern'])})"
    for condition in rule.unless:
        column = check_identifier(condition["column"])
        re.compile(condition["pattern"])
        applies += (
            f" AND NOT regexp_matches(coalesce(CAST(_typed_{column} AS VARCHAR), ''), "
            f"{_literal(condition['pattern'])})"
        )
    message = (
        f"{_literal(rule.column)} || ' value ' || CAST({value} AS VARCHAR) || ' is ' || "
        f"CAST(round(greatest(abs({value} / _median), abs(_median / {value})), 0) AS VARCHAR) || "
        f"'x the series median ' || CAST(_median AS VARCHAR) || ': units changed within the series "
        f"(e.g. thousands vs units)?'"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH m AS (
            SELECT *, median({value}) FILTER (WHERE len(_row_violations) = 0)
                          OVER (PARTITION BY {series}) AS _median
            FROM {table}
        )
        SELECT * EXCLUDE (_median, _row_violations),
               CASE WHEN len(_row_violations) = 0 AND {applies} AND {value} <> 0 AND _median <> 0

                     AND greatest(abs({value} / _median), abs(_median / {value})) >= {rule.ratio!r}
                    THEN list_append(_row_violations, {{'column_name': {_literal(rule.column)},
                         'rule': 'unit_jump', 'value': CAST({value} AS VARCHAR), 'message': {message}}})
                    ELSE _row_violations END AS _row_violations
        FROM m""")


def staged_query(contract: Contract, checked: str, extra: tuple[str, ...] = ()) -> str:
    """Typed columns of the rows with no violation, named as in the contract."""
    columns = ", ".join(f"_typed_{c.name} AS {c.name}" for c in contract.columns)
    more = "".join(f", {e}" for e in extra)
    return (
        f"SELECT {columns}, source_name, source_file, CAST(source_line AS BIGINT) AS source_line"
        f"{more} FROM {checked} WHERE len(violations) = 0"
    )


def quarantine_query(contract: Contract, checked: str, run_id: str) -> str:
    """One row per broken rule, in the quality.quarantine layout: every rule a quarantined
    row broke, and every quarantined cell of a row that loaded (`quarantine: cell`)."""
    return f"""
        SELECT {_literal(contract.name)} AS dataset, {_literal(run_id)} AS run_id,
               source_name, source_file, CAST(source_line AS BIGINT) AS source_line,
               v.column_name, v.rule, v.value, v.message, current_timestamp AS quarantined_at, slice
        FROM (SELECT source_name, source_file, source_line, slice,
                     unnest({all_violations()}) AS v
              FROM {checked} WHERE len(violations) > 0 OR len(_cell_violations) > 0)"""


def all_violations() -> str:
    """SQL for a checked row's broken rules: the row's, then its cells' (whose note that the
    row loaded is dropped when the row itself is quarantined)."""
    return (
        "CASE WHEN len(violations) = 0 THEN _cell_violations ELSE list_concat(violations, "
        "list_transform(_cell_violations, lambda v: struct_pack(column_name := v.column_name, "
        f"rule := v.rule, value := v.value, message := replace(v.message, {_literal(CELL_NOTE)}, "
        "'')))) END"
    )
