"""A real S3 server in the test process (moto's `ThreadedMotoServer` on 127.0.0.1), and the requests it was sent.

moto honours S3's conditional writes (`If-None-Match: *`, `If-Match: <etag>`), so the publish contract is tested
against the same protocol a bucket speaks, not a stand-in for the storage layer.
"""

import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

# moto's request recorder writes to the file this names, read once when moto is imported: keep it out of the tree.
os.environ.setdefault("MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="moto-"), "requests.jsonl"))

from moto.server import ThreadedMotoServer  # noqa: E402

BUCKET = "scrubline"


@dataclass(frozen=True)
class S3Server:
    """A running server: its endpoint, and what the standard AWS variables must say to reach it."""

    endpoint: str

    @property
    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """The requests sent while the block ran, as `METHOD /path?query`, filled in when it ends."""
        self._call("reset-recording")
        self._call("start-recording")
        sent: list[str] = []
        try:
            yield sent
        finally:
            self._call("stop-recording")
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/download-recording") as response:
                entries = [json.loads(line) for line in response.read().decode().splitlines() if line]
            sent.extend(f"{entry['method']} {_path_and_query(entry['url'])}" for entry in entries)

    def _call(self, action: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/recorder/{action}", method="POST")
        urllib.request.urlopen(request).close()


def is_listing(request: str) -> bool:
    """Whether a recorded request lists the bucket (ListObjects, ListObjectsV2): a GET of the bucket itself."""
    method, target = request.split(" ", 1)
    return method == "GET" and urlparse(target).path.strip("/") == BUCKET


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on a free port of 127.0.0.1 with the bucket `scrubline`, stopped when the block ends."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        running = S3Server(f"http://{host}:{port}")
        urllib.request.urlopen(urllib.request.Request(f"{running.endpoint}/{BUCKET}", method="PUT")).close()
        yield running
    finally:
        server.stop()


def _path_and_query(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}" if parsed.query else parsed.path
