"""The steps of the scrub split by number range (`pipelines.suppression.shards`): a plan, a step per shard, a merge.

Between them, the plan's rows and each shard's scrubbed rows pass through `ShardWorkspace`, in the run's own
folder beside the assets' frames.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.operations.run_folders import work_dir
from pipelines.parquet_files import write_parquet

SHARD_IO_MANAGER = "shard_io_manager"
SHARDS_DIR = "scrub_shards"


class ShardWorkspace(dg.ConfigurableIOManager):
    """Keeps each frame a shard step passes on at `<data dir>/work/<run id>/scrub_shards/<step>.<output>.parquet`.

    The steps' own outputs are no assets, so `RunWorkspace` (which names files by asset) does not hold them;
    kept in the run's folder, they go when the run publishes and stay for a re-execution when it fails.
    """

    data_dir: str

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(obj, path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return pl.read_parquet(self._path(context.upstream_output), glob=False)  # a mapped step key has [ ]

    def _path(self, context: dg.OutputContext) -> Path:
        run_id, *step_and_output = context.get_identifier()
        return work_dir(Path(self.data_dir).resolve(), run_id) / SHARDS_DIR / f"{'.'.join(step_and_output)}.parquet"
