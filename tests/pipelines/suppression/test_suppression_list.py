"""Registries suppress only numbers of their jurisdiction; wildcard blocks suppress every number they cover."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import DEFAULT_SELLER, Registry
from pipelines.registries.entries import normalise_registries, read_registries
from pipelines.registries.store import listed_in_snapshots, registry_snapshots
from pipelines.registries.unusable_entries import unusable_registry_entries
from pipelines.suppression.scrub import scrub_leads
from pipelines.suppression.suppression_list import (
    SUPPRESSION_LIST_SCHEMA,
    build_suppression_list,
    future_opt_outs,
    known_numbers,
    registries_with_entries,
)

DOWNLOADED_ON = date(2026, 11, 20)
CRM_SCHEMA = {
    "contact_id": pl.String, "phone_column": pl.String, "phone_e164": pl.String, "phone_region": pl.String,
    "is_do_not_call": pl.Boolean, "source_file": pl.String, "source_sha256": pl.String,
}  # fmt: skip
NO_CRM = pl.DataFrame(schema=CRM_SCHEMA)
NO_RELATIONSHIPS = pl.DataFrame(
    schema={"phone_e164": pl.String, "contact_id": pl.String, "exemption": pl.String, "ebr_date": pl.Date}
)


def read_all(data_dir: Path, files: dict[str, str], registries: list[Registry]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write each registry's file under `inbox/<name>/`; the normalised entries read row by row, and the snapshots."""
    for registry in registries:
        path = data_dir / "inbox" / registry.name / "list.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[registry.name], encoding="utf-8", newline="")
    entries = normalise_registries(read_registries(registries, data_dir=data_dir), registries)
    return entries, registry_snapshots(registries, data_dir=data_dir)


def snapshot_file(data_dir: Path, registry: str = "us_dnc") -> str:
    """The one snapshot a stored registry has in these tests, relative to the data directory."""
    [path] = (data_dir / "registries" / registry).glob("*.parquet")
    return path.relative_to(data_dir).as_posix()


def leads(numbers: list[tuple[str, str, str]]) -> pl.DataFrame:
    """Canonical dialler rows of one campaign from (lead id, E.164, region)."""
    return pl.DataFrame(
        {
            "campaign": ["c"] * len(numbers),
            "seller": [DEFAULT_SELLER] * len(numbers),
            "lead_id": [lead_id for lead_id, _, _ in numbers],
            "phone_raw": [e164 for _, e164, _ in numbers],
            "phone_e164": [e164 for _, e164, _ in numbers],
            "phone_valid": [True] * len(numbers),
            "phone_type": ["fixed_line"] * len(numbers),
            "phone_region": [region for _, _, region in numbers],
            "phone_reason": [None] * len(numbers),
            "source_file": ["c.csv"] * len(numbers),
            "source_row": list(range(1, len(numbers) + 1)),
            "source_sha256": ["sha"] * len(numbers),
            "quarantine_reason": [None] * len(numbers),
            "raw_record": [None] * len(numbers),
        },
        schema_overrides={"phone_reason": pl.String, "quarantine_reason": pl.String, "raw_record": pl.String},
    )


def path(name: str) -> str:
    return f"inbox/{name}/*.txt"


def scrub(
    data_dir: Path,
    files: dict[str, str],
    registries: list[Registry],
    dialler: pl.DataFrame,
    crm: pl.DataFrame = NO_CRM,
    relationships: pl.DataFrame = NO_RELATIONSHIPS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    entries, snapshots = read_all(data_dir, files, registries)
    known = known_numbers(crm, dialler)
    suppression = build_suppression_list(
        entries,
        crm,
        stored_listings=listed_in_snapshots(known, snapshots, data_dir=data_dir),
        registries=registries,
        known_numbers=known,
        relationships=relationships,
        scopes_as_sellers=None,
        unusable=unusable_registry_entries(entries),
    )
    return suppression, scrub_leads(dialler, suppression)


NATIONAL_REGISTRIES = [
    Registry(name="us_dnc", format="us_dnc", path=path("us_dnc"), downloaded_on=DOWNLOADED_ON),
    Registry(name="dncl", format="dncl", path=path("dncl"), downloaded_on=DOWNLOADED_ON),
    Registry(name="tps", format="tps", path=path("tps"), downloaded_on=DOWNLOADED_ON),
    Registry(name="us_litigators", format="plain", path=path("us_litigators"), region="US", jurisdiction=["US"]),
    Registry(name="internal", format="plain", path=path("internal"), region="US"),
]
NATIONAL_FILES = {
    "us_dnc": "201,5550123\n416,5550134\n787,2345678\n",
    "dncl": "416,5550134\n201,5550199\n",
    "tps": "02079460018 \r\n",
    "us_litigators": "2125550142\n+442079460018\n",
    "internal": "+447400123456\n",
}
NATIONAL_LEADS = leads(
    [
        ("L1", "+12015550123", "US"),
        ("L2", "+14165550134", "CA"),
        ("L3", "+12015550199", "US"),
        ("L4", "+442079460018", "GB"),
        ("L5", "+12125550142", "US"),
        ("L6", "+447400123456", "GB"),
        ("L7", "+17872345678", "PR"),
    ]
)


def test_a_national_registry_suppresses_only_numbers_of_its_own_jurisdiction(tmp_path: Path) -> None:
    _, scrubbed = scrub(tmp_path, NATIONAL_FILES, NATIONAL_REGISTRIES, NATIONAL_LEADS)
    assert scrubbed.select("lead_id", "outcome", "reason").rows() == [
        ("L1", "suppressed", "us_dnc"),
        ("L2", "suppressed", "dncl"),
        ("L3", "clean", None),
        ("L4", "suppressed", "tps"),
        ("L5", "suppressed", "us_litigators"),
        ("L6", "suppressed", "internal"),
        ("L7", "suppressed", "us_dnc"),
    ]


def test_the_suppression_list_holds_each_registry_s_numbers_in_scope_with_download_date(tmp_path: Path) -> None:
    suppression, _ = scrub(tmp_path, NATIONAL_FILES, NATIONAL_REGISTRIES, NATIONAL_LEADS)
    expected = pl.DataFrame(
        {
            "phone_e164": [
                "+12015550123",
                "+12125550142",
                "+14165550134",
                "+17872345678",
                "+442079460018",
                "+447400123456",
            ],
            "source_name": ["us_dnc", "us_litigators", "dncl", "us_dnc", "tps", "internal"],
            "source_file": [
                snapshot_file(tmp_path) if name == "us_dnc" else f"inbox/{name}/list.txt"
                for name in ("us_dnc", "us_litigators", "dncl", "us_dnc", "tps", "internal")
            ],
            "downloaded_on": [DOWNLOADED_ON, None, DOWNLOADED_ON, DOWNLOADED_ON, DOWNLOADED_ON, None],
            "block_prefix": [None] * 6,
            "requested_at": [None] * 6,
            "seller_scope": [None] * 6,
            "count_entries": [1] * 6,
            "exemption": [None] * 6,
            "ebr_contact_id": [None] * 6,
            "ebr_date": [None] * 6,
        },
        schema={column: dtype for column, dtype in SUPPRESSION_LIST_SCHEMA.items() if column != "source_sha256"},
    )
    assert suppression.schema == pl.Schema(SUPPRESSION_LIST_SCHEMA)
    assert_frame_equal(suppression.drop("source_sha256"), expected)


BLOCK_REGISTRIES = [
    Registry(name="area_blocks", format="wildcard", path=path("area_blocks"), region="US"),
    Registry(name="canada_blocks", format="wildcard", path=path("canada_blocks"), region="US", jurisdiction=["CA"]),
]
BLOCK_FILES = {"area_blocks": "+1201\n20155501XX\n415XXXXXXX\n", "canada_blocks": "+1\n"}
BLOCK_LEADS = leads(
    [
        ("L1", "+12015550123", "US"),
        ("L2", "+14155552671", "US"),
        ("L3", "+12125550142", "US"),
        ("L4", "+14165550134", "CA"),
    ]
)


def test_a_wildcard_block_suppresses_every_number_it_covers_within_its_jurisdiction(tmp_path: Path) -> None:
    _, scrubbed = scrub(tmp_path, BLOCK_FILES, BLOCK_REGISTRIES, BLOCK_LEADS)
    assert scrubbed.select("lead_id", "outcome", "reason").rows() == [
        ("L1", "suppressed", "area_blocks"),
        ("L2", "suppressed", "area_blocks"),
        ("L3", "clean", None),
        ("L4", "suppressed", "canada_blocks"),
    ]
    sources = scrubbed.filter(pl.col("lead_id") == "L1").get_column("suppression_sources").item().to_list()
    assert [(source["source_name"], source["block_prefix"]) for source in sources] == [("area_blocks", "+120155501")]


def test_a_wildcard_block_covers_crm_numbers_too(tmp_path: Path) -> None:
    crm = pl.DataFrame(
        [
            ("C1", "phone", "+12015559876", "US", False, "crm.csv", "s"),
            ("C2", "phone", "+12125550142", "US", False, "crm.csv", "s"),
        ],
        schema=CRM_SCHEMA,
        orient="row",
    )  # fmt: skip
    suppression, _ = scrub(tmp_path, BLOCK_FILES, BLOCK_REGISTRIES, BLOCK_LEADS, crm)
    assert suppression.select("phone_e164", "source_name", "block_prefix").rows() == [
        ("+12015550123", "area_blocks", "+120155501"),
        ("+12015559876", "area_blocks", "+1201"),
        ("+14155552671", "area_blocks", "+1415"),
        ("+14165550134", "canada_blocks", "+1"),
    ]


@pytest.mark.parametrize(
    ("files", "contributing"),
    [
        ({"us_dnc": "416,5550134\n", "area_blocks": "+1999\n"}, {"area_blocks"}),
        ({"us_dnc": "201,5550123\n", "area_blocks": "+1999\n"}, {"us_dnc", "area_blocks"}),
    ],
    ids=["out_of_jurisdiction_only", "in_jurisdiction"],
)
def test_a_registry_contributes_with_a_number_in_its_jurisdiction_or_any_block(
    tmp_path: Path, files: dict[str, str], contributing: set[str]
) -> None:
    registries = [NATIONAL_REGISTRIES[0], BLOCK_REGISTRIES[0]]
    entries, snapshots = read_all(tmp_path, files, registries)
    suppression, _ = scrub(tmp_path, files, registries, NATIONAL_LEADS)
    assert registries_with_entries(suppression, entries, snapshots) == contributing


def test_an_opt_out_dated_after_the_run_started_is_listed_for_correction() -> None:
    now = datetime(2026, 11, 27, 2, tzinfo=UTC)
    entries = pl.DataFrame(
        {
            "registry": ["optouts"] * 3 + ["us_dnc"],
            "source_file": ["optouts.csv"] * 3 + ["dnc.txt"],
            "source_row": [1, 2, 3, 1],
            "requested_at": [now, now + timedelta(seconds=1), datetime(2027, 11, 26, tzinfo=UTC), None],
        }
    )
    expected = pl.DataFrame(
        {
            "registry": ["optouts"] * 2,
            "source_file": ["optouts.csv"] * 2,
            "source_row": [2, 3],
            "requested_at": [now + timedelta(seconds=1), datetime(2027, 11, 26, tzinfo=UTC)],
        }
    )
    assert_frame_equal(future_opt_outs(entries, now=now), expected)


EBR_REGISTRIES = [
    NATIONAL_REGISTRIES[0],
    Registry(name="fl_state", format="plain", path=path("fl_state"), region="US", kind="state"),
    Registry(name="us_litigators", format="plain", path=path("us_litigators"), region="US"),
    Registry(name="internal", format="plain", path=path("internal"), region="US"),
]
EBR_FILES = {
    "us_dnc": "201,5550123\n201,5550199\n212,5550142\n",
    "fl_state": "3055550100\n2015550123\n",
    "us_litigators": "2015550199\n",
    "internal": "2125550142\n",
}
EBR_LEADS = leads(
    [("L1", "+12015550123", "US"), ("L2", "+12015550199", "US"), ("L3", "+12125550142", "US")]
)  # fmt: skip
RELATIONSHIPS = pl.DataFrame(
    {
        "phone_e164": ["+12015550123", "+12015550199", "+12125550142"],
        "contact_id": ["C1", "C2", "C3"],
        "exemption": ["ebr_purchase", "ebr_inquiry", "ebr_purchase"],
        "ebr_date": [date(2026, 1, 5), date(2026, 10, 1), date(2026, 2, 1)],
    }
)


def test_a_relationship_exempts_from_national_and_state_registries_only_and_stays_visible(tmp_path: Path) -> None:
    _, scrubbed = scrub(tmp_path, EBR_FILES, EBR_REGISTRIES, EBR_LEADS, relationships=RELATIONSHIPS)
    assert scrubbed.select("lead_id", "outcome", "reason", "exemption_reason").rows() == [
        ("L1", "clean", None, "fl_state:ebr_purchase,us_dnc:ebr_purchase"),
        ("L2", "suppressed", "us_litigators", "us_dnc:ebr_inquiry"),
        ("L3", "suppressed", "internal", "us_dnc:ebr_purchase"),
    ]
    exemptions = scrubbed.filter(pl.col("lead_id") == "L1").get_column("exemptions").item().to_list()
    assert [
        (e["source_name"], e["source_file"], e["downloaded_on"], e["exemption"], e["ebr_contact_id"], e["ebr_date"])
        for e in exemptions
    ] == [
        ("fl_state", "inbox/fl_state/list.txt", None, "ebr_purchase", "C1", date(2026, 1, 5)),
        ("us_dnc", snapshot_file(tmp_path), DOWNLOADED_ON, "ebr_purchase", "C1", date(2026, 1, 5)),
    ]
    assert [s["source_name"] for s in scrubbed.get_column("suppression_sources").item(1).to_list()] == ["us_litigators"]


def test_a_kind_marks_a_plain_or_wildcard_list_as_a_national_or_state_registry() -> None:
    assert [registry.is_ebr_exemptible for registry in EBR_REGISTRIES] == [True, True, False, False]
    assert Registry(name="blocks", format="wildcard", path="x", region="US", kind="national").is_ebr_exemptible


def test_a_relationship_never_exempts_from_a_crm_do_not_call_flag(tmp_path: Path) -> None:
    crm = pl.DataFrame(
        [("C9", "phone", "+12015550123", "US", True, "crm.csv", "s")], schema=CRM_SCHEMA, orient="row"
    )  # fmt: skip
    _, scrubbed = scrub(tmp_path, EBR_FILES, EBR_REGISTRIES, EBR_LEADS.head(1), crm, RELATIONSHIPS)
    assert scrubbed.select("lead_id", "outcome", "reason", "exemption_reason").rows() == [
        ("L1", "suppressed", "crm_do_not_call", "fl_state:ebr_purchase,us_dnc:ebr_purchase")
    ]


def test_the_suppression_list_is_ordered_by_number_as_an_integer_then_by_source(tmp_path: Path) -> None:
    registries = [
        Registry(name="us_dnc", format="us_dnc", path=path("us_dnc"), downloaded_on=DOWNLOADED_ON),
        Registry(name="litigators", format="plain", path=path("litigators"), region="US"),
        Registry(name="internal", format="plain", path=path("internal"), region="US"),
    ]
    files = {"us_dnc": "201,5550123\n", "litigators": "+12015550123\n", "internal": "+12015550123\n+4930123456\n"}
    dialler = leads([("L1", "+12015550123", "US"), ("L2", "+4930123456", "DE")])
    suppression, _ = scrub(tmp_path, files, registries, dialler)
    assert suppression.select("phone_e164", "source_name").rows() == [
        ("+4930123456", "internal"),
        ("+12015550123", "internal"),
        ("+12015550123", "litigators"),
        ("+12015550123", "us_dnc"),
    ]


def test_known_numbers_are_the_distinct_valid_numbers_of_the_crm_and_the_dialler_lists() -> None:
    crm = pl.DataFrame(
        [("C1", "phone", "+442079460018", "GB", False, "crm.csv", "sha")], schema=CRM_SCHEMA, orient="row"
    )
    dialler = leads([("L1", "+12015550123", "US"), ("L2", "+12015550123", "US"), ("L3", "+442079460018", "GB")])
    dialler = pl.concat([dialler, leads([("L4", None, None)]).with_columns(phone_valid=pl.lit(False))])
    assert sorted(known_numbers(crm, dialler).rows()) == [("+12015550123", "US"), ("+442079460018", "GB")]
