"""Each dialler profile's file, from a real run of the hand-made data, equals the file written here by hand."""

import hashlib
import json
from pathlib import Path

import pytest

from tests.assets.test_nightly_scrub import run_nightly
from tests.handmade import INBOX, SCRUBLINE_YAML, write_data_dir

PROFILES_YAML = "dialler_files:\n  campaigns:\n    spring: [generic, vicidial, five9, genesys]\n"
# spring's clean leads: L1 (201) 555-0123 in New Jersey, L2 020 7946 0018 in London; Friday 27 November 2026.
NJ, LONDON = "2026-11-27T13:00:00Z,2026-11-28T02:00:00Z,", "2026-11-27T08:00:00Z,2026-11-27T21:00:00Z,"
EXPECTED = {
    "clean/spring.csv": (
        "campaign,lead_id,phone_e164,phone_type,phone_region,exemption_reason,window_start_utc,window_end_utc,"
        "not_before_utc\n"
        f"spring,L1,+12015550123,fixed_line_or_mobile,US,,{NJ}\n"
        f"spring,L2,+442079460018,fixed_line,GB,,{LONDON}\n"
    ),
    "clean/spring.vicidial.csv": (
        "vendor_lead_code,source_id,phone_code,phone_number,window_start_utc,window_end_utc,not_before_utc\n"
        f"L1,spring,1,2015550123,{NJ}\n"
        f"L2,spring,44,2079460018,{LONDON}\n"
    ),
    "clean/spring.five9.csv": (
        "number1,lead_id,window_start_utc,window_end_utc,not_before_utc\n"
        f"2015550123,L1,{NJ}\n"
        f"011442079460018,L2,{LONDON}\n"
    ),
    "clean/spring.genesys.csv": (
        "lead_id,campaign,phone_e164,phone_type,window_start_utc,window_end_utc,not_before_utc\n"
        f"L1,spring,+12015550123,fixed_line_or_mobile,{NJ}\n"
        f"L2,spring,+442079460018,fixed_line,{LONDON}\n"
    ),
}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = write_data_dir(tmp_path_factory.mktemp("profiles") / "data", INBOX, SCRUBLINE_YAML + PROFILES_YAML)
    assert run_nightly(data_dir).success
    return data_dir / "published/latest"


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_profile_s_file_is_exactly_the_hand_written_one(published: Path, path: str) -> None:
    assert (published / path).read_text() == EXPECTED[path]


def test_a_campaign_that_asks_for_no_profile_gets_the_generic_csv_only(published: Path) -> None:
    assert sorted(path.name for path in (published / "clean").glob("winback*.csv")) == ["winback.csv"]


def test_every_list_file_has_its_sha256_beside_it_and_the_certificate_and_validity_name_them_all(
    published: Path,
) -> None:
    listed = ["clean/spring.parquet", *EXPECTED]
    for path in listed:
        digest = hashlib.sha256((published / path).read_bytes()).hexdigest()
        assert (published / f"{path}.sha256").read_text() == f"{digest}  {Path(path).name}\n"
    certificate = json.loads((published / "clean/spring.certificate.json").read_text())
    validity = json.loads((published / "clean/spring.validity.json").read_text())
    assert list(certificate["list"]) == list(validity["list"]) == listed
    assert validity["counts"]["count_clean"] == 2
    assert (validity["run_id"], validity["certificate"]) == (published.resolve().name, "clean/spring.certificate.json")
