"""The committed sample, run by the nightly job as of the suite's clock: what the service is compared against."""

import csv
from pathlib import Path

import polars as pl

from data.generate import COMMITTED_AS_OF, generate
from tests.assets.test_nightly_scrub import run_nightly

PUBLISHED_OUTCOMES = ("clean", "suppressed", "invalid", "deferred")
_NO_SOURCES = pl.lit([], pl.List(pl.String))


def published_sample(root: Path) -> Path:
    """The sample as committed (generated for its date, so a sample re-dated in `data/` changes nothing here), with
    the nightly run published in it."""
    data_dir = root / "sample"
    generate(data_dir, as_of=COMMITTED_AS_OF)
    assert run_nightly(data_dir).success
    return data_dir


def dialler_rows(data_dir: Path) -> pl.DataFrame:
    """Every published dialler row (quarantined records aside): campaign, lead, the raw value and its region as the
    dialler file wrote them, and the run's outcome, reason and binding sources (`source_name:source_file`)."""
    latest = data_dir / "published/latest"
    raw = []
    for path in sorted((data_dir / "inbox/dialler").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                country = (row.get("country") or "").strip().upper() or "US"
                raw.append({"campaign": path.stem, "lead_id": row["lead_id"], "phone": row["phone"], "region": country})
    published = pl.concat(
        [
            pl.read_parquet(path).select(
                "campaign",
                "lead_id",
                "source_row",
                "phone_e164",
                outcome=pl.lit(outcome),
                reason=pl.col("reason") if outcome != "clean" else pl.lit(None, pl.String),
                sources=_source_keys(pl.col("suppression_sources")) if outcome == "suppressed" else _NO_SOURCES,
            )  # fmt: skip
            for outcome in PUBLISHED_OUTCOMES
            for path in sorted((latest / outcome).glob("*.parquet"))
        ]
    )
    return published.join(pl.DataFrame(raw), on=["campaign", "lead_id"], how="left").sort("campaign", "source_row")


def _source_keys(sources: pl.Expr) -> pl.Expr:
    """Each binding source as `name:file`, sorted; empty when none (a duplicate)."""
    keys = sources.list.eval(pl.concat_str(pl.element().struct.field("source_name"), pl.lit(":"),
                                           pl.element().struct.field("source_file")))  # fmt: skip
    return keys.list.sort().fill_null([])
