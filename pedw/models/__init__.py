"""Models over the marts, as plain functions returning tidy result frames."""
