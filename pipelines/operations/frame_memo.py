"""Frames remembered across runs under a fingerprint of everything that made them: `memo/<name>/<fingerprint>.parquet`.

A step whose frame depends only on its inputs (files, configuration, the installed libraries and Scrubline's own
code), never on the run's instant, is worth doing once per set of inputs: normalising 40 million phone values
takes longer than the rest of a night. Its fingerprint is the SHA-256 of everything that decides its rows; a run
whose step has the same fingerprint links the remembered Parquet into its own folder instead of computing and
writing the frame again. Anything that changes the fingerprint's parts is a miss, and only a miss is ever
computed: a frame is reused only under the exact fingerprint it was made with (fail closed).

Only the newest frame of each name is kept, so the memo holds one night's frames, not every night's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import version
from pathlib import Path

from pipelines.inputs.records import file_sha256, lineage_path

MEMO = "memo"
FRAME_SUFFIX = ".parquet"
# The libraries whose answers are in a remembered frame: phonenumbers' metadata decides every E.164 value.
LIBRARIES = ("phonenumbers", "polars", "duckdb", "pyarrow")


def fingerprint(parts: Mapping[str, object]) -> str:
    """Hex SHA-256 of `parts` as canonical JSON: equal parts, equal fingerprint, whatever their order."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def source_fingerprint(*packages: Path) -> str:
    """Hex SHA-256 of every Python file under `packages` (path and bytes): any change to the code is a new one."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package.parent).as_posix().encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def library_versions() -> dict[str, str]:
    """The installed version of each library whose answers a remembered frame holds."""
    return {library: version(library) for library in LIBRARIES}


def file_checksums(files: Iterable[Path], *, data_dir: Path) -> list[tuple[str, str]]:
    """Each file as lineage names it, with its SHA-256: what a frame read from them depends on."""
    return [(lineage_path(path, data_dir), file_sha256(path)) for path in files]


def remembered_frame(data_dir: Path, *, name: str, frame_fingerprint: str) -> Path | None:
    """The frame remembered for `name` under exactly `frame_fingerprint`, or None."""
    path = _memo_path(data_dir, name, frame_fingerprint)
    return path if path.is_file() else None


def remember_frame(frame_file: Path, data_dir: Path, *, name: str, frame_fingerprint: str) -> None:
    """Keep the finished Parquet `frame_file` as `name`'s frame under `frame_fingerprint` (a link, not a copy),
    in place of any older one."""
    path = _memo_path(data_dir, name, frame_fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    arriving = path.with_name(f".{uuid.uuid4().hex}.partial")
    link_frame(frame_file, arriving)
    arriving.replace(path)
    for older in path.parent.glob(f"*{FRAME_SUFFIX}"):
        if older != path:
            older.unlink()


def link_frame(source: Path, target: Path) -> None:
    """`target` as a hard link to `source` (no bytes read or written); a copy where the file system has no links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _memo_path(data_dir: Path, name: str, frame_fingerprint: str) -> Path:
    return data_dir / MEMO / name / f"{frame_fingerprint}{FRAME_SUFFIX}"
