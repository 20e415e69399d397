"""The materialized tables briefs are built from, read once per run."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pedw.store import check_identifier

# The tables a country brief's figures are read from, named in the brief and fingerprinted.
# Not the model estimates: those are in the cross-country annex (pedw.briefs.annex), built
# once per publication, so a new estimate does not make every country brief stale.
BRIEF_TABLES = [
    ("marts", "national_panel"),
    ("marts", "series_choice"),
    ("marts", "sector_panel"),
    ("disclosure", "sme_gap_cells"),
    ("disclosure", "sme_gap_trend"),
    ("models", "shift_share"),
    ("staging", "series_metadata"),
]
# The tables the cross-country annex reads (fingerprinted into its briefs.index row).
ANNEX_TABLES = [
    ("models", "estimates"),
    ("disclosure", "effects"),
    ("disclosure", "estimates"),
    ("marts", "national_panel"),  # the national results' samples
    ("marts", "series_choice"),  # which of their values are modelled
]
# The economy column of each raw table (the data quality section counts an economy's own
# rows read and rejected, per source).
RAW_ECONOMY_COLUMNS = {
    "national_observations": "ref_area",
    "sector_observations": "ref_area",
    "pwt": "countrycode",
    "country_metadata": "country_code",
    "enterprise_firms": "country",
    "score_monitoring": "country",
}


def table_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """Order-independent hash of a table's content (run ids excluded: same data, same print)."""
    columns = [
        r[0]
        for r in con.execute(f"DESCRIBE {schema}.{check_identifier(table)}").fetchall()
        if r[0] not in ("run_id", "model_group", "quarantined_at", "logged_at", "validated_at")
    ]
    packed = ", ".join(f'"{c}"' for c in columns)
    value = con.execute(
        f"SELECT count(*), bit_xor(hash(struct_pack({packed}))) FROM {schema}.{table}"
    ).fetchone()
    return f"{value[0]}:{(value[1] or 0):016x}"[:24]


@dataclass
class BriefInputs:
    """The materialized tables every brief reads, loaded once per run. An empty frame is a
    table this catalog does not build (no sector or firm source): its section is left out."""

    panel: pd.DataFrame  # marts.national_panel with projected values left out
    sme_gap_cells: pd.DataFrame
    sme_gap_trend: pd.DataFrame
    shift_share: pd.DataFrame
    exclusions: pd.DataFrame
    flags: pd.DataFrame  # the chosen values' status (marts.series_choice), one row a cell
    failed_rules: list[dict]
    rules_checked: dict[str, int]  # contract rules checked, by dataset
    quarantined: list[dict]
    economy_sources: pd.DataFrame  # ref_area, source_name, dataset, level, rows_read
    economy_quarantine: pd.DataFrame  # ref_area, source_name, dataset, rule, rows
    samples: pd.DataFrame  # ref_area, model_id, rows: usable rows in an estimated model
    series: pd.DataFrame
    release_issues: pd.DataFrame
    fingerprints: dict[str, str]
    built: set[str]  # "schema.table" of every table the store holds
    # Where each figure is read, as the brief's technical note prints it: None for an
    # office's own tables (content.FIGURE_TABLES); the centre's (pedw.federated.central_briefs).
    figure_tables: dict[str, str] | None = None
    # What the brief says of the disclosure rule: None for the run's own rule; the centre
    # says the office's own decided (a package carries the released cells, not that rule).
    disclosure_text: str | None = None
    # Each loaded frame split by economy on first use (rows_of): attribute -> (frame, rows).
    _split: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def has(self, table: str) -> bool:
        return table in self.built

    def rows_of(self, table: str, column: str, country: str) -> pd.DataFrame:
        """`country`'s rows of the loaded frame `table` (an attribute: "panel", "flags", ...),
        in the frame's order and with its index, as `frame[frame[column] == country]` gives
        them: the frame is split by economy once, not filtered again for every brief."""
        frame = getattr(self, table)
        split = self._split.get((table, column))
        if split is None or split[0] is not frame:  # a frame replaced is split again
            rows = dict(iter(frame.groupby(column, sort=False))) if len(frame) else {}
            split = self._split[(table, column)] = (frame, rows)
        found = split[1].get(country)
        return found if found is not None else frame.iloc[:0]


def load_inputs(con: duckdb.DuckDBPyConnection) -> BriefInputs:
    """Read the marts, model results and quality tables the briefs are built from."""

    built = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }

    def table(schema: str, name: str, query: str) -> pd.DataFrame:
        return con.execute(query).df() if f"{schema}.{name}" in built else pd.DataFrame()

    fingerprints = {
        f"{schema}.{name}": table_fingerprint(con, schema, name)
        for schema, name in BRIEF_TABLES
        if f"{schema}.{name}" in built
    }
    failed = table(
        "quality",
        "validation_results",
        "SELECT dataset, rule, coalesce(\"column\", '') AS column, severity, observed "
        "FROM quality.validation_results WHERE NOT success ORDER BY severity, dataset",
    )
    checked = table(
        "quality",
        "validation_results",
        "SELECT dataset, count(*) AS n FROM quality.validation_results GROUP BY dataset",
    )
    flags = table(
        "marts",
        "series_choice",
        "SELECT ref_area, variable, year, status, status_note, source_type, source_change, "
        "source, obs_status, variant FROM marts.series_choice WHERE chosen",
    )
    return BriefInputs(
        panel=without_projections(con.execute("SELECT * FROM marts.national_panel").df(), flags),
        sme_gap_cells=table(
            "disclosure",
            "sme_gap_cells",
            "SELECT * EXCLUDE (run_id) FROM disclosure.sme_gap_cells "
            "ORDER BY country, year, size_class",
        ),
        sme_gap_trend=table(
            "disclosure",
            "sme_gap_trend",
            "SELECT * EXCLUDE (run_id) FROM disclosure.sme_gap_trend "
            "WHERE outcome = 'log_labour_productivity'",
        ),
        shift_share=table(
            "models",
            "shift_share",
            # Successive windows in time order, then the whole period (the longest span).
            "SELECT * EXCLUDE (run_id), end_year - start_year = max(end_year - start_year) "
            "OVER (PARTITION BY ref_area) AND count(*) OVER (PARTITION BY ref_area) > 1 "
            "AS whole_period FROM models.shift_share ORDER BY ref_area, whole_period, start_year",
        ),
        exclusions=table(
            "quality",
            "model_exclusions",
            "SELECT model_id, ref_area, start_year, end_year, rule, detail "
            "FROM quality.model_exclusions",
        ),
        flags=flags,
        failed_rules=failed.to_dict("records"),
        rules_checked=dict(zip(checked["dataset"], checked["n"], strict=True))
        if len(checked)
        else {},
        quarantined=table(
            "quality",
            "load_log",
            "SELECT dataset, sum(rows_read) AS rows_read, sum(rows_quarantined) AS rows_quarantined "
            "FROM quality.load_log GROUP BY dataset ORDER BY dataset",
        ).to_dict("records"),
        **economy_rows(con, built),
        samples=model_samples(con, built),
        series=table(
            "staging",
            "series_metadata",
            "SELECT level, variable, indicator, unit, definition, source_names, first_year, "
            "last_year FROM staging.series_metadata WHERE observations > 0 "
            "ORDER BY level, variable",
        ),
        release_issues=table(
            "quality",
            "source_issues",
            "SELECT DISTINCT source_name, source_file, message FROM quality.source_issues "
            "WHERE kind = 'release'",
        ),
        fingerprints=fingerprints,
        built=built,
    )


def economy_rows(con: duckdb.DuckDBPyConnection, built: set[str]) -> dict[str, pd.DataFrame]:
    """Per economy and source: the raw rows read, and the quarantined values or rows by
    dataset and rule (quality.quarantine joined to the raw row it names by source, file and
    line). Economy codes as the staged tables have them (publisher aliases mapped)."""
    from pedw.datasets import DATASETS
    from pedw.harmonise import economy_code_sql

    read, rejected = [], []
    quarantine = "quality.quarantine" in built
    for dataset in DATASETS:
        column = RAW_ECONOMY_COLUMNS.get(dataset.name)
        if column is None or f"raw.{dataset.name}" not in built:
            continue
        code = economy_code_sql(f"r.{column}")
        read.append(
            f"SELECT {code} AS ref_area, r.source_name, '{dataset.contract}' AS dataset, "
            f"'{dataset.level}' AS level, count(*) AS rows_read "
            f"FROM raw.{dataset.name} r GROUP BY ALL"
        )
        if quarantine:
            rejected.append(
                f"SELECT {code} AS ref_area, q.source_name, q.dataset, q.rule, count(*) AS rows "
                f"FROM quality.quarantine q JOIN raw.{dataset.name} r ON "
                "r.source_name = q.source_name AND r.source_file = q.source_file "
                "AND r.source_line = q.source_line GROUP BY ALL"
            )
    empty_read = pd.DataFrame(columns=["ref_area", "source_name", "dataset", "level", "rows_read"])
    empty_rejected = pd.DataFrame(columns=["ref_area", "source_name", "dataset", "rule", "rows"])
    return {
        "economy_sources": (
            con.execute(" UNION ALL ".join(read) + " ORDER BY ALL").df() if read else empty_read
        ),
        "economy_quarantine": (
            con.execute(" UNION ALL ".join(rejected) + " ORDER BY ALL").df()
            if rejected
            else empty_rejected
        ),
    }


def model_samples(con: duckdb.DuckDBPyConnection, built: set[str]) -> pd.DataFrame:
    """For each national model the cross-country annex reports that was estimated
    (models.status), each economy's rows it could use: the outcome and every regressor
    present (pedw.models.ledger.sample_exclusions' rule); one row alone is absorbed by the
    economy's own effect, so an economy is in the sample with two or more."""
    from pedw.briefs.findings import NATIONAL_FINDINGS
    from pedw.models.national import PASS_THROUGH_CONTROLS

    columns = ["ref_area", "model_id", "rows"]
    if "models.status" not in built:
        return pd.DataFrame(columns=columns)
    estimated = {
        r[0]
        for r in con.execute(
            "SELECT model_id FROM models.status WHERE status = 'estimated'"
        ).fetchall()
    }
    present = {r[0] for r in con.execute("DESCRIBE marts.national_panel").fetchall()}
    regressors = ["log_output_per_worker", *PASS_THROUGH_CONTROLS]
    selects = []
    for finding in NATIONAL_FINDINGS:
        outcome = finding.model_id.removeprefix("national_pass_through_")
        if finding.model_id not in estimated or not {outcome, *regressors} <= present:
            continue
        usable = " AND ".join(f"{check_identifier(v)} IS NOT NULL" for v in [outcome, *regressors])
        selects.append(
            f"SELECT ref_area, '{finding.model_id}' AS model_id, "
            f"count(*) FILTER (WHERE {usable}) AS rows FROM marts.national_panel GROUP BY ALL"
        )
    if not selects:
        return pd.DataFrame(columns=columns)
    return con.execute(" UNION ALL ".join(selects)).df()


def without_projections(panel: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """The panel with every projected value blanked: a brief never shows a projection as a
    figure, a latest value, a change or part of a median (the mart keeps them)."""
    if not len(flags):
        return panel
    projected = flags[flags["status"] == "projected"]
    panel = panel.copy()
    for variable, cells in projected.groupby("variable"):
        if variable not in panel:
            continue
        key = pd.MultiIndex.from_frame(cells[["ref_area", "year"]])
        hit = pd.MultiIndex.from_frame(panel[["ref_area", "year"]]).isin(key)
        panel.loc[hit, variable] = float("nan")
    return panel
