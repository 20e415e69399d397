"""Dagster assets, by level (national, sector, enterprise) and stage. Each one is thin: it
calls a plain function of the `pedw` package and reports what it wrote."""

import warnings

import pedw  # noqa: F401  (telemetry off before dagster loads)

# Single-run backfills (BackfillPolicy) are marked beta; pedw relies on them knowingly.
warnings.filterwarnings("ignore", message=r".*currently in beta.*")
