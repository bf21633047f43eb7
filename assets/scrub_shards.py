"""The steps of the scrub split by number range (`pipelines.suppression.shards`): a plan, a step per shard, a merge.

Between them, the plan's rows and each shard's scrubbed rows pass through `ShardWorkspace`, in the run's own
folder beside the assets' frames.
"""

from pathlib import Path
from typing import get_args

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from assets.resources import run_client
from pipelines.clients import client_home
from pipelines.operations.run_folders import work_dir
from pipelines.parquet_files import FrameFile, write_parquet
from pipelines.publishing.staging import local_data_dir

SHARD_IO_MANAGER = "shard_io_manager"
SHARDS_DIR = "scrub_shards"


class ShardWorkspace(dg.ConfigurableIOManager):
    """Keeps each frame a shard step passes on at `<home>/work/<run id>/scrub_shards/<step>.<output>.parquet`, where
    `<home>` is the data directory, or the folder of the run's client (its partition) in a data directory of clients.

    The steps' own outputs are no assets, so `RunWorkspace` (which names files by asset) does not hold them;
    kept in the run's folder, they go when the run publishes and stay for a re-execution when it fails.
    """

    data_dir: str
    _client: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = run_client(context)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(obj, path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | FrameFile:
        """The frame; or, for a step whose parameter is a `FrameFile`, only where it is (the merge links one shard's
        frames as they are)."""
        path = self._path(context.upstream_output)
        wanted = context.dagster_type.typing_type
        if FrameFile in (wanted, *get_args(wanted)):  # the parameter, or each item of the merge's list of them
            return FrameFile(path)
        return pl.read_parquet(path, glob=False)  # a mapped step key has [ ]

    def _path(self, context: dg.OutputContext) -> Path:
        run_id, *step_and_output = context.get_identifier()
        home = client_home(local_data_dir(self.data_dir, run_id), self._client)
        return work_dir(home, run_id) / SHARDS_DIR / f"{'.'.join(step_and_output)}.parquet"
