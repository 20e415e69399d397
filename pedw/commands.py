"""The analysts' commands of `pedw`: demo data, and the published warehouse read-only
(query, export, tables, describe) and documented (dictionary). None of them needs Dagster;
pipelines/cli.py adds `run` and `ui` and is the entry point."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

from pedw.settings import PROJECT_ROOT, QUERY_ROW_CAP, QUERY_TIMEOUT_SECONDS, resolve_settings


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from pedw.demo.generate import generate_demo_data

    print(f"pedw: writing demo data ({args.firms:,} firms) to {args.out} ...", flush=True)
    truth = generate_demo_data(
        args.out,
        n_firms=args.firms,
        seed=args.seed,
        score_effects=args.score_effects,
        survey_sample=args.survey_sample,
    )
    realised = truth["realised"]
    print(
        f"pedw: {realised['firm_years']:,} firm-years, {realised['score_participants']:,} SCORE "
        f"participants, {realised['shocked_firms']:,} firms hit by the {truth['shock']['year']} shock; "
        f"ground truth in {Path(args.out) / 'truth.json'}"
    )
    if truth["survey_sample"]:
        print(f"pedw: the firm file holds a weighted survey sample of "
              f"{truth['survey_sample']['firm_years']:,} of those firm-years")  # fmt: skip
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from pedw.query import QueryError, one_statement, run_bounded, show, write_csv

    try:
        sql = one_statement(args.sql)
    except QueryError as error:
        print(f"pedw: query refused: {error}", file=sys.stderr)
        return 2
    con = _open_warehouse(args, memory_limit=args.memory_limit)
    if con is None:
        return 2
    try:
        if args.csv:
            sys.stdout.flush()
            out = sys.stdout.buffer
            written, capped = run_bounded(
                con, lambda: write_csv(con, sql, out, args.row_cap), args.timeout
            )
            out.flush()
            if capped:
                print(
                    f"pedw: stopped at the row cap: the first {written:,} rows were written "
                    "(--row-cap 0 writes all; pedw export writes a whole table to a file)",
                    file=sys.stderr,
                )
                return 1
        else:
            run_bounded(con, lambda: show(con, sql, args.max_rows), args.timeout)
    except QueryError as error:
        print(f"pedw: query refused or failed: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pedw.export import ExportError, export_table
    from pedw.query import QueryError, run_bounded

    con = _open_warehouse(args, memory_limit=args.memory_limit)
    if con is None:
        return 2
    started = time.perf_counter()
    try:
        done = run_bounded(
            con, lambda: export_table(con, args.table, args.file, args.where), args.timeout
        )
    except (ExportError, QueryError) as error:
        print(f"pedw: export refused or failed: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    print(
        f"pedw: wrote {done.rows:,} rows, {done.columns} columns of {args.table} to {done.path} "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return 0


def _open_warehouse(args: argparse.Namespace, memory_limit: str | None = None):
    """The published warehouse, read-only and sandboxed; None (after saying why) when there is
    none."""
    import duckdb

    from pedw.warehouse import connect_sandboxed

    settings = resolve_settings(None, args.warehouse, duckdb_memory_limit=memory_limit)
    try:
        return connect_sandboxed(settings.warehouse_path, settings.duckdb_memory_limit)
    except FileNotFoundError as error:
        print(f"pedw: {error}", file=sys.stderr)
        return None
    except duckdb.Error as error:
        print(
            f"pedw: {settings.warehouse_path} cannot be opened as a DuckDB warehouse "
            f"({first_line(error)}); "
            "`pedw run` publishes it again from the store",
            file=sys.stderr,
        )
        return None


def _print_frame(args: argparse.Namespace, build, width: int) -> int:
    """Print `build(con)` for the published warehouse; a LookupError is one `pedw:` line."""
    con = _open_warehouse(args)
    if con is None:
        return 2
    try:
        frame = build(con)
    except LookupError as error:
        print(f"pedw: {error}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(frame.to_string(index=False, max_colwidth=width))
    return 0


def _cmd_tables(args: argparse.Namespace) -> int:
    from pedw.warehouse import list_tables

    return _print_frame(args, lambda con: list_tables(con, args.schema), width=90)


def _cmd_describe(args: argparse.Namespace) -> int:
    from pedw.warehouse import describe_table

    return _print_frame(args, lambda con: describe_table(con, args.table), width=110)


def _cmd_dictionary(args: argparse.Namespace) -> int:
    from pedw.quality.dictionary import DICTIONARY_PATH, render_dictionary, write_dictionary

    if args.check:
        current = (
            DICTIONARY_PATH.exists()
            and DICTIONARY_PATH.read_text(encoding="utf-8") == render_dictionary()
        )
        if not current:
            print(f"pedw: {DICTIONARY_PATH} is out of date; run `pedw dictionary`", file=sys.stderr)
            return 1
        print(f"pedw: {DICTIONARY_PATH} is current")
        return 0
    changed = write_dictionary()
    print(f"pedw: {'wrote' if changed else 'unchanged'} {DICTIONARY_PATH}")
    return 0


def _cmd_package(args: argparse.Namespace) -> int:
    from pedw.disclosure.rules import DisclosureRule
    from pedw.federated.package import PackageError, write_package
    from pedw.public_release import PublicReleaseError

    settings = resolve_settings(args.catalog, args.warehouse)
    rule = DisclosureRule(**({"min_contributors": args.min_firms} if args.min_firms else {}))
    catalog = settings.catalog_path if args.catalog else None  # never a guessed default
    try:
        summary = write_package(settings.warehouse_path, args.out, args.producer, catalog,
                                rule, args.trend_origin)  # fmt: skip
    except (PackageError, PublicReleaseError, FileNotFoundError) as error:
        print(f"pedw: package refused: {first_line(error)}", file=sys.stderr)
        return 1
    released = sum(summary.statistics.values())
    withheld = sum(summary.withheld.values())
    print(f"pedw: package of {len(summary.economies)} economies in {summary.path}: "
          f"{len(summary.tables)} public tables, {released} country statistics "
          f"({withheld} withheld by the disclosure rules) in {summary.seconds:.1f}s")  # fmt: skip
    return 0


def _cmd_round_two(args: argparse.Namespace) -> int:
    from pedw.disclosure.rules import DisclosureRule
    from pedw.federated.package import PackageError, write_round_two

    settings = resolve_settings(None, args.warehouse)
    rule = DisclosureRule(**({"min_contributors": args.min_firms} if args.min_firms else {}))
    try:
        written = write_round_two(settings.warehouse_path, args.request, args.out, rule,
                                  args.trend_origin)  # fmt: skip
    except (PackageError, FileNotFoundError, KeyError, ValueError) as error:
        print(f"pedw: round two refused: {first_line(error)}", file=sys.stderr)
        return 1
    print(f"pedw: {written} cluster matrices (k x k sums over firms) in {args.out}")
    return 0


def _cmd_centre(args: argparse.Namespace) -> int:
    from pedw.federated.centre import (
        read_round_two_answers,
        write_centre,
        write_round_two_request,
    )
    from pedw.federated.package import PackageError, load_packages

    try:
        if args.request:
            models = write_round_two_request(load_packages(args.package), args.request)
            print(f"pedw: round-two request for {models} model(s) in {args.request}")
        meats = read_round_two_answers(args.answers or [])
        counts = write_centre(args.package, args.out, meats)
    except (PackageError, FileNotFoundError, ValueError) as error:
        print(f"pedw: centre refused: {first_line(error)}", file=sys.stderr)
        return 1
    print(f"pedw: {len(args.package)} package(s) pooled into {args.out}: "
          f"{counts['federated.pooled_estimates']} pooled estimates, "
          f"{counts['federated.meta_estimates']} meta-analysed")  # fmt: skip
    return 0


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (where it has one); examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def command(commands, name: str, help_text: str, *lines: str) -> argparse.ArgumentParser:
    """One subcommand of `commands`: strict option names, its help, its examples."""
    return commands.add_parser(
        name,
        allow_abbrev=False,  # `--cat` is not `--catalog`: a slip is an error, not a guess
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=examples(*lines),
        formatter_class=HelpFormatter,
    )


def warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        metavar="FILE",
        help="published DuckDB file (else $PEDW_WAREHOUSE, else warehouse/pedw.duckdb)",
    )


def add_commands(commands) -> None:
    """The analysts' commands, on the `pedw` parser's subcommands."""
    demo = command(
        commands,
        "demo-data",
        "write the deterministic demo data and its ground truth (truth.json)",
        "pedw demo-data --firms 8000 --out /tmp/demo",
        "pedw demo-data --score-effects heterogeneous",
        "pedw demo-data --survey-sample",
    )
    demo.add_argument("--out", metavar="DIR", default=str(PROJECT_ROOT / "demo_data"),
                      help="folder for the files, catalog.yml and truth.json")  # fmt: skip
    demo.add_argument("--firms", type=int, default=50_000, help="firms in the enterprise panel")
    demo.add_argument("--seed", type=int, default=None,
                      help="random seed (default: the documented seed in pedw/demo/truth.py)")  # fmt: skip
    demo.add_argument(
        "--score-effects",
        choices=["common", "heterogeneous"],
        default="common",
        help="SCORE effects the same for every cohort, or cohort-specific and growing "
        "(a classic TWFE DiD is then biased; docs/demo_data.md)",
    )
    demo.add_argument(
        "--survey-sample",
        action="store_true",
        help="write the firm file as an enterprise survey would: an unequal-probability sample "
        "of the firms (large ones taken whole, high-turnover SMEs oversampled) with its sampling "
        "weights and strata, whose unweighted SME gaps are biased (docs/demo_data.md)",
    )
    demo.set_defaults(func=_cmd_demo_data)

    query = command(
        commands,
        "query",
        "run read-only SQL on the published warehouse (safe while a pipeline runs)",
        'pedw query "select count(*) from marts.national_panel"',
        "pedw query \"select * from marts.national_panel where ref_area = 'KEN'\" --csv > kenya.csv",
    )
    query.add_argument("sql", help="one SQL statement (DuckDB dialect)")
    warehouse_option(query)
    query.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    query.add_argument("--max-rows", type=int, default=40, help="rows shown in a table")
    query.add_argument(
        "--timeout",
        type=float,
        default=QUERY_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="stop the query after this long (0: no limit); Ctrl-C stops it at any time",
    )
    query.add_argument(
        "--row-cap",
        type=int,
        default=QUERY_ROW_CAP,
        metavar="ROWS",
        help="most rows --csv writes; more exits 1 after saying so (0: no cap)",
    )
    query.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="DuckDB memory limit for the query, e.g. 4GB (else $PEDW_DUCKDB_MEMORY_LIMIT, "
        "else 1GB)",
    )
    query.set_defaults(func=_cmd_query)

    export = command(
        commands,
        "export",
        "write one warehouse table to a file: .parquet, .csv, .dta (Stata, with variable and "
        "value labels) or .xlsx (with a notes sheet), picked by the extension",
        "pedw export marts.national_panel national_panel.dta",
        "pedw export marts.enterprise_panel firms_ken.parquet --where \"country = 'KEN'\"",
    )
    export.add_argument("table", help="schema.table, e.g. marts.national_panel")
    export.add_argument("file", help="output file; its extension picks the format")
    export.add_argument("--where", metavar="CONDITION",
                        help="SQL condition the rows must meet, e.g. \"year >= 2010\"")  # fmt: skip
    warehouse_option(export)
    export.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                        help="stop after this long (0: no limit); Ctrl-C stops it at any time")  # fmt: skip
    export.add_argument("--memory-limit", metavar="SIZE",
                        help="DuckDB memory limit, e.g. 4GB (else $PEDW_DUCKDB_MEMORY_LIMIT, else 1GB)")  # fmt: skip
    export.set_defaults(func=_cmd_export)

    tables = command(
        commands,
        "tables",
        "list the warehouse's schemas and tables with row counts and what each holds",
        "pedw tables",
        "pedw tables --schema models",
    )
    warehouse_option(tables)
    tables.add_argument(
        "--schema",
        help="only this schema (raw, staging, marts, models, disclosure, quality, briefs, meta); "
        "an unknown one exits 2",
    )
    tables.set_defaults(func=_cmd_tables)

    describe = command(
        commands,
        "describe",
        "show a table's columns with their type, unit and meaning",
        "pedw describe marts.sector_panel",
        "pedw describe models.estimates --warehouse warehouse/real.duckdb",
    )
    describe.add_argument("table", help="schema.table, e.g. marts.national_panel")
    warehouse_option(describe)
    describe.set_defaults(func=_cmd_describe)

    dictionary = command(
        commands,
        "dictionary",
        "regenerate docs/data_dictionary.md from the contracts, pedw/warehouse_docs.yml and the "
        "format table (pedw/formats.py)",
        "pedw dictionary",
        "pedw dictionary --check   # CI: fail when it is out of date",
    )
    dictionary.add_argument("--check", action="store_true", help="fail if the file is out of date")
    dictionary.set_defaults(func=_cmd_dictionary)

    package = command(
        commands,
        "package",
        "write the federated aggregate package of a published warehouse: disclosure-checked "
        "public tables, per-country sufficient statistics, a manifest (docs/federated.md)",
        "pedw package --warehouse warehouse/pedw.duckdb --out package_ken --producer KNBS",
    )
    warehouse_option(package)
    package.add_argument("--out", metavar="DIR", required=True, help="a new or empty folder")
    package.add_argument("--producer", default="unnamed office",
                         help="the office that produced it (recorded in the manifest)")  # fmt: skip
    package.add_argument("--catalog", metavar="FILE",
                         help="the catalog the warehouse was built from (its name and SHA-256 "
                         "go in the manifest; without it the manifest names none)")  # fmt: skip
    package.add_argument("--trend-origin", type=int, metavar="YEAR",
                         help="year the SME-gap trend counts from, the same at every office "
                         "(default: the first year of this office's panel)")  # fmt: skip
    package.add_argument("--min-firms", type=int, metavar="N",
                         help="the disclosure rule's minimum contributors (default: the rule's 10)")  # fmt: skip
    package.set_defaults(func=_cmd_package)

    round_two = command(
        commands,
        "round-two",
        "answer the centre's round-two request: per country, the firm-clustered score sums "
        "at the pooled coefficients (docs/federated.md)",
        "pedw round-two --warehouse warehouse/pedw.duckdb --request request.json --out answer.json",
    )
    warehouse_option(round_two)
    round_two.add_argument("--request", metavar="FILE", required=True,
                           help="the centre's coefficients file (pedw centre --request)")  # fmt: skip
    round_two.add_argument("--out", metavar="FILE", required=True, help="the answer (JSON)")
    round_two.add_argument("--trend-origin", type=int, metavar="YEAR",
                           help="the same year as the package's --trend-origin")  # fmt: skip
    round_two.add_argument("--min-firms", type=int, metavar="N",
                           help="the disclosure rule's minimum contributors (default: 10)")  # fmt: skip
    round_two.set_defaults(func=_cmd_round_two)

    centre = command(
        commands,
        "centre",
        "pool verified federated packages into one DuckDB file (docs/federated.md)",
        "pedw centre --package pkg_a --package pkg_b --out centre.duckdb --request request.json",
        "pedw centre --package pkg_a --package pkg_b --out centre.duckdb --answers a.json b.json",
    )
    centre.add_argument("--package", metavar="DIR", action="append", required=True,
                        help="a package folder (repeat for each office)")  # fmt: skip
    centre.add_argument("--out", metavar="FILE", required=True, help="the central DuckDB file")
    centre.add_argument("--request", metavar="FILE",
                        help="also write the round-two request for the offices here")  # fmt: skip
    centre.add_argument("--answers", metavar="FILE", nargs="+",
                        help="the offices' round-two answers (firm-clustered models get CRV1)")  # fmt: skip
    centre.set_defaults(func=_cmd_centre)


FULL_DISK_BYTES = 4 << 20  # less free space than this: call the disk full


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its class name when it has none)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def environment_error(error: BaseException) -> str:
    """One line for a failure of the machine rather than of pedw's input: a full disk, a
    missing permission, an unreadable file, Dagster's history database unavailable."""
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where} (errno {error.errno}); set PEDW_DEBUG=1 for a traceback"
    reason = first_line(error)
    if type(error).__module__.startswith("sqlalchemy"):
        storage = os.environ.get("PEDW_DAGSTER_STORAGE") or os.environ.get("DAGSTER_HOME", "")
        full = ""
        with contextlib.suppress(OSError):  # SQLite says "disk I/O error" as often as "full"
            if shutil.disk_usage(storage).free < FULL_DISK_BYTES:
                full = "; the disk holding it is full (No space left on device)"
        return (
            f"Dagster's run history in {storage} could not be used ({reason}){full}; "
            "set PEDW_DEBUG=1 for a traceback"
        )
    return f"{type(error).__name__}: {reason} (set PEDW_DEBUG=1 for a traceback)"
