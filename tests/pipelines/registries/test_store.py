"""A stored registry is kept as versioned, sorted E.164-integer snapshots, made once per download."""

import re
from datetime import date
from pathlib import Path

import phonenumbers
import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Registry
from pipelines.errors import ConfigError, RegistryError
from pipelines.inputs.records import file_sha256
from pipelines.registries import store as registry_store
from pipelines.registries.formats import NATIONAL_FORMATS
from pipelines.registries.store import (
    DownloadReading,
    RecordedFile,
    SnapshotRecord,
    build_key,
    listed_in_snapshots,
    registry_snapshots,
    snapshot_lineage,
    snapshot_path,
    stored_registry,
)
from pipelines.registries.versions import changed_version, version_of

DOWNLOADED_ON = date(2026, 11, 20)
US_JURISDICTION = list(NATIONAL_FORMATS["us_dnc"].jurisdiction)
FULL_LIST = "201,5550123\n2125550142\n416,2345678\n"
CHANGES = {"changes": "inbox/dnc/changes/*.txt", "full_list_downloaded_on": date(2026, 11, 1)}


def us_dnc(**settings: object) -> Registry:
    return Registry(
        name="us_dnc", format="us_dnc", path="inbox/dnc/full/*.txt", downloaded_on=DOWNLOADED_ON, **settings
    )


def write(data_dir: Path, relative: str, content: str) -> Path:
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def numbers(data_dir: Path, record: dict) -> list[int]:
    return pl.read_parquet(data_dir / record.snapshot).get_column("e164_int").to_list()


def test_a_full_list_is_stored_as_sorted_integers_of_its_jurisdiction_under_its_version(tmp_path: Path) -> None:
    full = write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    record = stored_registry(us_dnc(), data_dir=tmp_path)
    version = version_of([file_sha256(full)])
    path = snapshot_path(tmp_path, registry="us_dnc", version=version, regions=US_JURISDICTION)
    assert record.snapshot == f"registries/us_dnc/{version}-{build_key(US_JURISDICTION)}.parquet"
    assert numbers(tmp_path, record) == [12015550123, 12125550142]  # 416 is Canadian: not the US registry's
    assert record.count_numbers == 2
    assert record.files == [RecordedFile(file="inbox/dnc/full/list.txt", sha256=file_sha256(full))]
    assert record.readings == [DownloadReading(change_list=None, count_read=3, count_unusable=1)]
    assert record.snapshot_sha256 == file_sha256(path)
    metadata = pq.ParquetFile(path).metadata
    groups = [metadata.row_group(index) for index in range(metadata.num_row_groups)]
    columns = [group.column(0) for group in groups if group.num_rows]
    assert columns and all(c.compression == "ZSTD" and "DELTA_BINARY_PACKED" in c.encodings for c in columns)
    assert SnapshotRecord.model_validate_json(path.with_suffix(".json").read_text()) == record
    assert sorted(child.name for child in path.parent.iterdir()) == [path.with_suffix(".json").name, path.name]


def test_an_unchanged_download_reuses_its_snapshot(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    first = stored_registry(us_dnc(), data_dir=tmp_path)
    made_at = (tmp_path / first.snapshot).stat().st_mtime_ns
    assert stored_registry(us_dnc(), data_dir=tmp_path) == first
    assert (tmp_path / first.snapshot).stat().st_mtime_ns == made_at


def test_a_snapshot_without_its_record_is_incomplete_and_made_again(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    first = stored_registry(us_dnc(), data_dir=tmp_path)
    (tmp_path / first.snapshot).with_suffix(".json").unlink()
    (tmp_path / first.snapshot).write_bytes(b"half a file")
    assert stored_registry(us_dnc(), data_dir=tmp_path) == first
    assert numbers(tmp_path, first) == [12015550123, 12125550142]


def test_a_snapshot_whose_parquet_changed_is_made_again(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    first = stored_registry(us_dnc(), data_dir=tmp_path)
    pl.DataFrame({"e164_int": [12015550123]}).write_parquet(tmp_path / first.snapshot)
    assert stored_registry(us_dnc(), data_dir=tmp_path) == first
    assert numbers(tmp_path, first) == [12015550123, 12125550142]


def test_a_new_jurisdiction_makes_a_snapshot_of_its_own_beside_the_first(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    first = stored_registry(us_dnc(), data_dir=tmp_path)
    record = stored_registry(us_dnc(jurisdiction=["US", "CA"]), data_dir=tmp_path)
    assert record.version == first.version
    assert numbers(tmp_path, record) == [12015550123, 12125550142, 14162345678]
    assert numbers(tmp_path, first) == [12015550123, 12125550142]


def test_the_build_key_changes_with_the_jurisdiction_and_the_phonenumbers_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = build_key(["US", "PR"])
    assert build_key(["PR", "US"]) == key
    assert build_key(["US"]) != key
    monkeypatch.setattr(phonenumbers, "__version__", "99.0.0")
    assert build_key(["US", "PR"]) != key


def test_change_lists_apply_in_file_name_order_each_making_a_version_once(tmp_path: Path) -> None:
    full = write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    first = write(tmp_path, "inbox/dnc/changes/2026-11-21.txt", "718,5550100,A\n201,5550123,D\n")
    registry = us_dnc(**CHANGES)
    after_first = stored_registry(registry, data_dir=tmp_path)
    made_at = (tmp_path / after_first.snapshot).stat().st_mtime_ns
    second = write(tmp_path, "inbox/dnc/changes/2026-11-22.txt", "201,5550123,A\n")
    record = stored_registry(registry, data_dir=tmp_path)
    checksums = [file_sha256(path) for path in (full, first, second)]
    assert record.version == changed_version(changed_version(version_of(checksums[:1]), checksums[1]), checksums[2])
    assert [file.file for file in record.files] == [
        "inbox/dnc/full/list.txt",
        "inbox/dnc/changes/2026-11-21.txt",
        "inbox/dnc/changes/2026-11-22.txt",
    ]
    assert numbers(tmp_path, after_first) == [12125550142, 17185550100]
    assert numbers(tmp_path, record) == [12015550123, 12125550142, 17185550100]
    # A version made from its parent still answers for every download it holds.
    assert record.readings == [
        DownloadReading(change_list=None, count_read=3, count_unusable=1),
        DownloadReading(change_list="inbox/dnc/changes/2026-11-21.txt", count_read=1, count_unusable=0),
        DownloadReading(change_list="inbox/dnc/changes/2026-11-22.txt", count_read=1, count_unusable=0),
    ]
    assert (tmp_path / after_first.snapshot).stat().st_mtime_ns == made_at
    assert len(list((tmp_path / "registries" / "us_dnc").glob("*.parquet"))) == 3


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["changes.txt"], "changes.txt carry no date (YYYY-MM-DD) in their names"),
        (["2026-11-21.txt", "20261121-again.txt"], "more than one change list dated 2026-11-21"),
        (["changes-20261399.txt"], "changes-20261399.txt carry no date (YYYY-MM-DD) in their names"),
    ],
    ids=["undated", "twice_dated", "no_calendar_date"],
)
def test_change_lists_need_one_date_each_in_their_names(tmp_path: Path, names: list[str], message: str) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    for name in names:
        write(tmp_path, f"inbox/dnc/changes/{name}", "718,5550100,A\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        stored_registry(us_dnc(**CHANGES), data_dir=tmp_path)


def test_a_change_list_from_before_the_full_list_s_download_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    write(tmp_path, "inbox/dnc/changes/2026-10-30.txt", "201,5550123,D\n")
    write(tmp_path, "inbox/dnc/changes/2026-11-02.txt", "718,5550100,A\n")
    with pytest.raises(ConfigError, match=r"2026-10-30\.txt dated on or before the full list's download"):
        stored_registry(us_dnc(**CHANGES), data_dir=tmp_path)


def test_change_lists_apply_by_date_not_by_name_so_a_later_addition_wins(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    write(tmp_path, "inbox/dnc/changes/b-20261109.txt", "201,5550123,D\n")
    write(tmp_path, "inbox/dnc/changes/a-2026-11-10.txt", "201,5550123,A\n")
    record = stored_registry(us_dnc(**CHANGES), data_dir=tmp_path)
    assert [file.file for file in record.files[1:]] == [
        "inbox/dnc/changes/b-20261109.txt",
        "inbox/dnc/changes/a-2026-11-10.txt",
    ]
    assert numbers(tmp_path, record) == [12015550123, 12125550142]


def test_a_changes_glob_matching_nothing_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    with pytest.raises(ConfigError, match=r"registries\[us_dnc\]\.changes 'inbox/dnc/chnages/\*\.txt' matches no file"):
        stored_registry(us_dnc(**{**CHANGES, "changes": "inbox/dnc/chnages/*.txt"}), data_dir=tmp_path)


def test_an_empty_file_among_the_full_list_s_files_fails_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/201.txt", "201,5550123\n")
    write(tmp_path, "inbox/dnc/full/212.txt", "\n")
    with pytest.raises(RegistryError, match=r"^registry 'us_dnc': .*212\.txt: file holds no records"):
        stored_registry(us_dnc(), data_dir=tmp_path)


def test_a_night_with_no_new_file_checks_only_the_newest_snapshot_and_rebuilds_from_the_last_intact_one(
    tmp_path: Path,
) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    write(tmp_path, "inbox/dnc/changes/2026-11-21.txt", "718,5550100,A\n")
    registry = us_dnc(**CHANGES)
    newest = stored_registry(registry, data_dir=tmp_path)
    [full_list] = [
        path for path in (tmp_path / "registries/us_dnc").glob("*.parquet") if path.name != Path(newest.snapshot).name
    ]
    full_list.unlink()  # an intermediate version no longer needed: the newest is intact
    assert stored_registry(registry, data_dir=tmp_path) == newest
    assert not full_list.exists()
    (tmp_path / newest.snapshot).write_bytes(b"damaged")  # now the chain is rebuilt from the full list
    assert stored_registry(registry, data_dir=tmp_path) == newest
    assert full_list.exists()
    assert numbers(tmp_path, newest) == [12015550123, 12125550142, 17185550100]


def test_a_bad_download_names_the_registry_and_stores_nothing(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", "201,5550123\n201-555-0199\n")
    with pytest.raises(RegistryError, match=r"^registry 'us_dnc': 1 unreadable record\(s\), first in .*list.txt row 2"):
        stored_registry(us_dnc(), data_dir=tmp_path)
    assert list((tmp_path / "registries" / "us_dnc").iterdir()) == []


def test_only_stored_registries_get_snapshots(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    litigators = Registry(name="litigators", format="plain", path="inbox/litigators.txt", region="US")
    snapshots = registry_snapshots([litigators, us_dnc()], data_dir=tmp_path)
    assert snapshots.select("registry", "count_numbers", "downloaded_on").rows() == [("us_dnc", 2, DOWNLOADED_ON)]


def test_known_numbers_held_by_a_snapshot_are_listed_with_its_version(tmp_path: Path) -> None:
    write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    snapshots = registry_snapshots([us_dnc()], data_dir=tmp_path)
    known = pl.DataFrame({"phone_e164": ["+12125550142", "+12015550199", "+447911123456"], "phone_region": ["US"] * 3})
    [snapshot] = snapshots.rows(named=True)
    expected = pl.DataFrame(
        {
            "phone_e164": ["+12125550142"],
            "phone_region": ["US"],
            "registry": ["us_dnc"],
            "source_file": [snapshot["snapshot"]],
            "source_sha256": [snapshot["snapshot_sha256"]],
            "downloaded_on": [DOWNLOADED_ON],
        }
    )
    assert_frame_equal(listed_in_snapshots(known, snapshots, data_dir=tmp_path), expected)


def test_known_numbers_are_joined_a_batch_of_keys_at_a_time_each_against_its_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = [f"+120155501{n:02d}" for n in range(0, 60, 3)]
    write(tmp_path, "inbox/dnc/full/list.txt", "".join(f"201,55501{number[-2:]}\n" for number in stored))
    snapshots = registry_snapshots([us_dnc()], data_dir=tmp_path)
    monkeypatch.setattr(registry_store, "_KEYS_PER_JOIN", 7)
    known = pl.DataFrame({"phone_e164": [f"+120155501{n:02d}" for n in range(59, -1, -1)]}).with_columns(
        phone_region=pl.lit("US")
    )
    listed = listed_in_snapshots(known, snapshots, data_dir=tmp_path)
    assert sorted(listed.get_column("phone_e164").to_list()) == stored


def test_the_lineage_of_a_snapshot_is_its_downloads_and_itself(tmp_path: Path) -> None:
    full = write(tmp_path, "inbox/dnc/full/list.txt", FULL_LIST)
    snapshots = registry_snapshots([us_dnc()], data_dir=tmp_path)
    [snapshot] = snapshots.rows(named=True)
    assert snapshot_lineage(snapshots).rows() == [
        ("inbox/dnc/full/list.txt", file_sha256(full)),
        (snapshot["snapshot"], snapshot["snapshot_sha256"]),
    ]
