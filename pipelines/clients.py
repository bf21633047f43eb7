"""A data directory of several clients: `clients/<client>/`, each with its own settings, inbox and outputs, under
one `scrubline.yaml` that holds what they share (the national registries).

```
scrubline.yaml                  shared: registries, retired_registries, registry_archive; defaults for the rest
inbox/registries/…              the registry copies (and registry_store/, registry_archive/): read once for all
clients/<client>/scrubline.yaml the client's crm, dialler, sellers, calls, signing, and any default it overrides
clients/<client>/inbox/…        its CRM exports, dialler lists and opt-outs
clients/<client>/published/, work/, quarantine/, warehouse.duckdb, .scrubline.lock   its outputs and its lock
```

A client's paths are written relative to its own folder and may not leave it, so a client's run reads no other
client's inbox; they are rewritten relative to the data directory, where every configured path resolves. A data
directory without `clients/` is one client, the data directory itself, as it always was.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from pipelines.config import (
    CONFIG_FILE_NAME,
    ScrublineConfig,
    load_config,
    read_yaml,
    validated_config,
    with_live_opt_outs,
)
from pipelines.errors import ConfigError

CLIENTS = "clients"
# Set once, in the data directory's scrubline.yaml: every client is scrubbed against the same registries.
SHARED_KEYS = ("registries", "retired_registries", "registry_archive")
# Set only in a client's scrubline.yaml: its own inputs and the sellers they belong to.
CLIENT_KEYS = ("crm", "dialler", "sellers", "calls")
# The paths of a client's scrubline.yaml, each relative to the client's folder.
CLIENT_PATHS = (
    ("crm", "path"),
    ("dialler", "path"),
    ("calls", "records", "path"),
    ("calls", "estate", "path"),
    ("signing", "private_key_file"),
)
# A client's name is its folder's name and its Dagster partition key: letters, digits, `_` and `-`.
CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def has_clients(data_dir: Path) -> bool:
    """Whether the data directory holds clients (a `clients/` folder) rather than being one client itself."""
    return (data_dir / CLIENTS).is_dir()


def client_names(data_dir: Path) -> list[str]:
    """The clients of the data directory: each folder under `clients/` with a `scrubline.yaml`, by name."""
    if not has_clients(data_dir):
        return []
    return sorted(
        folder.name
        for folder in (data_dir / CLIENTS).iterdir()
        if folder.is_dir() and CLIENT_NAME.match(folder.name) and (folder / CONFIG_FILE_NAME).is_file()
    )


def client_home(data_dir: Path, client: str | None) -> Path:
    """Where a client's inbox, outputs and lock live: `clients/<client>/`, or the data directory for no client."""
    if client is None:
        return data_dir
    if not CLIENT_NAME.match(client):
        raise ConfigError(f"client '{client}' is no client folder name (letters, digits, '_' and '-')")
    return data_dir / CLIENTS / client


def load_client_config(data_dir: Path, client: str) -> ScrublineConfig:
    """The configuration of one client: the data directory's `scrubline.yaml` (its registries, and defaults) with
    the client's own `clients/<client>/scrubline.yaml` over it, key by key; every problem names file and key."""
    shared_path = data_dir / CONFIG_FILE_NAME
    client_path = client_home(data_dir, client) / CONFIG_FILE_NAME
    shared = _mapping(read_yaml(shared_path), shared_path)
    own = _mapping(read_yaml(client_path), client_path)
    _refuse(shared, CLIENT_KEYS, shared_path, f"it belongs in each client's {CLIENTS}/<client>/{CONFIG_FILE_NAME}")
    _refuse(own, SHARED_KEYS, client_path, f"registries are shared: set it once, in {shared_path}")
    merged = {**shared, **_within_client(own, client=client, path=client_path)}
    return with_live_opt_outs(validated_config(merged, client_path), data_dir=data_dir)


def _mapping(raw: object, path: Path) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: (top level): expected a mapping of keys, as in a single client's {CONFIG_FILE_NAME}"
        )
    return raw


def _refuse(raw: dict, keys: tuple[str, ...], path: Path, why: str) -> None:
    misplaced = [key for key in keys if key in raw]
    if misplaced:
        raise ConfigError(f"{path}: {misplaced[0]}: not allowed here; {why}")


def _within_client(raw: dict, *, client: str, path: Path) -> dict:
    """`raw` with each of `CLIENT_PATHS` rewritten from the client's folder to the data directory."""
    rewritten = dict(raw)
    for keys in CLIENT_PATHS:
        parent, value = _lookup(rewritten, keys[:-1]), None
        if isinstance(parent, dict):
            value = parent.get(keys[-1])
        if not isinstance(value, str):
            continue
        relative = PurePosixPath(value)
        if relative.is_absolute() or ".." in relative.parts:
            raise ConfigError(
                f"{path}: {'.'.join(keys)} '{value}' leaves the client's folder; write it relative to "
                f"{path.parent}, without '..': a client reads only its own files"
            )
        _replace(rewritten, keys, str(PurePosixPath(CLIENTS, client, relative)))
    return rewritten


def _lookup(raw: dict, keys: tuple[str, ...]) -> object:
    value: object = raw
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _replace(raw: dict, keys: tuple[str, ...], value: str) -> None:
    """Set `raw[keys[0]]…[keys[-1]] = value`, copying each mapping on the way so the file's mapping stays as read."""
    head, *rest = keys
    raw[head] = {**raw[head]} if rest else value
    if rest:
        _replace(raw[head], tuple(rest), value)


def load_config_for(data_dir: Path, client: str | None) -> ScrublineConfig:
    """The configuration a run of `client` uses, or, for no client, the data directory's own; a data directory of
    clients has no configuration of its own to run."""
    if client is not None:
        return load_client_config(data_dir, client)
    if has_clients(data_dir):
        raise ConfigError(
            f"{data_dir}: holds clients ({', '.join(client_names(data_dir))} under {CLIENTS}/); a run scrubs one "
            "client, its partition: choose one (scrubline run --client <client>)"
        )
    return load_config(data_dir)


def data_dir_of(home: Path) -> Path:
    """The data directory a folder of outputs belongs to: the one above `clients/` for a client's folder, else the
    folder itself (a data directory that is one client)."""
    if home.parent.name == CLIENTS and (home.parent.parent / CONFIG_FILE_NAME).is_file():
        return home.parent.parent
    return home
