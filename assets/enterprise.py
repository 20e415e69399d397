"""Enterprise level: firm-year panels, partitioned by country (discovered from the files)."""

from __future__ import annotations

import dagster as dg

from assets.factories import raw_asset, staged_asset
from pedw.sources.registry import ENTERPRISE_FORMATS

enterprise_countries = dg.DynamicPartitionsDefinition(name="enterprise_country")

raw_enterprise_firms = raw_asset(
    "enterprise_firms",
    "enterprise",
    ENTERPRISE_FORMATS,
    "Firm-year rows as published (text), stored one file per country code found in the files "
    "(those countries are the partitions of staging.enterprise_firms).",
    by_country=True,
)
enterprise_firms = staged_asset(
    "enterprise_firms",
    "enterprise_firms",
    "enterprise_firms",
    "enterprise",
    "Typed firm-year rows that passed the enterprise_firms contract, by country.",
    partitions_def=enterprise_countries,
)

# The country-partitioned assets; raw_enterprise_firms is read whole, once, before them.
ENTERPRISE_ASSETS = [enterprise_firms]
