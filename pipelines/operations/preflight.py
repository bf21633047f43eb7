"""The configuration checked against the data directory before a run starts.

What is wrong here is a configuration error, reported once with exit code 2 by `scrubline run`, rather
than a run that fails half-way: a glob that matches no file, a change list without a date in its name,
a dialler campaign that `sellers:` does not list, a `dialler_files` campaign that is no campaign. The run
itself checks the same again (a UI run has no preflight), so nothing depends on this having run.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.config import ScrublineConfig, resolve_files
from pipelines.registries.store import dated_change_lists
from pipelines.suppression.sellers import campaign_sellers


def check_inputs(config: ScrublineConfig, *, data_dir: Path) -> None:
    """Raise the first ConfigError a run would meet in the configuration's files, naming the key."""
    resolve_files(data_dir, config.crm.path, key="crm.path")
    dialler_files = resolve_files(data_dir, config.dialler.path, key="dialler.path")
    for registry in config.registries:
        resolve_files(data_dir, registry.path, key=f"registries[{registry.name}].path")
        dated_change_lists(registry, data_dir=data_dir)
    for key, source in (("calls.records.path", config.calls.records), ("calls.estate.path", config.calls.estate)):
        if source is not None:
            resolve_files(data_dir, source.path, key=key)
    campaigns = [path.stem for path in dialler_files]
    campaign_sellers(config, pl.Series(campaigns, dtype=pl.String))
    config.check_dialler_file_campaigns(campaigns)
