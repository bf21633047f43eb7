"""The opt-out journal across processes: service workers writing at once record each client key exactly once."""

from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

import polars as pl
import pytest

from pipelines.errors import InputFileError
from pipelines.serving.journal import OptOutJournal
from pipelines.serving.journal_file import JOURNAL_PATH

AT = datetime(2026, 11, 27, 12, tzinfo=UTC)
KEYS = list(range(1000))


def record_all(data_dir: str, keys: list[int]) -> int:
    """Record an opt-out for each key, as one worker process would; how many this process wrote."""
    journal = OptOutJournal(Path(data_dir))
    written = [
        journal.record(
            phone_e164=f"+1201555{key:04d}", requested_at=AT, seller=None, source="bulk", client_key=f"k{key}", now=AT
        )[1]
        for key in keys
    ]
    return sum(written)


def test_four_processes_recording_the_same_keys_at_once_write_each_key_once(tmp_path: Path) -> None:
    orders = [KEYS, KEYS[::-1], KEYS[1::2] + KEYS[::2], KEYS[::2] + KEYS[1::2]]
    with ProcessPoolExecutor(len(orders), mp_context=get_context("spawn")) as pool:
        written = list(pool.map(record_all, [str(tmp_path)] * len(orders), orders))
    assert sum(written) == len(KEYS)
    journal = pl.read_csv(tmp_path / JOURNAL_PATH, infer_schema=False)
    assert journal.height == len(KEYS)
    assert sorted(journal.get_column("client_key").to_list()) == sorted(f"k{key}" for key in KEYS)


@pytest.mark.parametrize(
    "line",
    ["+12015550123,yesterday,,bulk,k9,2026-11-27T12:00:00+00:00\n", "+12015550123,2026-11-27T12:00:00+00:00\n"],
    ids=["unreadable_time", "missing_fields"],
)
def test_a_journal_line_edited_by_hand_stops_the_service_naming_its_row(tmp_path: Path, line: str) -> None:
    assert record_all(str(tmp_path), [1]) == 1
    with (tmp_path / JOURNAL_PATH).open("a") as journal:
        journal.write(line)
    with pytest.raises(InputFileError, match=r"opt-outs/journal.csv row 2 \(line 3\) cannot be read"):
        OptOutJournal(tmp_path)
