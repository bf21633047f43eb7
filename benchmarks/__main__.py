"""Every benchmark, each in its own process so its peak memory is its own.

.venv/bin/python -m benchmarks
"""

import subprocess
import sys

BENCHMARKS = (
    "benchmarks.normalise",
    "benchmarks.call_analytics",
    "benchmarks.registry",
    "benchmarks.nightly",
    "benchmarks.scrub_shards",
    "benchmarks.serve",
)

for module in BENCHMARKS:
    print(f"== {module}", flush=True)
    subprocess.run([sys.executable, "-m", module], check=True)
