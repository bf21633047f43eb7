"""When the nightly scrub runs on its own."""

import os

import dagster as dg

from assets.constants import DEFAULT_SCHEDULE, HOURLY
from assets.jobs import nightly_scrub, withdraw_expired_lists

# Operators move the nightly window without a code change: SCRUBLINE_SCHEDULE takes a cron expression.
nightly_scrub_schedule = dg.ScheduleDefinition(
    job=nightly_scrub,
    cron_schedule=os.environ.get("SCRUBLINE_SCHEDULE", DEFAULT_SCHEDULE),
    execution_timezone=os.environ.get("SCRUBLINE_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

# A list expires between nightly runs too: withdraw it within the hour, whatever the nightly schedule.
withdraw_expired_lists_schedule = dg.ScheduleDefinition(
    job=withdraw_expired_lists,
    cron_schedule=HOURLY,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
