"""The datasets pedw loads: one row each, from which the raw and staged assets are built.

Adding a dataset touches its loader (pedw/sources/), its contract (data_contracts/) and one
row here. A catalog entry is routed to the dataset of its level whose formats include the
entry's format; an entry no dataset reads is an error (pedw.catalog.check_routing).
"""

from __future__ import annotations

from dataclasses import dataclass

OBSERVATION_FORMATS = ("ilostat_csv", "ilostat_excel", "ilostat_sdmx", "wdi", "ggdc_etd",
                       "ggdc_10sd")  # fmt: skip
ENTERPRISE_FORMATS = ("enterprise_csv", "enterprise_survey")

# The `options:` each format reads (a catalog entry naming another is refused). `fetch` is
# read for every URL source; `read` holds the text reader's options.
READ_OPTIONS = ("skip_rows", "delimiter", "encoding")
FORMAT_OPTIONS: dict[str, tuple[str, ...]] = {
    "ilostat_csv": ("read", "indicator"),
    "ilostat_excel": ("sheet", "indicator"),
    "ilostat_sdmx": ("structure", "indicator"),
    "wdi": ("read", "skip_rows"),
    "wdi_country_metadata": ("read",),
    "pwt": ("read", "sheet", "price_year"),
    "ggdc_etd": ("sheet",),
    "ggdc_10sd": ("read", "sheet"),
    "enterprise_csv": ("read",),
    "enterprise_survey": ("variables", "weight"),
    "score_monitoring": ("enterprises_sheet", "kpis_sheet"),
}

# Who publishes each format, as a source line under a figure names it (publisher, dataset);
# a catalog entry's `publisher:` overrides it (a national office's file in ILOSTAT layout).
FORMAT_PUBLISHERS: dict[str, tuple[str, str]] = {
    "ilostat_csv": ("ILO", "ILOSTAT"),
    "ilostat_excel": ("ILO", "ILOSTAT"),
    "ilostat_sdmx": ("ILO", "ILOSTAT"),
    "wdi": ("World Bank", "World Development Indicators"),
    "wdi_country_metadata": ("World Bank", "World Development Indicators"),
    "pwt": ("Groningen Growth and Development Centre", "Penn World Table"),
    "ggdc_etd": ("GGDC and UNU-WIDER", "Economic Transformation Database"),
    "ggdc_10sd": ("Groningen Growth and Development Centre", "GGDC 10-Sector Database"),
    "enterprise_csv": ("", "enterprise survey"),
    "enterprise_survey": ("", "enterprise survey"),
    "score_monitoring": ("ILO", "SCORE monitoring data"),
}


@dataclass(frozen=True)
class Dataset:
    """One raw table and the staged table its contract makes of it."""

    name: str  # raw.<name>
    level: str  # national, sector or enterprise (also the Dagster group)
    formats: tuple[str, ...]  # catalog formats whose sources feed it
    contract: str  # data_contracts/<contract>.yml
    staged: str  # staging.<staged>
    raw_description: str
    staged_description: str
    partitioned: bool = False  # raw stored by country; staged as country partitions


DATASETS: tuple[Dataset, ...] = (
    Dataset("national_observations", "national", OBSERVATION_FORMATS, "ilostat_observations",
            "national_observations",
            "Country-year observations (ILOSTAT, WDI) exactly as published (text), one row per "
            "published value, with file and line.",
            "Typed national observations that passed the ilostat_observations contract."),
    Dataset("pwt", "national", ("pwt",), "pwt_drivers", "pwt_drivers",
            "Penn World Table rows as published (text).",
            "Typed Penn World Table driver series that passed their contract."),
    Dataset("country_metadata", "national", ("wdi_country_metadata",), "country_metadata",
            "country_metadata",
            "World Bank country metadata (region, income group) as published.",
            "Economy region and income group (aggregates kept apart)."),
    Dataset("sector_observations", "sector", OBSERVATION_FORMATS, "ilostat_observations",
            "sector_observations",
            "Observations by economic activity (ILOSTAT, GGDC ETD) exactly as published (text), "
            "with file and line.",
            "Typed sector observations that passed the ilostat_observations contract."),
    Dataset("enterprise_firms", "enterprise", ENTERPRISE_FORMATS, "enterprise_firms",
            "enterprise_firms",
            "Firm-year rows as published (text), stored one file per country code found in the "
            "files (those countries are the partitions of staging.enterprise_firms).",
            "Typed firm-year rows that passed the enterprise_firms contract, by country.",
            partitioned=True),
    Dataset("score_monitoring", "enterprise", ("score_monitoring",), "score_monitoring",
            "score_monitoring",
            "SCORE monitoring workbooks as published: one row per enterprise, module and KPI "
            "pair (text), with the spreadsheet row.",
            "Typed SCORE KPIs (baseline, follow-up) that passed the score_monitoring contract."),
)  # fmt: skip


def dataset(name: str) -> Dataset:
    return next(d for d in DATASETS if d.name == name)


def dataset_for(level: str, fmt: str) -> Dataset | None:
    """The dataset a catalog entry of `level` in format `fmt` feeds, if any."""
    return next((d for d in DATASETS if d.level == level and fmt in d.formats), None)
