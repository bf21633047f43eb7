"""`python -m tests.stop_at <stage> <scrubline arguments>`: `scrubline` that stops itself (SIGSTOP) at a stage.

The test that started it waits for the stop and kills it with SIGKILL, so the run dies exactly where a
kill -9 is most harmful, with no handler or `finally` running. Stages:
- `scrub`: inside the scrub step, before its output is written;
- `publish`: half-way through writing `history/number_outcomes.parquet` into the run's folder, before its manifest;
- `warehouse`: the run folder complete and the new warehouse built, before any link moves;
- `send` (a data directory on S3): the run published in its staging folder and its files sent to the bucket, before
  its manifest is;
- `swap` (on S3): its manifest sent too, before `latest.json` is swapped to it.
"""

import os
import signal
import sys
from collections.abc import Callable

import assets.suppress
import pipelines.publishing.publish
from assets.cli import main
from pipelines.storage import LocalStorage, ObjectStorage


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def _stopping_after(function: Callable) -> Callable:
    def wrapper(*args: object, **kwargs: object) -> object:
        result = function(*args, **kwargs)
        _stop()
        return result

    return wrapper


def _half_written(put: Callable) -> Callable:
    def wrapper(storage: LocalStorage, path: str, data: bytes) -> None:
        if path.endswith(pipelines.publishing.publish.NUMBER_OUTCOMES):
            put(storage, path, data[: len(data) // 2])
            _stop()
        put(storage, path, data)

    return wrapper


def _stopping_before_manifest(upload: Callable) -> Callable:
    def wrapper(storage: ObjectStorage, source: object, path: str, *, create_only: bool = False) -> None:
        if create_only:
            _stop()
        upload(storage, source, path, create_only=create_only)

    return wrapper


def _stopping_before(function: Callable) -> Callable:
    def wrapper(*args: object, **kwargs: object) -> object:
        _stop()
        return function(*args, **kwargs)

    return wrapper


if __name__ == "__main__":
    stage, *arguments = sys.argv[1:]
    if stage == "scrub":
        assets.suppress.scrub_leads = _stopping_after(assets.suppress.scrub_leads)
    elif stage == "publish":
        LocalStorage.put = _half_written(LocalStorage.put)
    elif stage == "warehouse":
        pipelines.publishing.publish.build_warehouse = _stopping_after(pipelines.publishing.publish.build_warehouse)
    elif stage == "send":
        ObjectStorage.upload = _stopping_before_manifest(ObjectStorage.upload)
    elif stage == "swap":
        ObjectStorage.swap = _stopping_before(ObjectStorage.swap)
    else:
        raise SystemExit(f"unknown stage {stage}: scrub, publish, warehouse, send or swap")
    sys.exit(main(arguments))
