"""The inbox fingerprint changes when, and only when, the set of files changes."""

import os
from pathlib import Path

from pipelines.inbox import inbox_fingerprint


def test_an_empty_inbox_has_no_fingerprint(tmp_path: Path) -> None:
    assert inbox_fingerprint(tmp_path) is None


def test_fingerprint_is_stable_and_moves_with_any_file_change(tmp_path: Path) -> None:
    (tmp_path / "dialler").mkdir()
    leads = tmp_path / "dialler" / "a.csv"
    leads.write_text("lead_id,phone\n")
    first = inbox_fingerprint(tmp_path)
    assert inbox_fingerprint(tmp_path) == first

    (tmp_path / "dialler" / "b.csv").write_text("lead_id,phone\n")
    second = inbox_fingerprint(tmp_path)
    assert second != first

    stat = leads.stat()
    os.utime(leads, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert inbox_fingerprint(tmp_path) not in (first, second)
