"""Generate the committed sample data directory: a seeded, realistic, messy small inbox.

Run `python data/generate.py` to rewrite `data/inbox/` and `data/scrubline.yaml` dated for today (UTC), so the
registries are as fresh as the law asks on the day you run it; `--as-of 2026-11-27` rewrites the committed copy
byte for byte. Only the dates move with `--as-of`: every number and outcome stays the same.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import phonenumbers

SEED = 20261127
# The date the committed copy is generated for; other dates shift every date in the sample by the difference.
COMMITTED_AS_OF = date(2026, 11, 27)
# The national registries in the sample were downloaded a week before the run: well within 28 and 31 days.
REGISTRY_AGE_DAYS = 7
DATA_DIR = Path(__file__).resolve().parent
CONFIG = """\
default_region: US
crm:
  path: inbox/crm/*.csv
  id_column: contact_id
  phone_columns: [phone, mobile]
  country_column: country
  do_not_call_column: do_not_call
dialler:
  path: inbox/dialler/*.csv
  id_column: lead_id
  phone_column: phone
  country_column: country
registries:
  - name: internal_optouts
    format: plain
    path: inbox/registries/internal/*.csv
    phone_column: phone
    requested_at_column: requested_at  # an opt-out applies from when it was requested
    region: US
  - name: litigators
    format: plain
    path: inbox/registries/litigators/*.txt
    region: US
  - name: us_national_dnc
    format: us_dnc
    path: inbox/registries/national/*.txt
    downloaded_on: {downloaded_on}
  - name: uk_tps
    format: tps
    path: inbox/registries/tps/*.txt
    downloaded_on: {downloaded_on}
  - name: area_blocks
    format: wildcard
    path: inbox/registries/blocks/*.txt
    region: US
calls:
  records:
    path: inbox/calls/*.csv
    complaint_column: complaint
  estate:
    path: inbox/estate/*.csv
    reputation_label_column: reputation_label
    reputation_checked_column: reputation_checked_on
  daily_cap: 25
"""
US_AREA_CODES = ["201", "212", "305", "312", "415", "512", "617", "702", "213", "404", "206", "303"]
GARBAGE = ["n/a", "", "unknown", "12345", "555", "call me", "0000000000", "2.01555E+09"]

# The TPS file and wildcard blocks draw from their own generator, so the files above never change because of them.
REGISTRY_SEED = 20261129
# The call log and estate draw from their own generator, so the files above never change because of them.
CALLS_SEED = 20261128
CALL_DAYS = 14
POOLS = {"east": (["201", "212", "617"], 12), "central": (["312", "512"], 8), "west": (["415", "213", "206"], 10)}
CARRIERS = ["Bandwidth", "Telnyx", "Twilio"]
# (cli index, story): the CLIs whose recent days the health analytics should catch.
OVER_CAP, BURNT, SHORT_CALLS, SPAM_LABELLED, GREY_LABELLED, NIGHT_CALLS = 0, 1, 12, 20, 21, 22
RECENT_DAYS = 3
DURATION_S = {"answered": (20, 400), "voicemail": (15, 40), "no_answer": (25, 45), "busy": (2, 8), "failed": (0, 3)}


def us_number(rng: random.Random, area_codes: list[str] = US_AREA_CODES) -> phonenumbers.PhoneNumber:
    """A valid US number in a real area code."""
    while True:
        digits = (
            rng.choice(area_codes)
            + str(rng.randint(2, 9))
            + f"{rng.randint(0, 99):02d}"
            + f"{rng.randint(0, 9999):04d}"
        )
        number = phonenumbers.parse(digits, "US")
        if phonenumbers.is_valid_number(number):
            return number


def gb_number(rng: random.Random) -> phonenumbers.PhoneNumber:
    """A valid GB mobile or London landline."""
    while True:
        digits = rng.choice(["074", "075", "078", "079", "020"]) + f"{rng.randint(0, 99_999_999):08d}"
        number = phonenumbers.parse(digits, "GB")
        if phonenumbers.is_valid_number(number):
            return number


def messy(number: phonenumbers.PhoneNumber, rng: random.Random) -> str:
    """The number as a CRM or spreadsheet might hold it."""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = str(number.national_number)
    styles = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        national,
        national.replace(" ", ""),
        f"'{national.replace(' ', '')}" if number.country_code == 44 else f"{digits}.0",
        f"{number.country_code}-{digits}" if number.country_code == 1 else f"0044 {digits}",
        f" {national} ",
        f"{national} x{rng.randint(10, 999)}",
    ]
    return rng.choice(styles)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=date.fromisoformat, default=datetime.now(UTC).date(), help="YYYY-MM-DD")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where to write (default: this folder)")
    arguments = parser.parse_args(argv)
    generate(arguments.data_dir, as_of=arguments.as_of)


def generate(data_dir: Path, *, as_of: date) -> None:
    """Write the sample inbox and `scrubline.yaml` under `data_dir`, dated for a run on `as_of`."""
    shift = as_of - COMMITTED_AS_OF
    rng = random.Random(SEED)
    inbox = data_dir / "inbox"
    people = [(us_number(rng), "US") if rng.random() < 0.8 else (gb_number(rng), "GB") for _ in range(4000)]

    crm_rows = []
    for index, (number, country) in enumerate(people[:2000], start=1):
        mobile = messy(people[rng.randrange(len(people))][0], rng) if rng.random() < 0.3 else ""
        crm_rows.append(
            [
                f"C{index:05d}",
                messy(number, rng),
                mobile,
                country if rng.random() < 0.9 else "",
                "yes" if rng.random() < 0.03 else "no",
            ]
        )
    _write_csv(inbox / "crm" / "contacts.csv", ["contact_id", "phone", "mobile", "country", "do_not_call"], crm_rows)

    for campaign, size in [("spring_promo", 1500), ("winback", 1200)]:
        leads = rng.sample(people, size)
        leads += rng.sample(leads, size // 50)  # a few leads entered twice
        rows = []
        for index, (number, country) in enumerate(leads, start=1):
            phone = rng.choice(GARBAGE) if rng.random() < 0.04 else messy(number, rng)
            rows.append([f"{campaign[:2].upper()}{index:05d}", phone, country])
        path = inbox / "dialler" / f"{campaign}.csv"
        _write_csv(path, ["lead_id", "phone", "country"], rows)
        with path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(f"{campaign[:2].upper()}99999,2015550123,US,unexpected extra field\r\n")

    sample = rng.sample(people, 300)
    optouts = [
        [_opt_out(number, country, rng), f"{date(2026, rng.randint(1, 11), rng.randint(1, 28)) + shift}"]
        for number, country in sample[:120]
    ]
    _write_csv(inbox / "registries" / "internal" / "optouts.csv", ["phone", "requested_at"], optouts)
    us_sample = [number for number, country in sample[120:] if country == "US"]
    _write_lines(
        inbox / "registries" / "litigators" / "litigators.txt", [str(n.national_number) for n in us_sample[:30]]
    )
    _write_lines(
        inbox / "registries" / "national" / "us_dnc.txt",
        [f"{str(n.national_number)[:3]},{str(n.national_number)[3:]}" for n in us_sample[30:]],
    )
    write_registry_inbox(inbox, people)
    write_call_inbox(inbox, [number for number, _ in people], last_call_day=as_of - timedelta(days=1))
    downloaded_on = as_of - timedelta(days=REGISTRY_AGE_DAYS)
    (data_dir / "scrubline.yaml").write_text(CONFIG.format(downloaded_on=downloaded_on), encoding="utf-8")


def _opt_out(number: phonenumbers.PhoneNumber, country: str, rng: random.Random) -> str:
    """An opt-out as the desk wrote it: a US number as typed, a UK one in international form (the list is US)."""
    typed = messy(number, rng)
    return typed if country == "US" else phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def write_registry_inbox(inbox: Path, people: list[tuple[phonenumbers.PhoneNumber, str]]) -> None:
    """A TPS file in both record layouts (CR/LF) and two wildcard blocks, one E.164 and one dialler-style."""
    rng = random.Random(REGISTRY_SEED)
    gb_numbers = [number for number, country in people if country == "GB"]
    us_numbers = [number for number, country in people if country == "US"]
    records = [_tps_record(number, with_spaces=rng.random() < 0.5) for number in rng.sample(gb_numbers, 40)]
    path = inbox / "registries" / "tps" / "tps.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{record}\r\n" for record in records), encoding="ascii", newline="")
    # An area code and the first digit of its exchange: about one US number in a hundred per block.
    first, second = (str(number.national_number)[:4] for number in rng.sample(us_numbers, 2))
    _write_lines(inbox / "registries" / "blocks" / "area_blocks.txt", [f"+1{first}", f"{second}XXXXXX"])


def _tps_record(number: phonenumbers.PhoneNumber, *, with_spaces: bool) -> str:
    """A 12-character TPS record: a 5-character dialling code and 7-character remainder, or the digits space-padded."""
    national = f"0{number.national_number}"
    if not with_spaces:
        return national.ljust(12)
    code_length = 4 if national.startswith("02") else 5
    return national[:code_length].ljust(5) + national[code_length:].rjust(7)


def write_call_inbox(inbox: Path, recipients: list[phonenumbers.PhoneNumber], *, last_call_day: date) -> None:
    """The number estate and two weeks of its calls, with a CLI for each story the health analytics tell."""
    rng = random.Random(CALLS_SEED)
    clis = [
        (phonenumbers.format_number(us_number(rng, area_codes), phonenumbers.PhoneNumberFormat.E164), pool)
        for pool, (area_codes, size) in POOLS.items()
        for _ in range(size)
    ]
    _write_csv(
        inbox / "estate" / "clis.csv",
        ["cli", "pool", "carrier", "attestation", "reputation_label", "reputation_checked_on"],
        [[cli, pool, *_estate_fields(index, rng, last_call_day)] for index, (cli, pool) in enumerate(clis)],
    )
    rows = [
        call
        for offset in range(CALL_DAYS)
        for index, (cli, _) in enumerate(clis)
        for call in _cli_day(index, cli, last_call_day - timedelta(days=offset), recipients, rng, last_call_day)
    ]
    rows = [[f"K{number:06d}", *row] for number, row in enumerate(rows, start=1)]
    rows.append(rows[rng.randrange(len(rows))])  # an export that repeats a call
    path = inbox / "calls" / "log.csv"
    _write_csv(path, ["call_id", "cli", "dialled", "started_at", "duration_s", "disposition", "complaint"], rows)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(f"K999999,{clis[0][0]},2015550123,{last_call_day}T15:00:00Z,30,answered,,extra field\r\n")


def _estate_fields(index: int, rng: random.Random, last_call_day: date) -> list[str]:
    """Carrier, attestation, and the last reputation check: most come back clean, two carry a label."""
    label = {SPAM_LABELLED: "spam_likely", GREY_LABELLED: "telemarketing"}.get(index, "")
    # Checked on the 15th to the 25th of the committed copy's month: 11 to 1 days before its last call day, the 26th.
    checked_on = f"{last_call_day - timedelta(days=26 - rng.randint(15, 25))}" if label or rng.random() < 0.5 else ""
    return [rng.choice(CARRIERS), rng.choices("ABC", weights=[80, 15, 5])[0], label, checked_on]


def _cli_day(
    index: int,
    cli: str,
    day: date,
    recipients: list[phonenumbers.PhoneNumber],
    rng: random.Random,
    last_call_day: date,
) -> list[list[str]]:
    """One CLI's calls on one day; in the last days the story CLIs go over the cap, stop being answered, or hang up."""
    is_recent = (last_call_day - day).days < RECENT_DAYS
    count = rng.randint(26, 32) if index == OVER_CAP and is_recent else rng.randint(7, 12)
    answer_rate = 0.05 if index == BURNT and is_recent else 0.3
    short_share = 0.6 if index == SHORT_CALLS and is_recent else 0.0
    calls = []
    for _ in range(count):
        hour = rng.randint(3, 11) if index == NIGHT_CALLS and rng.random() < 0.3 else rng.randint(16, 23)
        started_at = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59))
        disposition = (
            "answered"
            if rng.random() < answer_rate
            else rng.choices(["no_answer", "voicemail", "busy", "failed"], weights=[60, 25, 10, 5])[0]
        )
        low, high = (1, 9) if rng.random() < short_share else DURATION_S[disposition]
        text = f"{started_at:%Y-%m-%dT%H:%M:%SZ}" if rng.random() > 0.002 else f"{started_at:%d/%m/%Y %H:%M}"
        calls.append(
            [
                cli,
                _dialled(rng.choice(recipients), rng),
                text,
                str(rng.randint(low, high)),
                disposition if rng.random() > 0.002 else "transferred",
                "yes" if rng.random() < 0.005 else "",
            ]
        )
    return calls


def _dialled(number: phonenumbers.PhoneNumber, rng: random.Random) -> str:
    """The number as the dialler logged it: E.164 abroad, now and then as typed at home."""
    if number.country_code == 1:
        return messy(number, rng)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


if __name__ == "__main__":
    main()
