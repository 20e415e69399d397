"""Code lists the contracts refer to by name (ISO 3166, ILO aggregates, ISIC Rev.4, ...)."""

from __future__ import annotations

from functools import cache

import duckdb
import pandas as pd
import pycountry

from pedw.harmonise import economy_names
from pedw.reference import (
    ECONOMY_CODE_ALIASES,
    ILO_AGGREGATES,
    ISIC4_SECTIONS,
    SEX_CODES,
    SIZE_CLASSES,
)

# World Bank aggregates (regions, income groups, lending groups, World) as in WDI downloads.
WB_AGGREGATES = [
    "AFE",
    "AFW",
    "ARB",
    "CEB",
    "CSS",
    "EAP",
    "EAR",
    "EAS",
    "ECA",
    "ECS",
    "EMU",
    "EUU",
    "FCS",
    "HIC",
    "HPC",
    "IBD",
    "IBT",
    "IDA",
    "IDB",
    "IDX",
    "INX",
    "LAC",
    "LCN",
    "LDC",
    "LIC",
    "LMC",
    "LMY",
    "LTE",
    "MEA",
    "MIC",
    "MNA",
    "NAC",
    "OED",
    "OSS",
    "PRE",
    "PSS",
    "PST",
    "SAS",
    "SSA",
    "SSF",
    "SST",
    "TEA",
    "TEC",
    "TLA",
    "TMN",
    "TSA",
    "TSS",
    "UMC",
    "WLD",
]
OBS_STATUS_CODES = ("", "B", "U", "I", "M", "E", "P", "R", "F", "N", "S", "X", "Q", "C", "T")


@cache
def code_lists() -> dict[str, tuple[str, ...]]:
    """Every named code list; contracts refer to these names."""
    # Current and historic ISO codes, the codes outside ISO, and the publisher aliases.
    iso3 = set(economy_names()) | set(ECONOMY_CODE_ALIASES)
    return {
        "iso3_country": tuple(sorted(iso3)),
        "wb_aggregate": tuple(WB_AGGREGATES),
        "ilo_aggregate": tuple(ILO_AGGREGATES),
        "isic4_section": tuple(ISIC4_SECTIONS),
        "size_class": tuple(SIZE_CLASSES),
        "sex": SEX_CODES,
        "obs_status": OBS_STATUS_CODES,
        "binary": ("0", "1"),
        # ISO 4217 currencies (pycountry), for the units a firm file declares.
        "currency": tuple(sorted(c.alpha_3 for c in pycountry.currencies)),
    }


def register_code_lists(con: duckdb.DuckDBPyConnection) -> None:
    """Create the table `code_lists(list, code)` on a connection (used by contract SQL)."""
    rows = [(name, code) for name, codes in code_lists().items() for code in codes]
    frame = pd.DataFrame(rows, columns=["list", "code"])
    con.register("_code_lists_frame", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE code_lists AS SELECT * FROM _code_lists_frame")
    con.unregister("_code_lists_frame")
