"""Deterministic demo data in the layouts of the real sources, with documented ground truth."""
