"""Enterprise ingest at scale: pedw's raw + contract-checked staging vs a bare DuckDB read.

Usage: python bench/enterprise_ingest.py [--rows 1000000 10000000] [--out bench/out]

For each size it generates the demo enterprise panel (once, cached in --out), then runs each
step in a fresh subprocess and prints wall time, rows per second and peak memory (max RSS of
that subprocess), with ratios against `duckdb.read_csv` of the same file into a table:

  bare read     duckdb.read_csv(file) materialized (the baseline)
  ingest        pedw raw load: parse as text, provenance, write per-country Parquet files
  validation    contract row rules (types, ranges, codes, duplicates), staging + quarantine
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

FIRM_YEARS_PER_FIRM = 8 * 0.95  # eight waves, 5% non-response

STEP = r"""
import json, sys, time
from pathlib import Path
step, csv_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
# Interpreter start and imports are not timed (about 0.1 s for duckdb, 2-4 s for pedw's
# stack on a cold cache): the figures compare the work itself.
if step == "bare":
    import duckdb
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')").fetchone()
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
else:
    from pedw.catalog import Catalog, Source
    from pedw.raw import raw_partitions, write_raw
    from pedw.staging.contracted import stage_through_contract
    from pedw.store import Store
    started = time.perf_counter()
    source = Source(name="bench", level="enterprise", format="enterprise_csv", path=csv_path)
    catalog = Catalog(name="bench", path=Path(csv_path), sources=(source,))
    store = Store(work / "store")
    if step == "ingest":
        rows = write_raw(store, catalog, "enterprise", ("enterprise_csv",), "enterprise_firms", "bench", partitioned=True).rows
    else:
        keys = raw_partitions(store)
        rows = stage_through_contract(store, "enterprise_firms", "enterprise_firms", "enterprise_firms", "bench", partitions=keys).rows_read
seconds = time.perf_counter() - started
# VmHWM: this process's own peak. ru_maxrss is not: Linux carries the forking parent's peak
# across exec, and the parent generated the demo (4.7 GB at 10M rows, every step showed it).
status = Path("/proc/self/status").read_text()
peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak}))
"""


def run_step(step: str, csv_path: Path, work: Path) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", STEP, step, str(csv_path), str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    from pedw.demo.generate import generate_demo_data

    print(
        f"{'firm-years':>11} {'step':<11} {'seconds':>8} {'rows/s':>12} {'peak MB':>8} {'x bare time':>11} {'x bare mem':>10}"
    )
    for target in args.rows:
        work = args.out / f"enterprise_{target}"
        csv_path = work / "enterprise" / "firms.csv"
        if not csv_path.exists():
            started = time.perf_counter()
            generate_demo_data(work, n_firms=int(target / FIRM_YEARS_PER_FIRM), with_catalog=False)
            print(
                f"# generated {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f}s"
            )
        results = {
            step: run_step(step, csv_path, work) for step in ("bare", "ingest", "validation")
        }
        bare = results["bare"]
        for step, result in results.items():
            print(
                f"{result['rows']:>11,} {step:<11} {result['seconds']:>8.2f} {result['rows'] / result['seconds']:>12,.0f} "
                f"{result['peak_mb']:>8.0f} {result['seconds'] / bare['seconds']:>11.2f} {result['peak_mb'] / bare['peak_mb']:>10.2f}"
            )
        both = results["ingest"]["seconds"] + results["validation"]["seconds"]
        print(
            f"{bare['rows']:>11,} {'ingest+val':<11} {both:>8.2f} {bare['rows'] / both:>12,.0f} "
            f"{max(results['ingest']['peak_mb'], results['validation']['peak_mb']):>8.0f} {both / bare['seconds']:>11.2f}"
        )


if __name__ == "__main__":
    main()
