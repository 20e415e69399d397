"""`pedw`: run the pipeline, make demo data, query the warehouse, open the Dagster UI."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pedw  # noqa: F401  (telemetry off first)
from pedw.settings import PROJECT_ROOT, configure_dagster_home, resolve_settings


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from pedw.demo.generate import generate_demo_data

    print(f"pedw: writing demo data ({args.firms:,} firms) to {args.out} ...", flush=True)
    truth = generate_demo_data(
        args.out, n_firms=args.firms, seed=args.seed, score_effects=args.score_effects
    )
    realised = truth["realised"]
    print(
        f"pedw: {realised['firm_years']:,} firm-years, {realised['score_participants']:,} SCORE "
        f"participants, {realised['shocked_firms']:,} firms hit by the {truth['shock']['year']} shock; "
        f"ground truth in {Path(args.out) / 'truth.json'}"
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from pedw.catalog import CatalogError, load_catalog
    from pipelines.run import run_catalog

    settings = resolve_settings(args.catalog, args.warehouse)
    try:
        load_catalog(settings.catalog_path)
    except CatalogError as error:
        print(f"pedw: {error}", file=sys.stderr)
        return 2
    configure_dagster_home()
    print(
        f"pedw: catalog {settings.catalog_path}\npedw: warehouse {settings.warehouse_path}",
        flush=True,
    )
    with dg.DagsterInstance.get() as instance:
        summary = run_catalog(
            settings,
            instance,
            progress=lambda m: print(f"pedw: {m}", flush=True),
            log_level=args.log_level,
            full=args.full,
        )
    if not summary.success:
        problems = summary.failures + summary.blocked
        print("pedw: run finished with problems:\n  " + "\n  ".join(problems), file=sys.stderr)
        if summary.not_materialized:
            print("pedw: not materialized: " + ", ".join(summary.not_materialized), file=sys.stderr)
        print(
            "pedw: see quality.quarantine, quality.source_issues and quality.validation_results",
            file=sys.stderr,
        )
        return 1
    for table in ("marts/national_panel", "marts/sector_panel", "marts/enterprise_panel"):
        if table in summary.row_counts:
            print(f"pedw: {table.replace('/', '.')}: {summary.row_counts[table]:,} rows")
    if summary.unchanged:
        print(f"pedw: {len(summary.unchanged)} assets unchanged since their last run, not rebuilt")
    print(f'pedw: done in {summary.seconds:.1f}s; query it with: pedw query "select ..."')
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from pedw.warehouse import connect_read_only

    settings = resolve_settings(None, args.warehouse)
    try:
        con = connect_read_only(settings.warehouse_path)
    except FileNotFoundError as error:
        print(f"pedw: {error}", file=sys.stderr)
        return 2
    try:
        relation = con.sql(args.sql)
        if relation is None:
            return 0
        if args.csv:
            relation.df().to_csv(sys.stdout, index=False)
        else:
            relation.show(max_rows=args.max_rows, max_width=200)
    except duckdb.Error as error:
        print(f"pedw: query failed: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    configure_dagster_home()
    settings = resolve_settings(args.catalog, args.warehouse)
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
    return subprocess.call(command, env=env, cwd=PROJECT_ROOT)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pedw", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo-data", help="write the deterministic demo data and its ground truth"
    )
    demo.add_argument("--out", default=str(PROJECT_ROOT / "demo_data"))
    demo.add_argument("--firms", type=int, default=50_000)
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument(
        "--score-effects",
        choices=["common", "heterogeneous"],
        default="common",
        help="SCORE effects the same for every cohort (default) or cohort-specific and growing, "
        "where a classic TWFE DiD is biased (docs/demo_data.md)",
    )
    demo.set_defaults(func=_cmd_demo_data)

    run = commands.add_parser("run", help="materialize every asset (every partition) for a catalog")
    run.add_argument("--catalog", help="source catalog YAML (default catalogs/demo.yml)")
    run.add_argument("--warehouse", help="published DuckDB file (default warehouse/pedw.duckdb)")
    run.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="Dagster event log level printed to the console",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="rebuild every asset, even those whose code and inputs did not change",
    )
    run.set_defaults(func=_cmd_run)

    query = commands.add_parser("query", help="run read-only SQL on the published warehouse")
    query.add_argument("sql")
    query.add_argument("--warehouse")
    query.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    query.add_argument("--max-rows", type=int, default=40)
    query.set_defaults(func=_cmd_query)

    dictionary = commands.add_parser(
        "dictionary", help="regenerate docs/data_dictionary.md from the contracts"
    )
    dictionary.add_argument("--check", action="store_true", help="fail if the file is out of date")
    dictionary.set_defaults(func=_cmd_dictionary)

    ui = commands.add_parser("ui", help="start the Dagster web UI on this project")

    ui.add_argument("--catalog")
    ui.add_argument("--warehouse")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=_cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "seed", "unset") is None:
        from pedw.demo.truth import SEED

        args.seed = SEED
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
