"""Keep the pipeline offline: no analytics, no usage pings, no extension downloads."""

from __future__ import annotations

import os

# Great Expectations reads GX_ANALYTICS_ENABLED when it is imported; Dagster reads
# DAGSTER_HOME/dagster.yaml (telemetry: enabled: false) and these variables.
TELEMETRY_ENVIRONMENT = {
    "GX_ANALYTICS_ENABLED": "False",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}
# Charts are drawn off-screen unless the user chose a backend (a notebook's %matplotlib inline).
HEADLESS_DEFAULTS = {"MPLBACKEND": "Agg"}


def disable_telemetry() -> None:
    """Set the switches that stop Great Expectations, Dagster and friends phoning home."""
    for name, value in TELEMETRY_ENVIRONMENT.items():
        os.environ[name] = value
    for name, value in HEADLESS_DEFAULTS.items():
        os.environ.setdefault(name, value)
