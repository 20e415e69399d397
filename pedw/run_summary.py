"""What one `pedw run` did (RunSummary, filled in by pipelines/run.py) and how it is told to
the user: one line per problem, the next step, and the command's exit code."""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass, field

from pedw.release import current_release
from pedw.settings import Settings

# `pedw run` exit codes: 0 published clean; 3 published with problems (refused files, failed
# or blocked assets: their tables stale or absent); 1 nothing published; 2 not started;
# 130 / 143 stopped by SIGINT / SIGTERM (nothing new published).
EXIT_PUBLISHED_WITH_PROBLEMS = 3


@dataclass
class RunSummary:
    """Outcome of a full catalog run."""

    success: bool
    run_ids: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    brief_countries: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    failed_steps: dict[str, str] = field(default_factory=dict)  # step key -> its cause
    blocked_checks: dict[str, list[str]] = field(default_factory=dict)  # asset -> failed checks
    refused: list[str] = field(default_factory=list)  # source files not loaded, with why
    not_materialized: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # current: left alone
    rebuilt: dict[str, str] = field(default_factory=dict)  # asset -> why it ran (not with full)
    seconds: float = 0.0
    publication_id: str = ""  # tags every run of this `pedw run` (pedw/publication)
    published: bool = False  # this run published the warehouse (clean or with problems)
    interrupted: str = ""  # the signal (SIGINT, SIGTERM) that stopped the run, if one did
    stopped_at: str = ""  # the stage it was in or about to start

    @property
    def failures(self) -> list[str]:
        """One line per failed step: its key and cause."""
        return [f"{step}: {cause}" for step, cause in self.failed_steps.items()]

    @property
    def blocked(self) -> list[str]:
        """One line per failed blocking check: the asset and the check."""
        return [
            f"{asset}: check {check} failed"
            for asset, checks in self.blocked_checks.items()
            for check in checks
        ]


def report(summary: RunSummary, settings: Settings, where: str) -> int:
    """Print the outcome of a run (problems on stderr) and return `pedw run`'s exit code;
    `where` is the --warehouse option to repeat in the commands it suggests."""
    if summary.interrupted:
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
