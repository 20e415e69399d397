"""Staged stage: typed, coded, unit-normalised tables that passed the data contracts."""
