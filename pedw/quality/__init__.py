"""Data contracts: YAML rules, compiled to DuckDB SQL (row level) and Great Expectations (table level)."""
