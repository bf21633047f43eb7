"""An entry that is not a valid number is reported, and still suppresses every number its digits could mean."""

import polars as pl
import pytest

from pipelines.config import CrmSource, Registry
from pipelines.registries.unusable_entries import (
    UNUSABLE_SCHEMA,
    digit_matches,
    is_unusable,
    stored_unusable_shares,
    unusable_crm_flags,
    unusable_registry_entries,
    unusable_report,
    unusable_share_problems,
    unusable_shares,
)
from pipelines.suppression.suppression_list import registry_scopes

KNOWN = pl.DataFrame(
    {
        "phone_e164": [
            "+12015550680",
            "+442079460018",
            "+441134960000",
            "+390612345678",
            "+79123456789",
            "+36301234567",
            "+447860338653",
            "+12127360100",
        ],
        "phone_region": ["US", "GB", "GB", "IT", "RU", "HU", "GB", "US"],
    }
)
REGISTRIES = [
    Registry(name="optouts", format="plain", path="x", region="US"),
    Registry(name="uk_only", format="plain", path="x", region="GB", jurisdiction=["GB"]),
]


def unusable(*values: str, source_name: str = "optouts") -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"source_name": source_name, "source_file": "o.csv", "source_row": row, "source_sha256": "s",
             "phone_raw": value, "phone_reason": "invalid_number"}
            for row, value in enumerate(values, start=1)
        ],
        schema=UNUSABLE_SCHEMA,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("written", "covered"),
    [
        ("+0 201 555 0680", ["+12015550680"]),
        ("1 (201) 555-0680 #", ["+12015550680"]),
        ("201.555.068.0", ["+12015550680"]),
        ("0044 20 7946 0018", ["+442079460018"]),
        ("011 44 20 7946 0018", ["+442079460018"]),
        ("0113 496 0000", ["+441134960000"]),
        ("06 1234 5678", ["+390612345678"]),
        ("8 (912) 345-67-89", ["+79123456789"]),
        ("06 30 123 4567", ["+36301234567"]),
        ("0011 44 7860 338653", ["+447860338653"]),
        ("(212) 736-O1OO", ["+12127360100"]),
        ("2015550681", []),
        ("201555068", []),
        ("n/a", []),
    ],
    ids=["bad_country_code", "national_prefix_1", "dotted", "prefix_00", "prefix_011", "leading_zero_not_011",
         "italian_leading_zero", "russian_prefix_8", "hungarian_prefix_06", "australian_prefix_0011",
         "letter_o_for_zero", "another_number", "a_digit_short", "no_digits"],
)  # fmt: skip
def test_an_entry_covers_the_numbers_whose_international_or_national_digits_it_holds(
    written: str, covered: list[str]
) -> None:
    matches = digit_matches(unusable(written), KNOWN, registry_scopes(REGISTRIES))
    assert matches.get_column("phone_e164").to_list() == covered


@pytest.mark.parametrize(
    ("phone", "is_valid", "expected"),
    [
        ("(212) 736-O1OO", True, True),
        ("201-555-0123", True, False),
        ("201-555-0123 ext. 7", True, False),
        ("201-555-0123 x7", True, False),
        ("tel:+1-201-555-0123", True, False),
        ("201-555-012", False, True),
        (None, None, True),
    ],
    ids=["letters_for_digits", "digits", "extension", "short_extension", "tel_uri", "invalid", "empty"],
)
def test_an_entry_is_unusable_when_invalid_or_written_with_letters(
    phone: str | None, is_valid: bool | None, expected: bool
) -> None:
    frame = pl.DataFrame({"phone": [phone], "valid": [is_valid]}, schema={"phone": pl.String, "valid": pl.Boolean})
    assert frame.select(is_unusable(pl.col("phone"), pl.col("valid"))).item() is expected


def test_the_match_keeps_the_entry_s_lineage_and_respects_the_registry_s_jurisdiction() -> None:
    entries = pl.concat([unusable("+0 201 555 0680"), unusable("+0 201 555 0680", source_name="uk_only")])
    matches = digit_matches(entries, KNOWN, registry_scopes(REGISTRIES))
    assert matches.select("phone_e164", "source_name", "source_file", "block_prefix").rows() == [
        ("+12015550680", "optouts", "o.csv", None)
    ]


def test_registry_entries_that_are_not_valid_numbers_or_blocks_are_unusable() -> None:
    entries = pl.DataFrame(
        {
            "registry": ["optouts", "optouts", "blocks"], "phone": ["2015550680", "+0 201", None],
            "block_prefix": [None, None, "+1201"], "source_file": ["o.csv"] * 3, "source_row": [1, 2, 1],
            "source_sha256": ["s"] * 3, "downloaded_on": [None] * 3, "requested_at": [None] * 3,
            "seller_scope": [None] * 3, "phone_valid": [True, False, None],
            "phone_reason": [None, "invalid_country_code", None],
        },
        schema_overrides={"downloaded_on": pl.Date, "requested_at": pl.Datetime("us", "UTC"),
                          "seller_scope": pl.String},
    )  # fmt: skip
    found = unusable_registry_entries(entries)
    assert found.select("source_name", "source_row", "phone_raw", "phone_reason").rows() == [
        ("optouts", 2, "+0 201", "invalid_country_code")
    ]


def test_a_do_not_call_contact_s_invalid_phone_is_unusable_and_a_blank_one_is_no_entry() -> None:
    crm = pl.DataFrame(
        {
            "source_file": ["c.csv"] * 3, "source_row": [1, 2, 3], "source_sha256": ["s"] * 3,
            "is_do_not_call": [True, True, False], "phone": ["+0 20 7946 0018", None, "garbage"],
            "phone_valid": [False, False, False], "phone_reason": ["invalid_country_code", "empty", "not_a_number"],
        }
    )  # fmt: skip
    source = CrmSource(path="c", id_column="id", phone_columns=["phone"])
    flags = unusable_crm_flags(crm, source=source, name="crm_do_not_call")
    assert flags.select("source_name", "source_row", "phone_raw").rows() == [("crm_do_not_call", 1, "+0 20 7946 0018")]


def test_a_registry_over_its_unusable_share_is_named_as_a_broken_download() -> None:
    entries = pl.DataFrame(
        {
            "registry": ["optouts"] * 100 + ["uk_only"] * 2,
            "phone": ["2015550680"] * 102,
            "phone_valid": [False] + [True] * 99 + [False, True],
            "block_prefix": [None] * 102,
        },
        schema_overrides={"block_prefix": pl.String},
    )
    shares = unusable_shares(entries, REGISTRIES)
    assert shares.select("registry", "count_entries", "count_unusable", "is_within_limit").rows() == [
        ("optouts", 100, 1, True),
        ("uk_only", 2, 1, False),
    ]
    assert unusable_share_problems(shares) == [
        "registry 'uk_only' has 1 of 2 entries (50.0%) that are not valid numbers, more than its max_invalid_share "
        "1.0%; the download is likely broken: download it again, or correct the entries listed in the "
        "suppression_list metadata"
    ]


def test_each_download_of_a_stored_registry_is_judged_on_its_own() -> None:
    reading = pl.Struct({"change_list": pl.String, "count_read": pl.Int64, "count_unusable": pl.Int64})
    snapshots = pl.DataFrame(
        {
            "registry": ["optouts"],
            "readings": [[
                {"change_list": None, "count_read": 1_000, "count_unusable": 10},
                {"change_list": "deletions.txt", "count_read": 0, "count_unusable": 0},
                {"change_list": "broken.txt", "count_read": 40, "count_unusable": 20},
            ]],
        },
        schema={"registry": pl.String, "readings": pl.List(reading)},
    )  # fmt: skip
    shares = stored_unusable_shares(snapshots, REGISTRIES)
    assert shares.select("download", "unusable_share", "is_within_limit").rows() == [
        ("change list broken.txt", 0.5, False),
        ("change list deletions.txt", 0.0, True),
        ("full list", 0.01, True),
    ]
    assert unusable_share_problems(shares) == [
        "registry 'optouts' (change list broken.txt) has 20 of 40 distinct numbers (50.0%) that are not valid numbers, "
        "more than its max_invalid_share 1.0%; the download is likely broken: download it again"
    ]


def test_the_report_counts_each_source_and_masks_its_examples() -> None:
    report = unusable_report(pl.concat([unusable("+0 201 555 0680", "n/a"), unusable("x", source_name="crm")]))
    assert report == [
        {"source_name": "optouts", "count_unusable": 2, "examples": [
            {"source_file": "o.csv", "source_row": 1, "phone_reason": "invalid_number", "phone_masked": "*******0680"},
            {"source_file": "o.csv", "source_row": 2, "phone_reason": "invalid_number", "phone_masked": ""},
        ]},
        {"source_name": "crm", "count_unusable": 1, "examples": [
            {"source_file": "o.csv", "source_row": 1, "phone_reason": "invalid_number", "phone_masked": ""},
        ]},
    ]  # fmt: skip
