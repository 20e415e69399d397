"""A firm file's own units and derived columns, applied as it is read (catalog `derive:` and
`units:`), so a file loads with what it has.

`derive: {wage_bill: wage * workers}` computes a contract column from published columns with
+ - * / and brackets (names are the file's, case aside). `units: {currency: KES,
price_year: 2019, scale: 1000}` declares the file's currency (ISO 4217) and price year, carried
on every row (contract columns `currency`, `price_year`), and multiplies its amounts (sales,
value added, wage bill, capital, derived ones included) by `scale`. Numbers are read as the
contracts read them (thousands separators, decimal commas, missing markers); a formula input
that is not a number gives the derived cell a text saying so, which the contract then
quarantines with the row's file and line. Everything runs in DuckDB over the Arrow block.
"""

from __future__ import annotations

import ast
from typing import Any

import pyarrow as pa

from pedw.quality.contracts import load_contract
from pedw.quality.row_rules import cleaned_text, number_value
from pedw.sources.errors import SourceFileError
from pedw.sources.text_table import TextTable
from pedw.store import offline_connection, sql_string

UNITS = ("currency", "price_year", "scale")
AMOUNTS = ("sales", "value_added", "wage_bill", "capital")  # scaled by units.scale
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def parse_formula(formula: str) -> ast.expr:
    """A `derive:` formula as a syntax tree; a ValueError says what is not allowed (column
    names, numbers, + - * / and brackets only)."""
    try:
        tree = ast.parse(formula.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(
            f"cannot read {formula!r}: a formula holds column names, numbers, + - * / and brackets"
        ) from None
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif (
            (isinstance(node, ast.BinOp) and type(node.op) in OPERATORS)
            or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub))
            or (isinstance(node, ast.Constant) and type(node.value) in (int, float))
        ):
            continue
        elif not isinstance(node, ast.operator | ast.unaryop | ast.expr_context):
            raise ValueError(
                f"{ast.unparse(node)!r} in {formula!r} is not allowed: a formula holds column "
                "names, numbers, + - * / and brackets"
            )
    if not names:
        raise ValueError(f"{formula!r} names no column")
    return tree


def _formula_sql(node: ast.expr, value_of) -> str:
    """SQL of a parsed formula; `value_of(name)` gives a column's number."""
    if isinstance(node, ast.BinOp):
        left, right = _formula_sql(node.left, value_of), _formula_sql(node.right, value_of)
        return f"({left} {OPERATORS[type(node.op)]} {right})"
    if isinstance(node, ast.UnaryOp):
        return f"(- {_formula_sql(node.operand, value_of)})"
    if isinstance(node, ast.Constant):
        return repr(float(node.value))
    return f"({value_of(node.id)})"


def apply_firm_units(
    text: TextTable, header: dict[str, str | None], derive: dict[str, str], units: dict[str, Any]
) -> tuple[TextTable, dict[str, str | None], dict[str, str]]:
    """The block with its derived and scaled columns added, the header (contract column ->
    column of the block) pointing at them, and the constants `units` sets (currency,
    price_year)."""
    constants = {k: str(units[k]) for k in ("currency", "price_year") if k in units}
    scale = float(units.get("scale", 1))
    if not derive and scale == 1:
        return text, header, constants
    contract = load_contract("enterprise_firms")
    published = {c.strip().lower(): c for c in text.table.column_names}
    con = offline_connection()
    con.register("block", text.table)

    def number(column: str) -> tuple[str, str]:
        clean = cleaned_text(f'"{column}"', contract)
        return clean, number_value(clean)

    selects, header, consumed = [], dict(header), set()
    for target, formula in derive.items():
        inputs = []

        def value_of(token: str, target=target, formula=formula, inputs=inputs) -> str:
            column = published.get(token.lower())
            if column is None:
                raise SourceFileError(
                    text.path,
                    f"derive: {target}: {formula!r} names column {token!r}, which is not in "
                    f"the header {text.table.column_names}",
                    line=1,
                    column=token,
                )
            clean, number_sql = number(column)
            inputs.append((token, clean, number_sql))
            consumed.add(column)
            return number_sql

        value = _formula_sql(parse_formula(formula), value_of)
        broken = " ".join(
            f"WHEN {clean} IS NOT NULL AND {number_sql} IS NULL THEN "
            f"{sql_string(f'not derived from {formula}: {token} ')} || {clean} || "
            f"{sql_string(' is not a number')}"
            for token, clean, number_sql in inputs
        )
        selects.append(
            f"CASE {broken} WHEN NOT isfinite({value}) THEN "
            f"{sql_string(f'not derived from {formula}: not a finite number')} "
            f'ELSE CAST({value} AS VARCHAR) END AS "_derived_{target}"'
        )
        header[target] = f"_derived_{target}"
    table = (
        con.sql(f"SELECT *, {', '.join(selects)} FROM block").to_arrow_table()
        if selects
        else text.table
    )
    if scale != 1:
        con.register("derived", table)
        scaled = []
        for target in AMOUNTS:
            column = header.get(target)
            if column is None:
                continue
            _, value = number(column)
            # A value that is not a number is kept as published: the contract quarantines it.
            scaled.append(
                f'CASE WHEN {value} IS NULL THEN "{column}" '
                f'ELSE CAST({value} * {scale!r} AS VARCHAR) END AS "_scaled_{target}"'
            )
            header[target] = f"_scaled_{target}"
            consumed.add(column)
        if scaled:
            table = con.sql(f"SELECT *, {', '.join(scaled)} FROM derived").to_arrow_table()
    con.close()
    # Columns read into derived or scaled ones are not "ignored" (the raw stage warns about
    # those): they leave the block unless a contract column still maps to them.
    used = {header.get(c) for c in contract.column_names}
    table = table.drop_columns([c for c in table.column_names if c in consumed and c not in used])
    table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
    block = TextTable(
        path=text.path,
        table=table,
        lines=text.lines,
        malformed=text.malformed,
        encoding=text.encoding,
        delimiter=text.delimiter,
    )
    return block, header, constants
