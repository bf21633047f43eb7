"""The nightly job with its scrub split into shards publishes what it publishes in one step."""

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets import suppress
from assets.scrub_shards import SHARDS_DIR
from pipelines.suppression.shards import AUDIT_ORDER
from tests.assets.test_calling_time import CALLING_INBOX, CALLING_TIME_YAML
from tests.assets.test_nightly_scrub import failed_checks, run_nightly
from tests.handmade import CALLS_YAML, INBOX, SCRUBLINE_YAML, write_data_dir

# A published run's tables; its manifest, certificates and checksums name the run and its files, so differ.
TABLES = ("*.parquet", "*.csv")
RUN_ID = "<run id>"
# When the run was created (not its clock, which the tests fix): number history orders runs by it.
RUN_CREATED_AT = "run_created_at"


def published_tables(data_dir: Path) -> dict[str, pl.DataFrame]:
    """Every table the latest run published, by path within the run's folder, its run id written `<run id>` and
    without the instant the run was created."""
    run = (data_dir / "published/latest").resolve()
    return {
        str(path.relative_to(run)): _read(path)
        .with_columns(pl.col(pl.String).str.replace_all(run.name, RUN_ID, literal=True))
        .drop(RUN_CREATED_AT, strict=False)
        for pattern in TABLES
        for path in sorted(run.rglob(pattern))
    }


def _read(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)


@pytest.mark.parametrize(
    ("inbox", "config"),
    [(INBOX, SCRUBLINE_YAML), ({**INBOX, **CALLING_INBOX}, SCRUBLINE_YAML + CALLS_YAML + CALLING_TIME_YAML)],
    ids=["handmade", "calls_and_calling_time"],
)
def test_a_night_scrubbed_in_shards_publishes_what_one_scrub_publishes(
    tmp_path: Path, inbox: dict[str, str], config: str
) -> None:
    one = write_data_dir(tmp_path / "one", inbox, config)
    sharded = write_data_dir(tmp_path / "sharded", inbox, config + "scrub:\n  shards: 3\n")
    assert run_nightly(one).success
    result = run_nightly(sharded)
    assert result.success
    steps = {event.step_key for event in result.all_events if event.is_step_success}
    assert len({step for step in steps if step.startswith("scrubbed_leads.scrubbed_shard[")}) > 1
    expected, actual = published_tables(one), published_tables(sharded)
    assert sorted(actual) == sorted(expected)
    assert any(name.startswith("deferred/") for name in expected)
    for name, table in expected.items():
        assert_frame_equal(actual[name], table, check_exact=True)


def test_a_failing_check_on_the_sharded_scrub_still_blocks_publishing_and_each_shard_held_its_range_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = write_data_dir(tmp_path / "data", config=SCRUBLINE_YAML + "scrub:\n  shards: 3\n")
    # The check is made to see one leaked number: what it would report if a shard had missed an entry.
    monkeypatch.setattr(suppress, "leaked_numbers", lambda scrubbed, _: scrubbed.head(1).select("phone_e164"))
    result = run_nightly(data_dir)
    assert failed_checks(result) == ["no_clean_number_is_suppressed"]
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert "scrubbed_leads" in materialized
    assert not materialized & {"published_run", "warehouse"}
    assert not (data_dir / "published").exists()
    # A run that did not publish keeps its folder: what each shard step was handed and gave.
    steps = data_dir / "work" / result.run_id / SHARDS_DIR
    plan = pl.concat(pl.read_parquet(path) for path in sorted(steps.glob("*.scrub_shard_plan.*.parquet")))
    shards = [pl.read_parquet(steps / f"scrubbed_leads.scrubbed_shard[shard_{shard}].scrubbed.parquet", glob=False)
              for shard in plan.get_column("shard")]  # fmt: skip
    assert len(shards) > 1
    for (_, lower, upper), scrubbed in zip(plan.iter_rows(), shards, strict=True):
        numbers = scrubbed.get_column("phone_e164")
        assert numbers.drop_nulls().is_between(lower or "", upper or "~", closed="left").all()
        assert numbers.null_count() == 0 or lower is None
    scrubbed_leads = pl.read_parquet(data_dir / "work" / result.run_id / "scrubbed_leads.parquet")
    assert_frame_equal(pl.concat(shards).select(AUDIT_ORDER).sort(AUDIT_ORDER), scrubbed_leads.select(AUDIT_ORDER))
