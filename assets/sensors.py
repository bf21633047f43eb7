"""Reacting to the inbox."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from assets.jobs import nightly_scrub
from assets.resources import ScrublineData
from pipelines.inputs.inbox import IGNORED_SUFFIXES, READY_MARKER, InboxCursor, decide, first_cursor, published_inputs
from pipelines.publishing.latest import latest_run_folder
from pipelines.publishing.layout import MANIFEST


# New registry or dialler files should be scrubbed now, not at 02:00, but only once they are whole: the
# sender may still be copying them. The run key is the inbox fingerprint, so one set of files starts one run.
@dg.sensor(
    job=nightly_scrub,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the data directory's inbox/ (every file below it except dot-files and names ending "
        f"{', '.join(IGNORED_SUFFIXES)}) and starts nightly_scrub when its files changed and then held still "
        "(sizes and modification times) for inbox.settle_seconds of scrubline.yaml (default 60), and, with "
        f"inbox.ready_marker, once inbox/{READY_MARKER} exists. On its first tick it starts nothing if the inbox "
        "holds exactly what the latest published run read (its manifest's inputs and SHA-256)."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext, scrubline: ScrublineData) -> dg.SensorResult:
    """Start a scrub when the inbox's files changed and then held still."""
    settings = scrubline.config.inbox
    cursor = (
        InboxCursor.parse(context.cursor)
        if context.cursor
        else first_cursor(
            scrubline.inbox,
            data_dir=scrubline.root,
            published_inputs=published_inputs(latest_manifest(scrubline)),
        )
    )
    decision = decide(
        scrubline.inbox,
        cursor,
        now=datetime.now(UTC),
        settle_seconds=settings.settle_seconds,
        ready_marker=settings.ready_marker,
    )
    if decision.run_key is None:
        return dg.SensorResult(skip_reason=decision.reason, cursor=decision.cursor.serialised())
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=decision.run_key)], cursor=decision.cursor.serialised())


def latest_manifest(scrubline: ScrublineData) -> Path | None:
    """The manifest of the run `latest.json` names, if a list is published and not withdrawn."""
    run = latest_run_folder(scrubline.published)
    return None if run is None else run / MANIFEST
