"""The committed sample is what `data/generate.py` makes, and it runs on any date it is generated for."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import yaml

from assets.run_clock import AS_OF_TAG
from data.generate import COMMITTED_AS_OF, REGISTRY_AGE_DAYS, generate
from tests.assets.test_nightly_scrub import run_nightly

SAMPLE = Path(__file__).resolve().parents[2] / "data"


def files_under(root: Path) -> dict[str, bytes]:
    paths = [root / "scrubline.yaml", *sorted((root / "inbox").rglob("*"))]
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in paths if path.is_file()}


def dated_for(data_dir: Path) -> date:
    """The day a generated sample is dated for: its national registries were downloaded a set age before it."""
    config = yaml.safe_load((data_dir / "scrubline.yaml").read_text(encoding="utf-8"))
    downloaded_on = next(registry["downloaded_on"] for registry in config["registries"] if "downloaded_on" in registry)
    return downloaded_on + timedelta(days=REGISTRY_AGE_DAYS)


def test_the_sample_in_data_is_the_generator_s_output_for_the_day_it_is_dated(tmp_path: Path) -> None:
    """As committed it is dated COMMITTED_AS_OF; README command 1 re-dates it for today, and it still holds."""
    generate(tmp_path, as_of=dated_for(SAMPLE))
    assert files_under(tmp_path) == files_under(SAMPLE)


def test_the_sample_s_date_is_read_back_from_what_the_generator_wrote(tmp_path: Path) -> None:
    generate(tmp_path, as_of=date(2027, 2, 14))
    assert dated_for(tmp_path) == date(2027, 2, 14)
    generate(tmp_path, as_of=COMMITTED_AS_OF)
    assert dated_for(tmp_path) == COMMITTED_AS_OF


def test_a_sample_generated_for_a_future_date_runs_with_every_freshness_rule_in_force(tmp_path: Path) -> None:
    run_on = date(2031, 3, 2)
    generate(tmp_path, as_of=run_on)
    assert "max_age_days" not in (tmp_path / "scrubline.yaml").read_text()
    result = run_nightly(tmp_path, tags={AS_OF_TAG: datetime(2031, 3, 2, 2, tzinfo=UTC).isoformat()})
    assert result.success
    clean = pl.read_parquet(tmp_path / "published/latest/clean/spring_promo.parquet")
    assert clean.height > 1000
