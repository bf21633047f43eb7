"""The code location: every asset, check, job, schedule, sensor and resource, for one data directory."""

import dagster as dg

from assets import analytics, ingest, normalise, publish, suppress
from assets.jobs import nightly_scrub, withdraw_expired_lists
from assets.resources import RunWorkspace, ScrublineData
from assets.schedules import nightly_scrub_schedule, withdraw_expired_lists_schedule
from assets.sensors import inbox_sensor
from pipelines.config import data_dir_from_environment

_MODULES = (ingest, normalise, suppress, analytics, publish)


def build_definitions(data_dir: str) -> dg.Definitions:
    """Definitions reading and writing the data directory `data_dir`."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(_MODULES),
        jobs=[nightly_scrub, withdraw_expired_lists],
        schedules=[nightly_scrub_schedule, withdraw_expired_lists_schedule],
        sensors=[inbox_sensor],
        resources={
            "scrubline": ScrublineData(data_dir=data_dir),
            "io_manager": RunWorkspace(data_dir=data_dir),
        },
    )


defs = build_definitions(data_dir_from_environment())
