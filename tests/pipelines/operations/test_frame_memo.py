"""Remembered frames: a fingerprint of everything that made a frame, and the frame kept once under it."""

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.operations.frame_memo import (
    MEMO,
    file_checksums,
    fingerprint,
    remember_frame,
    remembered_frame,
    source_fingerprint,
)


def written(path: Path, frame: pl.DataFrame) -> Path:
    frame.write_parquet(path)
    return path


def test_a_fingerprint_is_the_same_for_the_same_parts_in_any_order_and_new_for_any_other_part() -> None:
    parts = {"asset": "normalised_dialler_leads", "files": [["inbox/dialler/spring.csv", "ab12"]], "config": {"a": 1}}
    assert fingerprint(parts) == fingerprint(dict(reversed(parts.items())))
    assert fingerprint(parts) != fingerprint({**parts, "files": [["inbox/dialler/spring.csv", "ab13"]]})
    assert fingerprint(parts) != fingerprint({**parts, "config": {"a": 2}})


def test_a_frame_is_found_only_under_the_fingerprint_it_was_remembered_with(tmp_path: Path) -> None:
    frame = pl.DataFrame({"phone_e164": ["+12015550123"]})
    made = written(tmp_path / "made.parquet", frame)
    remember_frame(made, tmp_path, name="leads", frame_fingerprint="f1")
    found = remembered_frame(tmp_path, name="leads", frame_fingerprint="f1")
    assert found is not None
    assert_frame_equal(pl.read_parquet(found), frame)
    assert found.stat().st_ino == made.stat().st_ino  # linked, not copied
    assert remembered_frame(tmp_path, name="leads", frame_fingerprint="f2") is None
    assert remembered_frame(tmp_path, name="contacts", frame_fingerprint="f1") is None


def test_only_the_newest_frame_of_a_name_is_kept(tmp_path: Path) -> None:
    for run, rows in (("f1", [1]), ("f2", [1, 2])):
        made = written(tmp_path / f"{run}.parquet", pl.DataFrame({"row": rows}))
        remember_frame(made, tmp_path, name="leads", frame_fingerprint=run)
    assert remembered_frame(tmp_path, name="leads", frame_fingerprint="f1") is None
    assert [path.name for path in (tmp_path / MEMO / "leads").iterdir()] == ["f2.parquet"]


def test_removing_the_run_s_own_file_leaves_the_remembered_frame(tmp_path: Path) -> None:
    made = written(tmp_path / "made.parquet", pl.DataFrame({"row": [1]}))
    remember_frame(made, tmp_path, name="leads", frame_fingerprint="f1")
    made.unlink()
    found = remembered_frame(tmp_path, name="leads", frame_fingerprint="f1")
    assert found is not None
    assert pl.read_parquet(found).height == 1


def test_the_code_s_fingerprint_changes_with_any_byte_of_any_module(tmp_path: Path) -> None:
    package = tmp_path / "engine"
    (package / "phones").mkdir(parents=True)
    (package / "phones/e164.py").write_text("RULES = 1\n")
    before = source_fingerprint(package)
    (package / "phones/e164.py").write_text("RULES = 2\n")
    source_fingerprint.cache_clear()  # cached per process: code does not change while a run runs
    assert source_fingerprint(package) != before


def test_files_are_named_as_lineage_names_them_with_their_checksums(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox/spring.csv").write_text("lead_id,phone\n")
    assert file_checksums([tmp_path / "inbox/spring.csv"], data_dir=tmp_path) == [
        ("inbox/spring.csv", "d6b17570c1189f774fd18113cba6530be39f82eaa1dc2ceedb31746a2f27a58e")
    ]
