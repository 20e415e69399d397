"""Dagster definitions, resources, jobs, schedules and the `pedw` command line."""

import pedw  # noqa: F401  (turns telemetry off before dagster or great_expectations load)
