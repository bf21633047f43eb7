"""Which list did you scrub against on a date? Each certificate names the archived copy of every registry file."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from assets.cli import main
from assets.run_clock import AS_OF_TAG
from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import INBOX, RUN_AS_OF, SCRUBLINE_YAML, write_data_dir

REGISTRY_FILES = {
    "inbox/registries/internal/optouts.csv": INBOX["registries/internal/optouts.csv"],
    "inbox/registries/litigators/litigators.txt": INBOX["registries/litigators/litigators.txt"],
}


def certified_files(data_dir: Path, run_dir: Path) -> dict[str, dict]:
    certificate = json.loads((run_dir / "clean/spring.certificate.json").read_text())
    return {file["file"]: file for registry in certificate["registries"] for file in registry["files"]}


def test_two_nights_on_the_same_copies_store_each_once_and_the_certificates_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_data_dir(tmp_path / "data")
    assert run_nightly(data_dir).success
    first = (data_dir / "published/latest").resolve()
    an_hour_later = (RUN_AS_OF + timedelta(hours=1)).isoformat()
    assert run_nightly(data_dir, tags={AS_OF_TAG: an_hour_later}).success
    second = (data_dir / "published/latest").resolve()
    assert first != second

    digests = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in REGISTRY_FILES.items()}
    assert sorted(path.name for path in (data_dir / "registry_archive").iterdir()) == sorted(digests.values())
    for run_dir in (first, second):
        files = certified_files(data_dir, run_dir)
        for path, digest in digests.items():
            assert files[path]["archived"] == {"sha256": digest, "path": f"registry_archive/{digest}", "reason": None}
            assert (data_dir / files[path]["archived"]["path"]).read_text() == REGISTRY_FILES[path]

    certificate = second / "clean/spring.certificate.json"
    capsys.readouterr()
    assert main(["verify", str(certificate)]) == 0
    litigators = digests["inbox/registries/litigators/litigators.txt"]
    assert f"OK  registry litigators archived copy registry_archive/{litigators}" in capsys.readouterr().out
    archived = data_dir / "registry_archive" / litigators
    archived.write_text("2125550143\n")
    assert main(["verify", str(certificate)]) == 1
    assert "MISMATCH  registry litigators archived copy" in capsys.readouterr().out


def test_with_the_archive_off_or_a_copy_over_the_limit_the_certificate_says_so(tmp_path: Path) -> None:
    off = write_data_dir(tmp_path / "off", INBOX, SCRUBLINE_YAML + "registry_archive:\n  enabled: false\n")
    assert run_nightly(off).success
    assert all(file["archived"] is None for file in certified_files(off, off / "published/latest").values())
    assert not (off / "registry_archive").exists()

    small = write_data_dir(tmp_path / "small", INBOX, SCRUBLINE_YAML + "registry_archive:\n  max_bytes: 20\n")
    assert run_nightly(small).success
    files = certified_files(small, small / "published/latest")
    assert files["inbox/registries/litigators/litigators.txt"]["archived"]["path"] is not None  # 11 bytes
    assert files["inbox/registries/internal/optouts.csv"]["archived"]["path"] is None  # 43 bytes
    assert files["inbox/registries/internal/optouts.csv"]["archived"]["reason"] == (
        "43 bytes, over registry_archive.max_bytes (20)"
    )
    text = (small / "published/latest/clean/spring.certificate.txt").read_text()
    assert "not archived: 43 bytes, over registry_archive.max_bytes (20)" in text
