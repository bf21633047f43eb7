"""One published hand-made run per test module, and a fresh copy of it for each test to change."""

from pathlib import Path

import pytest

from tests.pipelines.serving.served import fresh_copy, published_handmade


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_handmade(tmp_path_factory.mktemp("published"))


@pytest.fixture
def data_dir(published: Path, tmp_path: Path) -> Path:
    return fresh_copy(published, tmp_path)
