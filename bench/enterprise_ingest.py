"""Enterprise ingest at scale: pedw's raw + contract-checked staging vs a bare DuckDB read.

Usage: python bench/enterprise_ingest.py [--rows 1000000 10000000] [--out bench/out]
                                         [--repeat 3] [--baseline ../pedw-main]

For each size it generates the demo enterprise panel (once, cached in --out), then runs each
step in a fresh subprocess and prints wall time, rows per second and peak memory (the
subprocess's own VmHWM), with ratios against `duckdb.read_csv` of the same file:

  bare read     duckdb.read_csv(file) into an in-memory table (the baseline)
  bare+parquet  the same read written to Parquet, one file per country: what any staging
                that persists its rows by country costs at least (the floor)
  ingest        pedw raw load: parse as text, provenance, write per-country Parquet files
  validation    contract row rules (types, ranges, codes, duplicates), staging + quarantine

Each step runs `--repeat` times, interleaved, and its median is shown: on a shared machine
one run of a one-second step says little. `--baseline` names another checkout of pedw (e.g.
a worktree of main) whose ingest and validation run in the same rounds, on their own store,
so a change is measured side by side with what it replaces.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

FIRM_YEARS_PER_FIRM = 8 * 0.95  # eight waves, 5% non-response

STEP = r"""
import json, sys, time
from pathlib import Path
step, csv_path, store_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
# Interpreter start and imports are not timed (about 0.1 s for duckdb, 2-4 s for pedw's
# stack on a cold cache): the figures compare the work itself.
if step in ("bare", "bare+parquet"):
    import shutil
    import duckdb
    target = store_dir / "bare_parquet"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if step == "bare":
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    else:
        rows = con.execute(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{target}' "
                           "(FORMAT parquet, PARTITION_BY (country))").fetchone()[0]
else:
    from pedw.catalog import Catalog, Source
    from pedw.raw import raw_partitions, write_raw
    from pedw.staging.contracted import stage_through_contract
    from pedw.store import Store
    started = time.perf_counter()
    source = Source(name="bench", level="enterprise", format="enterprise_csv", path=csv_path)
    catalog = Catalog(name="bench", path=Path(csv_path), sources=(source,))
    store = Store(store_dir)
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


STEPS = ("bare", "bare+parquet", "ingest", "validation")
CHECKED = ("ingest", "validation")  # the steps a baseline checkout runs too


def run_step(step: str, csv_path: Path, store: Path, code: Path | None = None) -> dict:
    """One step in a fresh interpreter; `code`: a checkout whose pedw is imported instead."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    output = subprocess.run(
        [sys.executable, "-c", STEP, step, str(csv_path), str(store)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(csv_path: Path, work: Path, repeat: int, baseline: Path | None) -> dict[str, dict]:
    """Median seconds and peak of each step over `repeat` interleaved rounds."""
    runs: dict[str, list[dict]] = {}
    for _ in range(repeat):
        for step in STEPS:
            runs.setdefault(step, []).append(run_step(step, csv_path, work / "store"))
            if baseline is not None and step in CHECKED:
                runs.setdefault(f"{step} (base)", []).append(
                    run_step(step, csv_path, work / "store_base", baseline)
                )
    return {
        step: {
            "rows": results[0]["rows"],
            "seconds": statistics.median(r["seconds"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results),
        }
        for step, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another pedw checkout, run beside")
    args = parser.parse_args()
    from pedw.demo.generate import generate_demo_data

    print(f"# median of {args.repeat} interleaved runs per step")
    print(
        f"{'firm-years':>11} {'step':<19} {'seconds':>8} {'rows/s':>12} {'peak MB':>8} "
        f"{'x bare time':>11} {'x bare mem':>10}"
    )
    for target in args.rows:
        work = args.out / f"enterprise_{target}"
        csv_path = work / "enterprise" / "firms.csv"
        if not csv_path.exists():
            started = time.perf_counter()
            generate_demo_data(work, n_firms=int(target / FIRM_YEARS_PER_FIRM), with_catalog=False)
            print(
                f"# generated {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB) in "
                f"{time.perf_counter() - started:.0f}s"
            )
        results = measure(csv_path, work, args.repeat, args.baseline)
        bare = results["bare"]
        for step, result in results.items():
            print(
                f"{result['rows']:>11,} {step:<19} {result['seconds']:>8.2f} "
                f"{result['rows'] / result['seconds']:>12,.0f} {result['peak_mb']:>8.0f} "
                f"{result['seconds'] / bare['seconds']:>11.2f} "
                f"{result['peak_mb'] / bare['peak_mb']:>10.2f}"
            )
        for suffix in ("", " (base)") if args.baseline else ("",):
            ingest, check = results[f"ingest{suffix}"], results[f"validation{suffix}"]
            both = ingest["seconds"] + check["seconds"]
            floor = results["bare+parquet"]["seconds"]
            print(
                f"{bare['rows']:>11,} {'ingest+val' + suffix:<19} {both:>8.2f} "
                f"{bare['rows'] / both:>12,.0f} {max(ingest['peak_mb'], check['peak_mb']):>8.0f} "
                f"{both / bare['seconds']:>11.2f}   ({both / floor:.2f}x bare+parquet)"
            )


if __name__ == "__main__":
    main()
