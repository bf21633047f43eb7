"""Registries are read in the layouts their operators ship; a record out of layout fails the run."""

import hashlib
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Registry
from pipelines.errors import RegistryError
from pipelines.registries.entries import normalise_registries, read_registry
from pipelines.registries.formats import read_line_registry

DOWNLOADED_ON = date(2026, 11, 20)


def registry(registry_format: str, **options: object) -> Registry:
    national = {"downloaded_on": DOWNLOADED_ON} if registry_format in ("us_dnc", "tps", "dncl") else {"region": "US"}
    return Registry(name="dnc", format=registry_format, path="inbox/dnc/*", **{**national, **options})


def write(data_dir: Path, name: str, content: bytes) -> Path:
    path = data_dir / "inbox" / "dnc" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def entries(
    phones: list[str | None],
    *,
    rows: list[int],
    files: list[str],
    sha256: list[str],
    blocks: list[str | None] | None = None,
    downloaded_on: date | None = DOWNLOADED_ON,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "registry": ["dnc"] * len(phones),
            "phone": phones,
            "block_prefix": blocks or [None] * len(phones),
            "source_file": files,
            "source_row": rows,
            "source_sha256": sha256,
            "downloaded_on": [downloaded_on] * len(phones),
            "requested_at": [None] * len(phones),
            "seller_scope": [None] * len(phones),
            "is_unterminated": [False] * len(phones),
        },
        schema={
            "registry": pl.String, "phone": pl.String, "block_prefix": pl.String, "source_file": pl.String,
            "source_row": pl.Int64, "source_sha256": pl.String, "downloaded_on": pl.Date,
            "requested_at": pl.Datetime("us", "UTC"), "seller_scope": pl.String, "is_unterminated": pl.Boolean,
        },
    )  # fmt: skip


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("registry_format", "content", "phones"),
    [
        ("us_dnc", b"201,5550123\n2125550142\n", ["2015550123", "2125550142"]),
        ("us_dnc", b"201,5550123\r\n\r\n212,5550142\r\n", ["2015550123", "2125550142"]),
        ("dncl", b"416,5550134\r\n613,5550123\r\n", ["4165550134", "6135550123"]),
        ("tps", b"0207 3787244\r\n01635 506160\r\n07860 338653\r\n", ["02073787244", "01635506160", "07860338653"]),
        ("tps", b"02073787244 \r\n01635506160 \r\n", ["02073787244", "01635506160"]),
    ],
    ids=["us_dnc", "us_dnc_crlf_blank_line", "dncl", "tps_with_spaces", "tps_without_spaces"],
)
def test_each_national_format_reads_one_number_per_record(
    tmp_path: Path, registry_format: str, content: bytes, phones: list[str]
) -> None:
    write(tmp_path, "list.txt", content)
    rows = [1, 3] if b"\r\n\r\n" in content else list(range(1, len(phones) + 1))
    expected = entries(
        phones, rows=rows, files=["inbox/dnc/list.txt"] * len(phones), sha256=[sha(content)] * len(phones)
    )
    assert_frame_equal(read_registry(registry(registry_format), data_dir=tmp_path), expected)


def test_a_zipped_us_download_reads_every_text_file_in_it(tmp_path: Path) -> None:
    path = write(tmp_path, "dnc.zip", b"")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("212.txt", "212,5550142\n")
        archive.writestr("201.txt", "201,5550123\n201,5550199\n")
    expected = entries(
        ["2015550123", "2015550199", "2125550142"],
        rows=[1, 2, 1],
        files=["inbox/dnc/dnc.zip!201.txt"] * 2 + ["inbox/dnc/dnc.zip!212.txt"],
        sha256=[sha(path.read_bytes())] * 3,
    )
    assert_frame_equal(read_registry(registry("us_dnc"), data_dir=tmp_path), expected)


@pytest.mark.parametrize(
    ("members", "message"),
    [({"201.xml": "<list/>"}, "found 201.xml"), ({}, "found no files")],
)
def test_a_zip_without_only_text_files_fails(tmp_path: Path, members: dict[str, str], message: str) -> None:
    path = write(tmp_path, "dnc.zip", b"")
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    with pytest.raises(
        RegistryError, match=f"registry 'dnc': {path}: a zipped registry holds only .txt files; {message}"
    ):
        read_registry(registry("us_dnc"), data_dir=tmp_path)


def test_a_zip_member_with_a_bad_checksum_fails_naming_the_file_and_member(tmp_path: Path) -> None:
    path = write(tmp_path, "dnc.zip", b"")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("201.txt", "201,5550123\n")
    path.write_bytes(path.read_bytes().replace(b"201,5550123", b"201,5550124"))  # stored bytes, CRC unchanged
    with pytest.raises(RegistryError) as raised:
        read_registry(registry("us_dnc"), data_dir=tmp_path)
    assert str(raised.value) == (
        f"registry 'dnc': {path}: a member is corrupted (Bad CRC-32 for file '201.txt'); download it again"
    )


@pytest.mark.parametrize(
    ("content", "region", "blocks"),
    [
        (b"+1201\n212XXXXXXX\n", "US", ["+1201", "+1212"]),
        (b"1415xxxxxxx\n", "US", ["+1415"]),
        (b"0207XXXXXXX\n+447400\n", "GB", ["+44207", "+447400"]),
    ],
    ids=["e164_and_dialler_style", "us_trunk_prefix", "gb_national_prefix"],
)
def test_wildcard_entries_become_e164_prefixes(tmp_path: Path, content: bytes, region: str, blocks: list[str]) -> None:
    write(tmp_path, "blocks.txt", content)
    expected = entries(
        [None] * len(blocks),
        blocks=blocks,
        rows=list(range(1, len(blocks) + 1)),
        files=["inbox/dnc/blocks.txt"] * len(blocks),
        sha256=[sha(content)] * len(blocks),
        downloaded_on=None,
    )
    assert_frame_equal(read_registry(registry("wildcard", region=region), data_dir=tmp_path), expected)


@pytest.mark.parametrize(
    ("registry_format", "content", "row", "layout"),
    [
        ("us_dnc", b"201,5550123\n201-555-0199\n", 2, "a US DNC record"),
        ("us_dnc", b"20155501234\n", 1, "a US DNC record"),
        ("dncl", b"416,5550134\n4165550134\n", 2, "a DNCL record"),
        ("tps", b"0207 3787244\r\n0207 378724\r\n", 2, "a 12-character TPS record"),
        ("tps", b"2073787244  \r\n", 1, "a 12-character TPS record"),
        ("tps", b"0207 3787244\r\n0207\t3787244\r\n", 2, "a 12-character TPS record"),
        ("wildcard", b"+1201\n201XXX0123\n", 2, "a wildcard block"),
        ("wildcard", b"XXXXXXXXXX\n", 1, "a wildcard block"),
        ("us_dnc", b"201,5550123\n\xff\xfe01,5550199\n", 2, "a US DNC record"),
    ],
)  # fmt: skip
def test_a_record_out_of_layout_fails_naming_registry_file_and_row(
    tmp_path: Path, registry_format: str, content: bytes, row: int, layout: str
) -> None:
    write(tmp_path, "list.txt", content)
    with pytest.raises(
        RegistryError,
        match=rf"registry 'dnc': 1 unreadable record\(s\), first in inbox/dnc/list.txt row {row} \(not {layout}",
    ):
        read_registry(registry(registry_format), data_dir=tmp_path)


@pytest.mark.parametrize("content", [b"", b"\r\n  \r\n"], ids=["empty", "blank_lines"])
def test_a_registry_file_without_records_fails_naming_it(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "list.txt", content)
    with pytest.raises(RegistryError, match=f"registry 'dnc': {path}: file holds no records"):
        read_registry(registry("tps"), data_dir=tmp_path)


@pytest.mark.parametrize(
    ("registry_format", "content", "e164", "region"),
    [
        ("us_dnc", b"201,5550123\n416,5550134\n", ["+12015550123", "+14165550134"], ["US", "CA"]),
        ("dncl", b"416,5550134\n", ["+14165550134"], ["CA"]),
        ("tps", b"0207 3787244\r\n01481712345 \r\n", ["+442073787244", "+441481712345"], ["GB", "GG"]),
    ],
)
def test_national_numbers_are_normalised_in_the_format_s_region(
    tmp_path: Path, registry_format: str, content: bytes, e164: list[str], region: list[str]
) -> None:
    write(tmp_path, "list.txt", content)
    config = registry(registry_format)
    normalised = normalise_registries(read_registry(config, data_dir=tmp_path), [config])
    assert normalised.select("phone_e164", "phone_region").rows() == list(zip(e164, region, strict=True))


def test_a_file_that_is_not_one_record_per_line_fails_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "list.txt", b"201,5550123\x1f2125550142\n")
    with pytest.raises(RegistryError, match=f"registry 'dnc': {path}: cannot be read as one record per line"):
        read_registry(registry("us_dnc"), data_dir=tmp_path)


@pytest.mark.parametrize(
    ("content", "is_unterminated"),
    [(b"201,5550123\n702,565", [False, True]), (b"201,5550123\r\n702,5550100\r\n", [False, False])],
    ids=["cut", "complete"],
)
def test_the_last_line_of_a_file_without_a_final_line_break_is_marked(
    tmp_path: Path, content: bytes, is_unterminated: list[bool]
) -> None:
    flat = tmp_path / "flat.txt"
    flat.write_bytes(content)
    zipped = tmp_path / "zipped.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.txt", b"201,5550123\n")
        archive.writestr("b.txt", content)
    assert read_line_registry(flat, registry_format="dncl", region="CA").get_column("is_unterminated").to_list() == (
        is_unterminated
    )
    marked = read_line_registry(zipped, registry_format="dncl", region="CA").get_column("is_unterminated").to_list()
    assert marked == [False, *is_unterminated]
