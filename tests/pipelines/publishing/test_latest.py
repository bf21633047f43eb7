"""The publish contract, on a local folder and on a real S3 server alike: a run's files under `runs/<run id>/`, its
manifest last and create-only, `latest.json` swapped by compare-and-swap; readers follow it and never list."""

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from pipelines.errors import ScrublineError
from pipelines.publishing.latest import (
    LATEST_POINTER,
    AlreadyPublishedError,
    PublishRaceError,
    commit_manifest,
    point_latest,
    read_latest,
    resolve_latest,
    withdraw_latest,
)
from pipelines.publishing.publish import write_run
from pipelines.records import Manifest, Withdrawal
from pipelines.storage import ObjectStorage, Storage, Tagged
from tests.object_storage import S3Server, is_listing
from tests.pipelines.publishing.test_publish import GOOD

CREATED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def publish(storage: Storage, run_id: str, *, minute: int = 0, outputs: dict = GOOD) -> bool:
    """Publish `outputs` as run `run_id`, created `minute` minutes after CREATED, by the contract; whether
    `latest.json` moved to it."""
    created = CREATED + timedelta(minutes=minute)
    sha256 = write_run(
        outputs,
        storage=storage,
        manifest=Manifest(run_id=run_id, published_at=created, run_created_at=created),
        certificates={},
        lists={},
        data_docs=None,
        sign=None,
    )
    return point_latest(storage, run_id=run_id, run_created_at=created, manifest_sha256=sha256)


def test_readers_follow_latest_to_the_manifest_and_the_files_it_lists(storage: Storage) -> None:
    assert resolve_latest(storage) is None
    assert publish(storage, "r1")
    pointer = json.loads(storage.read(LATEST_POINTER).data)
    manifest = storage.read("runs/r1/manifest.json").data
    assert pointer == {
        "run_id": "r1",
        "manifest": "runs/r1/manifest.json",
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "run_created_at": "2026-11-27T02:00:00+00:00",
        "withdrawn": None,
    }
    resolved = resolve_latest(storage)
    assert resolved.run_id == "r1"
    assert sorted(resolved.outputs) == sorted(GOOD)
    for path, listed in resolved.outputs.items():
        assert hashlib.sha256(storage.read(f"runs/r1/{path}").data).hexdigest() == listed.sha256


def test_a_later_run_moves_latest_and_an_earlier_one_never_moves_it_back(storage: Storage) -> None:
    assert publish(storage, "r1")
    assert publish(storage, "r3", minute=2)
    assert not publish(storage, "r2", minute=1)
    assert resolve_latest(storage).run_id == "r3"
    assert storage.read("runs/r2/manifest.json") is not None


def test_a_manifest_is_written_once_and_a_published_run_is_never_rewritten(storage: Storage) -> None:
    publish(storage, "r1")
    before = storage.read("runs/r1/clean/a.csv").data
    with pytest.raises(AlreadyPublishedError, match="run r1 is already published"):
        commit_manifest(storage, Manifest(run_id="r1", published_at=CREATED))
    with pytest.raises(AlreadyPublishedError, match="run r1 is already published"):
        publish(storage, "r1", minute=1, outputs={"clean/a.csv": pl.DataFrame({"phone_e164": ["+1"]})})
    assert storage.read("runs/r1/clean/a.csv").data == before
    assert resolve_latest(storage).outputs["clean/a.csv"].rows == 1


class Racing(Storage):
    """A published directory in which `rival` publishes between this publisher's read of `latest.json` and its
    conditional write of it: the interleaving of two publishers racing, made certain."""

    def __init__(self, inner: Storage, rival: Callable[[], object]) -> None:
        self.inner, self.rival, self.url = inner, rival, inner.url

    def put(self, path: str, data: bytes) -> None:
        self.inner.put(path, data)

    def put_new(self, path: str, data: bytes) -> None:
        self._let_rival_in(path)
        self.inner.put_new(path, data)

    def read(self, path: str) -> Tagged | None:
        return self.inner.read(path)

    def swap(self, path: str, data: bytes, *, expected: str) -> None:
        self._let_rival_in(path)
        self.inner.swap(path, data, expected=expected)

    def _let_rival_in(self, path: str) -> None:
        if path == LATEST_POINTER and self.rival is not None:
            rival, self.rival = self.rival, None
            rival()


@pytest.mark.parametrize("first_publish", [True, False], ids=["creating latest", "swapping latest"])
def test_of_two_publishers_racing_one_wins_and_the_other_is_told_what_it_lost_to(
    storage: Storage, first_publish: bool
) -> None:
    if not first_publish:
        publish(storage, "r0")
    racing = Racing(storage, rival=lambda: publish(storage, "winner", minute=1))
    with pytest.raises(PublishRaceError) as lost:
        publish(racing, "loser", minute=2)
    assert str(lost.value).startswith(
        f"run loser lost the race for {storage.where(LATEST_POINTER)}: another publisher changed it since it was "
        "read, and it now names run winner, left as that publisher wrote it; run loser is complete under "
    )
    assert str(lost.value).endswith("but not published, and no reader sees it; start a new run if its list should "
                                    "be the latest")  # fmt: skip
    assert resolve_latest(storage).run_id == "winner"


def test_a_publish_killed_midway_leaves_readers_on_the_previous_run(storage: Storage) -> None:
    publish(storage, "r1")
    pointer = storage.read(LATEST_POINTER)
    # A nested column cannot be written as CSV: the run dies after its Parquet files are written.
    dying = {**GOOD, "clean/b.csv": pl.DataFrame({"sources": [["x"]]})}
    with pytest.raises(pl.exceptions.ComputeError):
        publish(storage, "r2", minute=1, outputs=dying)
    assert storage.read("runs/r2/clean/a.parquet") is not None
    assert storage.read("runs/r2/manifest.json") is None
    assert storage.read(LATEST_POINTER) == pointer
    assert resolve_latest(storage).run_id == "r1"


def test_a_withdrawn_list_resolves_to_nothing_until_a_new_run_publishes(storage: Storage) -> None:
    publish(storage, "r1", minute=1)
    withdrawal = Withdrawal(
        run_id="r1", run_dir="runs/r1", valid_through=CREATED, withdrawn_at=CREATED, reason="past its valid_through"
    )
    withdraw_latest(storage, read_latest(storage), withdrawal)
    assert resolve_latest(storage) is None
    assert read_latest(storage).latest.withdrawn == withdrawal
    assert publish(storage, "r0")
    assert resolve_latest(storage).run_id == "r0"


def test_a_withdrawal_racing_a_publisher_withdraws_nothing(storage: Storage) -> None:
    publish(storage, "r1")
    stale = read_latest(storage)
    publish(storage, "r2", minute=1)
    withdrawal = Withdrawal(run_id="r1", run_dir="runs/r1", valid_through=None, withdrawn_at=CREATED, reason="x")
    with pytest.raises(PublishRaceError, match="withdrawing run r1 lost the race .* it now names run r2"):
        withdraw_latest(storage, stale, withdrawal)
    assert resolve_latest(storage).run_id == "r2"


def test_a_manifest_changed_after_it_published_is_not_followed(storage: Storage) -> None:
    publish(storage, "r1")
    storage.put("runs/r1/manifest.json", Manifest(run_id="r1", published_at=CREATED).to_json().encode())
    with pytest.raises(ScrublineError, match="names runs/r1/manifest.json with SHA-256 .* but it is [0-9a-f]{64}"):
        resolve_latest(storage)


def test_a_reader_on_object_storage_never_lists_the_bucket(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in s3.environment.items():
        monkeypatch.setenv(name, value)
    storage = ObjectStorage("s3://scrubline/never-lists/published")
    publish(storage, "r1")
    publish(storage, "r2", minute=1)
    with s3.recording() as sent:
        manifest = resolve_latest(storage)
        for path in manifest.outputs:
            storage.read(f"runs/{manifest.run_id}/{path}")
    assert sent[:2] == [
        "GET /scrubline/never-lists/published/latest.json",
        "GET /scrubline/never-lists/published/runs/r2/manifest.json",
    ]
    assert len(sent) == 2 + len(GOOD)
    assert [request for request in sent if is_listing(request)] == []
