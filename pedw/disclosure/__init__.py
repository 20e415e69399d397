"""Disclosure control of every firm-derived figure pedw publishes (docs/disclosure.md)."""
