"""Marts: analysis-ready panels with drivers and decent-work indicators side by side."""
