"""Registry copies are archived by SHA-256: stored once however many nights use them, within a size limit."""

import hashlib
from pathlib import Path

from pipelines.publishing.registry_archive import archive_registry_copies
from pipelines.records import ArchivedCopy

TPS = b"0207 9460018\r\n07400 999999\r\n"
SHA = hashlib.sha256(TPS).hexdigest()


def data_dir_with_tps(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox/tps.txt").write_bytes(TPS)
    return tmp_path


def test_a_copy_is_archived_under_its_sha256_and_stored_once_for_every_night_that_uses_it(tmp_path: Path) -> None:
    data_dir = data_dir_with_tps(tmp_path)
    first = archive_registry_copies([("inbox/tps.txt", SHA)], data_dir=data_dir, max_bytes=1_000)
    (data_dir / "inbox/tps.txt").rename(data_dir / "inbox/tps-renamed.txt")  # next night, same bytes
    second = archive_registry_copies([("inbox/tps-renamed.txt", SHA)], data_dir=data_dir, max_bytes=1_000)
    assert first == second == {SHA: ArchivedCopy(sha256=SHA, path=f"registry_archive/{SHA}")}
    assert (data_dir / f"registry_archive/{SHA}").read_bytes() == TPS
    assert [path.name for path in (data_dir / "registry_archive").iterdir()] == [SHA]


def test_a_zipped_copy_archives_the_zip(tmp_path: Path) -> None:
    data_dir = data_dir_with_tps(tmp_path)
    archived = archive_registry_copies([("inbox/tps.txt!201.txt", SHA)], data_dir=data_dir, max_bytes=1_000)
    assert archived[SHA].path == f"registry_archive/{SHA}"


def test_a_copy_over_the_size_limit_is_not_archived_and_says_why(tmp_path: Path) -> None:
    data_dir = data_dir_with_tps(tmp_path)
    archived = archive_registry_copies([("inbox/tps.txt", SHA)], data_dir=data_dir, max_bytes=10)
    assert archived == {
        SHA: ArchivedCopy(sha256=SHA, path=None, reason="28 bytes, over registry_archive.max_bytes (10)")
    }
    assert not (data_dir / "registry_archive").exists()


def test_a_file_changed_since_the_run_read_it_is_not_archived_under_the_old_checksum(tmp_path: Path) -> None:
    data_dir = data_dir_with_tps(tmp_path)
    (data_dir / "inbox/tps.txt").write_bytes(TPS + b"07400 888888\r\n")
    archived = archive_registry_copies([("inbox/tps.txt", SHA)], data_dir=data_dir, max_bytes=1_000)
    assert archived[SHA].path is None
    assert archived[SHA].reason == "tps.txt changed since the run read it"
    assert list((data_dir / "registry_archive").iterdir()) == []
