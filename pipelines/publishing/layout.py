"""Where things are in `published/`: names shared by the atomic publish, the warehouse and their readers."""

from __future__ import annotations

LATEST = "latest"
MANIFEST = "manifest.json"
RUNS = "runs"
# What is left of a run past `retention.run_days`: its manifest, certificates and number outcomes.
ARCHIVE = "archive"
# Each run's outcome per (campaign, number); the warehouse's `number_history` reads it across every run.
NUMBER_OUTCOMES = "history/number_outcomes.parquet"
# Analytics a run publishes as `analytics/<name>.parquet` and the warehouse shows as views of the same
# name when the run has them: calling windows always, the rest only with a call log, none in older runs.
ANALYTICS_VIEWS = (
    "calling_windows", "cli_days", "cli_health", "pool_capacity", "dialled_numbers", "call_limit_breaches",
)  # fmt: skip


def analytics_path(name: str) -> str:
    """Where a run publishes the analytics `name`, relative to the run directory."""
    if name not in ANALYTICS_VIEWS:
        raise ValueError(f"'{name}' is not one of the published analytics: {', '.join(ANALYTICS_VIEWS)}")
    return f"analytics/{name}.parquet"
