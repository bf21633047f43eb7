"""The storage layer's two conditional writes hold on a local folder and on a real S3 server alike."""

from pathlib import Path

import pytest

from pipelines.storage import AlreadyExistsError, ChangedError, LocalStorage, ObjectStorage, Storage, open_storage


def test_a_location_is_an_s3_url_or_else_a_local_folder(tmp_path: Path) -> None:
    assert isinstance(open_storage(tmp_path), LocalStorage)
    assert isinstance(open_storage("s3://scrubline/published"), ObjectStorage)
    assert open_storage("s3://scrubline/published").where("latest.json") == "s3://scrubline/published/latest.json"


def test_what_is_written_reads_back_and_what_is_not_there_reads_as_none(storage: Storage) -> None:
    storage.put("runs/r1/clean/a.csv", b"phone_e164\n")
    assert storage.read("runs/r1/clean/a.csv").data == b"phone_e164\n"
    assert storage.read("runs/r1/clean/b.csv") is None


def test_a_create_only_write_refuses_an_existing_object_and_leaves_it(storage: Storage) -> None:
    storage.put_new("runs/r1/manifest.json", b"first")
    with pytest.raises(AlreadyExistsError, match="runs/r1/manifest.json already exists"):
        storage.put_new("runs/r1/manifest.json", b"second")
    assert storage.read("runs/r1/manifest.json").data == b"first"


def test_a_swap_replaces_only_what_was_read(storage: Storage) -> None:
    storage.put_new("latest.json", b"r1")
    read = storage.read("latest.json")
    storage.swap("latest.json", b"r2", expected=read.tag)
    assert storage.read("latest.json").data == b"r2"
    with pytest.raises(ChangedError, match="latest.json changed since it was read"):
        storage.swap("latest.json", b"r3", expected=read.tag)
    assert storage.read("latest.json").data == b"r2"


def test_a_swap_of_nothing_is_refused(storage: Storage) -> None:
    with pytest.raises(ChangedError):
        storage.swap("latest.json", b"r1", expected="a tag of nothing")
    assert storage.read("latest.json") is None


def test_a_local_folder_keeps_no_temporary_file_beside_what_it_wrote(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put_new("latest.json", b"r1")
    storage.swap("latest.json", b"r2", expected=storage.read("latest.json").tag)
    with pytest.raises(AlreadyExistsError):
        storage.put_new("latest.json", b"r3")
    assert sorted(path.name for path in tmp_path.iterdir()) == [".latest.json.lock", "latest.json"]
