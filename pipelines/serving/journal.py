"""The journal of opt-outs taken between nightly runs: durable before they are acknowledged, read by the next run.

`opt-outs/journal.csv` in the data directory, one opt-out a line, appended and fsynced (the file, and the folder
when the file is new) before the service answers 201, so an acknowledged opt-out survives a crash or `kill -9`.
Each line carries the client's idempotency key: posting the same key again returns the entry already recorded.
A line cut short by a crash was never acknowledged, and is dropped when the journal is next opened.

The nightly run reads the journal as the internal opt-out registry `live_opt_outs` (`journal_registry`), with
`requested_at`, the seller scope and the usual lineage (file, row, SHA-256), once it holds an entry: an empty
list would fail the run's `every_registry_contributes` check. Entries are never removed (an opt-out is honoured
for at least five years), so once read, the registry stays.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl

from pipelines.errors import InputFileError
from pipelines.registries.entries import REGISTRY_ENTRY_SCHEMA
from pipelines.serving.journal_file import JOURNAL_PATH, LIVE_OPT_OUTS

JOURNAL_COLUMNS = ("phone", "requested_at", "seller", "source", "client_key", "recorded_at")
_HEADER = ",".join(JOURNAL_COLUMNS) + "\n"


class OptOut(NamedTuple):
    """One recorded opt-out: the number (E.164), when the person asked, the seller scope (None: every seller),
    where it came from, the client's idempotency key, when the service recorded it, and its journal row."""

    phone_e164: str
    requested_at: datetime
    seller: str | None
    source: str
    client_key: str
    recorded_at: datetime
    source_row: int


class OptOutJournal:
    """The data directory's journal: appends serialised by a lock (threads) and `flock` (processes)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / JOURNAL_PATH
        self.relative_path = JOURNAL_PATH
        self._lock = threading.Lock()
        self._entries: list[OptOut] = []
        self._by_key: dict[str, OptOut] = {}
        self._read_to = 0
        self.version = 0
        with self._lock, self._locked_file() as handle:
            self._drop_cut_line(handle)
            self._catch_up(handle)

    def record(
        self, *, phone_e164: str, requested_at: datetime, seller: str | None, source: str, client_key: str,
        now: datetime,
    ) -> tuple[OptOut, bool]:  # fmt: skip
        """The entry for `client_key`, and whether this call wrote it (False: it was recorded before).

        Written, flushed and fsynced before returning: the caller may acknowledge it at once.
        """
        with self._lock, self._locked_file() as handle:
            self._catch_up(handle)
            if client_key in self._by_key:
                return self._by_key[client_key], False
            line = _line(phone_e164, requested_at, seller, source, client_key, now)
            handle.seek(0, os.SEEK_END)
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
            self._catch_up(handle)
            return self._by_key[client_key], True

    def entries(self) -> list[OptOut]:
        """Every opt-out recorded so far, in journal order (this process's view; `refresh` reads other writers')."""
        with self._lock:
            return list(self._entries)

    def refresh(self) -> None:
        """Read what other processes appended since."""
        with self._lock, self._locked_file() as handle:
            self._catch_up(handle)

    def registry_entries(self) -> pl.DataFrame:
        """The journal as registry entries (`REGISTRY_ENTRY_SCHEMA`) of `live_opt_outs`, as the nightly run reads it;
        `source_sha256` is null: the file grows with every opt-out, the run records its checksum when it reads it."""
        entries = self.entries()
        return pl.DataFrame(
            {
                "registry": [LIVE_OPT_OUTS] * len(entries),
                "phone": [entry.phone_e164 for entry in entries],
                "block_prefix": [None] * len(entries),
                "source_file": [self.relative_path] * len(entries),
                "source_row": [entry.source_row for entry in entries],
                "source_sha256": [None] * len(entries),
                "downloaded_on": [None] * len(entries),
                "requested_at": [entry.requested_at for entry in entries],
                "seller_scope": [entry.seller for entry in entries],
                "is_unterminated": [False] * len(entries),
            },
            schema=REGISTRY_ENTRY_SCHEMA,
        )

    def _locked_file(self) -> _Flocked:
        return _Flocked(self.path)

    def _drop_cut_line(self, handle: io.BufferedRandom) -> None:
        """Truncate a last line without its line break: a write cut short, never acknowledged."""
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(max(0, size - (1 << 16)))
        tail = handle.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        handle.truncate(size - len(tail) + cut + 1)
        handle.flush()
        os.fsync(handle.fileno())

    def _catch_up(self, handle: io.BufferedRandom) -> None:
        """Read the lines appended since this process last read (by any process)."""
        handle.seek(self._read_to)
        added = handle.read()
        complete = added[: added.rfind(b"\n") + 1]
        if not complete:
            return
        rows = list(csv.reader(io.StringIO(complete.decode("utf-8"))))
        if self._read_to == 0:
            rows = rows[1:]
        for row in rows:
            entry = self._entry(row, source_row=len(self._entries) + 1)
            self._entries.append(entry)
            self._by_key.setdefault(entry.client_key, entry)
        self._read_to += len(complete)
        self.version += 1

    def _entry(self, row: list[str], *, source_row: int) -> OptOut:
        """One journal line as an opt-out; a line the service did not write (edited by hand) is an error naming it:
        the service must not answer while it cannot know every opt-out."""
        try:
            phone, requested_at, seller, source, client_key, recorded_at = row
            return OptOut(
                phone_e164=phone,
                requested_at=datetime.fromisoformat(requested_at),
                seller=seller or None,
                source=source,
                client_key=client_key,
                recorded_at=datetime.fromisoformat(recorded_at),
                source_row=source_row,
            )
        except ValueError as error:
            raise InputFileError(
                f"{self.relative_path} row {source_row} (line {source_row + 1}) cannot be read ({error}): the "
                f"journal holds {', '.join(JOURNAL_COLUMNS)}, as the service writes them; restore the line from "
                "a backup or correct it, and leave the journal to the service"
            ) from None


class _Flocked:
    """The journal opened for reading and appending under an exclusive `flock`; created with its header (and the
    folder fsynced) when missing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> io.BufferedRandom:
        if not self.path.exists():
            _create(self.path)
        self.handle = self.path.open("r+b")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self.handle

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _create(path: Path) -> None:
    """Create the journal with its header by an atomic rename, and fsync the folder so the file's name survives."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with partial.open("wb") as handle:
        handle.write(_HEADER.encode())
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(partial, path)  # fails when another process created it first: theirs stands
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _line(
    phone_e164: str, requested_at: datetime, seller: str | None, source: str, client_key: str, now: datetime
) -> str:
    """One journal line: validated text (no commas, quotes or line breaks), written as CSV all the same."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(
        [phone_e164, _iso(requested_at), seller or "", source, client_key, _iso(now)]
    )
    return text.getvalue()


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
