"""Running the app under uvicorn: localhost unless configured, uvicorn's own access log off (the app writes a
masked one), one process or several workers (each loads the run and maps the snapshot; the operating system
shares the snapshot's pages between them, and the journal's lock holds across them)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from pipelines.config import DATA_DIR_VARIABLE, data_dir_from_environment
from pipelines.serving.app import create_app
from pipelines.serving.published import UnavailableError, latest_run_dir, load_served_run
from pipelines.serving.state import Clock, ServiceState, utc_now


def serve(
    data_dir: Path,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
    log_level: str = "info",
    now: Clock = utc_now,
) -> int:
    """Serve `data_dir` until interrupted; host and port default to `serve:` in its `scrubline.yaml`. `now` is
    the service's clock: the real one, except in tests (which run one process)."""
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    settings = ServiceState.settings_of(data_dir)
    options = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": log_level,
        "access_log": False,
        "loop": "uvloop",
        "http": "httptools",
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        uvicorn.run(create_app(data_dir, now=now), **options)
        return 0
    if now is not utc_now:
        raise UnavailableError("an injected clock needs one process (workers=1)")
    _prepare_caches(data_dir)
    os.environ[DATA_DIR_VARIABLE] = str(data_dir)
    uvicorn.run("pipelines.serving.server:app_from_environment", factory=True, workers=workers, **options)
    return 0


def _prepare_caches(data_dir: Path) -> None:
    """Load the latest run once before the workers start, so its inputs (`serving/<run id>/`) and the snapshot's
    array are made once, not by every worker at the same time."""
    try:
        load_served_run(data_dir, latest_run_dir(data_dir))
    except UnavailableError as error:
        logging.getLogger("scrubline.serve").warning("starting without a run: %s", error)


def app_from_environment() -> FastAPI:
    """The app over `$SCRUBLINE_DATA_DIR`: what each uvicorn worker process builds."""
    return create_app(Path(data_dir_from_environment()))
