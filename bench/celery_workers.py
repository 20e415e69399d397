"""The enterprise stage on the deployment profile with 1 and with 2 Celery workers.

Usage: python bench/celery_workers.py [--firms 20000] [--out bench/out/celery]

Starts the profile's services on loopback (pedw/local_services.py: PostgreSQL, Redis, the
daemon, N workers), runs `pedw run` through them on the same demo files, and prints each
stage's wall time (from `pedw run`'s progress lines), the enterprise stage's ratio between 1
and 2 workers, and the per-country cost that docs/deployment.md scales up from. Needs root
(PostgreSQL runs as the postgres user), postgresql and redis-server.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pedw  # noqa: F401  (telemetry off)
from pedw import local_services
from pedw.demo.generate import generate_demo_data
from pedw.settings import PROJECT_ROOT

STAGE = re.compile(r"\[(\d)/\d\] ([a-z ]+?)(?: \((\d+) countries\))?: done in ([\d.]+)s")


def run_with(workers: int, demo: Path, out: Path) -> dict[str, float]:
    local = local_services
    root = out / f"workers_{workers}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env, handles = local.start_profile(root, demo / "catalog.yml", root / "wh" / "pedw.duckdb",
                                       workers)  # fmt: skip
    try:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--log-level",
                               "ERROR"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                              text=True, check=True)  # fmt: skip
        total = time.perf_counter() - started
    finally:
        local.stop_profile(handles)
    stages = {m.group(2): float(m.group(4)) for m in STAGE.finditer(done.stdout)}
    return {**stages, "total (with start-up)": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "out" / "celery")
    args = parser.parse_args()
    reason = local_services.missing_services()
    if reason:
        raise SystemExit(f"bench: {reason}")
    demo = args.out / "demo"
    shutil.rmtree(demo, ignore_errors=True)
    truth = generate_demo_data(demo, n_firms=args.firms)
    firm_years = truth["realised"]["firm_years"]
    results = {n: run_with(n, demo, args.out) for n in (1, 2)}
    print(f"{args.firms:,} firms, {firm_years:,} firm-years, 40 countries (2-core machine)")
    print(f"{'stage':<32}{'1 worker':>12}{'2 workers':>12}{'ratio':>8}")
    for stage in results[1]:
        one, two = results[1][stage], results[2].get(stage, float("nan"))
        print(f"{stage:<32}{one:>11.1f}s{two:>11.1f}s{one / two:>8.2f}")
    enterprise = results[1]["enterprise partitions"]
    print(f"enterprise stage, 1 worker: {enterprise / 40:.2f} s per country "
          f"({enterprise / firm_years * 1e6:.1f} s per million firm-years)")  # fmt: skip


if __name__ == "__main__":
    main()
