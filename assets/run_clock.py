"""The run's own clock: one instant per run, so every asset and check judges the same moment."""

from datetime import datetime

import dagster as dg


def run_started(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> datetime:
    """When the run was created (UTC)."""
    return context.instance.get_run_record_by_id(context.run.run_id).create_timestamp
