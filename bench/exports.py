"""`pedw export` against DuckDB's own COPY, on a firm-panel-shaped table.

Usage: python bench/exports.py [--rows 500000] [--out bench/out]

Builds a warehouse file with one table shaped like marts.enterprise_panel (ids, codes, years,
decimals, doubles, booleans, missing values), then times, for Parquet and CSV, DuckDB's
`COPY (SELECT * FROM table) TO file` and pedw's export (`pedw.export.export_table` through the
sandboxed read-only connection, as `pedw export` runs it), best of three, and prints the
ratio (the aim: within 1.5x). The Stata and Excel writers have no COPY to compare with; their
times are printed alone (Excel only at sizes a sheet holds).
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import duckdb

from pedw.export import export_table
from pedw.warehouse import connect_sandboxed

TABLE = """CREATE OR REPLACE TABLE marts.enterprise_panel AS
SELECT 'F' || lpad((range // 8)::VARCHAR, 8, '0') AS firm_id,
       ['KEN', 'GHA', 'VNM', 'PER', 'BGD'][range % 5 + 1] AS country,
       ['C', 'G', 'F', 'H', 'I', 'J', 'M'][range % 7 + 1] AS sector,
       ['micro', 'small', 'medium', 'large'][range % 4 + 1] AS size_class,
       (2012 + range % 8)::INTEGER AS year,
       (1 + range % 400)::INTEGER AS employees,
       (range % 100000 * 3.17)::DECIMAL(18, 2) AS sales,
       ln(2 + range % 997) AS log_labour_productivity,
       range % 3 = 0 AS exporter,
       CASE WHEN range % 11 = 0 THEN NULL ELSE (range % 1000) / 1000.0 END AS female_share
FROM range($rows)"""
XLSX_BENCH_ROWS = 100_000  # Excel through pandas and openpyxl is slow: 126 s for 300,000 rows


def _best(run, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out/exports"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    warehouse = args.out / "bench.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(TABLE, {"rows": args.rows})
    con.close()
    print(f"{args.rows:,} rows of a firm-panel-shaped table; best of 3; seconds")
    print(f"{'format':8} {'COPY':>8} {'pedw':>8} {'ratio':>6}")
    for suffix, copy_options in ((".parquet", "FORMAT parquet"), (".csv", "FORMAT csv")):
        target = args.out / f"copy{suffix}"
        plain = duckdb.connect(str(warehouse), read_only=True)
        statement = f"COPY (SELECT * FROM marts.enterprise_panel) TO '{target}' ({copy_options})"
        copy = _best(partial(plain.execute, statement))
        plain.close()
        sandboxed = connect_sandboxed(warehouse)
        mine = _best(
            partial(export_table, sandboxed, "marts.enterprise_panel", args.out / f"pedw{suffix}")
        )
        sandboxed.close()
        print(f"{suffix[1:]:8} {copy:8.2f} {mine:8.2f} {mine / copy:6.2f}")
    sandboxed = connect_sandboxed(warehouse)
    for suffix in (".dta", ".xlsx"):
        if suffix == ".xlsx" and args.rows > XLSX_BENCH_ROWS:
            print(f"{'xlsx':8} skipped above {XLSX_BENCH_ROWS:,} rows (openpyxl: ~0.4 ms a row)")
            continue
        seconds = _best(
            partial(export_table, sandboxed, "marts.enterprise_panel", args.out / f"pedw{suffix}"),
            repeat=1,
        )
        print(f"{suffix[1:]:8} {'-':>8} {seconds:8.2f} {'-':>6}")
    sandboxed.close()


if __name__ == "__main__":
    main()
