"""BriefContent: every figure of one brief, with the tables and sources it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pedw.briefs.sources import SourceRelease


@dataclass
class BriefContent:
    """The figures of one brief, with the tables and sources they came from."""

    country: str
    country_name: str
    region: str | None
    income_group: str | None
    latest_year: int | None
    # The year every figure's age counts from (verdict_rules.publication_year).
    publication_year: int | None = None
    publication_id: str = ""
    synthetic: bool = False
    units: dict[str, str] = field(default_factory=dict)
    headline: dict = field(default_factory=dict)
    productivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorecard: list[dict] = field(default_factory=list)
    key_messages: list[str] = field(default_factory=list)
    claims: list = field(default_factory=list)  # every candidate message (messages.Claim)
    sme_gap_cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    sme_gap_trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    shift_share: pd.DataFrame = field(default_factory=pd.DataFrame)  # successive periods
    shift_share_whole: pd.DataFrame = field(default_factory=pd.DataFrame)  # the whole span
    shift_share_caveats: list[dict] = field(default_factory=list)  # fragile periods
    # What the cross-country annex (a document of its own) has to do with this economy.
    cross_country: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # sections left out, and why
    # Every figure older than the maximum age (verdict_rules.MAX_AGE): what the banner says.
    stale: dict | None = None
    quality: dict = field(default_factory=dict)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    cited: dict[str, SourceRelease] = field(default_factory=dict)
    source_lines: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    disclosure: str = ""
    figure_tables: dict[str, str] | None = None  # None: content.FIGURE_TABLES

    @property
    def suppressed_cells(self) -> int:
        cells = self.sme_gap_cells
        return int(cells["suppressed"].sum()) if len(cells) else 0
