"""ILOSTAT's table of contents: when each bulk dataset was last updated, to notice new releases.

ILOSTAT publishes one row per dataset (`id` such as SDG_1041_NOC_RT_A, `indicator`,
`freq`, `size`, `data.start`, `data.end`, `last.update`, `n.records`, ...) at
rplumber.ilo.org/metadata/toc/indicator/ (CSV with format=.csv, or JSON). Data sources
fetched from rplumber.ilo.org/data/indicator/?id=<id>&... are matched to their row by id.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.fetch import FetchPolicy, fetch_snapshot, latest_snapshot
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


def newer_releases(
    sources: list[Source], snapshots: Path, policy: FetchPolicy | None = None
) -> list[tuple[Source, str, dt.datetime]]:
    """ILOSTAT URL sources whose dataset was updated after their last snapshot was fetched."""
    tracked = [(s, indicator_id(s.url)) for s in sources if indicator_id(s.url)]
    if not tracked:
        return []
    toc = fetch_snapshot(toc_url(tracked[0][0].url), snapshots, policy or FetchPolicy())
    released = release_dates(toc.path)
    newer = []
    for source, dataset in tracked:
        updated = released.get(dataset)
        if updated is None or updated != updated:  # not listed, or no date
            continue
        kept = latest_snapshot(source.url, snapshots)
        fetched = dt.datetime.fromisoformat(kept["fetched_at"]) if kept else None
        updated = updated.to_pydatetime().replace(tzinfo=dt.UTC)
        if fetched is None or updated > fetched:
            newer.append((source, dataset, updated))
    return newer
