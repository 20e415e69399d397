"""A full run against a run with nothing changed, and against a run after one source changed.

Usage: python bench/no_change_run.py [--firms 50000] [--briefs] [--out bench/out/no_change]

Generates the demo (as `make demo` does) into --out, then on one Dagster instance times:
1. `full`: every asset rebuilt (run_catalog(full=True), what `pedw run --full` does);
2. `no change`: the same catalog again, through Dagster (what `pedw run` does when the
   clean-run record cannot vouch; with it, `pedw run` answers without Dagster, timed by
   bench/pipeline.py's `no-change rerun` row);
3. `one source changed`: after rewriting the WDI country metadata with the same rows and
   new bytes, so only what depends on it (national marts, their models, the enterprise
   panel, the briefs, the warehouse) is rebuilt.
Prints seconds, assets run and the ratio to the full run.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import dagster as dg

import pedw  # noqa: F401  (telemetry off)
from pedw.demo.generate import generate_demo_data
from pedw.settings import resolve_settings
from pipelines.run import run_catalog


def _timed(label: str, settings, instance, briefs: bool, full: bool = False) -> float:
    started = time.perf_counter()
    summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=briefs, full=full)
    seconds = time.perf_counter() - started
    assert summary.success, summary.failures + summary.blocked
    ran = "all" if full else str(len(summary.rebuilt))
    print(
        f"{label:<20} {seconds:8.1f} s   assets run: {ran:>3}   unchanged: {len(summary.unchanged)}"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=50_000)
    parser.add_argument("--briefs", action="store_true", help="include the 40 country briefs")
    parser.add_argument("--out", type=Path, default=Path("bench/out/no_change"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    generate_demo_data(args.out / "demo", n_firms=args.firms)
    settings = resolve_settings(args.out / "demo" / "catalog.yml", args.out / "wh" / "pedw.duckdb")
    print(f"demo: {args.firms:,} firms; briefs {'on' if args.briefs else 'off'}")
    with dg.instance_for_test() as instance:
        full = _timed("full", settings, instance, args.briefs, full=True)
        unchanged = _timed("no change", settings, instance, args.briefs)
        metadata = args.out / "demo" / "wdi" / "Metadata_Country_demo.csv"
        metadata.write_bytes(metadata.read_bytes().replace(b"\r\n", b"\n"))
        changed = _timed("one source changed", settings, instance, args.briefs)
    print(
        f"ratio no change / full:          {unchanged / full:.3f} ({full / unchanged:.0f}x faster)"
    )
    print(f"ratio one source changed / full: {changed / full:.3f}")


if __name__ == "__main__":
    main()
