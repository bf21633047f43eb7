"""Tamper evidence: certificates and manifests signed with an Ed25519 key, and checked again later.

The private key is a PEM file or an environment variable holding the PEM text, named in
`scrubline.yaml` (`signing:`). Each signed file gets a detached signature beside it (`<file>.sig`, the
64-byte Ed25519 signature of the file's exact bytes, base64). The public key is what an auditor
holds; `verify_file` checks a file against it. Signing uses the maintained `cryptography` package.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipelines.config import Signing
from pipelines.errors import ConfigError

SIGNATURE_SUFFIX = ".sig"
ALGORITHM = "Ed25519"


def private_key(signing: Signing, *, data_dir: Path) -> Ed25519PrivateKey:
    """The configured Ed25519 private key; a missing or unreadable key is a configuration error naming where."""
    if signing.private_key_file is not None:
        where = f"signing.private_key_file {signing.private_key_file}"
        path = data_dir / signing.private_key_file
        if not path.is_file():
            raise ConfigError(f"{where}: no such file under {data_dir}; point it at the PEM private key")
        pem = path.read_bytes()
    else:
        where = f"signing.private_key_env {signing.private_key_env}"
        text = os.environ.get(str(signing.private_key_env))
        if not text:
            raise ConfigError(f"{where}: the variable is not set; export the PEM private key in it")
        pem = text.encode()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where}: not an unencrypted PEM private key ({error})") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{where}: the key is not an {ALGORITHM} key; generate one with Ed25519PrivateKey")
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    """The public half of `key` as PEM text: what an auditor needs to check signatures."""
    encoded = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return encoded.decode()


def signature(data: bytes, key: Ed25519PrivateKey) -> bytes:
    """The detached signature of `data`, as `<file>.sig` holds it: base64 and a newline."""
    return base64.b64encode(key.sign(data)) + b"\n"


def verify_file(path: Path, public_key: bytes) -> str | None:
    """None when `<path>.sig` is a valid signature of the file by `public_key` (PEM); else what is wrong."""
    signature = signature_path(path)
    if not signature.is_file():
        return f"{path.name}: no signature ({signature.name}); the run was not signed"
    key = serialization.load_pem_public_key(public_key)
    if not isinstance(key, Ed25519PublicKey):
        return f"the public key is not an {ALGORITHM} key"
    try:
        key.verify(base64.b64decode(signature.read_text()), path.read_bytes())
    except (InvalidSignature, ValueError):
        return f"{path.name}: the signature does not match: the file or its signature changed, or another key signed"
    return None


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SIGNATURE_SUFFIX)
