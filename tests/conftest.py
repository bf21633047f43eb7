"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from tests.handmade import write_data_dir


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The hand-made data directory, fresh for each test."""
    return write_data_dir(tmp_path / "data")
