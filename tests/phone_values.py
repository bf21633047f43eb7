"""A seeded generator of realistic and adversarial phone values across every region phonenumbers knows."""

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

NUMBER_TYPES = [value for name, value in vars(PhoneNumberType).items() if name.isupper() and name != "UNKNOWN"]
FORMATS = [
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
]
WRAPPERS = ["{}", " {} ", '"{}"', "'{}", "\t{}\n"]
GARBAGE = ["", " ", "n/a", "N/A", "none", "+", "++1", "0", "00", "abc", "call me", "#", "+1 (", "١٢٣٤٥٦٧٨٩٠", "1e10"]


def example_numbers() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    """Every region's example number of every type it has."""
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in NUMBER_TYPES:
            number = phonenumbers.example_number_for_type(region, number_type)
            if number is not None:
                examples.append((region, number))
    return examples


def phone_values(count: int, *, seed: int) -> list[tuple[str, str]]:
    """`count` (raw value, default region) pairs: formatted examples, mutations, punctuation, garbage."""
    rng = random.Random(seed)
    examples = example_numbers()
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    values = []
    for _ in range(count):
        region, number = rng.choice(examples)
        default_region = region if rng.random() < 0.6 else rng.choice(regions)
        text = phonenumbers.format_number(number, rng.choice(FORMATS))
        if rng.random() < 0.1:
            text = phonenumbers.format_out_of_country_calling_number(number, default_region)
        roll = rng.random()
        if roll < 0.25:
            text = _mutate(text, rng)
        elif roll < 0.35:
            text = "".join(ch for ch in text if ch.isdigit())
        elif roll < 0.45:
            text = rng.choice(["(", " ", "-", ".", "/"]).join(text.split(" "))
        elif roll < 0.5:
            text = f"{text} {rng.choice(['x', 'ext. ', ';ext=', '#'])}{rng.randint(1, 9999)}"
        elif roll < 0.55:
            text = rng.choice(GARBAGE)
        elif roll < 0.6:
            text = rng.choice(WRAPPERS).format(text)
        elif roll < 0.66:
            text = _zero_grouped(text, rng)
        elif roll < 0.7:
            text = _float_looking(text, rng)
        values.append((text, default_region))
    return values


def _zero_grouped(text: str, rng: random.Random) -> str:
    """The number's digits in dotted, spaced or dashed groups whose last group is `0`, `00` or `0000`.

    The zeros replace the number's last digits, so the grouping is a phone number, not a float, however it ends.
    """
    plus = "+" if text.startswith("+") else ""
    digits = "".join(ch for ch in text if ch.isdigit())
    zeros = "0" * rng.choice([1, 2, 4])
    body = digits[: max(len(digits) - len(zeros), 1)]
    cuts = sorted(rng.sample(range(1, len(body)), k=min(len(body) - 1, rng.randint(1, 3)))) if len(body) > 1 else []
    groups = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    return plus + rng.choice([".", " ", "-"]).join([*groups, zeros])


def _float_looking(text: str, rng: random.Random) -> str:
    """The digits as a spreadsheet float writes them (`2015550123.0`), sometimes signed or with more zeros."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return rng.choice(["", "+", "-"]) + digits + "." + "0" * rng.choice([1, 2, 3])


def _mutate(text: str, rng: random.Random) -> str:
    """Drop, duplicate or replace one digit: the typos a CRM actually holds."""
    positions = [index for index, ch in enumerate(text) if ch.isdigit()]
    if not positions:
        return text
    index = rng.choice(positions)
    kind = rng.choice(["drop", "double", "replace"])
    if kind == "drop":
        return text[:index] + text[index + 1 :]
    if kind == "double":
        return text[:index] + text[index] + text[index:]
    return text[:index] + str(rng.randint(0, 9)) + text[index + 1 :]
