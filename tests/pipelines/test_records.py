"""The manifest, certificates and validity files are typed records, written and read back through one model."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pydantic
import pytest

from pipelines.records import CampaignCounts, ListedFile, Manifest, RegistryVersion, Validity

STARTED = datetime(2026, 11, 27, 2, tzinfo=UTC)
MANIFEST = Manifest(
    run_id="r1",
    run_started_at=STARTED,
    valid_through=datetime(2026, 12, 8, tzinfo=UTC),
    clock="as_of_tag",
    published_at=STARTED,
    inputs={"inbox/dialler/spring.csv": "ab" * 32},
    reconciliation=[
        CampaignCounts(
            campaign="spring",
            count_rows_in=3,
            count_clean=1,
            count_suppressed=1,
            count_invalid=1,
            count_quarantined=0,
            count_deferred=0,
            count_rows_out=3,
        )
    ],  # fmt: skip
    registries=[RegistryVersion(registry="dnc", version="v1", count_numbers=40, files=[])],
    outputs={"clean/spring.csv": ListedFile(rows=1, sha256="cd" * 32)},
)


def test_a_manifest_reads_back_equal_to_what_was_written_with_instants_in_iso_8601(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(MANIFEST.to_json())
    assert Manifest.read(path) == MANIFEST
    written = json.loads(path.read_text())
    assert (written["run_started_at"], written["valid_through"]) == (
        "2026-11-27T02:00:00+00:00",
        "2026-12-08T00:00:00+00:00",
    )
    assert list(written) == list(Manifest.model_fields)


def test_a_misspelt_field_is_refused_when_a_record_is_built() -> None:
    with pytest.raises(pydantic.ValidationError, match="valid_thru"):
        Manifest.model_validate({**json.loads(MANIFEST.to_json()), "valid_thru": "2026-12-08T00:00:00+00:00"})


def test_a_run_published_before_run_started_at_was_recorded_starts_when_it_was_published() -> None:
    old = Manifest.model_validate({"run_id": "r0", "published_at": "2026-11-20T02:00:00+00:00"})
    assert old.started_at == datetime(2026, 11, 20, 2, tzinfo=UTC)


def test_the_validity_file_names_its_list_under_the_key_list(tmp_path: Path) -> None:
    validity = Validity(
        run_id="r1", campaign="spring", valid_through=None, counts={"count_clean": 1},
        listed={"clean/spring.csv": ListedFile(rows=1, sha256="cd" * 32)}, certificate="clean/spring.certificate.json",
    )  # fmt: skip
    keys = ["run_id", "campaign", "valid_through", "counts", "list", "certificate"]
    assert list(json.loads(validity.to_json())) == keys
    path = tmp_path / "v.json"
    path.write_text(validity.to_json())
    assert Validity.read(path) == validity


def test_a_manifest_an_older_release_wrote_reads_back_its_retired_keys_skipped(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    older = {"run_id": "r0", "published_at": "2026-11-20T02:00:00+00:00", "latest": True, "run_dir": "runs/r0",
             "reconciliation": [{"campaign": "a", "count_rows_in": 1, "count_clean": 1, "count_suppressed": 0,
                                 "count_invalid": 0, "count_rows_out": 1}]}  # fmt: skip
    path.write_text(json.dumps(older))
    manifest = Manifest.read(path)
    assert (manifest.run_id, manifest.reconciliation[0].count_quarantined) == ("r0", None)
    with pytest.raises(pydantic.ValidationError, match="latest"):
        Manifest.model_validate(older)  # building one, the same key is an error
