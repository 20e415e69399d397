"""docs/data_dictionary.md, generated from the data contracts, the series definitions and the
marts themselves (`pedw dictionary` writes it; CI checks it is current)."""

from __future__ import annotations

from pathlib import Path

from pedw.quality.contracts import Contract, all_contracts
from pedw.settings import PROJECT_ROOT
from pedw.staging.series import PWT_SERIES, series_definitions

DICTIONARY_PATH = PROJECT_ROOT / "docs" / "data_dictionary.md"

MART_COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "marts.national_panel (key: ref_area, year)": [
        ("ref_area", "", "Economy, ISO 3166 alpha-3 (aggregates excluded)"),
        ("country_name", "", "WDI name, else ISO short name"),
        ("region, income_group", "", "World Bank classification (WDI country metadata)"),
        ("year", "year", "Reference year"),
        ("log_output_per_worker", "log", "ln(output_per_worker)"),
        ("output_per_worker_growth", "% per year", "Year-on-year change of output_per_worker"),
        ("log_mean_real_earnings", "log", "ln(mean_real_earnings)"),
        ("log_capital_per_worker", "log", "ln(capital_per_worker)"),
    ],
    "marts.sector_panel (key: ref_area, sector, year)": [
        ("sector", "", "ISIC Rev.4 section (A-U) or group of sections (e.g. D+E)"),
        ("sector_name, broad_sector", "", "Section name; agriculture, industry or services"),
        ("labour_productivity", "value-added unit per person", "value_added / employment"),
        ("log_labour_productivity, log_mean_earnings", "log", "Natural logarithms"),
        ("employment_share", "share", "Sector employment / all sectors of the country-year"),
    ],
    "marts.enterprise_panel (key: firm_id, year)": [
        (
            "size_class",
            "",
            "micro <10, small 10-49, medium 50-249, large 250+ persons, at the firm's first wave",
        ),
        ("size_class_current", "", "The same classes from this year's employment"),
        ("labour_productivity", "2017 PPP $ per person", "value_added / employees"),
        ("mean_wage", "2017 PPP $ per person", "wage_bill / employees"),
        (
            "log_labour_productivity, log_mean_wage, log_sales, log_employees",
            "log",
            "Natural logarithms (NULL when not positive)",
        ),
        ("score_event_time", "years", "year - score_start_year"),
        (
            "national_human_capital, national_log_output_per_worker, national_informality_rate",
            "",
            "From marts.national_panel for the firm's country and year",
        ),
        (
            "sector_log_labour_productivity, sector_employment_share",
            "",
            "From marts.sector_panel for the firm's country, sector and year",
        ),
    ],
}


def _contract_section(contract: Contract) -> list[str]:
    lines = [
        f"### {contract.title} (`{contract.name}`)",
        "",
        " ".join(contract.description.split()),
        "",
        f"Grain: {contract.grain}. Key: {', '.join(contract.key)}. Contract: "
        f"`data_contracts/{contract.path.name}`.",
        "",
        "| column | type | unit | meaning | row rules |",
        "|---|---|---|---|---|",
    ]
    for column in contract.columns:
        rules = []
        if column.required:
            rules.append("required")
        if column.codes:
            codes = column.codes if isinstance(column.codes, str) else " or ".join(column.codes)
            rules.append(
                f"codes: {codes}"
                + (f" or `{column.codes_or_pattern}`" if column.codes_or_pattern else "")
            )
        if column.min is not None or column.max is not None:
            rules.append(
                f"range [{column.min if column.min is not None else ''}, "
                f"{column.max if column.max is not None else ''}]"
            )
        if column.allowed:
            rules.append("one of " + ", ".join(column.allowed))
        if column.max_missing_share is not None:
            rules.append(f"at most {column.max_missing_share:.0%} missing (warn)")
        lines.append(
            f"| `{column.name}` | {column.type} | {column.unit or ''} | "
            f"{' '.join(column.description.split())} | {'; '.join(rules)} |"
        )
    if contract.table_rules or contract.series_rules:
        lines += ["", "Table rules (Great Expectations, asset checks):", ""]
        for rule in contract.table_rules:
            params = ", ".join(f"{k}={v}" for k, v in rule.params.items())
            lines.append(
                f"- **{rule.rule}** [{rule.severity}] {params}"
                + (f": {' '.join(rule.description.split())}" if rule.description else "")
            )
        for rule in contract.series_rules:
            lines.append(
                f"- **{rule.rule}** [quarantine] values {rule.ratio:g}x off their series median "
                f"({', '.join(rule.series)}): {' '.join(rule.description.split())}"
            )
    return [*lines, ""]


def render_dictionary() -> str:
    """The whole data dictionary as Markdown."""
    lines = [
        "# Data dictionary",
        "",
        "Generated by `pedw dictionary` from `data_contracts/`, `pedw/staging/series.yml` and the mart "
        "definitions; CI fails when it is out of date. Do not edit by hand.",
        "",
        "## Staged tables (data contracts)",
        "",
    ]
    for contract in all_contracts():
        lines += _contract_section(contract)
    lines += [
        "## Canonical series (staging.national_series, staging.sector_series, mart columns)",
        "",
    ]
    for level, definitions in series_definitions().items():
        lines += [
            f"### {level}",
            "",
            "| variable | unit | published series | definition |",
            "|---|---|---|---|",
        ]
        for name, entry in definitions.items():
            for d in entry if isinstance(entry, list) else [entry]:
                series = d["indicator"] + "".join(
                    f" {k}={d[k]}" for k in ("sex", "classif1", "classif2") if d.get(k)
                )
                scale = f" (x{d['scale']:g})" if d.get("scale") else ""
                lines.append(
                    f"| `{name}` | {d['unit']} | {series}{scale} | {' '.join(d['definition'].split())} |"
                )
        if level == "national":
            for name, (expression, unit, definition) in PWT_SERIES.items():
                lines.append(f"| `{name}` | {unit} | PWT `{expression}` | {definition} |")
        lines.append("")
    lines += ["## Derived mart columns", ""]
    for table, columns in MART_COLUMNS.items():
        lines += [f"### {table}", "", "| column | unit | meaning |", "|---|---|---|"]
        lines += [f"| `{c}` | {u} | {m} |" for c, u, m in columns]
        lines.append("")
    return "\n".join(lines)


def write_dictionary(path: Path = DICTIONARY_PATH) -> bool:
    """Write the dictionary; return True when the file changed."""
    text = render_dictionary()
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed:
        path.write_text(text, encoding="utf-8")
    return changed
