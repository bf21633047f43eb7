"""A data directory on object storage, staged: what is downloaded, what is sent back and in which order, a publish
that lost its race, and every way the bucket can be out of reach — against a real S3 server (moto)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from pipelines.errors import ScrublineError
from pipelines.operations.run_lock import LOCK_FILE, DataDirectoryBusyError, hold_object_lock
from pipelines.publishing.staging import StagingError, fetch, is_sent, local_data_dir, send_back, stage
from pipelines.storage import ObjectStorage, UnreachableError
from tests.object_storage import S3Server


@pytest.fixture
def bucket(s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStorage:
    """An empty data directory in the test server's bucket, reached by the standard AWS variables."""
    for name, value in s3.environment.items():
        monkeypatch.setenv(name, value)
    return ObjectStorage(f"s3://scrubline/{tmp_path.name}/data")


def put(storage: ObjectStorage, files: dict[str, str]) -> None:
    for path, text in files.items():
        storage.put(path, text.encode())


def test_staging_downloads_all_but_the_lock_and_work_and_sends_back_only_what_changed(
    bucket: ObjectStorage, tmp_path: Path
) -> None:
    put(bucket, {
        "scrubline.yaml": "sources: {}\n", "inbox/leads.csv": "id,phone\n", "published/latest.json": "{}",
        "work/old-run/frame.parquet": "frame", "clients/acme/work/old-run/frame.parquet": "frame",
        LOCK_FILE: "{}", "memo/old.parquet": "memo", "memo/reused.parquet": "reused frame",
        "registry_archive/abc123": "a registry copy",
    })  # fmt: skip
    local = stage(bucket, tmp_path / "staged")

    staged = {path.relative_to(local).as_posix(): path.read_text() for path in local.rglob("*") if path.is_file()}
    assert sorted(staged) == [
        ".staged.json", "inbox/leads.csv", "memo/old.parquet", "memo/reused.parquet", "published/latest.json",
        "registry_archive/abc123", "scrubline.yaml",
    ]  # fmt: skip
    assert staged["inbox/leads.csv"] == "id,phone\n"
    # Named, not downloaded: a run only asks whether they are there, and fetches the memo frames it reuses.
    assert staged["registry_archive/abc123"] == staged["memo/reused.parquet"] == ""
    assert fetch(bucket, local, local / "memo/reused.parquet").read_text() == "reused frame"
    assert fetch(bucket, local, local / "inbox/leads.csv").read_text() == "id,phone\n"

    (local / "memo/old.parquet").unlink()
    (local / "quarantine/run").mkdir(parents=True)
    (local / "quarantine/run/dialler.parquet").write_text("quarantined")
    (local / "work/run").mkdir(parents=True)
    (local / "work/run/frame.parquet").write_text("this run's intermediate")
    (local / "published/latest").symlink_to("runs")
    (local / "published/.latest.json.lock").write_text("")
    sent = send_back(bucket, local)

    assert sent.written == ["quarantine/run/dialler.parquet"]
    assert sent.removed == ["memo/old.parquet"]
    assert not sent.moved_latest
    assert is_sent(local)
    assert bucket.read("quarantine/run/dialler.parquet").data == b"quarantined"
    assert bucket.read("memo/old.parquet") is None
    assert bucket.read("work/run/frame.parquet") is None
    assert bucket.read("work/old-run/frame.parquet") is not None  # another run's intermediates: not this run's
    assert bucket.read("registry_archive/abc123").data == b"a registry copy"
    assert bucket.read("memo/reused.parquet").data == b"reused frame"  # fetched, not changed: not sent back
    assert send_back(bucket, local).written == []  # sent once


def test_a_publish_that_lost_its_race_moves_nothing_and_keeps_the_other_publisher_s_pointer(
    bucket: ObjectStorage, tmp_path: Path
) -> None:
    put(bucket, {"published/latest.json": json.dumps({"run_id": "first"})})
    local = stage(bucket, tmp_path / "staged")
    (local / "published/runs/mine").mkdir(parents=True)
    (local / "published/runs/mine/manifest.json").write_text("{}")
    (local / "published/latest.json").write_text(json.dumps({"run_id": "mine"}))
    bucket.put("published/latest.json", json.dumps({"run_id": "theirs"}).encode())  # another publisher, meanwhile

    with pytest.raises(StagingError, match=r"published/latest\.json changed since this run read it"):
        send_back(bucket, local)

    assert json.loads(bucket.read("published/latest.json").data) == {"run_id": "theirs"}
    assert not is_sent(local)


def test_a_manifest_already_in_the_bucket_is_never_replaced(bucket: ObjectStorage, tmp_path: Path) -> None:
    local = stage(bucket, tmp_path / "staged")
    (local / "published/runs/run-1").mkdir(parents=True)
    (local / "published/runs/run-1/manifest.json").write_text("mine")
    (local / "published/latest.json").write_text("{}")
    bucket.put("published/runs/run-1/manifest.json", b"theirs")

    with pytest.raises(StagingError, match=r"runs/run-1/manifest\.json already exists"):
        send_back(bucket, local)

    assert bucket.read("published/runs/run-1/manifest.json").data == b"theirs"
    assert bucket.read("published/latest.json") is None


def test_the_lock_object_names_its_holder_and_how_to_remove_a_stale_one(bucket: ObjectStorage) -> None:
    with hold_object_lock(bucket, run_id="holder", wait=False):
        holder = json.loads(bucket.read(LOCK_FILE).data)
        assert holder["run_id"] == "holder"
        with pytest.raises(DataDirectoryBusyError) as busy:
            with hold_object_lock(bucket, run_id="another", wait=False):
                pass
        with hold_object_lock(bucket, run_id="holder", wait=False):
            pass  # the run its command started goes on under the command's lock, and leaves it in place
        assert bucket.read(LOCK_FILE) is not None
    assert bucket.read(LOCK_FILE) is None
    message = str(busy.value)
    assert f"{bucket.url} is in use by run holder (host {holder['host']}, pid {holder['pid']}" in message
    assert f"once sure that run is not running, remove {bucket.url}/.scrubline.lock" in message


def test_a_run_that_waits_for_the_lock_object_takes_it_once_the_holder_lets_go(bucket: ObjectStorage) -> None:
    said: list[str] = []
    held_by: list[str] = []

    def wait_then_hold() -> None:
        with hold_object_lock(bucket, run_id="waiter", wait=True, on_wait=said.append, poll_s=0.1):
            held_by.append(json.loads(bucket.read(LOCK_FILE).data)["run_id"])

    with hold_object_lock(bucket, run_id="holder", wait=False):
        waiter = threading.Thread(target=wait_then_hold)
        waiter.start()
        deadline = time.monotonic() + 30
        while not said and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not held_by
    waiter.join(timeout=30)
    assert said and "in use by run holder" in said[0]
    assert held_by == ["waiter"]
    assert bucket.read(LOCK_FILE) is None


def test_a_missing_bucket_is_named_with_the_settings_to_check(bucket: ObjectStorage) -> None:
    missing = ObjectStorage("s3://no-such-bucket/data")
    with pytest.raises(UnreachableError, match=r"^s3://no-such-bucket/data/inbox: cannot reach it .*bucket exists"):
        list(missing.list("inbox"))


def test_missing_credentials_are_named_with_the_settings_to_check(
    bucket: ObjectStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(UnreachableError, match=r"cannot reach it .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        ObjectStorage(bucket.url).read("scrubline.yaml")


def test_outside_a_run_a_data_directory_on_object_storage_has_no_local_folder() -> None:
    with pytest.raises(
        ScrublineError, match=r"s3://scrubline/data: a data directory on object storage is read by a run"
    ):
        local_data_dir("s3://scrubline/data", None)
    assert local_data_dir("s3://scrubline/data", "run-1").name == "run-1"
