"""Running the app under uvicorn: one process, localhost unless configured, uvicorn's own access log off (the
app writes a masked one)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import uvicorn

from pipelines.serving.app import create_app
from pipelines.serving.settings import ServeSettings
from pipelines.serving.state import Clock, utc_now


def serve(
    data_dir: Path, *, host: str | None = None, port: int | None = None, log_level: str = "info", now: Clock = utc_now
) -> int:
    """Serve `data_dir` until interrupted; host and port default to `serve:` in its `scrubline.yaml`. `now` is
    the service's clock: the real one, except in tests."""
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    app = create_app(data_dir, now=now)
    settings: ServeSettings = app.state.scrubline.settings
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=5,
    )
    return 0
