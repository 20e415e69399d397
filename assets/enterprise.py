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
    "Firm-year rows as published (text), one partition per country code found in the files.",
    partitions_def=enterprise_countries,
)
enterprise_firms = staged_asset(
    "enterprise_firms",
    "enterprise_firms",
    "enterprise_firms",
    "enterprise",
    "Typed firm-year rows that passed the enterprise_firms contract, by country.",
    partitions_def=enterprise_countries,
)

ENTERPRISE_ASSETS = [raw_enterprise_firms, enterprise_firms]
