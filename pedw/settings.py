"""Where things live: the one place that resolves paths and environment differences.

Nothing here runs at import time; callers ask for :func:`resolve_settings` when they
need it, so a test can point a run at a temporary warehouse without touching globals.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = PROJECT_ROOT / "catalogs" / "demo.yml"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "pedw.duckdb"


DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
DEFAULT_WEBSERVER = "127.0.0.1:3000"  # where `dagster dev` and `pedw ui` listen by default
# `pedw query`: a query stops after this long; --csv writes at most this many rows.
QUERY_TIMEOUT_SECONDS = 300.0
QUERY_ROW_CAP = 1_000_000


@dataclass(frozen=True)
class Settings:
    """Paths one pipeline run reads and writes, and the two machine knobs.

    `duckdb_memory_limit` caps DuckDB in raw loads and contract checks (beyond it, DuckDB
    spills to the store's `_spill` folder); `brief_workers` is the number of processes that
    build briefs (None: one per available core); `step_processes` is how many steps of a
    stage `pedw run` executes at once (None: one per two available cores; 1: one after another
    in its own process).
    """

    catalog_path: Path
    warehouse_path: Path
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    brief_workers: int | None = None
    step_processes: int | None = None
    automation: bool = False  # the Dagster automation sensor starts on (deployment profile)
    executor: str = "multiprocess"  # how launched runs execute steps: multiprocess or celery
    public_root: Path | None = None  # PEDW_PUBLIC_DIR; None: see public_dir
    # host:port of the Dagster webserver `pedw run --launch` submits runs to (PEDW_WEBSERVER)
    webserver: str = DEFAULT_WEBSERVER

    def to_config(self) -> dict[str, str | int | bool]:
        """Every setting as plain values: the `pedw` resource's config in a run, so each step
        gets the run's settings whole and never reads an environment (which may name another
        warehouse) again."""
        return {
            "catalog": str(self.catalog_path),
            "warehouse": str(self.warehouse_path),
            "duckdb_memory_limit": self.duckdb_memory_limit,
            "brief_workers": self.brief_workers or 0,
            "step_processes": self.step_processes or 0,
            "automation": self.automation,
            "executor": self.executor,
            "public_dir": str(self.public_root) if self.public_root else "",
            "webserver": self.webserver,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, str | int | bool]) -> Settings:
        """The settings `to_config` handed down (0 and "" stand for unset)."""
        return cls(
            catalog_path=Path(str(config["catalog"])),
            warehouse_path=Path(str(config["warehouse"])),
            duckdb_memory_limit=str(
                config.get("duckdb_memory_limit") or DEFAULT_DUCKDB_MEMORY_LIMIT
            ),
            brief_workers=int(config.get("brief_workers") or 0) or None,
            step_processes=int(config.get("step_processes") or 0) or None,
            automation=bool(config.get("automation", False)),
            executor=str(config.get("executor") or "multiprocess"),
            public_root=Path(str(config["public_dir"])) if config.get("public_dir") else None,
            webserver=str(config.get("webserver") or DEFAULT_WEBSERVER),
        )

    @property
    def public_dir(self) -> Path:
        """The public release area (briefs, chart data, the public extract): never inside the
        warehouse folder with the microdata; `<folder>_public/<stem>/` unless set."""
        folder = self.warehouse_path.parent
        return (
            self.public_root or folder.with_name(f"{folder.name}_public") / self.warehouse_path.stem
        )

    @property
    def public_seal(self) -> Path:
        """The seal of the public extract (pedw.seal), kept beside the internal warehouse:
        nothing but the release itself may be in the public folder."""
        return self.warehouse_path.parent / f".{self.warehouse_path.stem}_public.duckdb.seal"

    @property
    def store_dir(self) -> Path:
        """Parquet working store the assets write to; the published DuckDB file is built from it."""
        return self.warehouse_path.parent / f"{self.warehouse_path.stem}_store"

    @property
    def snapshots_dir(self) -> Path:
        """Where sources fetched from a URL are kept, one folder per URL (pedw.sources.fetch)."""
        return self.warehouse_path.parent / "snapshots"

    @property
    def briefs_dir(self) -> Path:
        """Where readers find the published HTML and PDF briefs (a symlink into the current
        release, pedw.release)."""
        return self.warehouse_path.parent / "briefs"

    @property
    def releases_dir(self) -> Path:
        """Every kept publication, one folder each (pedw.release)."""
        return self.warehouse_path.parent / f"{self.warehouse_path.stem}_releases"

    @property
    def current_link(self) -> Path:
        """The symlink naming the current publication's folder (switched by one rename)."""
        return self.warehouse_path.parent / f"{self.warehouse_path.stem}_current"

    @property
    def briefs_build_dir(self) -> Path:
        """Where the briefs asset writes briefs; publication links them into a release."""
        return self.store_dir / "_briefs"

    @property
    def dagster_storage(self) -> Path:
        """The local Dagster instance's history for this warehouse (runs, versions, schedules):
        one per warehouse, so two warehouses of a checkout never vouch for each other."""
        return self.warehouse_path.parent / f".{self.warehouse_path.stem}_dagster"


# Every variable pedw, its deployment profile and its tests read: any other PEDW_* name is a
# slip (`pedw` warns about it by name, with the nearest of these).
KNOWN_ENVIRONMENT = (
    "PEDW_AUTOMATION",
    "PEDW_BRIEF_WORKERS",
    "PEDW_CATALOG",
    "PEDW_CELERY_BACKEND",
    "PEDW_CELERY_BROKER",
    "PEDW_DAGSTER_STORAGE",
    "PEDW_DEBUG",
    "PEDW_DUCKDB_MEMORY_LIMIT",
    "PEDW_EXECUTOR",
    "PEDW_POSTGRES_URL",
    "PEDW_PUBLIC_DIR",
    "PEDW_STEP_PROCESSES",
    "PEDW_TEST_SEED",
    "PEDW_WAREHOUSE",
    "PEDW_WEBSERVER",
)
EXECUTORS = ("multiprocess", "celery")


class SettingsError(ValueError):
    """A configuration value pedw cannot use; the message names the variable and its value."""


def unknown_environment(environ: Mapping[str, str]) -> list[str]:
    """One line per PEDW_* variable pedw does not know, with the nearest known name."""
    lines = []
    for name in sorted(n for n in environ if n.startswith("PEDW_") and n not in KNOWN_ENVIRONMENT):
        # Compared without the shared prefix, which would make every name look near.
        near = difflib.get_close_matches(name[5:], [k[5:] for k in KNOWN_ENVIRONMENT], n=1)
        hint = f" (did you mean PEDW_{near[0]}?)" if near else ""
        lines.append(f"unknown environment variable {name} ignored{hint}")
    return lines


def _whole_number(name: str, value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise SettingsError(f"{name}={value}: must be a whole number of at least 1 (e.g. {name}=2)")
    return number


def resolve_settings(
    catalog: str | os.PathLike | None = None,
    warehouse: str | os.PathLike | None = None,
    duckdb_memory_limit: str | None = None,
    brief_workers: int | None = None,
) -> Settings:
    """Explicit arguments win, then the environment (PEDW_CATALOG, PEDW_WAREHOUSE,
    PEDW_DUCKDB_MEMORY_LIMIT, PEDW_BRIEF_WORKERS, PEDW_STEP_PROCESSES, PEDW_AUTOMATION,
    PEDW_EXECUTOR, PEDW_PUBLIC_DIR, PEDW_WEBSERVER), then the embedded defaults.

    The only place pedw reads its environment: everything else is handed these settings.
    """
    catalog_path = Path(catalog or os.environ.get("PEDW_CATALOG") or DEFAULT_CATALOG)
    warehouse_path = Path(warehouse or os.environ.get("PEDW_WAREHOUSE") or DEFAULT_WAREHOUSE)
    workers = brief_workers or os.environ.get("PEDW_BRIEF_WORKERS")
    steps = os.environ.get("PEDW_STEP_PROCESSES")
    executor = os.environ.get("PEDW_EXECUTOR") or "multiprocess"
    if executor not in EXECUTORS:
        raise SettingsError(f"PEDW_EXECUTOR={executor}: must be one of {', '.join(EXECUTORS)}")
    return Settings(
        catalog_path=catalog_path.resolve(),
        # The folder is resolved, not the file: the warehouse path is a symlink into the
        # current release (pedw.release), and every other path hangs off its folder.
        warehouse_path=warehouse_path.expanduser().absolute().parent.resolve()
        / warehouse_path.name,
        duckdb_memory_limit=duckdb_memory_limit
        or os.environ.get("PEDW_DUCKDB_MEMORY_LIMIT")
        or DEFAULT_DUCKDB_MEMORY_LIMIT,
        brief_workers=_whole_number("PEDW_BRIEF_WORKERS", workers),
        step_processes=_whole_number("PEDW_STEP_PROCESSES", steps),
        automation=os.environ.get("PEDW_AUTOMATION", "").lower() in ("1", "on", "true", "yes"),
        executor=executor,
        public_root=Path(os.environ["PEDW_PUBLIC_DIR"]).absolute()
        if os.environ.get("PEDW_PUBLIC_DIR")
        else None,
        webserver=os.environ.get("PEDW_WEBSERVER") or DEFAULT_WEBSERVER,
    )


def configure_dagster_home(settings: Settings | None = None) -> Path:
    """Point Dagster at the project's dagster.yaml (unless DAGSTER_HOME names another, e.g. a
    deployment's) and keep the history of `settings`' warehouse in a folder of its own."""
    storage = (settings or resolve_settings()).dagster_storage
    storage.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    # The project's dagster.yaml keeps history there; a deployment's shares its own folder.
    os.environ.setdefault("PEDW_DAGSTER_STORAGE", str(storage))
    home = Path(os.environ["DAGSTER_HOME"])
    # An instance folder without a dagster.yaml would take Dagster's default, telemetry on:
    # it logs usage events there (DAGSTER_DISABLE_TELEMETRY stops only their upload). The
    # file Dagster asks for to opt out is written; one that exists is the user's own.
    config = home / "dagster.yaml"
    if home.is_dir() and not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home
