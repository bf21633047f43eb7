"""Benchmark: `scrubline serve` over HTTP, driven from a separate process by wrk, with a large stored US registry.

    .venv/bin/python -m benchmarks.serve --registry 50000000 --workers 2   # fits beside others on the 2-core box
    .venv/bin/python -m benchmarks.serve --registry 250000000             # the issue's target scale (2 GB snapshot)

The data directory is the sample generated for today and run by the nightly job (real clock), whose stored
US snapshot is then replaced by a sorted snapshot of `--registry` random US numbers (the manifest's input
entry updated with its SHA-256), so the server memory-maps a registry of that size. The server is
`scrubline serve --workers N` in its own process; wrk (Debian's package) drives single-number checks of
random numbers for `--seconds` with `--connections`; the benchmark times 10,000-number batch checks
itself over HTTP (a separate process from the server) and reads the resident memory (VmRSS, VmHWM) of the
server's processes from /proc. Figures are wall-clock on whatever machine runs it; tests never assert them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key"
_LUA = """
request = function()
  local number = math.random(2012000000, 9899999999)
  return wrk.format("GET", "/v1/numbers/" .. number .. "?campaign=spring_promo", {["Authorization"] = "Bearer %s"})
end
"""


def main() -> None:
    arguments = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="scrubline-serve-bench-") as scratch:
        data_dir = _data_dir(Path(scratch), count_numbers=arguments.registry)
        port = arguments.port
        server = _start(data_dir, port, workers=arguments.workers)
        try:
            print(f"registry: {arguments.registry:,} numbers; {arguments.workers} worker(s); {_memory(server.pid)}")
            started = time.perf_counter()
            _get(port, "/v1/numbers/2015550123?campaign=spring_promo")
            print(f"first check (prepares the day): {time.perf_counter() - started:.2f} s")
            batch_seconds = _batches(port, repeats=5)
            print(
                f"10,000-number batch check: median {statistics.median(batch_seconds) * 1000:.0f} ms, "
                f"best {min(batch_seconds) * 1000:.0f} ms, worst {max(batch_seconds) * 1000:.0f} ms"
            )
            print(_wrk(port, seconds=arguments.seconds, connections=arguments.connections, scratch=Path(scratch)))
            print(f"after load: {_memory(server.pid)}")
        finally:
            server.terminate()
            server.wait()


def _data_dir(scratch: Path, *, count_numbers: int) -> Path:
    """The sample, published as of its date, with its US snapshot replaced by `count_numbers` random numbers."""
    from data.generate import generate
    from pipelines.serving.settings import key_digest

    data_dir = scratch / "data"
    generate(data_dir, as_of=datetime.now(UTC).date())
    config = data_dir / "scrubline.yaml"
    config.write_text(
        config.read_text() + f"serve:\n  keys:\n    - name: bench\n      sha256: {key_digest(KEY)}\n"
        "      scopes: [check, normalize]\n"
    )
    _run_nightly(data_dir)
    manifest_path = (data_dir / "published/latest").resolve() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    (snapshot,) = [name for name in manifest["inputs"] if name.startswith("registries/us_national_dnc/")]
    started = time.perf_counter()
    _write_snapshot(data_dir / snapshot, count_numbers=count_numbers)
    manifest["inputs"][snapshot] = hashlib.sha256((data_dir / snapshot).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2))
    print(f"snapshot of {count_numbers:,} random numbers written in {time.perf_counter() - started:.1f} s")
    return data_dir


def _write_snapshot(path: Path, *, count_numbers: int) -> None:
    """`count_numbers` distinct sorted numbers spread over +1 201… to +1 989…, written 10 million at a time
    (random gaps), so even 250 million never sit in memory at once."""
    lowest, highest, per_chunk = 12012000000, 19899999999, 10_000_000
    widest_gap = max(2, 2 * (highest - lowest) // count_numbers)
    rng = np.random.default_rng(17)
    schema = pa.schema([("e164_int", pa.int64())])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        previous = lowest
        for start in range(0, count_numbers, per_chunk):
            gaps = rng.integers(1, widest_gap, size=min(per_chunk, count_numbers - start), dtype=np.int64)
            numbers = previous + np.cumsum(gaps)
            previous = int(numbers[-1])
            writer.write_table(pa.table({"e164_int": numbers}, schema=schema), row_group_size=1_000_000)


def _run_nightly(data_dir: Path) -> None:
    import dagster as dg

    from assets.constants import NIGHTLY_SCRUB_JOB
    from assets.definitions import build_definitions

    job = build_definitions(str(data_dir)).resolve_job_def(NIGHTLY_SCRUB_JOB)
    assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success


def _start(data_dir: Path, port: int, *, workers: int) -> subprocess.Popen:
    # `scrubline serve`, from this checkout (the installed entry point may belong to another one).
    command = [sys.executable, "-c", "from assets.cli import main; raise SystemExit(main())", "serve"]
    options = ["--data-dir", str(data_dir), "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    process = subprocess.Popen([*command, *options], cwd=ROOT)
    started = time.perf_counter()
    while time.perf_counter() - started < 900:
        try:
            _get(port, "/healthz")
            print(f"server up (snapshot mapped) in {time.perf_counter() - started:.1f} s")
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"scrubline serve exited with {process.returncode}") from None
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("server did not start")


def _get(port: int, path: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _batches(port: int, *, repeats: int) -> list[float]:
    seconds = []
    for repeat in range(repeats):
        picker = random.Random(repeat)
        numbers = [f"+1{picker.randint(2012000000, 9899999999)}" for _ in range(10_000)]
        body = json.dumps({"numbers": numbers, "campaign": "spring_promo"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/numbers:check", data=body, method="POST",
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        )  # fmt: skip
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        seconds.append(time.perf_counter() - started)
        assert len(answer["results"]) == 10_000
    return seconds


def _wrk(port: int, *, seconds: int, connections: int, scratch: Path) -> str:
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk): single-number load not measured"
    script = scratch / "random_numbers.lua"
    script.write_text(_LUA % KEY)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return f"wrk, random single-number checks, {connections} connections, {seconds} s:\n{output}"


def _memory(pid: int) -> str:
    """Resident memory of the server process and its workers (each with the pages it mapped)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(child) for child in children.read_text().split())] if children.exists() else [pid]
    figures = []
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text().splitlines()
        fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
        figures.append(f"pid {each}: VmRSS {fields.get('VmRSS')}, peak VmHWM {fields.get('VmHWM')}")
    return "; ".join(figures)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=int, default=50_000_000, help="numbers in the stored US registry")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    return parser


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    main()
