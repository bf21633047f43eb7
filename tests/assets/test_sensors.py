"""The inbox sensor asks for one run per new set of files, never two for the same files."""

from pathlib import Path

import dagster as dg

from assets.resources import ScrublineData
from assets.sensors import inbox_sensor


def evaluate(data_dir: Path, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(cursor=cursor, resources={"scrubline": ScrublineData(data_dir=str(data_dir))})
    return inbox_sensor(context)


def test_new_files_request_one_run_and_the_same_files_none(data_dir: Path) -> None:
    first = evaluate(data_dir, cursor=None)
    assert isinstance(first, dg.SensorResult)
    (request,) = first.run_requests
    assert first.cursor == request.run_key

    again = evaluate(data_dir, cursor=first.cursor)
    assert isinstance(again, dg.SkipReason)

    (data_dir / "inbox/dialler/summer.csv").write_text("lead_id,phone,country\nS1,2015550123,US\n")
    second = evaluate(data_dir, cursor=first.cursor)
    assert isinstance(second, dg.SensorResult)
    assert [r.run_key for r in second.run_requests] != [request.run_key]


def test_an_empty_inbox_requests_nothing(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    assert isinstance(evaluate(tmp_path, cursor=None), dg.SkipReason)
