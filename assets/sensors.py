"""Reacting to the inbox."""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from assets.constants import CLIENTS_PARTITIONS
from assets.jobs import nightly_scrub
from assets.resources import ScrublineData
from pipelines.clients import CLIENTS, client_names, has_clients
from pipelines.errors import ConfigError
from pipelines.inputs.inbox import (
    IGNORED_SUFFIXES,
    READY_MARKER,
    InboxCursor,
    InboxDecision,
    decide,
    first_cursor,
    published_inputs,
)
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
        "holds exactly what the latest published run read (its manifest's inputs and SHA-256). In a data directory "
        "of clients, it adds each new clients/<client>/ as a partition and watches each client's own inbox/, starting "
        "a run of that client alone."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext, scrubline: ScrublineData) -> dg.SensorResult:
    """Start a scrub when the inbox's files changed and then held still; in a data directory of clients, add each new
    client as a partition and start a run of each client whose own inbox changed and then held still."""
    if has_clients(scrubline.root):
        return client_inboxes(context, scrubline)
    decision = inbox_decision(scrubline, context.cursor)
    if decision.run_key is None:
        return dg.SensorResult(skip_reason=decision.reason, cursor=decision.cursor.serialised())
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=decision.run_key)], cursor=decision.cursor.serialised())


def client_inboxes(context: dg.SensorEvaluationContext, scrubline: ScrublineData) -> dg.SensorResult:
    """One tick over every client's inbox: a partition for each client folder not yet one, and a run for each client
    whose inbox is ready, keyed by client and inbox fingerprint. The cursor holds each client's inbox cursor; a client
    whose configuration cannot be read is skipped, named, and the others go on."""
    cursors: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    clients = client_names(scrubline.root)
    decisions, reasons = {}, []
    for client in clients:
        try:
            decisions[client] = inbox_decision(
                ScrublineData(data_dir=scrubline.data_dir, client=client), cursors.get(client)
            )
        except ConfigError as error:
            reasons.append(f"{client}: {error}")
    requests = [
        dg.RunRequest(run_key=f"{client}:{decision.run_key}", partition_key=client)
        for client, decision in decisions.items()
        if decision.run_key is not None
    ]
    known = set(context.instance.get_dynamic_partitions(CLIENTS_PARTITIONS))
    added = [client for client in clients if client not in known]
    reasons += [f"{client}: {decision.reason}" for client, decision in decisions.items() if decision.run_key is None]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest(CLIENTS_PARTITIONS, added)] if added else [],
        cursor=json.dumps({client: decision.cursor.serialised() for client, decision in decisions.items()}),
        skip_reason=None if requests or added else "; ".join(reasons) or f"no client under {CLIENTS}/",
    )


def inbox_decision(scrubline: ScrublineData, cursor: str | None) -> InboxDecision:
    """Whether the data directory's (or client's) inbox is ready for a run, from the sensor's cursor for it: on the
    first tick, whether it holds what the latest published run read."""
    settings = scrubline.config.inbox
    inbox_cursor = (
        InboxCursor.parse(cursor)
        if cursor
        else first_cursor(
            scrubline.inbox,
            data_dir=scrubline.root,
            published_inputs=published_inputs(latest_manifest(scrubline)),
        )
    )
    return decide(
        scrubline.inbox,
        inbox_cursor,
        now=datetime.now(UTC),
        settle_seconds=settings.settle_seconds,
        ready_marker=settings.ready_marker,
    )


def latest_manifest(scrubline: ScrublineData) -> Path | None:
    """The manifest of the run `latest.json` names, if a list is published and not withdrawn."""
    run = latest_run_folder(scrubline.published)
    return None if run is None else run / MANIFEST
