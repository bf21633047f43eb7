"""The inbox sensor, ticked against a real instance: no run on a first tick over what was published, none
while a file is being copied, one per new set of files once they hold still."""

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.resources import ScrublineData
from assets.sensors import inbox_sensor
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import INBOX, SCRUBLINE_YAML, write_data_dir

# Ticks come seconds apart in a test: no settle period, so a state needs only to hold from one tick to the next.
NO_SETTLING = SCRUBLINE_YAML + "inbox:\n  settle_seconds: 0\n"


def tick(data_dir: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        cursor=cursor,
        resources={"scrubline": ScrublineData(data_dir=str(data_dir))},
    )
    return inbox_sensor(context)


@pytest.fixture
def settled(tmp_path: Path) -> Path:
    return write_data_dir(tmp_path / "data", INBOX, NO_SETTLING)


def test_a_first_tick_over_the_inbox_the_latest_run_read_starts_nothing(settled: Path) -> None:
    assert run_nightly(settled).success
    first = tick(settled, cursor=None)
    assert not first.run_requests
    assert "unchanged since the last run" in first.skip_reason.skip_message
    assert not tick(settled, first.cursor).run_requests


def test_a_first_tick_over_an_inbox_nothing_has_read_waits_for_it_to_hold_still_then_starts_one_run(
    settled: Path,
) -> None:
    first = tick(settled, cursor=None)
    assert not first.run_requests
    assert json.loads(first.cursor)["count_files"] == len(INBOX)
    second = tick(settled, first.cursor)
    (request,) = second.run_requests
    assert request.run_key == json.loads(second.cursor)["requested"]
    assert not tick(settled, second.cursor).run_requests


def test_a_half_copied_file_starts_no_run_until_it_is_whole_and_still(settled: Path) -> None:
    assert run_nightly(settled).success
    cursor = tick(settled, cursor=None).cursor
    copying = settled / "inbox/dialler/summer.csv"
    (settled / "inbox/dialler/summer.csv.part").write_text("lead_id,phone,country\nS1,20155")
    result = tick(settled, cursor)
    assert not result.run_requests

    copying.write_text("lead_id,phone,country\nS1,20155")
    result = tick(settled, result.cursor)
    assert not result.run_requests
    with copying.open("a") as appending:
        appending.write("50123,US\n")
    result = tick(settled, result.cursor)
    assert not result.run_requests
    assert "waiting until its files hold still" in result.skip_reason.skip_message

    (request,) = tick(settled, result.cursor).run_requests
    assert request.run_key == json.loads(result.cursor)["seen"]


def test_the_sensor_says_what_it_watches() -> None:
    assert "inbox/" in inbox_sensor.description
    assert ".part" in inbox_sensor.description
    assert "settle_seconds" in inbox_sensor.description
