"""`scrubline serve` as a separate process, on the suite's clock: `python -m tests.pipelines.serving.server_process
DATA_DIR PORT`. The real CLI takes no clock (a service answering as of the past could call an expired list
callable); this is the same server with the clock tests inject."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.serving.server import serve
from tests.handmade import RUN_AS_OF

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(data_dir: Path, port: int) -> subprocess.Popen:
    """Start the server and wait until it answers `/healthz`."""
    log = data_dir.parent / f"server-{port}.log"
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.pipelines.serving.server_process", str(data_dir), str(port)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start in 60 s")


if __name__ == "__main__":
    serve(Path(sys.argv[1]), port=int(sys.argv[2]), log_level="warning", now=lambda: RUN_AS_OF)
