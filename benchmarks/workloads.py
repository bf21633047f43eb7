"""Seeded, vectorised generators of the inputs the benchmarks time."""

from pathlib import Path

import duckdb
import numpy as np
import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberFormat, PhoneNumberType

# Share of each region in a realistic CRM export.
CRM_REGIONS = {"US": 0.45, "GB": 0.15, "DE": 0.1, "FR": 0.1, "AU": 0.1, "IN": 0.1}
GARBAGE = ["n/a", "", "unknown", "12345", "call me", "0000000000", "2.01555E+09", "-", "TBD", "none"]
_FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL]
_TEMPLATES = 50_000
_ALL_FORMATS = [
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
]


def crm_mix(rows: int, *, seed: int) -> pl.DataFrame:
    """`phone, country` rows: mostly US/GB/DE/FR/AU/IN formats, 30% repeated numbers, 5% garbage.

    Formatted templates (E.164, international, national, digits only, dashes) get their last
    two digits varied, so 70% of the rows are distinct numbers; 2% carry an `x123` extension.
    """
    rng = np.random.default_rng(seed)
    templates = _templates(rng)
    distinct = int(rows * 0.7)
    picks = pl.Series(rng.integers(0, templates.height, size=distinct))
    phone = pl.col("phone")
    numbers = templates[picks].with_columns(
        phone=pl.concat_str(
            phone.str.slice(0, phone.str.len_chars() - 4),
            pl.Series(rng.integers(0, 10_000, distinct)).cast(pl.String).str.zfill(4),
        )
    )
    with_extension = pl.Series(rng.random(distinct) < 0.02)
    numbers = numbers.with_columns(
        phone=pl.when(with_extension).then(pl.concat_str(phone, pl.lit(" x"), pl.lit("123"))).otherwise(phone)
    )
    repeated = numbers.sample(rows - distinct, with_replacement=True, seed=seed)
    mix = pl.concat([numbers, repeated]).sample(fraction=1.0, shuffle=True, seed=seed)
    is_garbage = pl.Series(rng.random(rows) < 0.05)
    garbage = pl.Series(rng.choice(GARBAGE, size=rows))
    return mix.with_columns(phone=pl.when(is_garbage).then(garbage).otherwise(phone))


def broad_mix(rows: int, *, seed: int) -> pl.DataFrame:
    """`phone, country` rows from every supported region, in every format phonenumbers documents (E.164,
    international, national, RFC 3966) and out-of-country dialling, 30% repeated; the row's country is the
    number's own region 60% of the time, another region otherwise."""
    rng = np.random.default_rng(seed)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    examples = [
        (region, number)
        for region in regions
        for number_type in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)
        if (number := phonenumbers.example_number_for_type(region, number_type)) is not None
    ]
    distinct = int(rows * 0.7)
    picks = rng.integers(0, len(examples), size=distinct)
    varied = rng.integers(0, 100, size=distinct)
    formats = rng.integers(0, 5, size=distinct)
    elsewhere = rng.random(distinct) >= 0.6
    others = rng.choice(regions, size=distinct)
    phones, countries = [], []
    for pick, digits, form, is_elsewhere, other in zip(picks, varied, formats, elsewhere, others, strict=True):
        region, example = examples[pick]
        national = str(example.national_number)
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:-4] + f"{digits:02d}" + national[-2:])
            if len(national) > 5
            else example.national_number,
            italian_leading_zero=example.italian_leading_zero,
            number_of_leading_zeros=example.number_of_leading_zeros,
        )
        country = str(other) if is_elsewhere else region
        phones.append(
            phonenumbers.format_out_of_country_calling_number(number, country)
            if form == 4
            else phonenumbers.format_number(number, _ALL_FORMATS[form])
        )
        countries.append(country)
    numbers = pl.DataFrame({"phone": phones, "country": countries})
    repeated = numbers.sample(rows - distinct, with_replacement=True, seed=seed)
    return pl.concat([numbers, repeated]).sample(fraction=1.0, shuffle=True, seed=seed)


def us_registry_numbers(rows: int, *, seed: int) -> pl.DataFrame:
    """Ten-digit US numbers as the national registry ships them, one `phone` string per row."""
    rng = np.random.default_rng(seed)
    area_codes = np.array([int(code) for code in _us_area_codes()])
    numbers = rng.choice(area_codes, size=rows) * 10_000_000 + rng.integers(2_000_000, 10_000_000, size=rows)
    return pl.DataFrame({"phone": numbers}).with_columns(pl.col("phone").cast(pl.String))


def _templates(rng: np.random.Generator) -> pl.DataFrame:
    """Formatted example-based numbers of the CRM regions, in their regional shares."""
    regions = rng.choice(list(CRM_REGIONS), size=_TEMPLATES, p=list(CRM_REGIONS.values()))
    phones = [_formatted_number(region, rng) for region in regions]
    return pl.DataFrame({"phone": phones, "country": regions})


def _formatted_number(region: str, rng: np.random.Generator) -> str:
    """An example number of the region with its middle digits varied, in a random format."""
    number_type = PhoneNumberType.MOBILE if rng.random() < 0.5 else PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(region, number_type)
    national = str(example.national_number)
    varied = national[:-6] + f"{rng.integers(0, 100):02d}" + national[-4:]
    number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(varied))
    text = phonenumbers.format_number(number, _FORMATS[rng.integers(0, len(_FORMATS))])
    roll = rng.random()
    if roll < 0.1:
        return "".join(ch for ch in text if ch.isdigit())
    if roll < 0.15:
        return text.replace(" ", "-")
    return text


def _us_area_codes() -> list[str]:
    """Area codes that phonenumbers' US metadata accepts for fixed lines."""
    pattern = phonenumbers.PhoneMetadata.metadata_for_region("US").fixed_line.national_number_pattern
    codes = pl.Series([f"{code}2345678" for code in range(200, 1000)])
    return codes.filter(codes.str.contains(f"^(?:{pattern})$")).str.slice(0, 3).to_list()


def write_us_download(path: Path, rows: int, *, seed: int) -> None:
    """A US full-list download of `rows` lines in random order, half `NPA,NXXXXXX` and half ten digits.

    Area codes are ones the US metadata accepts; the seven digits after them are uniform, so about
    a fifth of the numbers have an exchange starting 0 or 1, which the engine calls invalid.
    """
    _write_us_lines(path, rows, seed=seed, record=_FULL_LIST_RECORD)


def write_us_changes(path: Path, rows: int, *, seed: int) -> None:
    """A US change list of `rows` lines, `NPA,NXXXXXX,A` and `NPA,NXXXXXX,D` alternately."""
    _write_us_lines(path, rows, seed=seed, record=_CHANGE_RECORD)


def _write_us_lines(path: Path, rows: int, *, seed: int, record: str) -> None:
    """`rows` random US numbers written one `record` a line by DuckDB, without holding them in memory."""
    with duckdb.connect() as connection:
        connection.execute("select setseed($seed)", {"seed": (seed % 1000) / 1000}).fetchall()
        connection.register("area_codes", pl.DataFrame({"area_code": [int(code) for code in _us_area_codes()]}))
        # COPY takes no bound target: the path is the benchmark's own temporary file, quoted as a literal.
        target = str(path).replace("'", "''")
        connection.execute(_US_LINES.format(record=record, path=target), {"rows": rows}).fetchall()


_FULL_LIST_RECORD = """
case when line % 2 = 0 then area_code || ',' || lpad(subscriber::varchar, 7, '0')
     else area_code || lpad(subscriber::varchar, 7, '0') end
"""
_CHANGE_RECORD = """
area_code || ',' || lpad(subscriber::varchar, 7, '0') || case when line % 2 = 0 then ',A' else ',D' end
"""
_US_LINES = """
copy (
    with codes as (
        select list(area_code) as area_codes from area_codes
    ),
    numbers as (
        select
            range as line,
            list_extract(area_codes, 1 + floor(random() * len(area_codes))::bigint) as area_code,
            floor(random() * 10000000)::bigint as subscriber
        from range($rows), codes
    )
    select {record} as record
    from numbers
) to '{path}' (header false, quote '', delimiter '|')
"""
