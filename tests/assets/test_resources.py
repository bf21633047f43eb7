"""The data directory resource: one run reads its configuration once, so it can never see two."""

from pathlib import Path

import polars as pl
import pytest

import assets.ingest
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import SCRUBLINE_YAML, write_data_dir

WITHOUT_OPT_OUTS = SCRUBLINE_YAML.replace("  - name: internal_optouts\n", "  - name: renamed_optouts\n")


def test_a_configuration_edited_mid_run_does_not_reach_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = write_data_dir(tmp_path / "data")
    read_crm = assets.ingest.read_crm

    def read_crm_then_edit_the_configuration(*args: object, **kwargs: object) -> pl.DataFrame:
        records = read_crm(*args, **kwargs)
        (data_dir / "scrubline.yaml").write_text(WITHOUT_OPT_OUTS, encoding="utf-8")
        return records

    monkeypatch.setattr(assets.ingest, "read_crm", read_crm_then_edit_the_configuration)

    result = run_nightly(data_dir)

    assert result.success
    suppressed = pl.read_parquet(data_dir / "published" / "latest" / "suppressed" / "spring.parquet")
    sources = suppressed.filter(pl.col("lead_id") == "L3").get_column("suppression_sources").item()
    assert [source["source_name"] for source in sources] == ["internal_optouts"]
