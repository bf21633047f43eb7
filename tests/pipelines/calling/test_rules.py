"""The calling-time rule table in `scrubline.yaml`: documented legal defaults, one jurisdiction replaced at a time,
and only ever narrowed: a configuration that would allow a call the law forbids is an error naming its key."""

from datetime import date, time
from pathlib import Path

import pytest

from pipelines.calling.rules import (
    CLOSED,
    DEFAULT_CALLING_RULES,
    CallingRule,
    CallingWindow,
    applicable_jurisdictions,
)
from pipelines.config import load_config
from pipelines.errors import ConfigError
from tests.handmade import CALLS_YAML, SCRUBLINE_YAML


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scrubline.yaml").write_text(text)
    return tmp_path


def rules_of(tmp_path: Path, calling_time: str) -> dict[str, CallingRule]:
    return load_config(write_config(tmp_path, SCRUBLINE_YAML + calling_time)).calling_time.rules


def hours(start: str, end: str) -> CallingWindow:
    return CallingWindow(start=time.fromisoformat(start), end=time.fromisoformat(end))


def test_without_a_calling_time_section_the_legal_defaults_apply(tmp_path: Path) -> None:
    rules = load_config(write_config(tmp_path, SCRUBLINE_YAML)).calling_time.rules
    assert rules == {
        "US": CallingRule(hours=hours("08:00", "21:00")),
        "US-FL": CallingRule(hours=hours("08:00", "20:00"), max_calls_per_24h=3),
        "US-OK": CallingRule(hours=hours("08:00", "20:00"), max_calls_per_24h=3),
        "US-WA": CallingRule(hours=hours("08:00", "20:00")),
        "CA": CallingRule(
            hours=hours("09:00", "21:30"),
            days={"saturday": hours("10:00", "18:00"), "sunday": hours("10:00", "18:00")},
        ),
        "GB": CallingRule(hours=hours("08:00", "21:00")),
    }


def test_a_rule_for_one_state_replaces_that_states_default_only(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        'calling_time:\n  jurisdictions:\n    US-FL: {hours: {start: "09:00", end: "19:00"}, max_calls_per_24h: 2}\n',
    )
    assert rules["US-FL"] == CallingRule(hours=hours("09:00", "19:00"), max_calls_per_24h=2)
    assert {name: rule for name, rule in rules.items() if name != "US-FL"} == {
        name: rule for name, rule in DEFAULT_CALLING_RULES.items() if name != "US-FL"
    }


def test_a_state_without_a_default_can_close_sundays_and_its_holidays(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        "calling_time:\n  jurisdictions:\n    US-AL:\n      days: {sunday: closed}\n      holidays: [2026-12-25]\n",
    )
    alabama = rules["US-AL"]
    assert alabama.hours_on(date(2026, 12, 6)) == CLOSED  # a Sunday
    assert alabama.hours_on(date(2026, 12, 25)) == CLOSED  # a Friday, a holiday
    assert alabama.hours_on(date(2026, 12, 7)) is None  # a Monday: the federal hours alone
    assert rules["US"] == DEFAULT_CALLING_RULES["US"]


def test_a_country_without_a_default_gets_the_rule_configured_for_it(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, 'calling_time:\n  jurisdictions:\n    IE: {hours: {start: "09:00", end: "20:00"}}\n')
    assert rules["IE"] == CallingRule(hours=hours("09:00", "20:00"))


@pytest.mark.parametrize(
    ("jurisdictions", "message"),
    [
        ('US: {hours: {start: "07:00", end: "21:00"}}',
         "calling_time.jurisdictions: US.hours: 07:00–21:00 is wider than the legal 08:00–21:00; "
         "US may only narrow the default"),
        ('US-FL: {hours: {start: "08:00", end: "21:00"}, max_calls_per_24h: 3}',
         "US-FL.hours: 08:00–21:00 is wider than the legal 08:00–20:00"),
        ('US-FL: {hours: {start: "08:00", end: "20:00"}, max_calls_per_24h: 4}',
         "US-FL.max_calls_per_24h: 4 allows more than the legal 3"),
        ('US-OK: {hours: {start: "08:00", end: "20:00"}}',
         "US-OK.max_calls_per_24h: omitted allows more than the legal 3"),
        ("US-WA: {max_calls_per_24h: 2}", "US-WA.hours: no limit is wider than the legal 08:00–20:00"),
        ('CA: {hours: {start: "09:00", end: "21:30"}}',
         "CA.hours: 09:00–21:30 is wider than the legal 10:00–18:00"),
        ('CA: {hours: {start: "09:00", end: "21:00"}, days: {saturday: {start: "10:00", end: "18:30"}}}',
         "CA.days.saturday: 10:00–18:30 is wider than the legal 10:00–18:00"),
        ('US-XX: {hours: {start: "09:00", end: "20:00"}}', "US-XX: not a US state or Canadian province"),
        ('ZZ: {hours: {start: "09:00", end: "20:00"}}', "ZZ: not a region phonenumbers supports"),
        ("IE: {max_calls_per_24h: 2}", "IE.hours: a country's rule needs its hours"),
        ('GB: {hours: {start: "08:00", end: 21:00}}',
         'calling_time.jurisdictions.GB.hours.end: write times as quoted "HH:MM"'),
        ('GB: {hours: {start: "08:00", end: "21:00"}, days: {sonday: closed}}',
         "calling_time.jurisdictions.GB.days.sonday"),
        ('GB: {hours: {start: "09:00", end: "21:00"}, max_calls: 2}',
         "calling_time.jurisdictions.GB.max_calls: unknown key"),
    ],
)  # fmt: skip
def test_a_rule_that_loosens_the_law_or_cannot_be_placed_is_an_error_naming_its_key(
    tmp_path: Path, jurisdictions: str, message: str
) -> None:
    with pytest.raises(ConfigError, match="scrubline.yaml: ") as error:
        rules_of(tmp_path, f"calling_time:\n  jurisdictions:\n    {jurisdictions}\n")
    assert message in str(error.value)


def test_the_calling_rules_moved_out_of_the_calls_section(tmp_path: Path) -> None:
    text = SCRUBLINE_YAML + CALLS_YAML + '  calling_hours: {start: "09:00", end: "21:00"}\n  states: {}\n'
    with pytest.raises(ConfigError, match=r"calls: calling_hours and states moved to calling_time"):
        load_config(write_config(tmp_path, text))


@pytest.mark.parametrize(
    ("region", "subdivision", "jurisdictions"),
    [
        ("US", "US-FL", ["US", "US-FL"]),
        ("US", "US-NJ", ["US"]),
        ("US", None, ["US", "US-FL", "US-OK", "US-WA"]),  # no known state: every state's rule, the safe side
        ("CA", "CA-ON", ["CA"]),
        ("GB", None, ["GB"]),
        ("FR", None, []),  # no rule for the country: never callable
        (None, None, []),
    ],
)
def test_a_number_obeys_its_country_and_its_subdivision_or_every_subdivision_when_unknown(
    region: str | None, subdivision: str | None, jurisdictions: list[str]
) -> None:
    assert applicable_jurisdictions(DEFAULT_CALLING_RULES, region, subdivision) == jurisdictions
