"""`scrubline`: run the nightly job in-process, normalise one file, verify a published certificate, or serve.

Each command imports what it needs when it runs: `normalize` and `verify` never import Dagster, so it starts in
the time polars and phonenumbers take to import.
"""

import argparse
import sys
from pathlib import Path

from pipelines.config import data_dir_from_environment
from pipelines.errors import ScrublineError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `scrubline` command."""
    arguments = _parser().parse_args(argv)
    try:
        return arguments.handler(arguments)
    except ScrublineError as error:
        print(f"scrubline: {error}", file=sys.stderr)
        return 2


def run(arguments: argparse.Namespace) -> int:
    """`scrubline run` (see `assets.run_command`)."""
    from assets.run_command import run as run_nightly

    return run_nightly(arguments)


def normalize(arguments: argparse.Namespace) -> int:
    """Normalise one CSV or Parquet file's phone column; write CSV or Parquet by the output's extension."""
    from pipelines.inputs.normalize_file import normalize_file

    source, output = Path(arguments.input), Path(arguments.output)
    normalised = normalize_file(
        source,
        output,
        column=arguments.column,
        region=arguments.region,
        region_column=arguments.region_column,
        progress=_show_progress,
    )
    print(f"{output}: {normalised.count_rows} rows, {normalised.count_valid} valid")
    return 0


def verify(arguments: argparse.Namespace) -> int:
    """Check a published certificate: its signature, its list's SHA-256 and its registry files' SHA-256."""
    from pipelines.publishing.certificate import verify_certificate

    public_key = Path(arguments.public_key).read_bytes() if arguments.public_key else None
    checks = verify_certificate(Path(arguments.certificate), public_key=public_key)
    for what, status, detail in checks:
        print(f"{status.upper():>9}  {what}: {detail}")
    mismatches = sum(status == "mismatch" for _, status, _ in checks)
    print(f"{arguments.certificate}: {'verified' if not mismatches else f'{mismatches} mismatch(es)'}")
    return 1 if mismatches else 0


def serve(arguments: argparse.Namespace) -> int:
    """Serve checks, normalisation, opt-outs and lists over HTTP (see `pipelines.serving`)."""
    from pipelines.serving.server import serve as run_server

    return run_server(
        Path(arguments.data_dir),
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        log_level=arguments.log_level,
    )


def hash_key(arguments: argparse.Namespace) -> int:
    """Print the SHA-256 of an API key read from standard input, for `serve.keys[].sha256`."""
    from pipelines.serving.settings import key_digest

    key = sys.stdin.readline().strip()
    if not key:
        print("scrubline: give the key on standard input", file=sys.stderr)
        return 2
    print(key_digest(key))
    return 0


def _show_progress(done: int, total: int) -> None:
    end = "\n" if done == total else ""
    print(f"\rnormalised {done:,} of {total:,} rows ({done / total:.0%})", end=end, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scrubline", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True)
    run_parser = commands.add_parser("run", help="run the nightly scrub job on a data directory")
    run_parser.add_argument(
        "--data-dir", default=data_dir_from_environment(), help="default: $SCRUBLINE_DATA_DIR or ./data"
    )
    run_parser.add_argument(
        "--wait",
        action="store_true",
        help="if another run holds the data directory, wait for it (without: exit 3 at once)",
    )
    run_parser.add_argument(
        "--client", help="in a data directory of clients: the client (its folder under clients/) to scrub"
    )
    run_parser.add_argument("--verbose", action="store_true", help="also print Dagster's own DEBUG event stream")
    run_parser.add_argument(
        "--as-of",
        metavar="INSTANT",
        help="scrub as of this ISO 8601 instant with its zone (2026-11-28T02:00:00Z) instead of now: for tests and "
        "benchmarks, without DAGSTER_HOME only (assets/run_clock.py)",
    )
    run_parser.set_defaults(handler=run)
    normalize_parser = commands.add_parser("normalize", help="normalise one file's phone column to E.164")
    normalize_parser.add_argument("input", help="a .csv or .parquet file")
    normalize_parser.add_argument("--column", required=True, help="the phone column")
    where = normalize_parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--region", help="ISO 3166 alpha-2 region for numbers without a country code")
    where.add_argument("--region-column", help="column holding each row's region")
    normalize_parser.add_argument(
        "--output", required=True, help="the file to write: .csv or .parquet (never the input)"
    )
    normalize_parser.set_defaults(handler=normalize)
    verify_parser = commands.add_parser("verify", help="check a published certificate against its files")
    verify_parser.add_argument("certificate", help="a clean/<campaign>.certificate.json of a published run")
    verify_parser.add_argument("--public-key", help="the PEM public key the runs are signed with")
    verify_parser.set_defaults(handler=verify)
    serve_parser = commands.add_parser("serve", help="serve live checks, normalisation, opt-outs and lists over HTTP")
    serve_parser.add_argument(
        "--data-dir", default=data_dir_from_environment(), help="default: $SCRUBLINE_DATA_DIR or ./data"
    )
    serve_parser.add_argument("--host", help="default: serve.host in scrubline.yaml, else 127.0.0.1")
    serve_parser.add_argument("--port", type=int, help="default: serve.port in scrubline.yaml, else 8787")
    serve_parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; one per core to use them all)"
    )
    serve_parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve_parser.set_defaults(handler=serve)
    hash_parser = commands.add_parser("hash-key", help="print the SHA-256 of an API key given on standard input")
    hash_parser.set_defaults(handler=hash_key)
    return parser
