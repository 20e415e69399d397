"""The one resource every pedw asset uses (the bottom of `assets/`: it imports no asset).

It holds the run's settings: which catalog, which warehouse, the machine knobs and the
disclosure rule. Empty fields are resolved by :func:`pedw.settings.resolve_settings` (the
environment, then defaults) when a step runs, never at import.
"""

from __future__ import annotations

import functools

import dagster as dg

from pedw.catalog import Catalog, load_catalog
from pedw.child_process import die_with_parent
from pedw.disclosure.rules import DisclosureRule
from pedw.settings import Settings, resolve_settings
from pedw.store import Store

SETTING_FIELDS = ("catalog", "warehouse", "duckdb_memory_limit", "brief_workers",
                  "step_processes", "automation", "executor", "public_dir", "webserver")  # fmt: skip


@functools.cache
def _settings(config: tuple[tuple[str, object], ...]) -> Settings:
    """One Settings object per configuration and process."""
    return Settings.from_config(dict(config))


class PedwResource(dg.ConfigurableResource):
    """Settings of a run, handed to every asset: resolved once, where the run starts (`pedw
    run`, or the code location the UI loads), and passed down whole (Settings.to_config)."""

    catalog: str = ""
    warehouse: str = ""
    duckdb_memory_limit: str = ""
    brief_workers: int = 0
    step_processes: int = 0
    automation: bool = False
    executor: str = ""
    public_dir: str = ""
    webserver: str = ""
    # The disclosure rule (pedw.disclosure.rules; docs/disclosure.md): set in the launchpad's
    # resource config, or left at the defaults statistical offices commonly use.
    disclosure_min_contributors: int = DisclosureRule.min_contributors
    disclosure_dominance_n: int = DisclosureRule.dominance_n
    disclosure_dominance_k: float = DisclosureRule.dominance_k
    disclosure_p_percent: float = 0.0  # 0: the p% rule is off
    disclosure_min_treated: int = DisclosureRule.min_treated
    disclosure_min_control: int = DisclosureRule.min_control
    disclosure_min_countries: int = DisclosureRule.min_countries
    disclosure_protection: float = DisclosureRule.protection

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """In a step process that a run started, end with it (a killed run leaves no step
        writing behind it)."""
        die_with_parent()

    def settings(self) -> Settings:
        """The run's settings, from this resource's config alone (the environment is read
        only when a resource was made without a catalog and warehouse)."""
        if not (self.catalog and self.warehouse):
            return resolve_settings(
                self.catalog or None,
                self.warehouse or None,
                self.duckdb_memory_limit or None,
                self.brief_workers or None,
            )
        return _settings(tuple(sorted(self.model_dump(include=set(SETTING_FIELDS)).items())))

    def store(self) -> Store:
        settings = self.settings()
        return Store(settings.store_dir, settings.duckdb_memory_limit)

    def load_catalog(self) -> Catalog:
        return load_catalog(self.settings().catalog_path)

    def disclosure_rule(self) -> DisclosureRule:
        return DisclosureRule(
            min_contributors=self.disclosure_min_contributors,
            dominance_n=self.disclosure_dominance_n,
            dominance_k=self.disclosure_dominance_k,
            p_percent=self.disclosure_p_percent or None,
            min_treated=self.disclosure_min_treated,
            min_control=self.disclosure_min_control,
            min_countries=self.disclosure_min_countries,
            protection=self.disclosure_protection,
        )
