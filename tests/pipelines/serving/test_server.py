"""The real server in its own process: opt-outs survive kill -9 and reach the next nightly run, concurrent opt-outs
are each recorded once, and a newly published run is switched to under load without a failed request."""

import json
import os
import shutil
import signal
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import polars as pl

from pipelines.publishing.latest import commit_manifest, point_latest, read_latest
from pipelines.records import Manifest
from pipelines.storage import LocalStorage
from tests.assets.test_nightly_scrub import run_nightly
from tests.pipelines.serving.served import auth
from tests.pipelines.serving.server_process import free_port, start


def call(port: int, method: str, path: str, body: dict | None = None, key: str = "all") -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, headers={**auth(key), "Content-Type": "application/json"},
        data=None if body is None else json.dumps(body).encode(),
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_opt_out_acknowledged_survives_kill_9_and_the_next_nightly_run_suppresses_it(data_dir: Path) -> None:
    port = free_port()
    server = start(data_dir, port)
    try:
        status, _ = call(port, "POST", "/v1/opt-outs", {"number": "415-555-2671", "seller": None, "source": "ivr",
                                                        "client_key": "ivr-1"})  # fmt: skip
        os.kill(server.pid, signal.SIGKILL)
    finally:
        server.wait()
    assert status == 201
    server = start(data_dir, port)
    try:
        status, answer = call(port, "GET", "/v1/numbers/4155552671?campaign=spring")
    finally:
        server.terminate()
        server.wait()
    assert (status, answer["callable"], answer["reason"]) == (200, False, "live_opt_outs")

    assert run_nightly(data_dir).success
    latest = data_dir / "published/latest"
    listed = pl.read_parquet(latest / "suppression/suppression_list.parquet").filter(
        pl.col("source_name") == "live_opt_outs"
    )
    assert listed.select("phone_e164", "source_file").rows() == [("+14155552671", "opt-outs/journal.csv")]
    assert (
        listed.get_column("source_sha256").item()
        == json.loads((latest / "manifest.json").read_text())["inputs"]["opt-outs/journal.csv"]
    )


def test_a_thousand_concurrent_opt_outs_make_exactly_a_thousand_entries(data_dir: Path) -> None:
    port = free_port()
    server = start(data_dir, port)
    try:
        bodies = [{"number": f"+1201555{n:04d}", "source": "bulk", "client_key": f"bulk-{n}"} for n in range(1000)]
        # Every tenth request is repeated with the same key, at the same time: it must not make a second entry.
        bodies += bodies[::10]
        with ThreadPoolExecutor(max_workers=64) as pool:
            statuses = list(pool.map(lambda body: call(port, "POST", "/v1/opt-outs", body)[0], bodies))
    finally:
        server.terminate()
        server.wait()
    assert statuses.count(201) == 1000 and statuses.count(200) == 100
    journal = pl.read_csv(data_dir / "opt-outs/journal.csv", infer_schema=False)
    assert journal.height == 1000
    assert journal.get_column("client_key").n_unique() == 1000


def test_a_new_published_run_is_served_without_a_failed_request(data_dir: Path) -> None:
    port = free_port()
    server = start(data_dir, port)
    statuses: list[int] = []
    run_ids: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            status, answer = call(port, "POST", "/v1/numbers:check", {"numbers": ["2015550123", "2015550199"],
                                                                     "campaign": "spring"})  # fmt: skip
            statuses.append(status)
            run_ids.add(answer.get("run_id"))

    try:
        old = call(port, "GET", "/healthz")[1]["run_id"]
        clients = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in clients:
            thread.start()
        _publish_copy_of_latest(data_dir, run_id="next-run")
        for _ in range(300):
            if call(port, "GET", "/healthz")[1]["run_id"] == "next-run":
                break
            stop.wait(0.1)
        stop.wait(1)
        stop.set()
        for thread in clients:
            thread.join()
    finally:
        server.terminate()
        server.wait()
    assert run_ids == {old, "next-run"}
    assert len(statuses) > 20 and set(statuses) == {200}


def _publish_copy_of_latest(data_dir: Path, *, run_id: str) -> None:
    """Publish as the nightly run does: the run's files, its manifest last, then `latest.json` swapped to it."""
    published = data_dir / "published"
    storage = LocalStorage(published)
    current = read_latest(storage).latest
    target = published / "runs" / run_id
    shutil.copytree(published / Path(current.manifest).parent, target, ignore=shutil.ignore_patterns("manifest.json"))
    manifest = Manifest.read(published / current.manifest).model_copy(update={"run_id": run_id})
    created = current.run_created_at + timedelta(seconds=1)
    point_latest(storage, run_id=run_id, run_created_at=created, manifest_sha256=commit_manifest(storage, manifest))
