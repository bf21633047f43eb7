"""Certificates and manifests are signed with an Ed25519 key, and any change to a signed file is found."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from pipelines.config import Signing
from pipelines.errors import ConfigError
from pipelines.publishing.signing import private_key, public_key_pem, signature, signature_path, verify_file


def pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_file_verifies_and_a_changed_byte_or_another_key_does_not(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    signed = tmp_path / "certificate.json"
    signed.write_text('{"run_id": "r1"}')
    assert signature_path(signed) == tmp_path / "certificate.json.sig"
    signature_path(signed).write_bytes(signature(signed.read_bytes(), key))
    public = public_key_pem(key).encode()
    assert verify_file(signed, public) is None
    assert "does not match" in str(verify_file(signed, public_key_pem(Ed25519PrivateKey.generate()).encode()))
    signed.write_text('{"run_id": "r2"}')
    assert verify_file(signed, public) == (
        "certificate.json: the signature does not match: the file or its signature changed, or another key signed"
    )


def test_a_file_without_signature_says_it_was_not_signed(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    assert verify_file(tmp_path / "manifest.json", public_key_pem(key).encode()) == (
        "manifest.json: no signature (manifest.json.sig); the run was not signed"
    )


def test_the_key_comes_from_a_file_or_an_environment_variable(
    tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "signing.pem").write_bytes(pem(key))
    from_file = private_key(Signing(private_key_file="signing.pem"), data_dir=tmp_path)
    monkeypatch.setenv("SCRUBLINE_KEY", pem(key).decode())
    from_env = private_key(Signing(private_key_env="SCRUBLINE_KEY"), data_dir=tmp_path)
    assert public_key_pem(from_file) == public_key_pem(from_env) == public_key_pem(key)


@pytest.mark.parametrize(
    ("signing", "content", "message"),
    [
        (Signing(private_key_file="absent.pem"), None, "signing.private_key_file absent.pem: no such file"),
        (Signing(private_key_env="SCRUBLINE_UNSET_KEY"), None, "the variable is not set"),
        (Signing(private_key_file="key.pem"), b"not a key", "not an unencrypted PEM private key"),
        (Signing(private_key_file="key.pem"), pem(X25519PrivateKey.generate()), "the key is not an Ed25519 key"),
    ],
    ids=["missing_file", "unset_variable", "not_pem", "other_algorithm"],
)
def test_an_unusable_key_is_a_configuration_error_naming_where(
    tmp_path: Path, signing: Signing, content: bytes | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "key.pem").write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        private_key(signing, data_dir=tmp_path)


def test_the_key_is_named_in_exactly_one_place() -> None:
    with pytest.raises(ValueError, match="exactly one of private_key_file and private_key_env"):
        Signing(private_key_file="a.pem", private_key_env="KEY")
    with pytest.raises(ValueError, match="exactly one"):
        Signing()
