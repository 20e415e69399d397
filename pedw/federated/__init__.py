"""Federated mode: each office computes aggregate statistics on its own firm microdata, only
those travel, and the centre pools them (docs/federated.md). Dagster-free."""
