"""The service's state: the published run it answers from (switched when a new run publishes, without stopping
requests), the opt-out journal, and the prepared part of decisions, all read through the injected clock."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.config import ScrublineConfig, load_config
from pipelines.errors import ScrublineError
from pipelines.serving.decisions import Prepared, prepare
from pipelines.serving.fast import FastIndex, build_index
from pipelines.serving.journal import OptOutJournal
from pipelines.serving.published import ServedRun, UnavailableError, latest_run_dir, load_served_run
from pipelines.serving.settings import ServeSettings

Clock = Callable[[], datetime]
log = logging.getLogger("scrubline.serve")


def utc_now() -> datetime:
    """The real clock (tests inject their own)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Answerable:
    """What a request may answer from right now: the prepared run, or why nothing may be answered (fail closed)."""

    prepared: Prepared | None
    run: ServedRun | None
    reason: str | None
    index: FastIndex | None = None


class ServiceState:
    """One data directory served: loads `published/latest` and switches to a new run when the link moves."""

    def __init__(self, data_dir: Path, *, now: Clock = utc_now) -> None:
        self.data_dir = data_dir
        self.now = now
        self.settings = _settings(data_dir)
        self.journal = OptOutJournal(data_dir)
        self._run: ServedRun | None = None
        self._run_dir: Path | None = None
        self._unavailable: str | None = "not loaded yet"
        self._prepared: tuple[Prepared, FastIndex] | None = None
        self._load_lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._journal_size = -1
        self.reload()

    def reload(self) -> bool:
        """Load the run `latest` points at if it is not the one loaded; whether the run in use changed.

        The new run is loaded beside the old one, which keeps answering until the switch (one assignment).
        """
        with self._load_lock:
            try:
                run_dir = latest_run_dir(self.data_dir)
            except UnavailableError as error:
                changed = self._run is not None or self._unavailable != str(error)
                self._run, self._run_dir, self._unavailable = None, None, str(error)
                return changed
            if run_dir == self._run_dir and self._run is not None:
                return False
            try:
                run = load_served_run(self.data_dir, run_dir)
            except UnavailableError as error:
                self._unavailable = str(error)
                return False
            self.settings = run.config.serve
            self._run, self._run_dir, self._unavailable = run, run_dir, None
            log.info("serving run %s (valid through %s)", run.run_id, run.valid_through)
            return True

    def is_prepared(self) -> bool:
        """Whether `answerable` would answer at once: nothing to load or prepare (or nothing to answer from)."""
        run, prepared = self._run, self._prepared
        if run is None:
            return True
        self._catch_up_journal()
        key = (run.run_id, self.now().astimezone(UTC).date(), self.journal.version)
        return prepared is not None and prepared[0].day_key == key

    def answerable(self) -> Answerable:
        """The prepared decisions of the current run for the clock's day, or the reason to fail closed."""
        run, reason = self._run, self._unavailable
        if run is None:
            return Answerable(None, None, reason or "no published run is loaded")
        now = self.now()
        if run.valid_through is not None and now >= run.valid_through:
            return Answerable(
                None,
                run,
                f"run {run.run_id} is past its valid_through {run.valid_through.isoformat()}: a registry copy or "
                "business relationship it relied on is too old to use; nothing is callable until a new run publishes",
            )
        self._catch_up_journal()
        key = (run.run_id, now.astimezone(UTC).date(), self.journal.version)
        prepared = self._prepared
        if prepared is None or prepared[0].day_key != key:
            with self._prepare_lock:
                prepared = self._prepared
                if prepared is None or prepared[0].day_key != key:
                    made = prepare(run, self.journal.registry_entries(), now=now, journal_version=key[2])
                    prepared = (made, build_index(made))
                    self._prepared = prepared
        return Answerable(prepared[0], run, None, prepared[1])

    @staticmethod
    def settings_of(data_dir: Path) -> ServeSettings:
        """The `serve:` settings of a data directory (no keys when its configuration cannot be read)."""
        return _settings(data_dir)

    @property
    def run(self) -> ServedRun | None:
        return self._run

    def _catch_up_journal(self) -> None:
        """Read opt-outs other processes (another worker) appended, when the journal grew."""
        try:
            size = os.stat(self.journal.path).st_size
        except FileNotFoundError:
            return
        if size != self._journal_size:
            self.journal.refresh()
            self._journal_size = size


def _settings(data_dir: Path) -> ServeSettings:
    """The `serve:` settings; a configuration that cannot be read gives no keys, so nothing is answered."""
    try:
        config: ScrublineConfig = load_config(data_dir)
    except ScrublineError as error:
        log.error("no keys: %s", error)
        return ServeSettings()
    return config.serve
