"""`pedw run --full` on the demo at several sizes: wall time and peak memory per stage, the
growth between sizes, beside a plain script (bench/plain_script.py) on the same files.

Usage: python bench/pipeline.py [--firms 10000 50000 200000] [--out bench/out/pipeline]

Each size gets its own demo (generated once) and warehouse. `pedw run --full` runs in a child
process on the project's persistent instance; its progress lines mark the stages and a
sampler reads the resident memory of its whole process tree (brief workers included) every
0.2 s. Then `pedw run` again with nothing changed, answered from the clean run's record, and
once more without the record (as after a touched source file), through Dagster; then with one
sales value of one firm changed (Dagster restages that country's partition alone), beside the
full run as a ratio. The plain script runs in a fresh interpreter too, so both pay their
imports.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from pedw.clean_run import record_path
from pedw.demo.generate import generate_demo_data
from pedw.settings import PROJECT_ROOT, resolve_settings

STAGE_START = re.compile(r"\[(\d)/\d\] ([a-z ]+?)(?: \([^)]*countries[^)]*\))?: \d+ assets")
STAGE_DONE = re.compile(r"\[(\d)/\d\] ([a-z ]+?)(?: \([^)]*countries[^)]*\))?: done in ([\d.]+)s")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants (Linux /proc)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(c) for c in children]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_measured(command: list[str], env: dict) -> tuple[float, dict[str, tuple[float, int]], str]:
    """Wall seconds of `command`, per stage (seconds, peak bytes), and its output."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env, cwd=PROJECT_ROOT)  # fmt: skip
    state = {"stage": "start-up", "peaks": {}}

    def sample() -> None:
        while child.poll() is None:
            stage = state["stage"]
            state["peaks"][stage] = max(state["peaks"].get(stage, 0), tree_rss(child.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    seconds: dict[str, float] = {}
    lines = []
    for line in child.stdout:
        lines.append(line)
        if found := STAGE_START.search(line):
            state["stage"] = found[2]
        elif found := STAGE_DONE.search(line):
            seconds[found[2]] = float(found[3])
            state["stage"] = "between stages"
    child.wait()
    sampler.join()
    wall = time.perf_counter() - started
    stages = {name: (seconds.get(name, 0.0), state["peaks"].get(name, 0)) for name in seconds}
    stages["whole run (wall)"] = (wall, max(state["peaks"].values(), default=0))
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{''.join(lines[-30:])}")
    return wall, stages, "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "out" / "pipeline")
    args = parser.parse_args()
    env = {**os.environ, "DAGSTER_HOME": str(PROJECT_ROOT)}
    env.pop("PEDW_DAGSTER_STORAGE", None)
    previous = None
    print(f"{'firms':>8} {'stage':<30} {'seconds':>8} {'peak MB':>8} {'x prev size':>11}")
    for firms in args.firms:
        demo = args.out / f"demo_{firms}"
        if not (demo / "catalog.yml").exists():
            generate_demo_data(demo, n_firms=firms)
        warehouse = args.out / f"wh_{firms}" / "pedw.duckdb"
        pedw = [sys.executable, "-m", "pipelines.cli", "run", "--full", "--catalog",
                str(demo / "catalog.yml"), "--warehouse", str(warehouse), "--log-level", "ERROR"]  # fmt: skip
        _wall, stages, _ = run_measured(pedw, env)
        rerun = [part for part in pedw if part != "--full"]
        stages["no-change rerun"] = run_measured(rerun, env)[1]["whole run (wall)"]
        # The same, through Dagster: as after a touched source file (the record is gone).
        record_path(resolve_settings(demo / "catalog.yml", warehouse)).unlink()
        stages["no-change, via Dagster"] = run_measured(rerun, env)[1]["whole run (wall)"]
        # One sales value of one firm-year of one country changed: only that country's
        # partition is restaged (then the pooled marts, models, briefs and the publication).
        firms_file = demo / "enterprise" / "firms.csv"
        original = firms_file.read_text()
        firms_file.write_text(_one_value_changed(original))
        try:
            stages["one firm value changed"] = run_measured(rerun, env)[1]["whole run (wall)"]
        finally:
            firms_file.write_text(original)
        plain_wall, plain, _ = run_measured(
            [sys.executable, str(PROJECT_ROOT / "bench" / "plain_script.py"), str(demo)], env
        )
        for name, (seconds, peak) in stages.items():
            growth = ""
            if previous and name in previous and previous[name][0] > 0:
                growth = f"{seconds / previous[name][0]:.1f}"
            print(f"{firms:>8,} {name:<30} {seconds:>8.1f} {peak / 2**20:>8.0f} {growth:>11}")
        plain_peak = plain["whole run (wall)"][1]
        print(f"{firms:>8,} {'plain script (DuckDB+pyfixest)':<30} {plain_wall:>8.1f} "
              f"{plain_peak / 2**20:>8.0f}")  # fmt: skip
        one_country = stages["one firm value changed"][0] / stages["whole run (wall)"][0]
        print(f"{firms:>8,} {'ratio one-firm change / full':<30} {one_country:>8.2f}")
        print(f"{firms:>8,} {'ratio pedw / plain script':<30} "
              f"{stages['whole run (wall)'][0] / plain_wall:>8.1f}", flush=True)  # fmt: skip
        previous = stages


def _one_value_changed(csv_text: str) -> str:
    """The firm file with the sales of its first firm-year raised by one (no line moves)."""
    header, first, rest = csv_text.split("\n", 2)
    fields = first.split(",")
    fields[5] = str(int(fields[5]) + 1)
    return "\n".join([header, ",".join(fields), rest])


if __name__ == "__main__":
    main()
