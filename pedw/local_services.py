"""The deployment profile's services on one machine, on loopback: PostgreSQL, Redis, the
Dagster daemon and webserver and Celery workers, each a real process (tests/test_deployment.py and
bench/celery_workers.py start them; a production deployment runs them as system services).

    python -m pedw.local_services --workers 2   # start them, print the environment, wait
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pedw.settings import PROJECT_ROOT

POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


def missing_services() -> str | None:
    """Why the deployment test cannot run here, or None."""
    if not POSTGRES_BIN:
        return "PostgreSQL is not installed (.ci/run installs Debian's postgresql)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (.ci/run installs Debian's redis-server)"
    if os.geteuid() != 0:
        return "PostgreSQL's initdb must run as the postgres user: the test needs root"
    return None


class Postgres:
    """A throwaway cluster owned by the postgres user, listening on loopback only, in a
    folder of its own (pytest's temporary folders are closed to other users)."""

    def __init__(self):
        self.folder, self.port = Path(tempfile.mkdtemp(prefix="pedw-postgres-")), free_port()
        self.bin = POSTGRES_BIN[-1]

    def _as_postgres(self, *command: str, check: bool = True) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=check,
                       capture_output=True, timeout=120)  # fmt: skip

    def start(self) -> str:
        self.folder.chmod(0o755)
        shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        self._as_postgres(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "pedw")
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"), "-w",
            "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start",
        )  # fmt: skip
        self._as_postgres(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", "pedw", "dagster")  # fmt: skip
        return f"postgresql+psycopg2://pedw@127.0.0.1:{self.port}/dagster"

    def stop(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                              "immediate", "stop", check=False)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def start_process(command: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd,
                            start_new_session=True)  # fmt: skip


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


def start_profile(root: Path, catalog: Path, warehouse: Path, workers: int) -> tuple[dict, list]:
    """PostgreSQL, Redis, `workers` Celery workers, the daemon and the webserver for `catalog` and
    `warehouse`; returns the environment every pedw process of the profile needs and the
    handles to stop (`stop_profile`)."""
    project = PROJECT_ROOT
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(project / "deploy" / "dagster.yaml", home / "dagster.yaml")
    postgres = Postgres()
    handles: list = [postgres]
    try:
        url = postgres.start()
        redis_port = free_port()
        handles.append(start_process(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], dict(os.environ), root / "redis.log", root,
        ))  # fmt: skip
        wait_for_port(redis_port)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "PEDW_POSTGRES_URL": url,
            "PEDW_CELERY_BROKER": f"redis://127.0.0.1:{redis_port}/0",
            "PEDW_CELERY_BACKEND": f"redis://127.0.0.1:{redis_port}/1",
            "PEDW_EXECUTOR": "celery",
            "PEDW_CATALOG": str(catalog),
            "PEDW_WAREHOUSE": str(warehouse),
            "PEDW_DAGSTER_STORAGE": str(root / "shared"),
            "PYTHONPATH": str(project / "deploy"),
        }
        for number in range(1, workers + 1):
            # Solo pool: the worker runs each step itself, so a step may start processes.
            handles.append(start_process(
                [str(BIN / "celery"), "-A", "dagster_celery.app", "worker", "-n",
                 f"w{number}@%h", "--pool", "solo", "--prefetch-multiplier", "1",
                 "-Q", "dagster", "-l", "INFO"], env, root / f"w{number}.log", project,
            ))  # fmt: skip
        handles.append(start_process(
            [str(BIN / "dagster-daemon"), "run", "-w", str(project / "deploy" / "workspace.yaml")],
            env, root / "daemon.log", project,
        ))  # fmt: skip
        # `pedw run` submits its runs through the webserver (pipelines.launch).
        web_port = free_port()
        env["PEDW_WEBSERVER"] = f"127.0.0.1:{web_port}"
        handles.append(start_process(
            [str(BIN / "dagster-webserver"), "-w", str(project / "deploy" / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(web_port)], env, root / "webserver.log", project,
        ))  # fmt: skip
        wait_for_port(web_port, seconds=180)
    except BaseException:
        stop_profile(handles)
        raise
    return env, handles


def stop_profile(handles: list) -> None:
    for handle in reversed(handles):
        if isinstance(handle, Postgres):
            handle.stop()
        else:
            stop_process(handle)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--catalog", default="catalogs/demo.yml")
    parser.add_argument("--warehouse", default="warehouse/pedw.duckdb")
    parser.add_argument("--root", default=tempfile.mkdtemp(prefix="pedw-profile-"))
    args = parser.parse_args()
    reason = missing_services()
    if reason:
        raise SystemExit(f"pedw: {reason}")
    env, handles = start_profile(Path(args.root), Path(args.catalog).resolve(),
                                 Path(args.warehouse).absolute(), args.workers)  # fmt: skip
    keys = [k for k in env if k.startswith("PEDW_") or k in ("DAGSTER_HOME", "PYTHONPATH")]
    print("\n".join(f"export {k}={env[k]}" for k in keys))
    print("# then: pedw run   (Ctrl-C here stops the services)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop_profile(handles)


if __name__ == "__main__":
    main()
