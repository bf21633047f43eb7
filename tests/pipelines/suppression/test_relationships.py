"""A recent purchase or inquiry establishes a relationship; a do-not-call flag or a later opt-out ends it."""

from datetime import UTC, date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import CrmSource
from pipelines.suppression.relationships import established_relationships

TODAY = date(2026, 11, 27)
CRM = CrmSource(path="x", id_column="contact_id", phone_columns=["phone"])
NUMBER = "+12015550123"
OPT_OUTS = "internal_optouts"
NO_OPT_OUTS = pl.DataFrame(
    schema={
        "registry": pl.String, "phone_e164": pl.String, "phone_valid": pl.Boolean,
        "requested_at": pl.Datetime("us", "UTC"),
    }
)  # fmt: skip


def contacts(*rows: tuple[str, bool, date | None, date | None]) -> pl.DataFrame:
    """CRM numbers of NUMBER from (contact id, is do-not-call, last purchase, last inquiry)."""
    return pl.DataFrame(
        [(contact_id, NUMBER, flag, purchase, inquiry) for contact_id, flag, purchase, inquiry in rows],
        schema={
            "contact_id": pl.String, "phone_e164": pl.String, "is_do_not_call": pl.Boolean,
            "last_purchase_on": pl.Date, "last_inquiry_on": pl.Date,
        },
        orient="row",
    )  # fmt: skip


def relationships(crm: pl.DataFrame, opt_outs: pl.DataFrame = NO_OPT_OUTS, source: CrmSource = CRM) -> list[tuple]:
    found = established_relationships(crm, opt_outs, source=source, opt_out_registries=[OPT_OUTS], today=TODAY)
    return found.select("contact_id", "exemption", "ebr_date", "ebr_until").rows()


@pytest.mark.parametrize(
    ("purchase", "inquiry", "expected"),
    [
        (date(2025, 5, 27), None, [("C1", "ebr_purchase", date(2025, 5, 27), date(2026, 11, 27))]),
        (date(2025, 5, 26), None, []),
        (None, date(2026, 8, 27), [("C1", "ebr_inquiry", date(2026, 8, 27), date(2026, 11, 27))]),
        (None, date(2026, 8, 26), []),
        (TODAY, None, [("C1", "ebr_purchase", TODAY, date(2028, 5, 27))]),
        (date(2026, 11, 28), None, []),
        (date(2025, 6, 1), date(2026, 11, 1), [("C1", "ebr_inquiry", date(2026, 11, 1), date(2027, 2, 1))]),
    ],
    ids=["purchase_18_months", "purchase_a_day_older", "inquiry_3_months", "inquiry_a_day_older", "purchase_today",
         "purchase_after_the_run", "the_longer_lasting_basis"],
)  # fmt: skip
def test_a_purchase_lasts_18_months_and_an_inquiry_3_through_the_same_day(
    purchase: date | None, inquiry: date | None, expected: list[tuple]
) -> None:
    assert relationships(contacts(("C1", False, purchase, inquiry))) == expected


def test_the_windows_are_configurable() -> None:
    crm = contacts(("C1", False, date(2026, 5, 27), None))
    assert relationships(crm, source=CRM.model_copy(update={"ebr_purchase_months": 6})) == [
        ("C1", "ebr_purchase", date(2026, 5, 27), date(2026, 11, 27))
    ]
    assert relationships(crm, source=CRM.model_copy(update={"ebr_purchase_months": 5})) == []


def test_a_do_not_call_flag_on_any_contact_holding_the_number_ends_the_relationship() -> None:
    assert relationships(contacts(("C1", False, date(2026, 11, 1), None), ("C2", True, None, None))) == []


@pytest.mark.parametrize(
    ("requested_at", "is_ended"),
    [
        (datetime(2021, 11, 26, 23, 59, 59, tzinfo=UTC), False),
        (datetime(2021, 11, 27, tzinfo=UTC), True),
        (datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC), True),
        (datetime(2026, 10, 1, tzinfo=UTC), True),
        (datetime(2026, 11, 20, 15, tzinfo=UTC), True),
    ],
    ids=["opt_out_over_5_years_before_the_run", "opt_out_5_years_before_the_run", "opt_out_the_day_before",
         "opt_out_the_same_day", "opt_out_later"],
)  # fmt: skip
def test_an_opt_out_honoured_for_5_years_ends_the_relationship_whatever_purchase_follows(
    requested_at: datetime, is_ended: bool
) -> None:
    opt_outs = pl.DataFrame(
        {
            "registry": [OPT_OUTS] * 2, "phone_e164": [NUMBER, "+12125550142"], "phone_valid": [True, True],
            "requested_at": [requested_at] * 2,
        }
    )  # fmt: skip
    expected = [] if is_ended else [("C1", "ebr_purchase", date(2026, 10, 1), date(2028, 4, 1))]
    assert relationships(contacts(("C1", False, date(2026, 10, 1), None)), opt_outs) == expected


@pytest.mark.parametrize(
    ("registry", "is_ended"), [(OPT_OUTS, True), ("us_national_dnc", False)], ids=["opt_out_list", "national_list"]
)
def test_an_entry_of_unknown_date_ends_the_relationship_only_on_a_list_ebr_does_not_lift(
    registry: str, is_ended: bool
) -> None:
    entries = pl.DataFrame(
        {"registry": [registry], "phone_e164": [NUMBER], "phone_valid": [True], "requested_at": [None]},
        schema=NO_OPT_OUTS.schema,
    )
    expected = [] if is_ended else [("C1", "ebr_purchase", date(2026, 10, 1), date(2028, 4, 1))]
    assert relationships(contacts(("C1", False, date(2026, 10, 1), None)), entries) == expected


def test_configuration_may_honour_an_opt_out_longer() -> None:
    opt_outs = pl.DataFrame(
        {"registry": [OPT_OUTS], "phone_e164": [NUMBER], "phone_valid": [True],
         "requested_at": [datetime(2020, 1, 1, tzinfo=UTC)]},
    )  # fmt: skip
    crm = contacts(("C1", False, date(2026, 10, 1), None))
    assert relationships(crm, opt_outs) == [("C1", "ebr_purchase", date(2026, 10, 1), date(2028, 4, 1))]
    assert relationships(crm, opt_outs, source=CRM.model_copy(update={"honour_years": 7})) == []


def test_of_several_contacts_the_longest_lasting_relationship_is_named() -> None:
    crm = contacts(("C1", False, date(2025, 8, 1), None), ("C2", False, date(2026, 2, 1), None))
    expected = pl.DataFrame(
        {
            "phone_e164": [NUMBER],
            "contact_id": ["C2"],
            "exemption": ["ebr_purchase"],
            "ebr_date": [date(2026, 2, 1)],
            "ebr_until": [date(2027, 8, 1)],
        }
    )
    found = established_relationships(crm, NO_OPT_OUTS, source=CRM, opt_out_registries=[OPT_OUTS], today=TODAY)
    assert_frame_equal(found, expected)
