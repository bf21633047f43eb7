"""A stored snapshot becomes a sorted, memory-mapped array once, checked against the SHA-256 its run recorded."""

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.serving.published import UnavailableError, _mapped_numbers

SNAPSHOT = "registries/us_national_dnc/version-build.parquet"


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_a_snapshot_is_mapped_as_a_sorted_array_one_row_group_at_a_time(tmp_path: Path, order: str) -> None:
    numbers = np.unique(np.random.default_rng(17).integers(12012000000, 19899999999, 50_000))
    written = numbers if order == "sorted" else np.random.default_rng(3).permutation(numbers)
    (tmp_path / SNAPSHOT).parent.mkdir(parents=True)
    pl.DataFrame({"e164_int": written}).write_parquet(tmp_path / SNAPSHOT, row_group_size=7_000)
    sha256 = hashlib.sha256((tmp_path / SNAPSHOT).read_bytes()).hexdigest()
    mapped = _mapped_numbers(tmp_path, SNAPSHOT, sha256)
    assert isinstance(mapped, np.memmap)
    assert np.array_equal(mapped, numbers)


def test_a_snapshot_that_changed_since_its_run_is_not_used(tmp_path: Path) -> None:
    (tmp_path / SNAPSHOT).parent.mkdir(parents=True)
    pl.DataFrame({"e164_int": [12015550123]}).write_parquet(tmp_path / SNAPSHOT)
    with pytest.raises(UnavailableError, match="missing or changed"):
        _mapped_numbers(tmp_path, SNAPSHOT, "0" * 64)
