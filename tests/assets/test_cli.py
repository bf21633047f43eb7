"""The `scrubline` command: `run` drives the same job as the UI and talks like a tool; `normalize` handles one
file without Dagster."""

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assets.cli import main
from assets.run_command import SLOWEST
from pipelines.publishing.signing import public_key_pem
from pipelines.records import Manifest
from tests.handmade import INBOX, RUN_AS_OF, write_clients_data_dir, write_data_dir

REPOSITORY = Path(__file__).parents[2]
# Runs that publish scrub as of the suite's clock: calling windows, and so the outcomes printed, depend on it.
AS_OF = ["--as-of", RUN_AS_OF.isoformat()]


def test_run_prints_progress_by_stage_and_a_summary_per_campaign(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--data-dir", str(data_dir), *AS_OF]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    stages = [line.split()[0] for line in lines if " done: " in line]
    assert sorted(stages) == ["analytics", "ingest", "normalise", "publish", "suppress"]
    assert stages[-1] == "publish"
    (spring,) = [line for line in lines if "spring" in line]
    cells = [cell.strip(" │") for cell in spring.split("┆")[1:]]
    assert cells == ["8", "2 (25.0%)", "3 (37.5%)", "2 (25.0%)", "1 (12.5%)", "0 (0.0%)"]
    assert f"clean lists: {data_dir.resolve()}/published/latest/clean/<campaign>.csv and .parquet" in lines
    assert "1 unreadable dialler record(s) quarantined" in captured.err
    assert "DEBUG" not in captured.out + captured.err
    assert (data_dir / "published/latest/manifest.json").is_file()
    (slowest,) = [line for line in lines if line.startswith("slowest steps: ")]
    steps = re.findall(r"([\w.\[\]]+) (\d+\.\d) s", slowest)
    assert len(steps) == SLOWEST and "publish" in dict(steps)
    assert [float(seconds) for _, seconds in steps] == sorted((float(seconds) for _, seconds in steps), reverse=True)


def test_run_shows_dagsters_debug_stream_only_when_verbose(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--data-dir", str(data_dir), "--verbose", *AS_OF]) == 0
    captured = capsys.readouterr()
    assert "STEP_START" in captured.out + captured.err


def test_run_as_of_an_instant_records_that_instant_and_its_clock(data_dir: Path) -> None:
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2026-11-27T03:00:00+01:00"]) == 0
    manifest = Manifest.read(data_dir / "published/latest/manifest.json")
    assert (manifest.run_started_at, manifest.clock) == (RUN_AS_OF, "as_of_tag")


def test_run_as_of_is_refused_on_a_real_instance_before_any_run(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["run", "--data-dir", str(data_dir), *AS_OF]) == 2
    assert "--as-of is for tests and benchmarks" in capsys.readouterr().err
    assert not (data_dir / "published").exists()


def test_run_fails_with_the_reason_and_nonzero_exit(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "inbox/registries/litigators/litigators.txt").write_bytes(b"")
    assert main(["run", "--data-dir", str(data_dir)]) == 1
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
        (("path: inbox/registries/litigators/*.txt", "path: inbox/registries/litigator/*.txt"),
         "registries[litigators].path 'inbox/registries/litigator/*.txt' matches no file"),
        (("registries:\n", "sellers:\n  acme: [spring]\nregistries:\n"),
         "sellers lists no seller for campaign(s) winback"),
        (("registries:\n", "dialler_files:\n  campaigns: {sprnig: [vicidial]}\nregistries:\n"),
         "dialler_files.campaigns names sprnig, which is no dialler file's campaign"),
    ],
    ids=["key_twice", "loosened_legal_maximum", "glob_matching_nothing", "campaign_without_seller",
         "misspelt_dialler_files_campaign"],
)  # fmt: skip
def test_a_configuration_error_exits_2_before_any_run_once_without_a_traceback(
    data_dir: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], message: str
) -> None:
    config = data_dir / "scrubline.yaml"
    config.write_text(config.read_text().replace(*change, 1))
    assert main(["run", "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("scrubline:") == 1
    assert "Traceback" not in err
    assert not (data_dir / "published").exists()


def test_run_scrubs_the_client_it_is_given_of_a_data_directory_of_clients(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_clients_data_dir(tmp_path / "data")
    assert main(["run", "--data-dir", str(data_dir)]) == 2
    assert "holds clients (north, south under clients/); a run scrubs one client" in capsys.readouterr().err
    assert main(["run", "--data-dir", str(data_dir), "--client", "south", *AS_OF]) == 0
    assert f"clean lists: {data_dir / 'clients/south/published/latest/clean'}" in capsys.readouterr().out
    assert sorted(path.name for path in (data_dir / "clients").iterdir() if (path / "published").exists()) == ["south"]


def test_a_failed_check_is_reported_once_with_its_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = write_data_dir(tmp_path / "data", {**INBOX, "registries/litigators/litigators.txt": "12\n"})
    assert main(["run", "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("CHECK FAILED") == 1
    assert err.count("registries_are_readable_numbers") == 1
    assert (
        "CHECK FAILED normalised_registry_entries:registries_are_readable_numbers: registry 'litigators' has 1 of 1"
        in err
    )
    assert "Not executing" not in err


def normalize(tmp_path: Path, *arguments: str) -> int:
    return main(["normalize", str(tmp_path / "leads.csv"), "--column", "phone", *arguments])


@pytest.fixture
def leads(tmp_path: Path) -> Path:
    source = tmp_path / "leads.csv"
    source.write_text("id,phone,cc\n1,(201) 555-0123,US\n2,020 7946 0018 ext. 7,GB\n3,nope,US\n")
    return source


NORMALISED = [
    ("1", "(201) 555-0123", "US", "+12015550123", True, "fixed_line_or_mobile", "US", None, None),
    ("2", "020 7946 0018 ext. 7", "GB", "+442079460018", True, "fixed_line", "GB", None, "7"),
    ("3", "nope", "US", None, False, None, None, "not_a_number", None),
]


def test_normalize_writes_input_columns_plus_the_e164_columns_as_parquet(leads: Path, tmp_path: Path) -> None:
    assert normalize(tmp_path, "--region-column", "cc", "--output", str(tmp_path / "out.parquet")) == 0
    assert pl.read_parquet(tmp_path / "out.parquet").rows() == NORMALISED


def test_normalize_writes_csv_when_the_output_is_named_csv(leads: Path, tmp_path: Path) -> None:
    assert normalize(tmp_path, "--region-column", "cc", "--output", str(tmp_path / "out.csv")) == 0
    written = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert written.columns[3:] == ["phone_e164", "phone_valid", "phone_type", "phone_region", "phone_reason",
                                   "phone_extension"]  # fmt: skip
    assert written.get_column("phone_e164").to_list() == ["+12015550123", "+442079460018", None]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--region", "US", "--output", "{tmp}/leads.csv"], "is the input file; write the result to another file"),
        (["--region", "XX", "--output", "{tmp}/out.csv"], "--region XX: not an ISO 3166 alpha-2 region"),
        (["--region", "US", "--output", "{tmp}/out.xlsx"], "name a .csv or .parquet file"),
    ],
)
def test_normalize_refuses_what_it_cannot_do_and_leaves_the_input_alone(
    leads: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    before = leads.read_bytes()
    assert normalize(tmp_path, *(argument.format(tmp=tmp_path) for argument in arguments)) == 2
    assert message in capsys.readouterr().err
    assert leads.read_bytes() == before


def test_a_missing_column_is_reported_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "leads.csv").write_text("telephone\n2015550123\n")
    assert normalize(tmp_path, "--region", "US", "--output", str(tmp_path / "o.parquet")) == 2
    assert "missing column(s) phone" in capsys.readouterr().err


def test_normalize_never_imports_dagster(leads: Path, tmp_path: Path) -> None:
    script = (
        "import sys; from assets.cli import main; "
        f"code = main(['normalize', {str(leads)!r}, '--column', 'phone', '--region', 'US', "
        f"'--output', {str(tmp_path / 'out.parquet')!r}]); "
        "print(code, sorted(name for name in sys.modules if name.split('.')[0] == 'dagster'))"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert finished.stdout.splitlines()[-1] == "0 []"


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
    assert main(["run", "--data-dir", str(data_dir), *AS_OF]) == 0
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
    assert main(["run", "--data-dir", str(data_dir), *AS_OF]) == 0
    certificate = data_dir / "published/latest/clean/winback.certificate.json"
    capsys.readouterr()
    assert main(["verify", str(certificate)]) == 0
    out = capsys.readouterr().out
    assert "UNSIGNED  signature: the run was not signed" in out
    assert "OK  list clean/winback.parquet: sha256" in out
