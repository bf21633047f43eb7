"""`serve:` in `scrubline.yaml`: where the service listens and the API keys it accepts, each with its scopes.

A key is stored as the SHA-256 of its text (`sha256`), or read from an environment variable (`env`) when the
service starts; the key itself is never written into the configuration. No key configured, no answer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scope = Literal["check", "normalize", "lists", "opt-outs"]
SCOPES: tuple[Scope, ...] = ("check", "normalize", "lists", "opt-outs")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


class ApiKey(BaseModel):
    """One client's key: its name (shown in access logs), the key's SHA-256 or the variable holding it, its scopes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    env: str | None = None
    scopes: list[Scope] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> ApiKey:
        if (self.sha256 is None) == (self.env is None):
            raise ValueError("give the key in exactly one of sha256 (the SHA-256 of the key) and env")
        return self

    def key_sha256(self) -> str | None:
        """The SHA-256 the presented key must have; None when its environment variable is unset or empty."""
        if self.sha256 is not None:
            return self.sha256
        value = os.environ.get(str(self.env), "")
        return key_digest(value) if value else None


class ServeSettings(BaseModel):
    """Where `scrubline serve` listens (localhost unless configured: TLS belongs to a reverse proxy) and its keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, gt=0, lt=65536)
    keys: list[ApiKey] = []

    @model_validator(mode="after")
    def _unique_names(self) -> ServeSettings:
        names = [key.name for key in self.keys]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"key names must be unique; repeated: {', '.join(repeated)}")
        return self


def key_digest(key: str) -> str:
    """The SHA-256 of a key's text, as `serve.keys[].sha256` holds it (`scrubline serve --hash-key` prints it)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_for(presented: str, keys: list[ApiKey]) -> ApiKey | None:
    """The configured key `presented` is, compared in constant time; None when it is none of them."""
    digest = key_digest(presented)
    found = None
    for key in keys:
        expected = key.key_sha256()
        if expected is not None and hmac.compare_digest(digest, expected):
            found = key
    return found
