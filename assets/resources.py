"""Resources: the data directory, and the IO manager that keeps asset frames as Parquet in it."""

import os
from pathlib import Path

import dagster as dg
import polars as pl

from pipelines.config import ScrublineConfig, load_config
from pipelines.parquet_files import write_parquet

DATA_DIR_VARIABLE = "SCRUBLINE_DATA_DIR"
DEFAULT_DATA_DIR = "data"


def data_dir_from_environment() -> str:
    """`$SCRUBLINE_DATA_DIR`, or `./data` (the committed sample) when unset."""
    return os.environ.get(DATA_DIR_VARIABLE, DEFAULT_DATA_DIR)


class ScrublineData(dg.ConfigurableResource):
    """A Scrubline data directory: `scrubline.yaml`, `inbox/`, and where outputs land."""

    data_dir: str

    @property
    def root(self) -> Path:
        return Path(self.data_dir).resolve()

    def config(self) -> ScrublineConfig:
        return load_config(self.root)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"


class ParquetFrameIOManager(dg.ConfigurableIOManager):
    """Keeps each asset's polars frame at `<data dir>/work/assets/<asset key>.parquet`."""

    data_dir: str

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        path = self._path(context.asset_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        write_parquet(obj, partial)
        partial.replace(path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return pl.read_parquet(self._path(context.asset_key))

    def _path(self, key: dg.AssetKey) -> Path:
        return Path(self.data_dir).resolve() / "work" / "assets" / f"{'/'.join(key.path)}.parquet"
