"""The nightly job scrubs against the US registry's stored snapshot, with its change lists applied."""

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipelines.inputs.records import file_sha256
from pipelines.registries.formats import NATIONAL_FORMATS
from pipelines.registries.store import snapshot_path
from pipelines.registries.versions import changed_version, version_of
from tests.assets.test_nightly_scrub import failed_evaluations, run_nightly
from tests.handmade import INBOX, RUN_DATE, SCRUBLINE_YAML, write_data_dir

FULL_LIST = "201,5550123\n2125550142\n"  # L1 (also L5 and W1) and L7
DELETE_L1 = "201,5550123,D\n"
US_JURISDICTION = list(NATIONAL_FORMATS["us_dnc"].jurisdiction)
FULL_ON = date(2026, 11, 20)
CHANGED_ON = date(2026, 11, 21)  # the change lists' date: downloaded_on of a copy with them


def with_us_dnc(
    root: Path, downloaded_on: date, changes: dict[str, str] | None = None, full_list_downloaded_on: date = FULL_ON
) -> Path:
    """The hand-made data directory plus a US registry download and, optionally, its change lists."""
    config = SCRUBLINE_YAML + (
        f"  - name: us_dnc\n    format: us_dnc\n    path: inbox/registries/us/full/*.txt\n"
        f"    downloaded_on: {downloaded_on}\n"
    )
    if changes is not None:
        config += (
            f"    changes: inbox/registries/us/changes/*.txt\n    full_list_downloaded_on: {full_list_downloaded_on}\n"
        )
    files = {f"registries/us/changes/{name}": text for name, text in (changes or {}).items()}
    return write_data_dir(root, {**INBOX, "registries/us/full/list.txt": FULL_LIST, **files}, config)


def today() -> date:
    return RUN_DATE


def sources_of(published: Path, lead_id: str) -> list[dict]:
    suppressed = pl.read_parquet(published / "suppressed/spring.parquet")
    return suppressed.filter(pl.col("lead_id") == lead_id).get_column("suppression_sources").item().to_list()


def test_a_us_number_is_suppressed_by_the_snapshot_that_is_named_with_its_checksum(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", CHANGED_ON, changes={"2026-11-21.txt": "999,0000000,D\n"})
    assert run_nightly(data_dir).success
    published = data_dir / "published/latest"
    full = data_dir / "inbox/registries/us/full/list.txt"
    change = data_dir / "inbox/registries/us/changes/2026-11-21.txt"
    version = changed_version(version_of([file_sha256(full)]), file_sha256(change))
    snapshot = snapshot_path(data_dir, registry="us_dnc", version=version, regions=US_JURISDICTION)
    snapshot = snapshot.relative_to(data_dir).as_posix()
    assert sources_of(published, "L5") == [
        {
            "source_name": "us_dnc",
            "source_file": snapshot,
            "source_sha256": file_sha256(data_dir / snapshot),
            "downloaded_on": CHANGED_ON,
            "block_prefix": None,
            "requested_at": None,
            "seller_scope": None,
        }
    ]
    assert pl.read_parquet(published / "clean/spring.parquet").get_column("lead_id").to_list() == ["L2"]
    manifest = json.loads((published / "manifest.json").read_text())
    [us_dnc] = [registry for registry in manifest["registries"] if registry["registry"] == "us_dnc"]
    assert (us_dnc["version"], us_dnc["count_numbers"]) == (version, 2)
    assert manifest["inputs"][snapshot] == file_sha256(data_dir / snapshot)
    assert manifest["inputs"]["inbox/registries/us/changes/2026-11-21.txt"] == file_sha256(change)


def test_a_deletion_in_a_change_list_makes_the_number_dialable_again(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", CHANGED_ON, changes={"2026-11-21.txt": DELETE_L1})
    assert run_nightly(data_dir).success
    clean = pl.read_parquet(data_dir / "published/latest/clean/spring.parquet").get_column("lead_id").to_list()
    assert clean == ["L1", "L2"]


def test_the_next_run_reuses_the_snapshot_and_a_new_change_list_adds_one(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", today())
    assert run_nightly(data_dir).success
    [first] = (data_dir / "registries/us_dnc").glob("*.parquet")
    made_at = first.stat().st_mtime_ns
    assert run_nightly(data_dir).success
    assert first.stat().st_mtime_ns == made_at
    with_us_dnc(tmp_path / "data", CHANGED_ON, changes={"2026-11-21.txt": "718,5550100,A\n"})
    assert run_nightly(data_dir).success
    assert first.stat().st_mtime_ns == made_at
    assert len(list((data_dir / "registries/us_dnc").glob("*.parquet"))) == 2


def test_a_change_list_deleting_more_than_max_shrink_stops_the_run(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", today())
    assert run_nightly(data_dir).success
    with_us_dnc(tmp_path / "data", CHANGED_ON, changes={"2026-11-21.txt": DELETE_L1})
    result = run_nightly(data_dir)
    [evaluation] = failed_evaluations(result)
    assert evaluation.check_name == "registries_have_not_shrunk"
    assert evaluation.description.startswith("registry 'us_dnc' has 1 valid numbers, 1 (50.0%) fewer than the 2")


def test_a_change_list_adding_mostly_unusable_numbers_stops_every_run_that_holds_it(tmp_path: Path) -> None:
    """Left out of the snapshot but counted: an unassigned (555) and a Canadian number of three additions."""
    changes = {"2026-11-21.txt": "555,2345678,A\n416,2345678,A\n718,5550100,A\n"}
    data_dir = with_us_dnc(tmp_path / "data", CHANGED_ON, changes=changes)
    for night in ("the night it arrives", "a night reusing its snapshot"):
        result = run_nightly(data_dir)
        [evaluation] = failed_evaluations(result)
        assert evaluation.check_name == "registries_are_readable_numbers", night
        assert evaluation.description.startswith(
            "registry 'us_dnc' (change list inbox/registries/us/changes/2026-11-21.txt) has 2 of 3 distinct numbers "
            "(66.7%) that are not valid numbers, more than its max_invalid_share 1.0%"
        )
        assert not (data_dir / "published/latest").exists(), night


def test_a_stale_us_registry_stops_the_run_before_its_snapshot_is_made(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", today() - timedelta(days=32))
    result = run_nightly(data_dir)
    assert not result.success
    assert [evaluation.check_name for evaluation in failed_evaluations(result)] == ["registries_are_fresh"]
    assert not (data_dir / "registries").exists()
    assert not (data_dir / "published").exists()


def test_a_copy_typed_as_downloaded_today_is_as_old_as_its_newest_change_list_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    data_dir = with_us_dnc(
        tmp_path / "data", today(), changes={"2026-06-05.txt": DELETE_L1}, full_list_downloaded_on=date(2026, 6, 4)
    )
    result = run_nightly(data_dir)
    [evaluation] = failed_evaluations(result)
    assert evaluation.description == (
        "registry 'us_dnc' is 175 days old on 2026-11-27 (change list 2026-06-05.txt 2026-06-05, maximum 31 days); "
        "download a fresh copy and update downloaded_on"
    )
    assert not (data_dir / "published").exists()


def test_downloaded_on_must_be_the_date_of_the_newest_change_list(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", today(), changes={"2026-11-21.txt": DELETE_L1})
    [evaluation] = failed_evaluations(run_nightly(data_dir))
    assert evaluation.description == (
        "registry 'us_dnc' has downloaded_on 2026-11-27, but its newest download is change list 2026-11-21.txt, "
        "dated 2026-11-21; set downloaded_on: 2026-11-21"
    )


def test_a_malformed_us_download_publishes_nothing_and_names_file_and_line(tmp_path: Path) -> None:
    data_dir = with_us_dnc(tmp_path / "data", today())
    (data_dir / "inbox/registries/us/full/list.txt").write_text("201,5550123\n201-555-0199\n")
    result = run_nightly(data_dir)
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert failure.step_key == "registry_snapshots"
    message = failure.step_failure_data.error.cause.message
    assert "registry 'us_dnc': 1 unreadable record(s), first in " in message
    assert "list.txt row 2 (not a US DNC record" in message
    assert not (data_dir / "published").exists()


def test_an_opt_out_of_one_campaign_ends_the_ebr_a_later_purchase_would_start_in_every_campaign(
    tmp_path: Path,
) -> None:
    """The probe: on the US list, opted out of spring 20 days ago, purchased 10 days ago; winback must not dial it."""
    data_dir = with_us_dnc(tmp_path / "data", today())
    config = (
        (data_dir / "scrubline.yaml")
        .read_text()
        .replace(
            "  do_not_call_column: do_not_call\n", "  do_not_call_column: do_not_call\n  last_purchase_column: bought\n"
        )
        .replace(
            "    phone_column: phone\n",
            "    phone_column: phone\n    requested_at_column: at\n    seller_column: scope\n",
        )
    )
    (data_dir / "scrubline.yaml").write_text(config)
    (data_dir / "inbox/crm/contacts.csv").write_text(
        f"contact_id,phone,mobile,country,do_not_call,bought\nC2,(201) 555-0123,,,no,{today() - timedelta(days=10)}\n"
    )
    (data_dir / "inbox/registries/internal/optouts.csv").write_text(
        f"phone,at,scope\n201-555-0199,2026-10-01,\n2015550123,{today() - timedelta(days=20)},spring\n"
    )
    assert run_nightly(data_dir).success
    published = data_dir / "published/latest"
    winback = pl.read_parquet(published / "suppressed/winback.parquet")
    assert winback.select("lead_id", "reason", "exemption_reason").rows() == [("W1", "internal_optouts,us_dnc", None)]
    assert pl.read_parquet(published / "clean/winback.parquet").get_column("lead_id").to_list() == ["W2"]
