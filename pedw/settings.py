"""Where things live: the one place that resolves paths and environment differences.

Nothing here runs at import time; callers ask for :func:`resolve_settings` when they
need it, so a test can point a run at a temporary warehouse without touching globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = PROJECT_ROOT / "catalogs" / "demo.yml"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "pedw.duckdb"
DAGSTER_STORAGE = PROJECT_ROOT / ".dagster_home"


@dataclass(frozen=True)
class Settings:
    """Paths one pipeline run reads and writes."""

    catalog_path: Path
    warehouse_path: Path

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
        """Where HTML and PDF policy briefs are written."""
        return self.warehouse_path.parent / "briefs"


def resolve_settings(
    catalog: str | os.PathLike | None = None, warehouse: str | os.PathLike | None = None
) -> Settings:
    """Explicit arguments win, then PEDW_CATALOG / PEDW_WAREHOUSE, then the embedded default."""
    catalog_path = Path(catalog or os.environ.get("PEDW_CATALOG") or DEFAULT_CATALOG)
    warehouse_path = Path(warehouse or os.environ.get("PEDW_WAREHOUSE") or DEFAULT_WAREHOUSE)
    return Settings(catalog_path=catalog_path.resolve(), warehouse_path=warehouse_path.resolve())


def configure_dagster_home() -> Path:
    """Point Dagster at the project's dagster.yaml and its git-ignored storage folder."""
    DAGSTER_STORAGE.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.environ.setdefault("PEDW_DAGSTER_STORAGE", str(DAGSTER_STORAGE))
    return Path(os.environ["DAGSTER_HOME"])
