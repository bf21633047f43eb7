"""Generate the committed sample data directory: a seeded, realistic, messy small inbox.

Run `python data/generate.py` to rewrite `data/inbox/` and `data/scrubline.yaml` identically.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import phonenumbers

SEED = 20261127
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
    region: US
  - name: litigators
    format: plain
    path: inbox/registries/litigators/*.txt
    region: US
  - name: us_national_dnc
    format: plain
    path: inbox/registries/national/*.txt
    region: US
"""
US_AREA_CODES = ["201", "212", "305", "312", "415", "512", "617", "702", "213", "404", "206", "303"]
GARBAGE = ["n/a", "", "unknown", "12345", "555", "call me", "0000000000", "2.01555E+09"]


def us_number(rng: random.Random) -> phonenumbers.PhoneNumber:
    """A valid US number in a real area code."""
    while True:
        digits = (
            rng.choice(US_AREA_CODES)
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


def main() -> None:
    rng = random.Random(SEED)
    inbox = DATA_DIR / "inbox"
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
        [messy(number, rng), f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"] for number, _ in sample[:120]
    ]
    _write_csv(inbox / "registries" / "internal" / "optouts.csv", ["phone", "requested_at"], optouts)
    us_sample = [number for number, country in sample[120:] if country == "US"]
    _write_lines(
        inbox / "registries" / "litigators" / "litigators.txt", [str(n.national_number) for n in us_sample[:30]]
    )
    _write_lines(inbox / "registries" / "national" / "us_dnc.txt", [str(n.national_number) for n in us_sample[30:]])
    (DATA_DIR / "scrubline.yaml").write_text(CONFIG, encoding="utf-8")


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
