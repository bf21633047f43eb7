"""The data directory resource: one run reads its configuration once, so it can never see two."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import assets.ingest
from assets.resources import RunWorkspace, reads_columns
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


def test_a_step_reads_the_columns_its_tags_name_others_the_whole_frame_or_a_scan_of_it(tmp_path: Path) -> None:
    seen: dict[str, list[str]] = {}

    @dg.asset
    def leads() -> pl.DataFrame:
        return pl.DataFrame({"campaign": ["spring"], "lead_id": ["1"], "raw_record": ["1,555"]})

    @dg.asset(op_tags=reads_columns(leads=["campaign"]))
    def campaigns(leads: pl.DataFrame) -> pl.DataFrame:
        seen["campaigns"] = leads.columns
        return leads

    @dg.asset
    def whole(leads: pl.DataFrame) -> pl.DataFrame:
        seen["whole"] = leads.columns
        return leads

    @dg.asset(op_tags=reads_columns(leads=["lead_id"]))
    def scanned(leads: pl.LazyFrame) -> pl.DataFrame:
        seen["scanned"] = leads.collect().columns
        return leads.collect()

    result = dg.materialize(
        [leads, campaigns, whole, scanned],
        resources={"io_manager": RunWorkspace(data_dir=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
    )

    assert result.success
    assert seen == {"campaigns": ["campaign"], "whole": ["campaign", "lead_id", "raw_record"], "scanned": ["lead_id"]}
