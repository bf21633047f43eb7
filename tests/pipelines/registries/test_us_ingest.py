"""A whole US download goes straight to its snapshot, keeping exactly the numbers the E.164 engine calls valid."""

import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Registry
from pipelines.errors import RegistryError
from pipelines.registries.entries import normalise_registry, read_registry
from pipelines.registries.us_ingest import Ingested, apply_us_changes, ingest_us_download

US_JURISDICTION = ["US", "PR", "VI", "GU", "AS", "MP"]
EVERY_PLUS_ONE_REGION = ["US", "CA", "PR", "VI", "GU", "AS", "MP", "JM", "BS", "BB", "AG", "DO", "TT"]

# Valid US, Canadian, Caribbean, toll-free and personal numbers; area codes and exchanges no plan
# assigns (000, 100, 211, 555, 999; exchanges 0xx, 1xx); lines starting 0 or 1, which the
# engine parses in full (011 is the US international prefix, 1 the national prefix).
EDGE_LINES = [
    "201,5550123", "2125550142", "416,2345678", "8765551234", "800,2345678", "5002345678", "9002345678",
    "000,2345678", "100,2345678", "211,2345678", "555,2345678", "999,2345678", "201,0345678", "201,1345678",
    "2015550100", "0114420794", "011,4420794", "1201555012", "120,1555012", "3052012345",
]  # fmt: skip
SAMPLE_SEED = 20261127


def sample_lines() -> list[str]:
    """The edge lines, 20,000 uniformly random ten-digit lines and a repeated line, in both layouts."""
    rng = np.random.default_rng(SAMPLE_SEED)
    digits = [f"{number:010d}" for number in rng.integers(0, 10**10, size=20_000)]
    written = [f"{line[:3]},{line[3:]}" if index % 2 else line for index, line in enumerate(digits)]
    return [*EDGE_LINES, *written, EDGE_LINES[0]]


def row_by_row_snapshot(data_dir: Path, content: bytes, regions: list[str]) -> pl.DataFrame:
    """The snapshot the row-by-row reader and the E.164 engine give for a download: valid numbers in `regions`."""
    path = data_dir / "inbox" / "dnc" / "list.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    registry = Registry(name="dnc", format="us_dnc", path="inbox/dnc/*", downloaded_on="2026-11-20")
    entries = normalise_registry(read_registry(registry, data_dir=data_dir), registry)
    return (
        entries.filter(pl.col("phone_valid") & pl.col("phone_region").is_in(regions))
        .select(e164_int=pl.col("phone_e164").str.strip_prefix("+").cast(pl.Int64))
        .unique()
        .sort("e164_int")
    )


@pytest.mark.parametrize("regions", [US_JURISDICTION, EVERY_PLUS_ONE_REGION], ids=["us_jurisdiction", "every_region"])
def test_the_fast_ingest_keeps_exactly_the_numbers_the_engine_calls_valid_in_the_jurisdiction(
    tmp_path: Path, regions: list[str]
) -> None:
    content = "\n".join(sample_lines()).encode()
    download = tmp_path / "download.txt"
    download.write_bytes(content)
    snapshot = tmp_path / "registries" / "dnc" / "v1.parquet"
    ingested = ingest_us_download([download], snapshot=snapshot, regions=regions)
    expected = row_by_row_snapshot(tmp_path / "data", content, regions)
    assert_frame_equal(pl.read_parquet(snapshot), expected)
    distinct_lines = len({int(line.replace(",", "")) for line in sample_lines()})
    assert ingested == Ingested(
        expected.height, count_read=distinct_lines, count_unusable=distinct_lines - expected.height
    )
    assert expected.height > 2_000
    assert sorted(child.name for child in snapshot.parent.iterdir()) == ["v1.parquet"]


def test_the_edge_lines_keep_the_assigned_numbers_of_the_regions_asked_for(tmp_path: Path) -> None:
    download = tmp_path / "download.txt"
    download.write_bytes("\r\n".join([*EDGE_LINES, "", "  "]).encode())
    snapshot = tmp_path / "v1.parquet"
    ingest_us_download([download], snapshot=snapshot, regions=EVERY_PLUS_ONE_REGION)
    expected = [
        12015550100,
        12015550123,
        12125550142,
        13052012345,
        14162345678,
        15002345678,
        18002345678,
        18765551234,
        19002345678,
    ]
    assert pl.read_parquet(snapshot).get_column("e164_int").to_list() == expected


def test_a_zipped_download_gives_the_same_snapshot_as_its_flat_text(tmp_path: Path) -> None:
    flat = tmp_path / "download.txt"
    flat.write_text("201,5550123\n416,2345678\n")
    zipped = tmp_path / "download.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("part-b.txt", "416,2345678\n")
        archive.writestr("part-a.txt", "201,5550123\n")
    ingest_us_download([flat], snapshot=tmp_path / "flat" / "v1.parquet", regions=EVERY_PLUS_ONE_REGION)
    ingest_us_download([zipped], snapshot=tmp_path / "zipped" / "v1.parquet", regions=EVERY_PLUS_ONE_REGION)
    assert_frame_equal(
        pl.read_parquet(tmp_path / "zipped" / "v1.parquet"), pl.read_parquet(tmp_path / "flat" / "v1.parquet")
    )


def test_every_member_of_several_zipped_area_code_files_is_kept(tmp_path: Path) -> None:
    for area_code, line in (("201", "201,5550123\n"), ("416", "416,2345678\n")):
        with zipfile.ZipFile(tmp_path / f"{area_code}.zip", "w") as archive:
            archive.writestr("list.txt", line)
    ingested = ingest_us_download(
        sorted(tmp_path.glob("*.zip")), snapshot=tmp_path / "v1.parquet", regions=EVERY_PLUS_ONE_REGION
    )
    assert ingested == Ingested(2, count_read=2, count_unusable=0)
    assert pl.read_parquet(tmp_path / "v1.parquet").get_column("e164_int").to_list() == [12015550123, 14162345678]


@pytest.mark.parametrize("line", ["201-555-0199", "20155501234", "201,555012a"])
def test_a_line_out_of_layout_fails_the_download_naming_file_and_line_and_writes_nothing(
    tmp_path: Path, line: str
) -> None:
    download = tmp_path / "download.txt"
    download.write_text(f"201,5550123\n\n{line}\n")
    snapshot = tmp_path / "registries" / "dnc" / "v1.parquet"
    with pytest.raises(RegistryError) as raised:
        ingest_us_download([download], snapshot=snapshot, regions=US_JURISDICTION)
    assert str(raised.value).startswith(f"1 unreadable record(s), first in {download} row 3 (not a US DNC record")
    assert line not in str(raised.value)
    assert list(snapshot.parent.iterdir()) == []


def test_a_line_out_of_layout_in_a_zip_names_the_member(tmp_path: Path) -> None:
    zipped = tmp_path / "download.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("201.txt", "201,5550123\n")
        archive.writestr("212.txt", "212,5550142\n212-555-0199\n")
    with pytest.raises(RegistryError, match=rf"first in {zipped}!212.txt row 2 "):
        ingest_us_download([zipped], snapshot=tmp_path / "v1.parquet", regions=US_JURISDICTION)


def write_parent(tmp_path: Path, lines: str) -> Path:
    download = tmp_path / "full.txt"
    download.write_text(lines)
    parent = tmp_path / "registries" / "dnc" / "v1.parquet"
    ingest_us_download([download], snapshot=parent, regions=US_JURISDICTION)
    return parent


def test_a_change_list_adds_and_deletes_numbers_keeping_only_valid_ones_in_the_jurisdiction(tmp_path: Path) -> None:
    parent = write_parent(tmp_path, "201,5550123\n212,5550142\n305,2012345\n")
    changes = tmp_path / "changes.txt"
    # Added: a valid US number, an unassigned one (555 area code), a Canadian one (out of jurisdiction).
    changes.write_text("212,5550142,D\n718,5550100,A\n555,2345678,A\n416,2345678,A\n999,0000000,D\n")
    child = tmp_path / "registries" / "dnc" / "v2.parquet"
    ingested = apply_us_changes(parent, changes, snapshot=child, regions=US_JURISDICTION)
    assert pl.read_parquet(child).get_column("e164_int").to_list() == [12015550123, 13052012345, 17185550100]
    # Of its three additions, the unassigned and the Canadian number are unusable in the US jurisdiction.
    assert ingested == Ingested(3, count_read=3, count_unusable=2)
    assert pl.read_parquet(parent).height == 3


def test_a_number_added_and_deleted_in_one_change_list_stays_suppressed(tmp_path: Path) -> None:
    parent = write_parent(tmp_path, "201,5550123\n")
    changes = tmp_path / "changes.txt"
    changes.write_text("212,5550142,D\n212,5550142,A\n201,5550123,A\n201,5550123,D\n")
    child = tmp_path / "v2.parquet"
    apply_us_changes(parent, changes, snapshot=child, regions=US_JURISDICTION)
    assert pl.read_parquet(child).get_column("e164_int").to_list() == [12015550123, 12125550142]


def test_a_zipped_change_list_is_applied_like_its_flat_text(tmp_path: Path) -> None:
    parent = write_parent(tmp_path, "201,5550123\n")
    zipped = tmp_path / "changes.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("changes.txt", "201,5550123,D\r\n718,5550100,A\r\n")
    child = tmp_path / "v2.parquet"
    apply_us_changes(parent, zipped, snapshot=child, regions=US_JURISDICTION)
    assert pl.read_parquet(child).get_column("e164_int").to_list() == [17185550100]


@pytest.mark.parametrize("line", ["201,5550123", "201,5550123,X", "201,5550123,A,2026-11-20"])
def test_a_change_record_out_of_layout_fails_naming_file_and_line(tmp_path: Path, line: str) -> None:
    parent = write_parent(tmp_path, "201,5550123\n")
    changes = tmp_path / "changes.txt"
    changes.write_text(f"718,5550100,A\n{line}\n")
    child = tmp_path / "v2.parquet"
    with pytest.raises(
        RegistryError, match=rf"^1 unreadable record\(s\), first in {changes} row 2 \(not a US DNC change"
    ):
        apply_us_changes(parent, changes, snapshot=child, regions=US_JURISDICTION)
    assert not child.exists()
