"""The run's own clock: one instant per run, so every asset and check judges the same moment.

The instant is when the run was created. Tests inject their own with the run tag `scrubline/as_of` (an ISO
8601 instant with its zone), honoured only on an ephemeral Dagster instance, the one tests run in: on a
real instance (the UI, the schedule, the sensor, `scrubline run` with `DAGSTER_HOME`) a run carrying the
tag fails at once. A run scrubbed as of the past would publish, as `latest`, a list that may already be
past its `valid_through`; replays are not offered. Manifests say which clock a run used.
"""

from datetime import UTC, datetime

import dagster as dg

from pipelines.errors import ConfigError

AS_OF_TAG = "scrubline/as_of"


def run_started(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> datetime:
    """The run's instant (UTC): its `scrubline/as_of` tag, or when it was created."""
    tagged = context.run.tags.get(AS_OF_TAG)
    if tagged is None:
        return run_created(context)
    if not context.instance.is_ephemeral:
        raise ConfigError(
            f"run tag {AS_OF_TAG} is for tests only (an ephemeral instance); remove it: a run scrubs as of "
            "when it is created"
        )
    return parse_as_of(tagged)


def run_created(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> datetime:
    """When the run was created (UTC), whatever its clock: what orders runs, so `latest` never moves back."""
    return context.instance.get_run_record_by_id(context.run.run_id).create_timestamp


def clock_source(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    """`run_created` or `as_of_tag`: where the run's instant came from, for the audit record."""
    return "as_of_tag" if AS_OF_TAG in context.run.tags else "run_created"


def parse_as_of(text: str) -> datetime:
    """An `as_of` instant: ISO 8601 with a zone (`2026-11-27T02:00:00Z`), as UTC."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as error:
        raise ConfigError(f"{AS_OF_TAG} '{text}' is not an ISO 8601 instant (e.g. 2026-11-27T02:00:00Z)") from error
    if instant.tzinfo is None:
        raise ConfigError(f"{AS_OF_TAG} '{text}' has no zone; write it with Z or an offset")
    return instant.astimezone(UTC)
