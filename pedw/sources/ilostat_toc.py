"""ILOSTAT's table of contents: when each bulk dataset was last updated, to notice new releases.

ILOSTAT publishes one row per dataset (`id` such as SDG_1041_NOC_RT_A, `indicator`,
`freq`, `size`, `data.start`, `data.end`, `last.update`, `n.records`, ...) at
rplumber.ilo.org/metadata/toc/indicator/ (CSV with format=.csv, or JSON). Data sources
fetched from rplumber.ilo.org/data/indicator/?id=<id>&... are matched to their row by id.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd

from pedw.sources.errors import SourceFileError
from pedw.sources.text_table import read_text_table

TOC_PATH = "/metadata/toc/indicator/"
TOC_QUERY = "?lang=en&format=.csv"


def indicator_id(url: str | None) -> str | None:
    """The dataset id of an ILOSTAT data URL (…/data/indicator/?id=SDG_1041_NOC_RT_A…)."""
    if not url or "/data/indicator" not in urlparse(url).path:
        return None
    ids = parse_qs(urlparse(url).query).get("id")
    return ids[0] if ids else None


def toc_url(data_url: str) -> str:
    """The table of contents on the same host as an ILOSTAT data URL."""
    parsed = urlparse(data_url)
    return f"{parsed.scheme}://{parsed.netloc}{TOC_PATH}{TOC_QUERY}"


def release_dates(path: Path) -> dict[str, pd.Timestamp]:
    """Dataset id -> last update, from a table of contents in CSV or JSON."""
    raw = path.read_bytes().lstrip(b"\xef\xbb\xbf \r\n\t")
    if raw[:1] in (b"[", b"{"):
        try:
            document = json.loads(raw.decode("utf-8"))
        except ValueError as error:
            raise SourceFileError(path, f"not an ILOSTAT table of contents ({error})") from None
        frame = pd.DataFrame(document if isinstance(document, list) else document.get("data", []))
    else:
        frame = read_text_table(path).table.to_pandas()
    if not {"id", "last.update"} <= set(frame.columns):
        raise SourceFileError(
            path,
            f"not an ILOSTAT table of contents: no id/last.update in {list(frame.columns)[:8]}",
        )
    # ISO dates, or the day-first dates (03/06/2024) of older tables of contents.
    updated = pd.to_datetime(frame["last.update"], format="mixed", dayfirst=True, errors="coerce")
    return dict(zip(frame["id"], updated, strict=True))
