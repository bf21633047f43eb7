"""The inbox is ready when its files changed and then held still; half-written files never count."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.inputs.inbox import InboxCursor, decide, first_cursor, inbox_fingerprint
from pipelines.inputs.records import file_sha256

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "inbox/dialler").mkdir(parents=True)
    (tmp_path / "inbox/dialler/a.csv").write_text("lead_id,phone\nL1,2015550123\n")
    return tmp_path / "inbox"


def tick(inbox: Path, cursor: InboxCursor, seconds: int, **options: object) -> tuple[str | None, InboxCursor]:
    settings = {"settle_seconds": 60, "ready_marker": False, **options}
    decision = decide(inbox, cursor, now=T0 + timedelta(seconds=seconds), **settings)
    return decision.run_key, decision.cursor


def test_an_empty_inbox_has_no_fingerprint(tmp_path: Path) -> None:
    assert inbox_fingerprint(tmp_path) is None


def test_fingerprint_is_stable_and_moves_with_any_file_change(inbox: Path) -> None:
    first = inbox_fingerprint(inbox)
    assert inbox_fingerprint(inbox) == first
    (inbox / "dialler/b.csv").write_text("lead_id,phone\n")
    second = inbox_fingerprint(inbox)
    assert second != first
    leads = inbox / "dialler/a.csv"
    os.utime(leads, ns=(leads.stat().st_atime_ns, leads.stat().st_mtime_ns + 1_000_000_000))
    assert inbox_fingerprint(inbox) not in (first, second)


@pytest.mark.parametrize(
    "name", ["dialler/b.csv.part", "dialler/b.csv.tmp", "dialler/b.csv.crdownload", "dialler/.b.csv", ".sync/b.csv"]
)
def test_files_still_being_written_are_not_part_of_the_inbox(inbox: Path, name: str) -> None:
    before = inbox_fingerprint(inbox)
    (inbox / name).parent.mkdir(exist_ok=True)
    (inbox / name).write_text("lead_id,phone\nL2,2015550")
    assert inbox_fingerprint(inbox) == before


def test_a_run_starts_once_the_changed_inbox_held_still_for_the_settle_period(inbox: Path) -> None:
    run_key, cursor = tick(inbox, InboxCursor(), 0)
    assert run_key is None
    run_key, cursor = tick(inbox, cursor, 59)
    assert run_key is None
    run_key, cursor = tick(inbox, cursor, 60)
    assert run_key == inbox_fingerprint(inbox) == cursor.requested
    assert tick(inbox, cursor, 120)[0] is None


def test_a_file_still_growing_never_starts_a_run(inbox: Path) -> None:
    leads = inbox / "dialler/a.csv"
    _, cursor = tick(inbox, InboxCursor(), 0)
    with leads.open("a") as copying:
        copying.write("L2,2015550199\n")
    run_key, cursor = tick(inbox, cursor, 90)
    assert run_key is None
    assert cursor.unchanged_since == T0 + timedelta(seconds=90)
    assert tick(inbox, cursor, 149)[0] is None
    assert tick(inbox, cursor, 150)[0] == inbox_fingerprint(inbox)


def test_with_a_ready_marker_nothing_starts_before_the_sender_puts_it_down(inbox: Path) -> None:
    _, cursor = tick(inbox, InboxCursor(), 0, ready_marker=True)
    run_key, cursor = tick(inbox, cursor, 60, ready_marker=True)
    assert run_key is None
    (inbox / "_READY").touch()
    assert tick(inbox, cursor, 61, ready_marker=True)[0] == inbox_fingerprint(inbox)


def test_the_cursor_reads_as_json(inbox: Path) -> None:
    _, cursor = tick(inbox, InboxCursor(), 0)
    assert json.loads(cursor.serialised()) == {
        "seen": inbox_fingerprint(inbox),
        "count_files": 1,
        "unchanged_since": "2026-11-27T01:00:00Z",
        "requested": None,
    }
    assert InboxCursor.parse(cursor.serialised()) == cursor


def test_a_first_tick_counts_the_inbox_as_requested_only_when_the_latest_run_read_exactly_it(inbox: Path) -> None:
    data_dir = inbox.parent
    read = {"inbox/dialler/a.csv": file_sha256(inbox / "dialler/a.csv"), "registries/us/v1.parquet": "0" * 64}
    assert first_cursor(inbox, data_dir=data_dir, published_inputs=read).requested == inbox_fingerprint(inbox)
    assert first_cursor(inbox, data_dir=data_dir, published_inputs={}).requested is None
    (inbox / "dialler/a.csv").write_text("lead_id,phone\nL1,2015550124\n")
    assert first_cursor(inbox, data_dir=data_dir, published_inputs=read).requested is None
