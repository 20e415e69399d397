"""The catalog formats pedw reads: one entry each, the only place a format is declared.

A catalog entry's `format:` names one row here. The row says which loader reads a file in
that layout, whether it reads big files block by block, which `options:` the entry may set,
who publishes it (the source line under a figure) and which datasets (pedw.datasets) it
feeds. Catalog validation (pedw.catalog), routing (pedw.datasets), the raw loads
(pedw.sources.registry), the briefs' source lines and the formats table of
docs/data_dictionary.md all read this table; tests/test_formats.py ties it to the loaders,
the contracts and the docs.

The loader is named as "module:function" and imported on first use by the raw loads
(pedw.sources.registry.loader), so that checking a catalog does not import the loaders and
what they import (pandas, pyarrow, sdmx1, ...: about 1.7 s against a few milliseconds for
this module). pedw.code_versions counts the registry as importing them, so editing a loader
still changes the raw assets' code version, and only theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

# The options of `read:` (the text reader), and `fetch:` (pedw.sources.fetch.FetchPolicy),
# which every format takes for a URL source.
READ_OPTIONS = ("skip_rows", "delimiter", "encoding")
COMMON_OPTIONS = ("fetch",)


@dataclass(frozen=True)
class Format:
    """One published layout a catalog entry can name."""

    name: str  # the catalog's `format:`
    loader: str  # "module:function", called as function(source, path)
    datasets: tuple[str, ...]  # pedw.datasets names it feeds (routed by the entry's level)
    options: tuple[str, ...]  # the `options:` it reads, besides `fetch`
    publisher: tuple[str, str]  # (publisher, dataset) for source lines; `publisher:` overrides
    streams: bool = False  # the loader yields bounded blocks: a file of any size fits memory
    # Read by the centre's pipeline (pipelines/centre.py, docs/federated.md) into federated.*
    # tables, not into a raw dataset: `datasets` is empty, and a catalog holding it holds
    # nothing else.
    central: bool = False

    @property
    def module(self) -> str:
        """The loader's module (imported by pedw.sources.registry.loader on first use)."""
        return self.loader.partition(":")[0]


_OBSERVATIONS = ("national_observations", "sector_observations")
_ILO = ("ILO", "ILOSTAT")
_WDI = ("World Bank", "World Development Indicators")
_FIRMS = ("", "enterprise survey")

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ilostat_csv", "pedw.sources.ilostat_csv:load_ilostat_csv", _OBSERVATIONS,
               ("read", "indicator"), _ILO),
        Format("ilostat_excel", "pedw.sources.ilostat_excel:load_ilostat_excel", _OBSERVATIONS,
               ("sheet", "indicator"), _ILO),
        Format("ilostat_sdmx", "pedw.sources.ilostat_sdmx:load_ilostat_sdmx", _OBSERVATIONS,
               ("structure", "indicator"), _ILO),
        # API JSON or bulk CSV, told apart by content
        Format("wdi", "pedw.sources.wdi:load_wdi", _OBSERVATIONS, ("read", "skip_rows"), _WDI),
        Format("wdi_country_metadata", "pedw.sources.wdi:load_wdi_country_metadata",
               ("country_metadata",), ("read",), _WDI),
        Format("pwt", "pedw.sources.pwt:load_pwt", ("pwt",), ("read", "sheet", "price_year"),
               ("Groningen Growth and Development Centre", "Penn World Table")),
        Format("ggdc_etd", "pedw.sources.ggdc_etd:load_ggdc_etd", _OBSERVATIONS, ("sheet",),
               ("GGDC and UNU-WIDER", "Economic Transformation Database")),
        Format("ggdc_10sd", "pedw.sources.ggdc_10sd:load_ggdc_10sd", _OBSERVATIONS,
               ("read", "sheet"),
               ("Groningen Growth and Development Centre", "GGDC 10-Sector Database")),
        Format("enterprise_csv", "pedw.sources.enterprise_csv:iter_enterprise_csv",
               ("enterprise_firms",), ("read",), _FIRMS, streams=True),
        Format("enterprise_survey", "pedw.sources.enterprise_survey:load_enterprise_survey",
               ("enterprise_firms",), ("variables", "weight"), _FIRMS),
        Format("score_monitoring", "pedw.sources.score_monitoring:load_score_monitoring",
               ("score_monitoring",), ("enterprises_sheet", "kpis_sheet"),
               ("ILO", "SCORE monitoring data")),
        # an office's aggregate package folder (pedw package); `answers`: round-two files
        Format("pedw_package", "pedw.sources.pedw_package:load_pedw_package", (),
               ("answers",), ("", "pedw aggregate package"), central=True),
    )
}  # fmt: skip

# Who publishes each format, as a source line under a figure names it (publisher, dataset).
FORMAT_PUBLISHERS: dict[str, tuple[str, str]] = {n: f.publisher for n, f in FORMATS.items()}


def is_central(name: str) -> bool:
    """Whether format `name` is read by the centre's pipeline (pedw_package)."""
    entry = FORMATS.get(name)
    return bool(entry and entry.central)


def formats_of(dataset: str) -> tuple[str, ...]:
    """The formats feeding a dataset, in the table's order."""
    return tuple(name for name, f in FORMATS.items() if dataset in f.datasets)


def valid_options(name: str) -> tuple[str, ...]:
    """The `options:` a catalog entry in format `name` may set."""
    entry = FORMATS.get(name)
    return (*(entry.options if entry else ()), *COMMON_OPTIONS)
