"""No whole phone number in logs, events, metadata or error messages: planted numbers are searched for in
everything a real run said, failing runs included."""

import re
from pathlib import Path

import dagster as dg
import pytest

from assets.constants import NIGHTLY_SCRUB_JOB
from assets.definitions import build_definitions
from tests.handmade import INBOX, RUN_TAGS, write_data_dir

# Every number the hand-made inbox holds, as national significant digits: any way of writing one contains them.
PLANTED = ("2015550123", "2015550199", "2125550142", "4155552671", "2079460018", "7400123456")


def everything_a_run_said(data_dir: Path, capfd: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    """Run the job on a real instance; every event and log entry serialised, and all it printed."""
    instance = dg.DagsterInstance.ephemeral()
    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)
    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=RUN_TAGS)
    entries = "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(result.run_id))
    printed = capfd.readouterr()
    return result.success, "\n".join([entries, printed.out, printed.err])


def whole_numbers_in(text: str) -> list[str]:
    digits_only = re.sub(r"[^0-9]", "", text)  # numbers written with separators, spread over escapes, or not
    return [number for number in PLANTED if number in text or number in digits_only]


@pytest.mark.parametrize(
    ("inbox", "fails"),
    [
        (INBOX, False),
        # A dialler file without its header row: the error lists what the file has, its first record.
        ({**INBOX, "dialler/spring.csv": INBOX["dialler/spring.csv"].split("\n", 1)[1]}, True),
        # A registry line DuckDB cannot read, with a number in it.
        ({**INBOX, "registries/litigators/litigators.txt": "2125550142\n2015550123\tsee ticket 12\n"}, True),
        # An unreadable CRM record carrying a do-not-call flag: a failing check.
        ({**INBOX, "crm/contacts.csv": INBOX["crm/contacts.csv"] + "C3,2015550199,,US,yes,unexpected\n"}, True),
    ],
    ids=["published", "dialler_without_header", "unreadable_registry_line", "unreadable_crm_record"],
)
def test_no_run_shows_a_whole_phone_number_anywhere(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], inbox: dict[str, str], fails: bool
) -> None:
    success, said = everything_a_run_said(write_data_dir(tmp_path / "data", inbox), capfd)
    assert success is not fails
    assert whole_numbers_in(said) == []


def test_the_search_finds_a_planted_number_however_it_is_written_and_not_a_masked_one() -> None:
    assert whole_numbers_in('"the file has: L1, (201) 555-0123, US"') == ["2015550123"]
    assert whole_numbers_in('{"phone": "+1 212-555-0142"}') == ["2125550142"]
    assert whole_numbers_in("the file has: L1, (***) ***-0123 and +1******0142") == []
