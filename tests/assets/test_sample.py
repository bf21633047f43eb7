"""The committed sample is what `data/generate.py` makes, and it runs on any date it is generated for."""

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from assets.run_clock import AS_OF_TAG
from data.generate import COMMITTED_AS_OF, generate
from tests.assets.test_nightly_scrub import run_nightly

SAMPLE = Path(__file__).resolve().parents[2] / "data"


def files_under(root: Path) -> dict[str, bytes]:
    paths = [root / "scrubline.yaml", *sorted((root / "inbox").rglob("*"))]
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in paths if path.is_file()}


def test_the_committed_sample_is_the_generator_s_output_for_its_date(tmp_path: Path) -> None:
    generate(tmp_path, as_of=COMMITTED_AS_OF)
    assert files_under(tmp_path) == files_under(SAMPLE)


def test_a_sample_generated_for_a_future_date_runs_with_every_freshness_rule_in_force(tmp_path: Path) -> None:
    run_on = date(2031, 3, 2)
    generate(tmp_path, as_of=run_on)
    assert "max_age_days" not in (tmp_path / "scrubline.yaml").read_text()
    result = run_nightly(tmp_path, tags={AS_OF_TAG: datetime(2031, 3, 2, 2, tzinfo=UTC).isoformat()})
    assert result.success
    clean = pl.read_parquet(tmp_path / "published/latest/clean/spring_promo.parquet")
    assert clean.height > 1000
