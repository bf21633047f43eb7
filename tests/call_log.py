"""Hand-made call logs and number estates, as the dialler's export and the estate file hold them."""

import polars as pl

from pipelines.inputs.calls import CALL_RECORD_SCHEMA, ESTATE_SCHEMA

Call = tuple[str, str, str, str, str, str | None]
Cli = tuple[str, str, str, str | None, str | None]


def call_records(*calls: Call) -> pl.DataFrame:
    """Raw call records from (cli, dialled, started_at, duration_s, disposition, complaint); ids c1, c2, … in order."""
    return pl.DataFrame(
        [(f"c{row}", *call, "inbox/calls/log.csv", row, "sha", None, None) for row, call in enumerate(calls, start=1)],
        schema=CALL_RECORD_SCHEMA,
        orient="row",
    )


def estate(*clis: Cli) -> pl.DataFrame:
    """Raw estate rows from (cli, pool, attestation, reputation label, checked on); every CLI with carrier `acme`."""
    return pl.DataFrame(
        [
            (cli, pool, "acme", attestation, label, checked_on, "inbox/estate/clis.csv", row, "sha", None, None)
            for row, (cli, pool, attestation, label, checked_on) in enumerate(clis, start=1)
        ],
        schema=ESTATE_SCHEMA,
        orient="row",
    )
