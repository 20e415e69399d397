"""Enterprise level: firm-year panels, partitioned by country (discovered from the files)."""

from __future__ import annotations

import dagster as dg

from assets.factories import raw_asset, referential_asset, source_asset, staged_asset
from pedw.datasets import dataset

enterprise_countries = dg.DynamicPartitionsDefinition(name="enterprise_country")

ENTERPRISE_SOURCES = [source_asset(dataset("enterprise_firms"))]
raw_enterprise_firms = raw_asset(dataset("enterprise_firms"))
enterprise_firms = staged_asset(dataset("enterprise_firms"), partitions_def=enterprise_countries)

# The country-partitioned assets; raw_enterprise_firms is read whole, once, before them.
ENTERPRISE_ASSETS = [enterprise_firms]
enterprise_firms_references = referential_asset(dataset("enterprise_firms"))
