"""The normaliser gives exactly phonenumbers' answer, after its documented pre-cleaning rules."""

from collections.abc import Callable

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.phones import parse as phone_parse
from pipelines.phones.e164 import e164_as_int, normalise_phones
from tests.phone_values import NUMBER_TYPES, example_numbers, phone_values


def reference(raw: str | None, region: str) -> tuple[str | None, bool, str | None, str | None, str | None]:
    """phonenumbers called directly, after the pre-cleaning rules written out by hand."""
    cleaned = without_float_zeros((raw or "").strip(" \t\r\n\u00a0\"'"))
    if cleaned.startswith("00") and phonenumbers.country_code_for_region(region) == 1:
        cleaned = "+" + cleaned[2:]
    if not cleaned or ("E+" in cleaned.upper() and cleaned.replace(".", "").upper().split("E+")[0].isdigit()):
        return None, False, None, None, None
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None, False, None, None, None
    if not phonenumbers.is_valid_number(number):
        return None, False, None, None, number.extension or None
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        True,
        phonenumbers.PhoneNumberType.to_string(phonenumbers.number_type(number)).lower(),
        phonenumbers.region_code_for_number(number),
        number.extension or None,
    )


def without_float_zeros(text: str) -> str:
    """The documented rule (docs/e164.md), read word by word: a value that is an optional sign or plus, ASCII
    digits, a point and only zeros is a float, and loses the point and zeros; any other value is left to
    phonenumbers."""
    head, point, zeros = text.rpartition(".")
    digits = head[1:] if head[:1] in ("+", "-") else head
    is_float = bool(point) and set(zeros) == {"0"} and digits.isascii() and digits.isdigit()
    return head if is_float else text


def normalised(
    values: list[tuple[str | None, str]],
) -> list[tuple[str | None, bool, str | None, str | None, str | None]]:
    frame = pl.DataFrame(values, schema={"phone": pl.String, "country": pl.String}, orient="row")
    result = normalise_phones(frame, "phone", region="US", region_column="country")
    return result.select("phone_e164", "phone_valid", "phone_type", "phone_region", "phone_extension").rows()


def test_agrees_with_phonenumbers_on_every_generated_value() -> None:
    values = phone_values(40_000, seed=1)
    expected = [reference(raw, region) for raw, region in values]
    mismatches = [
        (value, got, want) for value, got, want in zip(values, normalised(values), expected, strict=True) if got != want
    ]
    assert mismatches == []
    assert sum(valid for _, valid, *_ in expected) > 10_000
    assert {region for _, region in values} == phonenumbers.SUPPORTED_REGIONS


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=25), st.sampled_from(["US", "GB", "DE", "IN", "AU", "BR", "ZZ"])), max_size=20)
)
def test_never_raises_and_agrees_on_arbitrary_strings(values: list[tuple[str, str]]) -> None:
    assert normalised(values) == [reference(raw, region) for raw, region in values]


@pytest.mark.parametrize(
    ("raw", "region", "e164", "reason"),
    [
        ("  (201) 555-0123  ", "US", "+12015550123", None),
        ('"2015550123"', "US", "+12015550123", None),
        ("'07400123456", "GB", "+447400123456", None),
        ("2015550123.0", "US", "+12015550123", None),
        ("2015550123.000", "US", "+12015550123", None),
        ("+12015550123.0", "US", "+12015550123", None),
        ("201.555.068.0", "US", "+12015550680", None),
        ("201 555 068 0", "US", "+12015550680", None),
        ("+49.30.1234.567.0", "US", "+493012345670", None),
        ("+49-30-1234-56.00", "US", "+493012345600", None),
        ("2.01555E+09", "US", None, "excel_mangled"),
        ("2.01555e+09", "US", None, "excel_mangled"),
        ("", "US", None, "empty"),
        (None, "US", None, "empty"),
        ("call me", "US", None, "not_a_number"),
        ("+999 123 4567", "US", None, "invalid_country_code"),
        ("12", "US", None, "too_short"),
        ("201555012345678901", "US", None, "too_long"),
        ("2015550123", "XX", None, "invalid_country_code"),
        ("+44 20 7946 0018", "US", "+442079460018", None),
        ("0044 20 7946 0018", "US", "+442079460018", None),
        ("0044 20 7946 0018", "CA", "+442079460018", None),
        ("0044 20 7946 0018", "GB", "+442079460018", None),
        ("011 44 20 7946 0018", "US", "+442079460018", None),
        ("0113 496 0000", "GB", "+441134960000", None),
        ("tel:+1-201-555-0123", "US", "+12015550123", None),
        ("+44 (0)20 7946 0018", "US", "+442079460018", None),
        ("２０１-５５５-０１２３", "US", "+12015550123", None),
        ("1-800-FLOWERS", "US", "+18003569377", None),
        ("201-555-0123 ext. 12", "US", "+12015550123", None),
    ],
)
def test_pre_cleaning_rules_and_reasons(raw: str | None, region: str, e164: str | None, reason: str | None) -> None:
    frame = pl.DataFrame({"phone": [raw], "country": [region]}, schema={"phone": pl.String, "country": pl.String})
    result = normalise_phones(frame, "phone", region="US", region_column="country")
    assert result.select("phone_e164", "phone_reason").row(0) == (e164, reason)


def test_a_value_too_long_to_parse_never_shares_the_answer_of_its_digits() -> None:
    frame = pl.DataFrame({"phone": ["(201) 555-0123", "(" * 250 + "201) 555-0123"]})
    result = normalise_phones(frame, "phone", region="US")
    assert result.select("phone_e164", "phone_reason").rows() == [("+12015550123", None), (None, "too_long")]


def test_the_frame_s_own_columns_are_kept_whatever_their_names() -> None:
    own = {name: ["mine"] for name in ("type", "region", "valid", "reason", "e164", "extension", "_raw")}
    normalised = normalise_phones(pl.DataFrame({"phone": ["(201) 555-0123"], **own}), "phone", region="US")
    assert normalised.select(*own).to_dicts() == [{name: "mine" for name in own}]
    assert normalised.select("phone_e164", "phone_region").row(0) == ("+12015550123", "US")


def test_a_blank_row_region_falls_back_to_the_default() -> None:
    frame = pl.DataFrame({"phone": ["020 7946 0018", "020 7946 0018"], "country": ["", None]})
    result = normalise_phones(frame, "phone", region="GB", region_column="country")
    assert result.get_column("phone_e164").to_list() == ["+442079460018", "+442079460018"]


def test_phonenumbers_answers_each_distinct_unusual_value_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    parse = phonenumbers.parse
    monkeypatch.setattr(
        phonenumbers, "parse", lambda value, region: calls.append((value, region)) or parse(value, region)
    )
    phones = ["1-800-FLOWERS", " 1-800-FLOWERS ", "1-800-FLOWERS", "(201) 555-0123 x12", "+1 201.555.0123"]
    frame = pl.DataFrame({"phone": phones, "country": ["US", "US", "CA", "US", "US"]})
    result = normalise_phones(frame, "phone", region="US", region_column="country")
    assert sorted(calls) == [("1-800-FLOWERS", "CA"), ("1-800-FLOWERS", "US")]
    assert result.select("phone_e164", "phone_extension").rows() == [
        ("+18003569377", None),
        ("+18003569377", None),
        ("+18003569377", None),
        ("+12015550123", "12"),
        ("+12015550123", None),
    ]


def test_rows_keep_their_order_when_every_value_is_a_bare_national_number_of_several_regions() -> None:
    frame = pl.DataFrame({"phone": ["2015550123", "7400123456", "2015550124"], "country": ["US", "GB", "US"]})
    result = normalise_phones(frame, "phone", region="US", region_column="country")
    assert result.get_column("phone_e164").to_list() == ["+12015550123", "+447400123456", "+12015550124"]


def test_a_hash_collision_between_values_never_mixes_their_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pl.Expr, "hash", lambda self, *args, **kwargs: pl.lit(0, pl.UInt64))
    frame = pl.DataFrame({"phone": ["+44 20 7946 0018", None, "(201) 555-0123"], "country": ["US", "US", "CA"]})
    result = normalise_phones(frame, "phone", region="US", region_column="country")
    assert result.select("phone_e164", "phone_reason").rows() == [
        ("+442079460018", None),
        (None, "empty"),
        ("+12015550123", None),
    ]


@pytest.mark.parametrize("exchange_block", ["2684", "6842", "7874", "8005"])
def test_bare_national_numbers_of_one_block_agree_with_phonenumbers(exchange_block: str) -> None:
    phones = [str(number) for number in range(int(exchange_block) * 10**6, (int(exchange_block) + 1) * 10**6, 61)]
    result = normalise_phones(pl.DataFrame({"phone": phones}), "phone", region="US")
    expected = [reference(phone, "US") for phone in phones]
    got = result.select("phone_e164", "phone_valid", "phone_type", "phone_region", "phone_extension").rows()
    assert got == expected


def test_an_e164_integer_gives_the_number_back_even_at_fifteen_digits() -> None:
    numbers = pl.Series(["+12015550123", "+999999999999999", "+8001"])
    integers = pl.select(e164_as_int(pl.lit(numbers))).to_series()
    assert integers.to_list() == [12015550123, 999_999_999_999_999, 8001]
    assert integers.dtype == pl.Int64
    assert ("+" + integers.cast(pl.String)).to_list() == numbers.to_list()


@pytest.mark.parametrize(
    "break_keys",
    [
        pytest.param(lambda keys: keys.slice(1), id="a key lost"),
        pytest.param(lambda keys: keys.with_columns(_index=pl.lit(None, pl.UInt32)).reverse(), id="keys unnamed"),
    ],
)
def test_a_port_step_that_loses_its_keys_fails_rather_than_misplace_answers(
    monkeypatch: pytest.MonkeyPatch, break_keys: Callable[[pl.DataFrame], pl.DataFrame]
) -> None:
    strip = phone_parse._strip_national_prefix
    monkeypatch.setattr(phone_parse, "_strip_national_prefix", lambda keys: break_keys(strip(keys)))
    with pytest.raises(RuntimeError, match="lost or repeated a key"):
        normalise_phones(pl.DataFrame({"phone": ["020 7946 0018", "0161 496 0000"]}), "phone", region="GB")


def test_numbers_of_a_country_code_without_a_decisive_key_are_left_to_phonenumbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = [("2015550123", "US"), ("+1 201 555 0124", "GB"), ("020 7946 0018", "GB"), ("030 1234567", "DE")]
    expected = [reference(raw, region) for raw, region in values]
    alone = [("+44 20 7946 0019", "US")]
    expected_alone = [reference(raw, region) for raw, region in alone]
    unbounded = phone_parse._DECISIVE_WIDTHS.clone().scatter([1, 44], None)
    monkeypatch.setattr(phone_parse, "_DECISIVE_WIDTHS", unbounded)
    calls: list[tuple[str, str]] = []
    parse = phonenumbers.parse
    monkeypatch.setattr(
        phonenumbers, "parse", lambda value, region: calls.append((value, region)) or parse(value, region)
    )
    assert normalised(values) == expected
    assert sorted(calls) == [("+1 201 555 0124", "GB"), ("020 7946 0018", "GB"), ("2015550123", "US")]
    assert normalised(alone) == expected_alone


@pytest.mark.parametrize("region", ["US", "GB", "IT", "RU", "BR", "AU", "IN", "CN"])
def test_international_numbers_agree_with_phonenumbers_whatever_two_digits_follow_the_country_code(
    region: str,
) -> None:
    code = str(phonenumbers.country_code_for_region(region))
    starts = [f"{first}{second}" for first in "0123456789" for second in "0123456789"]
    values = [(f"+{code}{start}{rest}", "US") for start in starts for rest in ("", "0020123456", "9" * 14)]
    assert normalised(values) == [reference(raw, "US") for raw, _ in values]


def test_a_national_prefix_written_after_the_country_code_is_stripped_as_libphonenumber_strips_it() -> None:
    values = [("+44 180020 20 7946 0018", "US"), ("+86 11791 2345678901", "US"), ("+44 1614960000", "US")]
    assert [e164 for e164, *_ in normalised(values)] == ["+442079460018", "+862345678901", "+441614960000"]
    assert normalised(values) == [reference(raw, region) for raw, region in values]


TEL_URIS = [
    "tel:+1-201-555-0123", "tel:2015550123", "tel:+1-201-555-0123;ext=42", "tel:+44-20-7946-0018",
    "tel:+1-201-555-0123;phone-context=example.com", "tel:+1-201-555-0123;isub=12", "tel:0044 20 7946 0018",
    "tel:", "tel:+", "TEL:+1-201-555-0123", "tel:+1(201)555-0123", "tel:+49-30-1234-567.0", "tel:tel:+12015550123",
]  # fmt: skip


@pytest.mark.parametrize("value", TEL_URIS)
@pytest.mark.parametrize("region", ["US", "GB", "DE"])
def test_a_tel_uri_gets_phonenumbers_answer_whether_or_not_the_fast_path_reads_it(value: str, region: str) -> None:
    assert normalised([(value, region)]) == [reference(value, region)]


TRANSFORM_REGIONS = sorted(
    region
    for region in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix_transform_rule
)


def written_forms(region: str) -> list[str]:
    """Each example number of `region` as written at home and abroad: bare, national format, after a national
    prefix, its country code or both, as a local number without its area code, and one digit off."""
    forms = []
    for number_type in NUMBER_TYPES:
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        code, nsn = str(example.country_code), phonenumbers.national_significant_number(example)
        national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms += [nsn, national, f"0{nsn}", f"1{nsn}", f"90{nsn}", f"{code}{nsn}", f"+{code}{nsn}", f"+{code}0{nsn}"]
        forms += [local for width in range(5, 9) for local in (nsn[-width:], f"0{nsn[-width:]}", f"1{nsn[-width:]}")]
        forms += [f"{nsn[:-1]}{digit}" for digit in "09"] + [f"{nsn}{digit}" for digit in "09"]
    return forms


@pytest.mark.parametrize("region", TRANSFORM_REGIONS)
def test_numbers_of_a_region_with_a_national_prefix_transform_rule_agree_with_phonenumbers(region: str) -> None:
    main_region = phonenumbers.region_code_for_country_code(phonenumbers.country_code_for_region(region))
    values = [(form, home) for form in written_forms(region) for home in sorted({region, main_region, "US", "GB"})]
    assert normalised(values) == [reference(raw, home) for raw, home in values]


def test_numbers_written_for_dialling_from_every_region_agree_with_phonenumbers() -> None:
    """phonenumbers' own out-of-country forms: each region's IDD, `~` for a dial tone (`8~10`), or none at all."""
    numbers = [number for _, number in example_numbers()[::29]]
    homes = sorted(phonenumbers.SUPPORTED_REGIONS)
    values = [
        (phonenumbers.format_out_of_country_calling_number(number, home), home) for home in homes for number in numbers
    ]
    assert any("~" in value for value, _ in values)
    assert normalised(values) == [reference(raw, home) for raw, home in values]


def test_a_country_code_written_in_brackets_agrees_with_phonenumbers() -> None:
    """`(+44) 20 7946 0018`, `(+44)(0)20 …`, `(+44 20 …`: phonenumbers reads the number from its first `+`."""
    values = []
    for region, number in example_numbers()[::7]:
        code, nsn = number.country_code, phonenumbers.national_significant_number(number)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        for form in (f"(+{code}) {nsn}", f"(+{code}){national}", f"(+{code} {nsn}", f"(+{code}) (0){nsn} x12"):
            values += [(form, region), (form, "US")]
    assert normalised(values) == [reference(raw, home) for raw, home in values]
