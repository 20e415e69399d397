"""The one resource every pedw asset uses: which catalog, which warehouse, which store."""

from __future__ import annotations

import dagster as dg

from pedw.briefs.disclosure import DisclosureRule
from pedw.catalog import Catalog, load_catalog
from pedw.settings import Settings, resolve_settings
from pedw.store import Store


class PedwResource(dg.ConfigurableResource):
    """Paths of a run. Empty fields fall back to PEDW_CATALOG / PEDW_WAREHOUSE, then defaults.

    Resolution happens when a step runs (never at import), in :func:`pedw.settings.resolve_settings`.
    """

    catalog: str = ""
    warehouse: str = ""
    disclosure_min_firms: int = 10
    disclosure_dominance_k: float = 0.85

    def settings(self) -> Settings:
        return resolve_settings(self.catalog or None, self.warehouse or None)

    def store(self) -> Store:
        return Store(self.settings().store_dir)

    def load_catalog(self) -> Catalog:
        return load_catalog(self.settings().catalog_path)

    def disclosure_rule(self) -> DisclosureRule:
        return DisclosureRule(
            min_firms=self.disclosure_min_firms, dominance_k=self.disclosure_dominance_k
        )
