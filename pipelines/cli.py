"""`pedw`: run the pipeline, make demo data, query the warehouse, open the Dagster UI."""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib import metadata

import pedw  # noqa: F401  (telemetry off first)
from pedw.child_process import run_process_group
from pedw.clean_run import current_clean_run
from pedw.commands import (
    HelpFormatter,
    add_commands,
    command,
    environment_error,
    examples,
    warehouse_option,
)
from pedw.settings import (
    PROJECT_ROOT,
    SettingsError,
    configure_dagster_home,
    resolve_settings,
    unknown_environment,
)


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
    if catalog.central:
        return _run_centre(settings, args.log_level, args.wait)
    where = f" --warehouse {args.warehouse}" if args.warehouse else ""
    record = None if args.full or args.launch else current_clean_run(settings, catalog)
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
    from pedw.run_summary import report
    from pipelines.launch import LaunchError
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
        except (WarehouseBusyError, LaunchError) as error:
            print(f"pedw: {error}", file=sys.stderr)
            return 2
    return report(summary, settings, where)


def _run_centre(settings, log_level: str, wait: bool) -> int:
    """`pedw run` on a centre's catalog (pedw_package entries): pipelines.centre.run_centre.
    Exit 0 when what was out of date was built; 1 when a package was refused or a step
    failed (one line each; the central warehouse is left as it was); 2 when another run
    holds the central warehouse."""
    import dagster as dg

    from pedw.run_lock import WarehouseBusyError
    from pipelines.centre import run_centre

    with dg.DagsterInstance.get() as instance:
        try:
            summary = run_centre(
                settings, instance, progress=lambda m: print(f"pedw: {m}", flush=True),
                log_level=log_level, wait=wait,
            )  # fmt: skip
        except WarehouseBusyError as error:
            print(f"pedw: {error}", file=sys.stderr)
            return 2
    for line in summary.failures:
        print(f"pedw: refused {line}", file=sys.stderr)
    if not summary.success:
        return 1
    built = summary.loaded + summary.models
    print(f"pedw: centre done in {summary.seconds:.1f}s: "
          f"{', '.join(built) if built else 'nothing out of date'}; "
          f"central warehouse {settings.warehouse_path}")  # fmt: skip
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pedw",
        allow_abbrev=False,
        description=__doc__,
        epilog=examples(
            "pedw demo-data && pedw run          # the demo, end to end",
            "pedw run --catalog catalogs/shared_real.yml --warehouse warehouse/real.duckdb",
            "pedw tables                         # what the warehouse holds",
            "pedw describe marts.national_panel  # its columns, units and meaning",
            'pedw query "select * from models.status"',
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = command(
        commands,
        "run",
        "materialize what changed in a catalog's assets (every partition) and publish the warehouse",
        "pedw run",
        "pedw run --catalog catalogs/shared_real.yml --warehouse warehouse/real.duckdb",
        "pedw run --full --log-level INFO",
    )
    run.add_argument("--catalog", metavar="FILE",
                     help="source catalog YAML (else $PEDW_CATALOG, else catalogs/demo.yml)")  # fmt: skip
    warehouse_option(run)
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
    add_commands(commands)  # demo-data and the warehouse commands (pedw/commands.py)

    ui = command(
        commands,
        "ui",
        "start the Dagster web UI (and daemon) on this project's local instance",
        "pedw ui",
        "pedw ui --catalog catalogs/shared_real.yml --warehouse warehouse/real.duckdb --port 3001",
    )
    ui.add_argument("--catalog", metavar="FILE", help="source catalog YAML the UI's runs use")
    warehouse_option(ui)
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


if __name__ == "__main__":
    sys.exit(main())
