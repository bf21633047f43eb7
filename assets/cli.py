"""`scrubline`: run the nightly job in-process, or normalise one file."""

import argparse
import os
import sys
import uuid
from pathlib import Path

import dagster as dg
import polars as pl

from assets.constants import NIGHTLY_SCRUB_JOB
from assets.definitions import build_definitions
from assets.resources import data_dir_from_environment
from assets.run_clock import AS_OF_TAG, parse_as_of
from pipelines.certificate import verify_certificate
from pipelines.config import load_config
from pipelines.e164 import normalise_phones
from pipelines.errors import ScrublineError
from pipelines.ingest import LINEAGE_COLUMNS, QUARANTINE_COLUMNS, quarantined, read_records
from pipelines.publish import LATEST, MANIFEST
from pipelines.run_lock import DataDirectoryBusyError, hold_data_dir
from pipelines.signing import private_key

UNKNOWN_REGION = "ZZ"
# Exit code of `scrubline run` when another run holds the data directory (0 published, 1 failed, 2 config error).
EXIT_BUSY = 3


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `scrubline` command."""
    arguments = _parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except ScrublineError as error:
        print(f"scrubline: {error}", file=sys.stderr)
        return 2


def run(arguments: argparse.Namespace) -> int:
    """Run the nightly scrub job on a data directory, as the UI would, and print what it did."""
    data_dir = Path(arguments.data_dir).resolve()
    config = load_config(data_dir)  # a configuration error stops here, exit 2, before any run exists
    if config.signing is not None:
        private_key(config.signing, data_dir=data_dir)
    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    tags = {AS_OF_TAG: parse_as_of(arguments.as_of).isoformat()} if arguments.as_of else None
    run_id = str(uuid.uuid4())
    try:
        with hold_data_dir(data_dir, run_id=run_id, wait=arguments.wait, on_wait=_say_waiting):
            result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags, run_id=run_id)
    except DataDirectoryBusyError as busy:
        print(f"scrubline: {busy}", file=sys.stderr)
        return EXIT_BUSY
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            print(f"FAILED {event.step_key}: {(error.cause or error).message.strip()}", file=sys.stderr)
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not event.event_specific_data.passed:
            check = event.event_specific_data
            print(f"CHECK FAILED {check.asset_check_key.to_user_string()}: {check.description or ''}", file=sys.stderr)
    if not result.success:
        print(f"scrubline: run {result.run_id} failed; nothing new was published", file=sys.stderr)
        return 1
    manifest = (data_dir / "published" / LATEST / MANIFEST).resolve()
    print(f"run {result.run_id} published {manifest.parent}")
    for path, output in pl.read_json(manifest).get_column("outputs").struct.unnest().row(0, named=True).items():
        print(f"  {path}: {output['rows']} rows")
    print(f"warehouse: {data_dir / 'warehouse.duckdb'}")
    return 0


def _say_waiting(busy: str) -> None:
    print(f"scrubline: waiting: {busy}", file=sys.stderr)


def normalize(arguments: argparse.Namespace) -> int:
    """Normalise one CSV or Parquet file's phone column and write Parquet."""
    source = Path(arguments.input).resolve()
    records = read_records(
        source, data_dir=source.parent, required_columns=[arguments.column, *filter(None, [arguments.region_column])]
    )
    unreadable = quarantined(records)
    if unreadable.height:
        first = unreadable.row(0, named=True)
        where = f"first at row {first['source_row']} ({first['quarantine_reason']})"
        print(
            f"scrubline: {source}: {unreadable.height} unreadable row(s), {where}; fix them and rerun", file=sys.stderr
        )
        return 2
    region = arguments.region or UNKNOWN_REGION
    normalised = normalise_phones(records, arguments.column, region=region, region_column=arguments.region_column)
    normalised.drop(*LINEAGE_COLUMNS, *QUARANTINE_COLUMNS).write_parquet(arguments.output)
    count_valid = normalised.get_column(f"{arguments.column}_valid").sum()
    print(f"{arguments.output}: {normalised.height} rows, {count_valid} valid")
    return 0


def verify(arguments: argparse.Namespace) -> int:
    """Check a published certificate: its signature, its list's SHA-256 and its registry files' SHA-256."""
    public_key = Path(arguments.public_key).read_bytes() if arguments.public_key else None
    checks = verify_certificate(Path(arguments.certificate), public_key=public_key)
    for what, status, detail in checks:
        print(f"{status.upper():>9}  {what}: {detail}")
    mismatches = sum(status == "mismatch" for _, status, _ in checks)
    print(f"{arguments.certificate}: {'verified' if not mismatches else f'{mismatches} mismatch(es)'}")
    return 1 if mismatches else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scrubline", description=__doc__)
    commands = parser.add_subparsers(required=True)
    run_parser = commands.add_parser("run", help="run the nightly scrub job on a data directory")
    run_parser.add_argument(
        "--data-dir", default=data_dir_from_environment(), help="default: $SCRUBLINE_DATA_DIR or ./data"
    )
    run_parser.add_argument(
        "--as-of",
        help="scrub as of this ISO 8601 instant instead of now (replaying a past night); recorded in the manifest",
    )
    run_parser.add_argument(
        "--wait",
        action="store_true",
        help=f"if another run holds the data directory, wait for it (without: exit {EXIT_BUSY} at once)",
    )
    run_parser.set_defaults(handler=run)
    normalize_parser = commands.add_parser("normalize", help="normalise one file's phone column to E.164")
    normalize_parser.add_argument("input", help="a .csv or .parquet file")
    normalize_parser.add_argument("--column", required=True, help="the phone column")
    where = normalize_parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--region", help="ISO 3166 alpha-2 region for numbers without a country code")
    where.add_argument("--region-column", help="column holding each row's region")
    normalize_parser.add_argument("--output", required=True, help="the .parquet file to write")
    normalize_parser.set_defaults(handler=normalize)
    verify_parser = commands.add_parser("verify", help="check a published certificate against its files")
    verify_parser.add_argument("certificate", help="a clean/<campaign>.certificate.json of a published run")
    verify_parser.add_argument("--public-key", help="the PEM public key the runs are signed with")
    verify_parser.set_defaults(handler=verify)
    return parser
