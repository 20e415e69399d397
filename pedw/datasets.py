"""The datasets pedw loads: one row each, from which the raw and staged assets are built.

Adding a dataset touches its contract (data_contracts/), one row here and the formats that
feed it (pedw.formats, each with its loader in pedw/sources/). A catalog entry is routed to
the dataset of its level whose formats include the entry's format; an entry no dataset reads
is an error (pedw.catalog._check_routing). The warehouse docs of its raw and staged tables
follow from the row and the contract (pedw.warehouse_docs).
"""

from __future__ import annotations

from dataclasses import dataclass

from pedw.formats import formats_of


@dataclass(frozen=True)
class Dataset:
    """One raw table and the staged table its contract makes of it."""

    name: str  # raw.<name>
    level: str  # national, sector or enterprise (also the Dagster group)
    contract: str  # data_contracts/<contract>.yml
    staged: str  # staging.<staged>
    raw_description: str  # the table's text: Dagster asset, COMMENT ON, data dictionary
    staged_description: str
    partitioned: bool = False  # raw stored by country; staged as country partitions

    @property
    def formats(self) -> tuple[str, ...]:
        """Catalog formats whose sources feed it (pedw.formats)."""
        return formats_of(self.name)


DATASETS: tuple[Dataset, ...] = (
    Dataset("national_observations", "national", "ilostat_observations", "national_observations",
            "Country-year observations (ILOSTAT, WDI) exactly as published (text), one "
            "row per published value, with file and line, before any contract check.",
            "National observations that passed the ilostat_observations contract, "
            "typed, with canonical codes."),
    Dataset("pwt", "national", "pwt_drivers", "pwt_drivers",
            "Penn World Table rows as published (text).",
            "Typed Penn World Table driver series that passed the pwt_drivers contract."),
    Dataset("country_metadata", "national", "country_metadata", "country_metadata",
            "World Bank country metadata rows (region, income group) as published (text).",
            "Region and income group of each economy (World Bank; aggregates kept "
            "apart), checked by the country_metadata contract."),
    Dataset("sector_observations", "sector", "ilostat_observations", "sector_observations",
            "Observations by economic activity (ILOSTAT, GGDC) exactly as published "
            "(text), with file and line, before any contract check.",
            "Sector observations that passed the ilostat_observations contract, typed, "
            "with canonical codes."),
    Dataset("enterprise_firms", "enterprise", "enterprise_firms", "enterprise_firms",
            "Firm-year rows as published (text), stored one file per country code found in "
            "the files (those countries are the partitions of staging.enterprise_firms). "
            "Microdata.",
            "Typed firm-year rows that passed the enterprise_firms contract, by "
            "country. Microdata.",
            partitioned=True),
    Dataset("score_monitoring", "enterprise", "score_monitoring", "score_monitoring",
            "SCORE monitoring workbooks as published: one row per enterprise, module "
            "and KPI pair (text), with the spreadsheet row.",
            "Typed SCORE KPIs (baseline, follow-up) that passed the score_monitoring contract."),
)  # fmt: skip


def dataset(name: str) -> Dataset:
    return next(d for d in DATASETS if d.name == name)


def dataset_for(level: str, fmt: str) -> Dataset | None:
    """The dataset a catalog entry of `level` in format `fmt` feeds, if any."""
    return next((d for d in DATASETS if d.level == level and fmt in d.formats), None)
