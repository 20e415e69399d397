"""The one resource every pedw asset uses (the bottom of `assets/`: it imports no asset).

It holds the run's settings: which catalog, which warehouse, the machine knobs and the
disclosure rule. Empty fields are resolved by :func:`pedw.settings.resolve_settings` (the
environment, then defaults) when a step runs, never at import.
"""

from __future__ import annotations

import dagster as dg

from pedw.briefs.disclosure import DisclosureRule
from pedw.catalog import Catalog, load_catalog
from pedw.settings import Settings, resolve_settings
from pedw.store import Store


class PedwResource(dg.ConfigurableResource):
    """Settings of a run, handed to every asset."""

    catalog: str = ""
    warehouse: str = ""
    duckdb_memory_limit: str = ""
    brief_workers: int = 0
    disclosure_min_firms: int = 10
    disclosure_dominance_k: float = 0.85

    def settings(self) -> Settings:
        return resolve_settings(
            self.catalog or None,
            self.warehouse or None,
            self.duckdb_memory_limit or None,
            self.brief_workers or None,
        )

    def store(self) -> Store:
        settings = self.settings()
        return Store(settings.store_dir, settings.duckdb_memory_limit)

    def load_catalog(self) -> Catalog:
        return load_catalog(self.settings().catalog_path)

    def disclosure_rule(self) -> DisclosureRule:
        return DisclosureRule(
            min_firms=self.disclosure_min_firms, dominance_k=self.disclosure_dominance_k
        )
