"""When the nightly scrub runs on its own."""

import os

import dagster as dg

from assets.constants import DEFAULT_SCHEDULE
from assets.jobs import nightly_scrub

# Operators move the nightly window without a code change: SCRUBLINE_SCHEDULE takes a cron expression.
nightly_scrub_schedule = dg.ScheduleDefinition(
    job=nightly_scrub,
    cron_schedule=os.environ.get("SCRUBLINE_SCHEDULE", DEFAULT_SCHEDULE),
    execution_timezone=os.environ.get("SCRUBLINE_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
