"""A night with no new inputs reuses the frames that depend on the inputs alone, and publishes exactly what it
would have published without them; a new input file, configuration, library version or code is computed again."""

import shutil
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import assets.memo
from assets.memo import REUSED
from assets.run_clock import AS_OF_TAG
from data.generate import COMMITTED_AS_OF, generate
from pipelines.operations.frame_memo import MEMO, library_versions
from tests.assets.test_nightly_scrub import run_nightly
from tests.assets.test_us_registry import with_us_dnc
from tests.handmade import RUN_AS_OF, RUN_DATE

FIRST_NIGHT = {AS_OF_TAG: RUN_AS_OF.isoformat()}
NEXT_NIGHT = {AS_OF_TAG: (RUN_AS_OF + timedelta(days=1)).isoformat()}
MEMOISED = {
    "crm_contacts", "dialler_leads", "call_records", "normalised_crm_contacts", "normalised_dialler_leads",
    "normalised_call_records", "stored_registry_listings", "suppression_entries", "lead_places", "number_appearances",
    "call_attempts", "cli_days",
}  # fmt: skip
# What names the run itself in a published Parquet file: never the same in two runs.
RUN_COLUMNS = ["run_id", "run_created_at"]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The committed sample (a call log, an estate and a stored US registry besides the hand-made inputs), dated
    for the suite's clock."""
    generate(tmp_path / "data", as_of=COMMITTED_AS_OF)
    return tmp_path / "data"


def reused(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """Each memoised step of the run, and whether it reused a remembered frame."""
    return {
        event.asset_key.to_user_string(): event.materialization.metadata[REUSED].value
        for event in result.get_asset_materialization_events()
        if REUSED in event.materialization.metadata
    }


def night(data_dir: Path, tags: dict[str, str]) -> dg.ExecuteInProcessResult:
    result = run_nightly(data_dir, tags=tags)
    assert result.success
    return result


def published_files(data_dir: Path, run_id: str) -> dict[str, Path]:
    run_dir = data_dir / "published/runs" / run_id
    return {path.relative_to(run_dir).as_posix(): path for path in sorted(run_dir.rglob("*")) if path.is_file()}


def test_the_next_night_with_no_new_inputs_publishes_what_it_would_without_reused_frames(tmp_path: Path) -> None:
    """Row for row, every published Parquet file of a night that reused every memoised frame equals that of a night
    that computed them, on the same inputs and clock, after the same first night."""
    runs = {}
    for name in ("reusing", "computing"):
        data_dir = tmp_path / name
        generate(data_dir, as_of=COMMITTED_AS_OF)
        assert set(reused(night(data_dir, FIRST_NIGHT)).values()) == {False}
        if name == "computing":
            shutil.rmtree(data_dir / MEMO)
        result = night(data_dir, NEXT_NIGHT)
        assert reused(result) == dict.fromkeys(MEMOISED, name == "reusing")
        runs[name] = published_files(data_dir, result.run_id)
    assert runs["reusing"].keys() == runs["computing"].keys()
    parquet = [path for path in runs["reusing"] if path.endswith(".parquet")]
    assert {"clean/spring_promo.parquet", "suppressed/spring_promo.parquet", "analytics/cli_days.parquet"} <= set(
        parquet
    )
    for path in parquet:
        reusing, computing = (pl.read_parquet(runs[name][path]) for name in ("reusing", "computing"))
        assert_frame_equal(reusing.drop(RUN_COLUMNS, strict=False), computing.drop(RUN_COLUMNS, strict=False))
    for path in [path for path in runs["reusing"] if path.endswith((".csv", ".sha256"))]:
        assert runs["reusing"][path].read_bytes() == runs["computing"][path].read_bytes(), path


def test_a_changed_dialler_file_is_read_and_normalised_again_and_nothing_else_is(sample: Path) -> None:
    night(sample, FIRST_NIGHT)
    spring = sample / "inbox/dialler/spring_promo.csv"
    header, first, *_ = spring.read_text(encoding="utf-8").splitlines()
    spring.write_text(spring.read_text(encoding="utf-8") + first.replace(first.split(",")[0], "NEW1", 1) + "\n")
    result = night(sample, NEXT_NIGHT)
    computed = {step for step, is_reused in reused(result).items() if not is_reused}
    assert computed == {
        "dialler_leads", "normalised_dialler_leads", "stored_registry_listings", "suppression_entries",
        "lead_places", "number_appearances",
    }  # fmt: skip
    outcomes = [pl.read_parquet(path) for path in (sample / "published/latest").glob("*/spring_promo.parquet")]
    assert "NEW1" in pl.concat(outcomes, how="diagonal_relaxed").get_column("lead_id").to_list()


def test_a_changed_call_log_is_computed_again_down_to_the_call_analytics(sample: Path) -> None:
    night(sample, FIRST_NIGHT)
    (log,) = (sample / "inbox/calls").glob("*.csv")
    log.write_text(log.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[0] + "\n", encoding="utf-8")
    computed = {step for step, is_reused in reused(night(sample, NEXT_NIGHT)).items() if not is_reused}
    assert computed == {"call_records", "normalised_call_records", "call_attempts", "cli_days"}


def test_a_changed_configuration_computes_every_memoised_step_again(sample: Path) -> None:
    night(sample, FIRST_NIGHT)
    config = sample / "scrubline.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "retention:\n  quarantine_days: 30\n", encoding="utf-8")
    assert reused(night(sample, NEXT_NIGHT)) == dict.fromkeys(MEMOISED, False)


def test_another_phonenumbers_version_computes_every_memoised_step_again(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(sample, FIRST_NIGHT)
    monkeypatch.setattr(assets.memo, "library_versions", lambda: {**library_versions(), "phonenumbers": "9.0.99"})
    assert reused(night(sample, NEXT_NIGHT)) == dict.fromkeys(MEMOISED, False)


def test_changed_code_computes_every_memoised_step_again(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    night(sample, FIRST_NIGHT)
    monkeypatch.setattr(assets.memo, "source_fingerprint", lambda *packages: "another commit")
    assert reused(night(sample, NEXT_NIGHT)) == dict.fromkeys(MEMOISED, False)


def test_a_frame_read_from_a_file_that_changed_after_its_checksum_is_not_remembered(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checksums are taken before the read: a file rewritten in between is read as it now is, and the frame is
    not remembered under the older contents' fingerprint (the next step keys its own on the frame's bytes)."""
    import assets.ingest

    checksums = assets.ingest.file_checksums
    monkeypatch.setattr(
        assets.ingest,
        "file_checksums",
        lambda files, *, data_dir: [(path, "0" * 64) for path, _ in checksums(files, data_dir=data_dir)],
    )
    night(sample, FIRST_NIGHT)
    assert not (sample / MEMO / "dialler_leads").exists()
    monkeypatch.undo()
    assert reused(night(sample, NEXT_NIGHT))["dialler_leads"] is False


def test_a_relationship_that_lapses_between_nights_suppresses_the_number_though_its_entries_are_reused(
    tmp_path: Path,
) -> None:
    """The suppression entries depend on the inputs alone; which of them an EBR lifts depends on the day. Bought
    17 months and 20 days before the first night, the purchase exempts L1 from the US list that night, and no longer
    twenty days later (18 months, 47 CFR 64.1200(f)(5)), when the entries are reused."""
    data_dir = with_us_dnc(tmp_path / "data", RUN_DATE)
    config = data_dir / "scrubline.yaml"
    config.write_text(
        config.read_text().replace(
            "  do_not_call_column: do_not_call\n", "  do_not_call_column: do_not_call\n  last_purchase_column: bought\n"
        )
    )
    (data_dir / "inbox/crm/contacts.csv").write_text(
        "contact_id,phone,mobile,country,do_not_call,bought\nC2,(201) 555-0123,,,no,2025-06-06\n"
    )
    first = night(data_dir, FIRST_NIGHT)
    assert outcome_of(data_dir, first.run_id, "L1") == ("clean", "us_dnc:ebr_purchase")
    later = night(data_dir, {AS_OF_TAG: (RUN_AS_OF + timedelta(days=20)).isoformat()})
    assert reused(later)["suppression_entries"]
    assert outcome_of(data_dir, later.run_id, "L1") == ("suppressed", None)


def outcome_of(data_dir: Path, run_id: str, lead_id: str) -> tuple[str, str | None]:
    """A spring lead's outcome in a published run, and the exemption its row names."""
    run_dir = data_dir / "published/runs" / run_id
    rows = pl.concat(
        [pl.read_parquet(run_dir / f"{outcome}/spring.parquet").with_columns(outcome=pl.lit(outcome))
         for outcome in ("clean", "suppressed")],
        how="diagonal_relaxed",
    )  # fmt: skip
    return rows.filter(pl.col("lead_id") == lead_id).select("outcome", "exemption_reason").row(0)
