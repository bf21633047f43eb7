"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipelines.storage import LocalStorage, ObjectStorage, Storage
from tests.handmade import write_data_dir

if TYPE_CHECKING:
    from tests.object_storage import S3Server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The hand-made data directory, fresh for each test."""
    return write_data_dir(tmp_path / "data")


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """One S3 server (moto, in-process) for the whole session; each test gets its own prefix in its bucket. moto is
    imported only when a test asks for it: it is slow to import."""
    from tests.object_storage import s3_server

    with s3_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Storage:
    """A published directory, empty: a local folder, or a prefix of the S3 server's bucket reached through the
    standard AWS environment variables."""
    if request.param == "local":
        return LocalStorage(tmp_path / "published")
    server = request.getfixturevalue("s3")
    for name, value in server.environment.items():
        monkeypatch.setenv(name, value)
    return ObjectStorage(f"s3://scrubline/{tmp_path.name}/published")
