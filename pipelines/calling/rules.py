"""The calling-time rule table: when, and how often, a number may be called, per jurisdiction.

A jurisdiction is a country (`US`, `CA`, `GB`: the number's region) or a subdivision of one
(`US-FL`, `CA-ON`: ISO 3166-2). A number obeys its country's rule and its subdivision's, all at
once: the latest start, the earliest end, any closed day or holiday, the lowest call limit. The
defaults below are the law (or, for GB, practice); `calling_time.jurisdictions` in `scrubline.yaml`
replaces the default of each jurisdiction it names and no other, and may only narrow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Annotated, Literal

import phonenumbers
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from pipelines.registries.us_states import SUBDIVISION_CODES

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CLOSED = "closed"


def _quoted_time(value: object) -> object:
    """Times must be quoted strings: YAML reads an unquoted 20:00 as the number 1200."""
    if not isinstance(value, str | time):
        raise ValueError(f'write times as quoted "HH:MM" strings (YAML read {value!r})')
    return value


LocalTime = Annotated[time, BeforeValidator(_quoted_time)]


class _Rules(BaseModel):
    """A rule section: unknown keys are errors, so a typo never silently disables a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CallingWindow(_Rules):
    """Local hours in which calls are allowed: from `start` (inclusive) to `end` (exclusive)."""

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _start_before_end(self) -> CallingWindow:
        if self.start >= self.end:
            raise ValueError(f"start {self.start:%H:%M} must be before end {self.end:%H:%M}")
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


DayHours = CallingWindow | Literal["closed"]


class CallingRule(_Rules):
    """One jurisdiction's rule: its hours, a day of the week's own hours or `closed`, holidays, a call limit.

    An omitted part does not constrain: a subdivision rule with only a call limit keeps its country's hours.
    """

    hours: CallingWindow | None = None
    days: dict[Weekday, DayHours] = {}
    holidays: list[date] = []
    # Calls to one number in any 24 hours (Florida and Oklahoma: on the same subject; Scrubline counts every call).
    max_calls_per_24h: int | None = Field(default=None, gt=0)

    def hours_on(self, day: date) -> DayHours | None:
        """The local hours this rule allows on `day`: a window, `closed`, or None when it says nothing."""
        if day in self.holidays:
            return CLOSED
        return self.days.get(WEEKDAYS[day.weekday()], self.hours)


# 47 CFR 64.1200(c)(1); Fla. Stat. 501.616(6); 15 O.S. 775C.4; RCW 80.36.390; CRTC Unsolicited
# Telecommunications Rules, Part III; Ofcom/ICO practice (the UK has no statutory calling hours).
_EIGHT_TO_EIGHT = CallingWindow(start=time(8), end=time(20))
_CANADA_WEEKEND = CallingWindow(start=time(10), end=time(18))
DEFAULT_CALLING_RULES: dict[str, CallingRule] = {
    "US": CallingRule(hours=CallingWindow(start=time(8), end=time(21))),
    "US-FL": CallingRule(hours=_EIGHT_TO_EIGHT, max_calls_per_24h=3),
    "US-OK": CallingRule(hours=_EIGHT_TO_EIGHT, max_calls_per_24h=3),
    "US-WA": CallingRule(hours=_EIGHT_TO_EIGHT),
    "CA": CallingRule(
        hours=CallingWindow(start=time(9), end=time(21, 30)),
        days={"saturday": _CANADA_WEEKEND, "sunday": _CANADA_WEEKEND},
    ),
    "GB": CallingRule(hours=CallingWindow(start=time(8), end=time(21))),
}


class CallingTime(_Rules):
    """`calling_time:` in `scrubline.yaml`: rules by jurisdiction, each replacing that jurisdiction's default only."""

    jurisdictions: dict[str, CallingRule] = {}

    @field_validator("jurisdictions")
    @classmethod
    def _only_narrower(cls, configured: dict[str, CallingRule]) -> dict[str, CallingRule]:
        problems = [
            problem
            for name, rule in configured.items()
            for problem in (_jurisdiction_problem(name, rule) or _loosenings(name, rule))
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return configured

    @property
    def rules(self) -> dict[str, CallingRule]:
        """Every jurisdiction's rule in force: the defaults, with each configured jurisdiction's replaced."""
        return {**DEFAULT_CALLING_RULES, **self.jurisdictions}


def applicable_jurisdictions(
    rules: Mapping[str, CallingRule], region: str | None, subdivision: str | None
) -> list[str]:
    """The rules a number obeys: its country's and its subdivision's; with no known subdivision, every one of its
    country's (the safe side); none when its country has no rule."""
    if region not in rules:
        return []
    prefix = f"{region}-"
    subdivisions = sorted(name for name in rules if name.startswith(prefix))
    if subdivision is not None:
        subdivisions = [name for name in subdivisions if name == subdivision]
    return [region, *subdivisions]


def _jurisdiction_problem(name: str, rule: CallingRule) -> list[str]:
    """Why `name` is not a jurisdiction Scrubline can place a number in, if it is not."""
    country, _, subdivision = name.partition("-")
    if country not in phonenumbers.SUPPORTED_REGIONS:
        return [f"{name}: not a region phonenumbers supports; use e.g. US, CA, GB, or US-FL for a state"]
    if subdivision and name not in SUBDIVISION_CODES:
        return [f"{name}: not a US state or Canadian province Scrubline locates numbers in (e.g. US-FL, CA-ON)"]
    if not subdivision and rule.hours is None:
        return [f"{name}.hours: a country's rule needs its hours, so every day has a window or is closed"]
    return []


def _loosenings(name: str, rule: CallingRule) -> list[str]:
    """How `rule` would allow more than the legal default it replaces, key by key."""
    legal = DEFAULT_CALLING_RULES.get(name)
    if legal is None:
        return []
    where = f"{name} may only narrow the default"
    problems = [
        f"{name}.{_day_key(rule, weekday)}: {_hours_text(mine)} is wider than the legal {_hours_text(theirs)}; {where}"
        for weekday, (mine, theirs) in enumerate(zip(_week(rule), _week(legal), strict=True))
        if not _is_within(mine, theirs)
    ]
    missing = sorted(set(legal.holidays) - set(rule.holidays))
    if missing:
        problems.append(f"{name}.holidays: drops {', '.join(map(str, missing))}; {where}")
    limit, legal_limit = rule.max_calls_per_24h, legal.max_calls_per_24h
    if legal_limit is not None and (limit is None or limit > legal_limit):
        given = "omitted" if limit is None else limit
        problems.append(f"{name}.max_calls_per_24h: {given} allows more than the legal {legal_limit}; {where}")
    return list(dict.fromkeys(problems))


def _week(rule: CallingRule) -> list[DayHours | None]:
    """The rule's hours on each weekday, Monday first (holidays aside)."""
    return [rule.days.get(weekday, rule.hours) for weekday in WEEKDAYS]


def _is_within(mine: DayHours | None, theirs: DayHours | None) -> bool:
    if theirs is None or mine == CLOSED:
        return True
    if mine is None or theirs == CLOSED:
        return False
    return theirs.start <= mine.start and mine.end <= theirs.end


def _day_key(rule: CallingRule, weekday: int) -> str:
    """The key that set a weekday's hours: `days.<weekday>` or `hours`."""
    return f"days.{WEEKDAYS[weekday]}" if WEEKDAYS[weekday] in rule.days else "hours"


def _hours_text(hours: DayHours | None) -> str:
    return "no limit" if hours is None else str(hours)
