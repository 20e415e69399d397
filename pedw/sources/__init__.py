"""Loaders: read each published layout into an all-text Arrow table with its provenance."""
