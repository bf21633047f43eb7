"""Scrubline's Dagster code location: thin assets over the `pipelines` engine."""
