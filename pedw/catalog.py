"""The source catalog: which datasets a run uses, declared in YAML rather than in code."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from pedw.datasets import DATASETS, dataset, dataset_for
from pedw.formats import READ_OPTIONS, is_central, valid_options
from pedw.source import Source

LEVELS = ("national", "sector", "enterprise")


class CatalogError(ValueError):
    """A catalog file that cannot be used, with the file and entry named."""


@dataclass(frozen=True)
class Catalog:
    """A named list of sources; relative paths resolve against the catalog file's folder."""

    name: str
    path: Path
    sources: tuple[Source, ...]
    description: str = ""
    synthetic: bool = False  # generated data (the demo): every brief carries a banner saying so

    def for_level(self, level: str, formats: tuple[str, ...] | None = None) -> list[Source]:
        """Sources of one level, optionally restricted to some formats."""
        return [
            s for s in self.sources if s.level == level and (formats is None or s.format in formats)
        ]

    @property
    def central(self) -> bool:
        """A centre's catalog: its entries are office packages (pedw_package), read by the
        centre's pipeline (pipelines/centre.py) rather than the office pipeline."""
        return bool(self.sources) and all(is_central(s.format) for s in self.sources)


def _check_routing(entry: dict, where: str) -> None:
    """Every entry feeds exactly one dataset (pedw.datasets): a misspelt format, a format of
    another level or a contract that is not the dataset's is refused, never skipped."""
    if is_central(entry["format"]):
        if entry["level"] != "enterprise" or entry.get("contract") is not None:
            raise CatalogError(
                f"{where} ({entry['name']}): format {entry['format']!r} is read at level "
                "'enterprise', with no contract (the package's manifest is its check)"
            )
        if not entry.get("path") or entry.get("url"):
            raise CatalogError(
                f"{where} ({entry['name']}): format {entry['format']!r} needs a path (a "
                "package folder, or a glob of them), not a url"
            )
        answers = (entry.get("options") or {}).get("answers")
        if answers is not None and not isinstance(answers, str):
            raise CatalogError(
                f"{where} ({entry['name']}): options.answers must be a path or glob of the "
                f"offices' round-two answer files; got {answers!r}"
            )
        return
    target = dataset_for(entry["level"], entry["format"])
    if target is None:
        valid = sorted({f for d in DATASETS if d.level == entry["level"] for f in d.formats})
        raise CatalogError(
            f"{where} ({entry['name']}): format {entry['format']!r} is not read at level "
            f"{entry['level']!r}; valid formats there: {', '.join(valid)}"
        )
    contract = entry.get("contract")
    if contract is not None and contract != target.contract:
        raise CatalogError(
            f"{where} ({entry['name']}): contract {contract!r} does not match raw.{target.name}, "
            f"which is checked by {target.contract!r}"
        )


def _check_options(entry: dict, where: str) -> None:
    """Options the entry's format reads, with values of the right shape; `columns` and
    `constants` only for firm files, naming columns of their contract."""
    from dataclasses import fields

    from pedw.sources.fetch import FetchPolicy

    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise CatalogError(f"{where} ({entry['name']}): options must be a mapping")
    valid = valid_options(entry["format"])
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise CatalogError(
            f"{where} ({entry['name']}): unknown option(s) {unknown} for format "
            f"{entry['format']!r}; valid options: {', '.join(valid)}"
        )
    for name, allowed in (
        ("read", READ_OPTIONS),
        ("fetch", tuple(f.name for f in fields(FetchPolicy))),
    ):
        given = options.get(name, {})
        if not isinstance(given, dict) or set(given) - set(allowed):
            raise CatalogError(
                f"{where} ({entry['name']}): options.{name} must be a mapping of "
                f"{', '.join(allowed)}; got {given!r}"
            )
    if "encoding" in options.get("read", {}):
        import codecs

        try:
            codecs.lookup(options["read"]["encoding"])
        except LookupError:
            raise CatalogError(
                f"{where} ({entry['name']}): options.read.encoding "
                f"{options['read']['encoding']!r} is not an encoding Python knows "
                "(e.g. utf-8, cp1252, latin-1, utf-16)"
            ) from None
    for key in ("columns", "constants"):
        given = entry.get(key)
        if given is None:
            continue
        firm_formats = dataset("enterprise_firms").formats
        if entry["format"] not in firm_formats:
            raise CatalogError(
                f"{where} ({entry['name']}): {key}: is read only for firm files "
                f"(formats {', '.join(firm_formats)})"
            )
        from pedw.quality.contracts import load_contract

        contract_columns = load_contract(dataset_for(entry["level"], entry["format"]).contract)
        if not isinstance(given, dict) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in given.values()
        ):
            raise CatalogError(
                f"{where} ({entry['name']}): {key}: must map contract columns to "
                f"{'published column names' if key == 'columns' else 'values'}"
            )
        unknown = sorted(set(given) - set(contract_columns.column_names))
        if unknown:
            raise CatalogError(
                f"{where} ({entry['name']}): {key}: {unknown} are not columns of the "
                f"{contract_columns.name} contract; its columns: "
                f"{', '.join(contract_columns.column_names)}"
            )
    _check_firm_units(entry, where)


def _check_firm_units(entry: dict, where: str) -> None:
    """`derive:` and `units:` of a firm file: formulas over published columns for contract
    columns, and the file's currency (ISO 4217), price year and scale."""
    from pedw.sources.firm_units import UNITS, parse_formula

    name = f"{where} ({entry['name']})"
    for key in ("derive", "units"):
        if entry.get(key) is None:
            continue
        if entry["format"] != "enterprise_csv":
            raise CatalogError(f"{name}: {key}: is read only for enterprise_csv files")
        if not isinstance(entry[key], dict):
            raise CatalogError(f"{name}: {key}: must be a mapping")
    if entry.get("derive"):
        from pedw.quality.contracts import load_contract

        columns = load_contract("enterprise_firms").column_names
        for column, formula in entry["derive"].items():
            if column not in columns:
                raise CatalogError(
                    f"{name}: derive: {column!r} is not a column of the enterprise_firms "
                    f"contract; its columns: {', '.join(columns)}"
                )
            try:
                parse_formula(str(formula))
            except ValueError as error:
                raise CatalogError(f"{name}: derive: {column}: {error}") from None
    units = entry.get("units") or {}
    odd = sorted(set(units) - set(UNITS))
    if odd:
        raise CatalogError(f"{name}: units: unknown {odd}; valid: {', '.join(UNITS)}")
    from pedw.quality.code_lists import code_lists

    if "currency" in units and str(units["currency"]) not in code_lists()["currency"]:
        raise CatalogError(
            f"{name}: units: currency {units['currency']!r} is not an ISO 4217 code (KES, USD, ...)"
        )
    if "price_year" in units and not (
        isinstance(units["price_year"], int) and 1950 <= units["price_year"] <= 2035
    ):
        raise CatalogError(f"{name}: units: price_year must be a year (1950-2035)")
    if "scale" in units and not (
        isinstance(units["scale"], int | float)
        and not isinstance(units["scale"], bool)
        and units["scale"] > 0
    ):
        raise CatalogError(f"{name}: units: scale must be a positive number (1000: thousands)")


def _yaml_error_line(path: Path, error: yaml.YAMLError) -> str:
    """`FILE:LINE:COLUMN: not valid YAML: problem (context)`, one line (lines counted from 1)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")


def load_catalog(path: str | Path) -> Catalog:
    """Read and check a catalog YAML file: parsed once per process while the file is the
    same (its size and times), however many steps ask for it."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"catalog {path}: file not found")
    stat = path.stat()
    return _parse_catalog(path, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@functools.lru_cache(maxsize=16)
def _parse_catalog(path: Path, _size: int, _mtime_ns: int, _ctime_ns: int) -> Catalog:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CatalogError(f"catalog {_yaml_error_line(path, error)}") from error
    entries = document.get("sources")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"catalog {path}: needs a non-empty 'sources' list")
    sources, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"catalog {path}, source #{number}"
        missing = [k for k in ("name", "level", "format") if k not in entry]
        if missing:
            raise CatalogError(f"{where}: missing {', '.join(missing)}")
        if entry["level"] not in LEVELS:
            raise CatalogError(f"{where} ({entry['name']}): level must be one of {LEVELS}")
        if not entry.get("path") and not entry.get("url"):
            raise CatalogError(f"{where} ({entry['name']}): needs a path or a url")
        if entry["name"] in seen:
            raise CatalogError(f"{where}: duplicate source name {entry['name']!r}")
        seen.add(entry["name"])
        known = {"name", "level", "format", "path", "url", "contract", "options", "columns",
                 "constants", "derive", "units", "publisher", "release"}  # fmt: skip
        unknown = set(entry) - known
        if unknown:
            raise CatalogError(
                f"{where} ({entry['name']}): unknown keys {sorted(unknown)}; valid keys: "
                f"{', '.join(sorted(known))}"
            )
        _check_routing(entry, where)
        _check_options(entry, where)
        release = entry.get("release")
        if release is not None and not (
            isinstance(release, str)
            or (isinstance(release, dict) and release
                and all(isinstance(k, str) and isinstance(v, str) for k, v in release.items()))
        ):  # fmt: skip
            raise CatalogError(
                f"{where} ({entry['name']}): release must be text, or a mapping of file name "
                "patterns to text (the first pattern matching a file's name gives its release)"
            )
        sources.append(
            Source(
                base_dir=path.parent.resolve(),
                options=entry.get("options") or {},
                columns={k: str(v) for k, v in (entry.get("columns") or {}).items()},
                constants={k: str(v) for k, v in (entry.get("constants") or {}).items()},
                derive={k: str(v) for k, v in (entry.get("derive") or {}).items()},
                units=dict(entry.get("units") or {}),
                **{
                    k: v
                    for k, v in entry.items()
                    if k not in ("options", "columns", "constants", "derive", "units")
                },
            )
        )
    central = [s.name for s in sources if is_central(s.format)]
    if central and len(central) != len(sources):
        raise CatalogError(
            f"catalog {path}: entries {central} are office packages (read by the centre) and "
            "the others are source files (read by an office): put them in two catalogs"
        )
    return Catalog(
        name=document.get("name", path.stem),
        path=path.resolve(),
        sources=tuple(sources),
        description=document.get("description", ""),
        synthetic=bool(document.get("synthetic", False)),
    )
