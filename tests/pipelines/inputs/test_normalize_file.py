"""`normalize_file` reports its progress chunk by chunk on a file longer than a chunk."""

from pathlib import Path

import polars as pl

from pipelines.inputs.normalize_file import normalize_file


def test_a_large_file_reports_progress_after_each_chunk(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    pl.DataFrame({"phone": ["2015550123", "nope"] * 5}).write_csv(source)
    reported: list[tuple[int, int]] = []

    normalised = normalize_file(
        source,
        tmp_path / "out.parquet",
        column="phone",
        region="US",
        region_column=None,
        progress=lambda done, total: reported.append((done, total)),
        chunk_rows=4,
    )

    assert reported == [(4, 10), (8, 10), (10, 10)]
    assert normalised == (10, 5)
    assert pl.read_parquet(tmp_path / "out.parquet").get_column("phone_valid").to_list() == [True, False] * 5
