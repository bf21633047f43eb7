"""The analysts' DuckDB warehouse: views over the latest published run, every run's history, and what it means.

The file holds no absolute path. Its views read the published Parquet files by paths relative to the
warehouse's own folder (the data directory: `published/runs/<run id>/clean/*.parquet`), so the data directory
can be copied or moved whole; a reader sets DuckDB's `file_search_path` to that folder when it opens the file
(`open_warehouse` does), or opens it from there. Views rather than stored tables, measured at 10 million rows: a view
costs nothing to build and stores nothing twice, while tables copy every row every night (docs/outputs.md).

Every view and column carries a `COMMENT` from `descriptions`, the same words the Dagster assets show.
`list_status` and `runs` are small tables, built from the run's manifests (`records.Manifest`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from pipelines.publishing.descriptions import TABLES, column_description
from pipelines.publishing.layout import ANALYTICS_VIEWS, ARCHIVE, MANIFEST, NUMBER_OUTCOMES, RUNS, analytics_path
from pipelines.records import Manifest

# View name → glob of the published Parquet it reads, relative to a run directory.
WAREHOUSE_VIEWS = {
    "clean_call_lists": "clean/*.parquet",
    "suppressed": "suppressed/*.parquet",
    "invalid": "invalid/*.parquet",
    "deferred": "deferred/*.parquet",
    "number_analytics": "analytics/numbers.parquet",
    "contacts": "crm/contacts.parquet",
    "suppression_list": "suppression/suppression_list.parquet",
}
# Runs published before quarantined rows were published have none: the view is empty for them.
QUARANTINED = "quarantined/*.parquet"
# The cross-client warehouse's views, each over every client's latest run (`build_clients_warehouse`).
CLIENT_VIEWS = {
    **{view: WAREHOUSE_VIEWS[view] for view in ("clean_call_lists", "suppressed", "invalid", "deferred")},
    "quarantined": QUARANTINED,
}
CLIENTS_TABLE = "clients"
_NO_CLIENT = "select null::varchar as client where false"
_QUARANTINED_NONE = """
select null::varchar as campaign, null::varchar as lead_id, null::varchar as source_file,
       null::bigint as source_row, null::varchar as outcome, null::varchar as reason
where false
"""
_NUMBER_HISTORY = """
create view number_history as
with outcomes as (
    select *
    from read_parquet({source}, union_by_name = true)
)

select *
from outcomes
-- The run its date link points at: the one created last (runs from before run_created_at count as older).
qualify row_number() over (
    partition by run_date, campaign, phone_e164 order by run_created_at desc nulls last, run_started_at desc
) = 1
"""
# Every dialler record of the run with its outcome: the clean list has no outcome column (every row is clean).
_OUTCOMES = """
create view outcomes as
with clean as (
    select campaign, lead_id, phone_e164, 'clean' as outcome, null::varchar as reason, exemption_reason,
           source_file, source_row
    from clean_call_lists
),

scrubbed_out as (
    select campaign, lead_id, phone_e164, outcome, reason, exemption_reason, source_file, source_row
    from suppressed
    union all
    select campaign, lead_id, phone_e164, outcome, reason, null, source_file, source_row
    from invalid
    union all
    select campaign, lead_id, phone_e164, outcome, reason, exemption_reason, source_file, source_row
    from deferred
    union all
    select campaign, lead_id, null, outcome, reason, null, source_file, source_row
    from quarantined
)

select * from clean
union all
select * from scrubbed_out
"""
_SUPPRESSION_REASONS = """
create view suppression_reasons as
with bound as (
    select campaign, lead_id, phone_e164, reason, source
    from suppressed, unnest(suppression_sources) as listed(source)
),

-- A repeat of a number earlier in its campaign is suppressed by no source.
unbound as (
    select campaign, lead_id, phone_e164, reason, null as source
    from suppressed
    where coalesce(len(suppression_sources), 0) = 0
)

select campaign, lead_id, phone_e164, reason,
       source.source_name as binding_source,
       source.source_file as binding_file,
       source.downloaded_on as binding_downloaded_on,
       source.block_prefix as binding_block_prefix,
       source.requested_at as binding_requested_at
from bound
union all
select campaign, lead_id, phone_e164, reason, null, null, null, null, null
from unbound
"""
_CONTENTS = """
select view_name from duckdb_views() where not internal and database_name = current_database()
union all
select table_name from duckdb_tables() where database_name = current_database()
"""
# The warehouse's tables: the published list's validity (`expiry.list_status`) and every published run.
LIST_STATUS = "list_status"
RUNS_TABLE = "runs"
DERIVED_VIEWS = ("outcomes", "suppression_reasons")
_RUNS_SCHEMA = {
    "run_id": pl.String,
    "run_started_at": pl.Datetime("us", "UTC"),
    "valid_through": pl.Datetime("us", "UTC"),
    "campaign": pl.String,
    "count_rows_in": pl.Int64,
    "count_clean": pl.Int64,
    "count_suppressed": pl.Int64,
    "count_invalid": pl.Int64,
    "count_quarantined": pl.Int64,
    "count_deferred": pl.Int64,
    "count_rows_out": pl.Int64,
    "registry_versions": pl.List(pl.Struct({"registry": pl.String, "version": pl.String, "count_numbers": pl.Int64})),
}


def open_warehouse(warehouse_path: Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open a warehouse wherever its data directory now is: its views' relative paths resolve against its folder."""
    return duckdb.connect(
        str(warehouse_path), read_only=read_only, config={"file_search_path": str(warehouse_path.resolve().parent)}
    )


def build_warehouse(warehouse_path: Path, *, run_dir: Path, status: pl.DataFrame) -> Path:
    """Build a fresh DuckDB file beside `warehouse_path`: views over a published run, `outcomes` and
    `suppression_reasons` over them, `number_history` over every run with number outcomes, and the tables
    `list_status` (`status`: the run, its `valid_through`, current or withdrawn) and `runs` (every published run's
    counts, registry versions and validity); every view and column commented. Returns the new file, for
    `install_warehouse`."""
    building = warehouse_path.with_name(f".{warehouse_path.name}.building")
    building.unlink(missing_ok=True)
    home = warehouse_path.resolve().parent
    run = Path(os.path.relpath(run_dir.resolve(), home))
    present = {name: analytics_path(name) for name in ANALYTICS_VIEWS if (run_dir / analytics_path(name)).is_file()}
    connection = duckdb.connect(str(building), config={"file_search_path": str(home)})
    try:
        for view, pattern in {**WAREHOUSE_VIEWS, **present}.items():
            connection.execute(f"create view {view} as select * from read_parquet({_literal(run / pattern)})")
        quarantined = (
            f"select * from read_parquet({_literal(run / QUARANTINED)})"
            if any(run_dir.glob(QUARANTINED))
            else _QUARANTINED_NONE
        )
        connection.execute(f"create view quarantined as {quarantined}")
        connection.execute(_OUTCOMES)
        connection.execute(_SUPPRESSION_REASONS)
        connection.register("status", status.to_arrow())
        connection.execute(f"create table {LIST_STATUS} as select * from status")
        connection.register("published_runs", published_runs(run_dir.resolve().parent.parent).to_arrow())
        connection.execute(f"create table {RUNS_TABLE} as select * from published_runs order by run_started_at, run_id")
        published_dir = run_dir.resolve().parent.parent
        # Only runs with a manifest: a folder without one is a run still being written, or one that died writing.
        outcomes = [
            Path(os.path.relpath(run / NUMBER_OUTCOMES, home))
            for folder in (published_dir / RUNS, published_dir / ARCHIVE)
            for run in sorted(folder.glob("*"))
            if (run / MANIFEST).is_file() and (run / NUMBER_OUTCOMES).is_file()
        ]
        if outcomes:
            sources = "[" + ", ".join(_literal(glob) for glob in outcomes) + "]"
            connection.execute(_NUMBER_HISTORY.format(source=sources))
        _comment_everything(connection)
    finally:
        connection.close()
    return building


def build_clients_warehouse(warehouse_path: Path, *, latest_runs: Mapping[str, Path | None]) -> Path:
    """Build a fresh DuckDB file beside `warehouse_path`, at the top of a data directory of clients: the views of
    `CLIENT_VIEWS` over every client's latest run (`latest_runs`: each client's run folder, None when it has no
    list), each row with its `client` first, and the table `clients`; every view and column commented. Returns the
    new file, for `install_warehouse`."""
    building = warehouse_path.with_name(f".{warehouse_path.name}.building")
    building.unlink(missing_ok=True)
    home = warehouse_path.resolve().parent
    runs = {
        client: Path(os.path.relpath(run_dir.resolve(), home)) for client, run_dir in latest_runs.items() if run_dir
    }
    connection = duckdb.connect(str(building), config={"file_search_path": str(home)})
    try:
        for view, pattern in CLIENT_VIEWS.items():
            selects = [
                f"select {_literal(client)} as client, * from read_parquet({_literal(run / pattern)})"
                for client, run in sorted(runs.items())
                if any((home / run).glob(pattern))
            ]
            connection.execute(f"create view {view} as {' union all by name '.join(selects) or _NO_CLIENT}")
        clients = pl.DataFrame(
            {
                "client": sorted(latest_runs),
                "run_dir": [str(runs[c]) if c in runs else None for c in sorted(latest_runs)],
            },
            schema={"client": pl.String, "run_dir": pl.String},
        )
        connection.register("latest", clients.to_arrow())
        connection.execute(f"create table {CLIENTS_TABLE} as select * from latest")
        _comment_everything(connection)
    finally:
        connection.close()
    return building


def published_runs(published_dir: Path) -> pl.DataFrame:
    """One row per published (or archived) run and campaign: its counts, registry versions and `valid_through`,
    read from each run's manifest."""
    manifests = [
        Manifest.read(path)
        for folder in (published_dir / RUNS, published_dir / ARCHIVE)
        for path in sorted(folder.glob(f"*/{MANIFEST}"))
    ]
    rows = [
        {
            "run_id": manifest.run_id,
            "run_started_at": manifest.started_at,
            "valid_through": manifest.valid_through,
            **counts.model_dump(),
            "registry_versions": [version.model_dump(exclude={"files"}) for version in manifest.registries],
        }
        for manifest in manifests
        for counts in manifest.reconciliation
    ]
    return pl.DataFrame(rows, schema=_RUNS_SCHEMA)


def _comment_everything(connection: duckdb.DuckDBPyConnection) -> None:
    """`COMMENT ON` every view, table and column, from `descriptions`."""
    columns = connection.execute(
        "select table_name, column_name from duckdb_columns() where database_name = current_database()"
    ).fetchall()
    kinds = dict(
        connection.execute(
            "select view_name, 'view' from duckdb_views() where not internal and database_name = current_database()"
            " union all select table_name, 'table' from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    )
    for name, kind in kinds.items():
        connection.execute(f"comment on {kind} {name} is {_literal(TABLES[name])}")
    for table, column in columns:
        connection.execute(f'comment on column {table}."{column}" is {_literal(column_description(column))}')


def install_warehouse(building: Path, warehouse_path: Path, *, replaced_by: str) -> Path | None:
    """Swap the built warehouse in. Readers holding the old file keep their handle; new readers open the new one.

    The warehouse is the pipeline's and is rebuilt every run. If someone wrote into the old one (tables or views
    of their own, a write-ahead log, or a write session still open), it is moved aside with its log to
    `warehouse.analyst-<replaced_by>.duckdb` rather than replaced, and that path is returned, so nothing is lost
    silently and no stale log is left beside the new file.
    """
    kept = None
    if warehouse_path.exists() and _holds_analyst_work(warehouse_path):
        kept = warehouse_path.with_name(f"{warehouse_path.stem}.analyst-{replaced_by}{warehouse_path.suffix}")
        os.replace(warehouse_path, kept)
        if _wal(warehouse_path).exists():
            os.replace(_wal(warehouse_path), _wal(kept))
    os.replace(building, warehouse_path)
    return kept


def warehouse_contents(warehouse_path: Path) -> list[str]:
    """The views and tables of a warehouse file, by name."""
    with open_warehouse(warehouse_path) as connection:
        return [name for (name,) in connection.execute(_CONTENTS).fetchall()]


def _holds_analyst_work(warehouse_path: Path) -> bool:
    """Whether anyone but the pipeline has written to, or is writing to, a warehouse file."""
    if _wal(warehouse_path).exists():
        return True
    try:
        contents = set(warehouse_contents(warehouse_path))
    except duckdb.IOException:  # a write session holds the file's lock
        return True
    return not contents <= set(TABLES)


def _wal(database: Path) -> Path:
    return database.with_name(f"{database.name}.wal")


def _literal(text: Path | str) -> str:
    """A path or text of ours as an SQL string literal: DDL cannot take bound parameters."""
    return "'" + str(text).replace("'", "''") + "'"
