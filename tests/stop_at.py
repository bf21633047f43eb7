"""`python -m tests.stop_at <stage> <scrubline arguments>`: `scrubline` that stops itself (SIGSTOP) at a stage.

The test that started it waits for the stop and kills it with SIGKILL, so the run dies exactly where a
kill -9 is most harmful, with no handler or `finally` running. Stages:
- `scrub`: inside the scrub step, before its output is written;
- `publish`: half-way through writing `history/number_outcomes.parquet` into the run's staging folder;
- `warehouse`: the run folder complete and the new warehouse built, before any link moves.
"""

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import assets.suppress
import pipelines.publishing.publish
from assets.cli import main


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def _stopping_after(function: Callable) -> Callable:
    def wrapper(*args: object, **kwargs: object) -> object:
        result = function(*args, **kwargs)
        _stop()
        return result

    return wrapper


def _half_written(write: Callable) -> Callable:
    def wrapper(frame: object, path: Path) -> int:
        rows = write(frame, path)
        if path.as_posix().endswith(pipelines.publishing.publish.NUMBER_OUTCOMES):
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            _stop()
        return rows

    return wrapper


if __name__ == "__main__":
    stage, *arguments = sys.argv[1:]
    if stage == "scrub":
        assets.suppress.scrub_leads = _stopping_after(assets.suppress.scrub_leads)
    elif stage == "publish":
        pipelines.publishing.publish._write = _half_written(pipelines.publishing.publish._write)
    elif stage == "warehouse":
        pipelines.publishing.publish.build_warehouse = _stopping_after(pipelines.publishing.publish.build_warehouse)
    else:
        raise SystemExit(f"unknown stage {stage}: scrub, publish or warehouse")
    sys.exit(main(arguments))
