"""Reacting to the inbox."""

import dagster as dg

from assets.jobs import nightly_scrub
from assets.resources import ScrublineData
from pipelines.inbox import inbox_fingerprint


# New registry or dialler files should be scrubbed now, not at 02:00. The run key is the inbox
# fingerprint, so one set of files starts one run, however often the sensor looks.
@dg.sensor(job=nightly_scrub, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, scrubline: ScrublineData) -> dg.SensorResult | dg.SkipReason:
    """Start a scrub when the set of files in the inbox changes."""
    fingerprint = inbox_fingerprint(scrubline.inbox)
    if fingerprint is None:
        return dg.SkipReason(f"{scrubline.inbox} has no files")
    if fingerprint == context.cursor:
        return dg.SkipReason("inbox unchanged since the last run request")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)
