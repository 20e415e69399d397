"""`pedw`: run the pipeline, make demo data, query the warehouse, open the Dagster UI."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pedw  # noqa: F401  (telemetry off first)
from pedw.settings import (
    PROJECT_ROOT,
    QUERY_ROW_CAP,
    QUERY_TIMEOUT_SECONDS,
    SettingsError,
    configure_dagster_home,
    resolve_settings,
    unknown_environment,
)

# `pedw run` exit codes: 0 published clean; 3 published with problems (refused files, failed
# or blocked assets: their tables stale or absent); 1 nothing published; 2 not started;
# 130 / 143 stopped by SIGINT / SIGTERM (nothing new published).
EXIT_PUBLISHED_WITH_PROBLEMS = 3


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


def _cmd_run(args: argparse.Namespace) -> int:
    from pedw.catalog import CatalogError, load_catalog

    started = time.perf_counter()
    settings = resolve_settings(args.catalog, args.warehouse)
    try:
        catalog = load_catalog(settings.catalog_path)
    except CatalogError as error:
        print(f"pedw: {error}", file=sys.stderr)
        return 2
    configure_dagster_home(settings)
    print(
        f"pedw: catalog {settings.catalog_path}\npedw: warehouse {settings.warehouse_path}",
        flush=True,
    )
    where = f" --warehouse {args.warehouse}" if args.warehouse else ""
    record = None if args.full or args.launch else _unchanged_since_clean_run(settings, catalog)
    if record is not None:
        print(
            f"pedw: nothing changed since the last clean run (publication "
            f"{record['publication_id']}, finished {record['finished_at']}): same catalog, "
            "source files, code and settings, and the warehouse, store and public release as "
            "it left them, so every asset is current; Dagster was not started (--full "
            "rebuilds everything)"
        )
        print(f"pedw: done in {time.perf_counter() - started:.1f}s; see what it holds: "
              f"pedw tables{where}")  # fmt: skip
        print(f"pedw: public release (briefs and disclosure-safe extract): {settings.public_dir}")
        return 0

    import dagster as dg

    from pedw.run_lock import WarehouseBusyError
    from pipelines.launch import DaemonMissingError
    from pipelines.run import run_catalog

    with dg.DagsterInstance.get() as instance:
        try:
            summary = run_catalog(
                settings,
                instance,
                progress=lambda m: print(f"pedw: {m}", flush=True),
                log_level=args.log_level,
                full=args.full,
                launch=True if args.launch else None,
                wait=args.wait,
            )
        except (WarehouseBusyError, DaemonMissingError) as error:
            print(f"pedw: {error}", file=sys.stderr)
            return 2
    if summary.interrupted:
        from pedw.release import current_release

        current = current_release(settings)
        if current is not None and current.name.startswith(summary.publication_id):
            outcome = f"publication {current.name} was made current just before it stopped"
        elif current is not None:
            outcome = f"nothing new published; readers keep publication {current.name}"
        else:
            outcome = "nothing published; none exists yet"
        print(
            f"pedw: stopped by {summary.interrupted} at {summary.stopped_at}: {outcome}; "
            "the next pedw run finishes the job",
            file=sys.stderr,
        )
        return 128 + signal.Signals[summary.interrupted].value
    if not summary.success:
        for line in summary.refused:
            print(f"pedw: refused {line}", file=sys.stderr)
        for line in summary.failures + summary.blocked:
            print(f"pedw: failed {line}", file=sys.stderr)
        if summary.refused:
            print(
                f"pedw: next: fix or remove the refused files in {settings.catalog_path}, then "
                f'pedw run; details: pedw query "select * from quality.source_issues"{where}',
                file=sys.stderr,
            )
        if not summary.published:
            from pedw.release import current_release

            current = current_release(settings)
            print(
                "pedw: nothing published: "
                + (f"readers keep publication {current.name}" if current else "none exists yet")
                + (
                    f"; not built: {', '.join(summary.not_materialized)}"
                    if summary.not_materialized
                    else ""
                ),
                file=sys.stderr,
            )
            return 1
        print(
            f"pedw: published with problems (publication {summary.publication_id}): what could "
            "be built is fresh, the rest is kept from earlier runs or absent; see "
            f"pedw query \"select * from meta.table_status where status in ('stale', 'absent')\"{where}"
            " (and quality.quarantine, quality.validation_results)",
            file=sys.stderr,
        )
        return EXIT_PUBLISHED_WITH_PROBLEMS
    for table in ("marts/national_panel", "marts/sector_panel", "marts/enterprise_panel"):
        if table in summary.row_counts:
            print(f"pedw: {table.replace('/', '.')}: {summary.row_counts[table]:,} rows")
    if summary.unchanged:
        print(f"pedw: {len(summary.unchanged)} assets unchanged since their last run, not rebuilt")
    print(
        f"pedw: done in {summary.seconds:.1f}s (publication {summary.publication_id}); "
        f"see what it holds: pedw tables{where}"
    )
    print(f"pedw: public release (briefs and disclosure-safe extract): {settings.public_dir}")
    return 0


def _unchanged_since_clean_run(settings, catalog) -> dict | None:
    """The last clean run's record when nothing changed since (pedw.clean_run), checked
    while holding the warehouse; None when something did, or another run holds it."""
    from pedw.clean_run import unchanged_since_clean_run
    from pedw.run_lock import WarehouseBusyError, exclusive_run

    try:
        # Nothing to clean up here: a killed run's leftovers come with a removed record.
        with exclusive_run(settings, clean_up=False):
            return unchanged_since_clean_run(settings, catalog)
    except WarehouseBusyError:
        return None  # the full path reports it (or waits, with --wait)


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


def _cmd_ui(args: argparse.Namespace) -> int:
    settings = resolve_settings(args.catalog, args.warehouse)
    configure_dagster_home(settings)
    env = {
        **os.environ,
        "PEDW_CATALOG": str(settings.catalog_path),
        "PEDW_WAREHOUSE": str(settings.warehouse_path),
    }
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "pipelines.definitions",
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(f"pedw: Dagster UI on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    return run_process_group(command, env=env, cwd=PROJECT_ROOT)


# How long `dagster dev` gets to stop its webserver, daemon and code server after a stop signal
# before its whole process group is killed.
STOP_GRACE_SECONDS = 20.0


def run_process_group(command: list[str], **options) -> int:
    """Run `command` in a process group of its own until it ends, or until this process gets
    SIGINT or SIGTERM: then the group is asked to stop (SIGTERM) and, after
    STOP_GRACE_SECONDS, killed, so no child (webserver, daemon, code server) outlives it."""
    process = subprocess.Popen(command, start_new_session=True, **options)
    stopping: list[int] = []

    def _stop(number: int, _frame) -> None:
        stopping.append(number)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)

    previous = {n: signal.signal(n, _stop) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        while process.poll() is None and not stopping:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
        if stopping:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_GRACE_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
        process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stopping:
        print(f"pedw: stopped ({signal.Signals(stopping[0]).name})", file=sys.stderr)
        return 0
    return process.returncode


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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (where it has one); examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _command(commands, name: str, help_text: str, *examples: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        allow_abbrev=False,  # `--cat` is not `--catalog`: a slip is an error, not a guess
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=_examples(*examples),
        formatter_class=_HelpFormatter,
    )


def _warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        metavar="FILE",
        help="published DuckDB file (else $PEDW_WAREHOUSE, else warehouse/pedw.duckdb)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pedw",
        allow_abbrev=False,
        description=__doc__,
        epilog=_examples(
            "pedw demo-data && pedw run          # the demo, end to end",
            "pedw run --catalog catalogs/shared_real.yml --warehouse warehouse/real.duckdb",
            "pedw tables                         # what the warehouse holds",
            "pedw describe marts.national_panel  # its columns, units and meaning",
            'pedw query "select * from models.status"',
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = _command(
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

    run = _command(
        commands,
        "run",
        "materialize what changed in a catalog's assets (every partition) and publish the warehouse",
        "pedw run",
        "pedw run --catalog catalogs/shared_real.yml --warehouse warehouse/real.duckdb",
        "pedw run --full --log-level INFO",
    )
    run.add_argument("--catalog", metavar="FILE",
                     help="source catalog YAML (else $PEDW_CATALOG, else catalogs/demo.yml)")  # fmt: skip
    _warehouse_option(run)
    run.add_argument(
        "--log-level",
        default="CRITICAL",
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="Dagster event log level printed to the console (default: none of it; pedw "
        "prints one line per problem and its summary)",
    )
    run.add_argument("--full", action="store_true",
                     help="rebuild every asset, even those whose code and inputs did not change")  # fmt: skip
    run.add_argument(
        "--launch",
        action="store_true",
        help="submit each stage to the Dagster instance, for its daemon to run (re-executable "
        "in the UI; the default with PEDW_EXECUTOR=celery, as in deploy/) instead of running "
        "it in this process",
    )
    run.add_argument("--wait", action="store_true",
                     help="if another pedw run holds the warehouse, wait for it instead of exiting")  # fmt: skip
    run.set_defaults(func=_cmd_run)

    query = _command(
        commands,
        "query",
        "run read-only SQL on the published warehouse (safe while a pipeline runs)",
        'pedw query "select count(*) from marts.national_panel"',
        "pedw query \"select * from marts.national_panel where ref_area = 'KEN'\" --csv > kenya.csv",
    )
    query.add_argument("sql", help="one SQL statement (DuckDB dialect)")
    _warehouse_option(query)
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

    export = _command(
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
    _warehouse_option(export)
    export.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                        help="stop after this long (0: no limit); Ctrl-C stops it at any time")  # fmt: skip
    export.add_argument("--memory-limit", metavar="SIZE",
                        help="DuckDB memory limit, e.g. 4GB (else $PEDW_DUCKDB_MEMORY_LIMIT, else 1GB)")  # fmt: skip
    export.set_defaults(func=_cmd_export)

    tables = _command(
        commands,
        "tables",
        "list the warehouse's schemas and tables with row counts and what each holds",
        "pedw tables",
        "pedw tables --schema models",
    )
    _warehouse_option(tables)
    tables.add_argument(
        "--schema",
        help="only this schema (raw, staging, marts, models, disclosure, quality, briefs, meta); "
        "an unknown one exits 2",
    )
    tables.set_defaults(func=_cmd_tables)

    describe = _command(
        commands,
        "describe",
        "show a table's columns with their type, unit and meaning",
        "pedw describe marts.sector_panel",
        "pedw describe models.estimates --warehouse warehouse/real.duckdb",
    )
    describe.add_argument("table", help="schema.table, e.g. marts.national_panel")
    _warehouse_option(describe)
    describe.set_defaults(func=_cmd_describe)

    dictionary = _command(
        commands,
        "dictionary",
        "regenerate docs/data_dictionary.md from the contracts and pedw/warehouse_docs.yml",
        "pedw dictionary",
        "pedw dictionary --check   # CI: fail when it is out of date",
    )
    dictionary.add_argument("--check", action="store_true", help="fail if the file is out of date")
    dictionary.set_defaults(func=_cmd_dictionary)

    ui = _command(
        commands,
        "ui",
        "start the Dagster web UI (and daemon) on this project's local instance",
        "pedw ui",
        "pedw ui --catalog catalogs/shared_real.yml --warehouse warehouse/real.duckdb --port 3001",
    )
    ui.add_argument("--catalog", metavar="FILE", help="source catalog YAML the UI's runs use")
    _warehouse_option(ui)
    ui.add_argument("--host", default="127.0.0.1", help="address the UI listens on")
    ui.add_argument("--port", type=int, default=3000, help="port the UI listens on")
    ui.set_defaults(func=_cmd_ui)
    return parser


def _version() -> str:
    try:
        return metadata.version("pedw")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for line in unknown_environment(os.environ):
        print(f"pedw: warning: {line}", file=sys.stderr)
    if getattr(args, "seed", "unset") is None:
        from pedw.demo.truth import SEED

        args.seed = SEED
    try:
        return args.func(args)
    except SettingsError as error:
        print(f"pedw: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # one line for the user; PEDW_DEBUG=1 for the traceback
        if os.environ.get("PEDW_DEBUG"):
            raise
        print(f"pedw: {environment_error(error)}", file=sys.stderr)
        return 1


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


if __name__ == "__main__":
    sys.exit(main())
