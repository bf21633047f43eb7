"""Scrubline's engine: pure functions over polars frames and DuckDB connections.

Nothing here imports Dagster, so every stage can be used and tested on its own.
"""
