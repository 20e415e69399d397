"""Real published rows served in the publishers' API layouts, for the loopback server tests.

World Bank API v2 JSON ([paging header, records]) from the WDI bulk CSV and country
metadata; the PWT xlsx release (sheets Info, Legend, Data) from the PWT CSV; ILOSTAT's
table of contents (its real column names).
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd


def wdi_indicator_json(csv: Path, lastupdated: str = "2021-02-17") -> bytes:
    wide = pd.read_csv(csv, skiprows=4)
    years = [c for c in wide.columns if c.isdigit()]
    long = wide.melt(
        id_vars=["Country Name", "Country Code", "Indicator Name", "Indicator Code"],
        value_vars=years,
        var_name="date",
    ).sort_values(["Country Code", "date"], ascending=[True, False])
    records = [
        {
            "indicator": {"id": r["Indicator Code"], "value": r["Indicator Name"]},
            "country": {"id": r["Country Code"][:2], "value": r["Country Name"]},
            "countryiso3code": r["Country Code"],
            "date": r["date"],
            "value": None if pd.isna(r["value"]) else r["value"],
            "unit": "",
            "obs_status": "",
            "decimal": 0,
        }
        for r in long.to_dict("records")
    ]
    header = {"page": 1, "pages": 1, "per_page": 20_000, "total": len(records),
              "sourceid": "2", "lastupdated": lastupdated}  # fmt: skip
    return json.dumps([header, records]).encode()


def wdi_country_json(metadata_csv: Path) -> bytes:
    frame = pd.read_csv(metadata_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    records = [
        {
            "id": r["Country Code"],
            "iso2Code": r["Country Code"][:2],
            "name": r["TableName"],
            "region": {"id": "", "value": (r["Region"] or "Aggregates") + " "},
            "incomeLevel": {"id": "", "value": r["IncomeGroup"] or "Aggregates"},
            "capitalCity": "",
        }
        for r in frame.to_dict("records")
    ]
    header = {"page": 1, "pages": 1, "per_page": "400", "total": len(records)}
    return json.dumps([header, records]).encode()


def pwt_xlsx(csv: Path, path: Path, columns: list[str] | None = None) -> Path:
    frame = pd.read_csv(csv)
    if columns:
        frame = frame[columns]
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame({"Penn World Table, version 10.01": ["www.ggdc.net/pwt"]}).to_excel(
            workbook, sheet_name="Info", index=False
        )
        pd.DataFrame({"Variable name": frame.columns}).to_excel(
            workbook, sheet_name="Legend", index=False
        )
        frame.to_excel(workbook, sheet_name="Data", index=False)
    return path


def ilostat_toc(last_update: dict[str, str]) -> bytes:
    rows = [
        {
            "id": dataset,
            "indicator": dataset[:-2],
            "indicator.label": dataset,
            "freq": "A",
            "freq.label": "Annual",
            "size": "1 MB",
            "data.start": "2000",
            "data.end": "2023",
            "last.update": updated,
            "n.records": 1000,
        }
        for dataset, updated in last_update.items()
    ]
    return pd.DataFrame(rows).to_csv(index=False).encode()


def gzipped(path: Path) -> bytes:
    data = path.read_bytes()
    return data if data[:2] == b"\x1f\x8b" else gzip.compress(data, mtime=0)


class ApiServer:
    """A loopback HTTP server answering like the publishers' APIs.

    `routes` maps a URL path (plus `?id=<dataset>` for ILOSTAT data) to (body, content
    type); answers carry an ETag, and a matching If-None-Match gets 304.
    """

    def __init__(self, routes: dict[str, tuple[bytes, str]]):
        self.routes, self.requests = routes, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlparse(self.path)
                owner.requests.append(self.path)
                ids = parse_qs(url.query).get("id")
                key = f"{url.path}?id={ids[0]}" if ids else url.path
                if key not in owner.routes:
                    self.send_response(404)
                    self.end_headers()
                    return
                body, kind = owner.routes[key]
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
