"""The `scrubline` command: `run` drives the same job as the UI; `normalize` handles one file."""

from pathlib import Path

import polars as pl
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assets.cli import main
from pipelines.signing import public_key_pem
from tests.handmade import RUN_AS_OF


def test_run_publishes_and_prints_a_summary(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--data-dir", str(data_dir), "--as-of", RUN_AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "clean/spring.parquet: 2 rows" in out
    assert (data_dir / "published/latest/manifest.json").is_file()


def test_run_fails_with_the_reason_and_nonzero_exit(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "inbox/registries/litigators/litigators.txt").write_bytes(b"")
    assert main(["run", "--data-dir", str(data_dir), "--as-of", RUN_AS_OF.isoformat()]) == 1
    err = capsys.readouterr().err
    assert "FAILED registry_entries:" in err
    assert "litigators.txt: file is empty" in err
    assert "nothing new was published" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    region: US\n", "    region: US\n    region: GB\n"), "key 'region' appears twice, on lines 18 and 19"),
        (("registries:\n", "registries:\n  - {name: uk_tps, format: tps, path: x, downloaded_on: 2026-11-20, "
                            "max_age_days: 30}\n"),
         "max_age_days 30 is longer than the legal maximum of 28 days for tps copies"),
    ],
)  # fmt: skip
def test_a_configuration_error_exits_2_before_any_run_once_without_a_traceback(
    data_dir: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], message: str
) -> None:
    config = data_dir / "scrubline.yaml"
    config.write_text(config.read_text().replace(*change, 1))
    assert main(["run", "--data-dir", str(data_dir), "--as-of", RUN_AS_OF.isoformat()]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("scrubline:") == 1
    assert "Traceback" not in err
    assert not (data_dir / "published").exists()


def test_a_missing_column_is_reported_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "leads.csv"
    source.write_text("phone\n2015550123\n")
    assert (
        main(
            [
                "normalize",
                str(source),
                "--column",
                "telephone",
                "--region",
                "US",
                "--output",
                str(tmp_path / "o.parquet"),
            ]
        )
        == 2
    )
    assert "missing column(s) telephone" in capsys.readouterr().err


def test_normalize_writes_input_columns_plus_the_e164_columns(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text("id,phone,cc\n1,(201) 555-0123,US\n2,020 7946 0018 ext. 7,GB\n3,nope,US\n")
    output = tmp_path / "out.parquet"
    assert main(["normalize", str(source), "--column", "phone", "--region-column", "cc", "--output", str(output)]) == 0
    assert pl.read_parquet(output).rows() == [
        ("1", "(201) 555-0123", "US", "+12015550123", True, "fixed_line_or_mobile", "US", None, None),
        ("2", "020 7946 0018 ext. 7", "GB", "+442079460018", True, "fixed_line", "GB", None, "7"),
        ("3", "nope", "US", None, False, None, None, "not_a_number", None),
    ]


def test_a_signed_certificate_verifies_until_a_byte_of_its_list_changes(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = Ed25519PrivateKey.generate()
    (data_dir / "signing.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public_key = data_dir / "signing.pub"
    public_key.write_text(public_key_pem(key))
    config = data_dir / "scrubline.yaml"
    config.write_text(config.read_text() + "signing:\n  private_key_file: signing.pem\n")
    assert main(["run", "--data-dir", str(data_dir), "--as-of", RUN_AS_OF.isoformat()]) == 0
    certificate = (data_dir / "published/latest/clean/spring.certificate.json").resolve()
    assert (certificate.parent.parent / "manifest.json.sig").is_file()
    capsys.readouterr()

    assert main(["verify", str(certificate), "--public-key", str(public_key)]) == 0
    out = capsys.readouterr().out
    assert "OK  signature: valid for the key given" in out
    assert "OK  list clean/spring.csv: sha256" in out
    assert "OK  registry litigators file inbox/registries/litigators/litigators.txt: sha256" in out

    listed = certificate.parent / "spring.csv"
    listed.write_bytes(listed.read_bytes().replace(b"L1", b"L9"))
    assert main(["verify", str(certificate), "--public-key", str(public_key)]) == 1
    assert "MISMATCH  list clean/spring.csv: sha256" in capsys.readouterr().out

    certificate.write_text(certificate.read_text().replace('"campaign": "spring"', '"campaign": "autumn"'))
    assert main(["verify", str(certificate), "--public-key", str(public_key)]) == 1
    assert "MISMATCH  signature: spring.certificate.json: the signature does not match" in capsys.readouterr().out


def test_an_unsigned_certificate_says_so_and_still_checks_its_files(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--data-dir", str(data_dir), "--as-of", RUN_AS_OF.isoformat()]) == 0
    certificate = data_dir / "published/latest/clean/winback.certificate.json"
    capsys.readouterr()
    assert main(["verify", str(certificate)]) == 0
    out = capsys.readouterr().out
    assert "UNSIGNED  signature: the run was not signed" in out
    assert "OK  list clean/winback.parquet: sha256" in out
