"""A scrub certificate states each registry's version and age at scrub time, the rules in force and the counts."""

from datetime import UTC, date, datetime, time
from importlib.metadata import version

import duckdb
import phonenumbers
import polars as pl

from pipelines.calling.rules import CallingRule, CallingWindow
from pipelines.config import CrmSource, Registry, RetiredRegistry
from pipelines.publishing.certificate import certificate_text, scrub_certificates
from pipelines.records import Certificate, ListedFile
from pipelines.registries.freshness import registry_ages

STARTED_AT = datetime(2026, 11, 27, 2, tzinfo=UTC)
REGISTRIES = [
    Registry(name="us_dnc", format="us_dnc", path="x", downloaded_on=date(2026, 11, 20)),
    Registry(name="optouts", format="plain", path="y", region="US", max_shrink=0.1),
]
VERSIONS = pl.DataFrame(
    {
        "registry": ["optouts", "us_dnc"],
        "version": ["v-optouts", "v-dnc"],
        "count_numbers": [12, 340],
        "files": [[{"file": "optouts.csv", "sha256": "s1"}], [{"file": "dnc.zip!201.txt", "sha256": "s2"}]],
    }
)
COUNTS = pl.DataFrame(
    [("spring", 9, 2, 3, 2, 1, 1, 9)],
    schema=["campaign", "count_rows_in", "count_clean", "count_suppressed", "count_invalid", "count_quarantined",
            "count_deferred", "count_rows_out"],
    orient="row",
)  # fmt: skip
CRM = CrmSource(path="c", id_column="id", phone_columns=["phone"], last_purchase_column="bought")
CALLING_RULES = {
    "US": CallingRule(hours=CallingWindow(start=time(8), end=time(21))),
    "US-FL": CallingRule(hours=CallingWindow(start=time(8), end=time(20)), max_calls_per_24h=3),
}


UNUSABLE = [{"source_name": "optouts", "count_unusable": 1, "examples": [
    {"source_file": "optouts.csv", "source_row": 4, "phone_reason": "too_short", "phone_masked": "*****0680"}
]}]  # fmt: skip
RETIRED = [RetiredRegistry(name="old_optouts", retired_on=date(2026, 11, 1), reason="merged into optouts")]
VALIDITY = pl.DataFrame({"campaign": ["spring"], "valid_through": [datetime(2026, 12, 21, tzinfo=UTC)]})
CHECKS = [{"asset": "scrubbed_leads", "check": "rows_reconcile", "passed": True}]
SOURCE = {"source_name": "optouts", "source_file": "o.csv"}
SCRUBBED = pl.DataFrame(
    {
        "campaign": ["spring"] * 4,
        "outcome": ["suppressed", "suppressed", "suppressed", "clean"],
        "reason": ["optouts,us_dnc", "duplicate_in_campaign", "optouts", None],
        "suppression_sources": [
            [SOURCE, {**SOURCE, "source_name": "us_dnc"}], None, [SOURCE], None,
        ],
    }
)  # fmt: skip
AGES = registry_ages(REGISTRIES, today=STARTED_AT.date(), newest_change_lists={})


def certificates() -> dict[str, Certificate]:
    return scrub_certificates(
        COUNTS,
        VERSIONS,
        registries=REGISTRIES,
        retired=RETIRED,
        validity=VALIDITY,
        public_key=None,
        checks=CHECKS,
        scrubbed=SCRUBBED,
        sellers={"spring": "acme"},
        ages=AGES,
        unusable=UNUSABLE,
        crm=CRM,
        calling_rules=CALLING_RULES,
        run_id="r1",
        run_started_at=STARTED_AT,
    )


def test_a_certificate_records_each_registry_s_version_and_age_at_scrub_time_and_the_rules() -> None:
    (campaign,) = certificates()
    certificate = certificates()["spring"]
    assert campaign == "spring"
    assert certificate.counts == {"count_rows_in": 9, "count_clean": 2, "count_suppressed": 3, "count_invalid": 2,
                                     "count_quarantined": 1, "count_deferred": 1, "count_rows_out": 9}  # fmt: skip
    assert [
        (r.name, r.version, r.count_numbers, r.downloaded_on, r.age_days, r.age_from, r.age_evidence, r.max_age_days,
         r.max_shrink, r.is_ebr_exemptible)
        for r in certificate.registries
    ] == [
        ("us_dnc", "v-dnc", 340, date(2026, 11, 20), 7, date(2026, 11, 20), "downloaded_on", 31, 0.05, True),
        ("optouts", "v-optouts", 12, None, None, None, None, None, 0.1, False),
    ]  # fmt: skip
    assert certificate.valid_through == datetime(2026, 12, 21, tzinfo=UTC)
    assert {name: certificate.software[name] for name in ("phonenumbers", "polars", "duckdb")} == {
        "phonenumbers": phonenumbers.__version__, "polars": pl.__version__, "duckdb": duckdb.__version__,
    }  # fmt: skip
    assert certificate.unusable_entries == UNUSABLE
    assert (certificate.seller, [check.model_dump() for check in certificate.checks]) == ("acme", CHECKS)
    assert certificate.suppressed.model_dump() == {
        "by_reason": {"duplicate_in_campaign": 1, "optouts": 1, "optouts,us_dnc": 1},
        "by_source": {"optouts": 2, "us_dnc": 1},
    }
    assert [r.count_unit for r in certificate.registries] == ["numbers", "numbers"]
    assert certificate.retired_registries == [
        {"name": "old_optouts", "retired_on": "2026-11-01", "reason": "merged into optouts", "replaced_by": None}
    ]
    assert certificate.rules.model_dump() == {
        "ebr_purchase_months": 18,
        "ebr_inquiry_months": None,
        "crm_do_not_call_column": None,
        "opt_out_honour_years": 5,
        "calling_day": date(2026, 11, 27),
        "calling_time": {
            "US": {"hours": {"start": "08:00:00", "end": "21:00:00"}, "days": {}, "holidays": [],
                   "max_calls_per_24h": None},
            "US-FL": {"hours": {"start": "08:00:00", "end": "20:00:00"}, "days": {}, "holidays": [],
                      "max_calls_per_24h": 3},
        },
    }  # fmt: skip


def test_the_text_summary_names_the_list_its_counts_every_registry_file_and_the_rules() -> None:
    commit = certificates()["spring"].software["scrubline_commit"]
    listed = {"clean/spring.parquet": ListedFile(rows=2, sha256="abc")}
    certificate = certificates()["spring"].model_copy(update={"listed": listed})
    assert certificate_text(certificate) == (
        "Scrub certificate: campaign spring, run r1\n"
        "Scrubbed at 2026-11-27T02:00:00+00:00\n"
        "Not signed: scrubline.yaml names no signing key\n"
        f"Software: scrubline {version('scrubline')}, phonenumbers {phonenumbers.__version__}, "
        f"polars {pl.__version__}, duckdb {duckdb.__version__}, "
        f"great-expectations {version('great-expectations')}, dagster {version('dagster')}"
        f"{', scrubline_commit ' + commit if commit else ''}\n"
        "Valid through 2026-12-21T00:00:00+00:00\n"
        "List clean/spring.parquet: 2 rows, sha256 abc\n"
        "Rows: 9 read, 2 clean, 3 suppressed, 2 invalid, 1 quarantined, 1 deferred\n"
        "Registries:\n"
        "  us_dnc (us_dnc): 340 numbers, 7 days old (max 31) from downloaded_on 2026-11-20, max_shrink 5.0%\n"
        "    dnc.zip!201.txt sha256 s2\n"
        "  optouts (plain): 12 numbers, no download date, max_shrink 10.0%\n"
        "    optouts.csv sha256 s1\n"
        "Retired: old_optouts on 2026-11-01 (merged into optouts)\n"
        "Unusable entries in optouts: 1, suppressing by their digits\n"
        "EBR: purchase 18 months, inquiry not used\n"
        "Calling time: windows for 2026-11-27 (UTC date of the run) under the rules of US, US-FL\n"
    )
