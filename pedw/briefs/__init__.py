"""Policy briefs: one HTML page and one PDF per country, built only from materialized tables."""
