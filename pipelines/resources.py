"""The one resource every pedw asset uses: which catalog, which warehouse, which store."""

from __future__ import annotations

import dagster as dg

from assets.versioning import VersionPlan, stamp_data_version
from pedw.briefs.disclosure import DisclosureRule
from pedw.catalog import Catalog, load_catalog
from pedw.settings import Settings, resolve_settings
from pedw.store import Store
from pedw.versions import combine


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

    def version_plan(self, instance: dg.DagsterInstance) -> VersionPlan:
        """Logical versions of every asset for this resource's catalog, warehouse and settings."""
        from pipelines.definitions import ALL_ASSETS  # the graph imports this module

        return VersionPlan(
            ALL_ASSETS,
            self.settings(),
            self.load_catalog(),
            instance,
            settings_digest=combine(self.disclosure_min_firms, self.disclosure_dominance_k),
        )

    def stamp(self, context: dg.AssetExecutionContext) -> str:
        """Record the running asset's logical version as its Dagster data version."""
        return stamp_data_version(context, self.version_plan(context.instance))

    def disclosure_rule(self) -> DisclosureRule:
        return DisclosureRule(
            min_firms=self.disclosure_min_firms, dominance_k=self.disclosure_dominance_k
        )
