"""The HTTP API, in-process: keys and scopes, fields named in 4xx, fail closed, expiry, lists, opt-outs, masked logs."""

import hashlib
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipelines.serving.app import MAX_CHECK, MAX_FAST_BATCH, create_app
from tests.handmade import RUN_AS_OF
from tests.pipelines.serving.served import ENV_KEY_VARIABLE, auth

VALID_THROUGH = RUN_AS_OF.replace(hour=0) + timedelta(days=11)  # the run's date + max_list_age_days, next midnight


def client(data_dir: Path, *, at=RUN_AS_OF) -> TestClient:
    return TestClient(create_app(data_dir, now=lambda: at, reload_seconds=3600))


def test_a_check_answers_the_run_s_decision_with_sources_and_window(data_dir: Path) -> None:
    with client(data_dir) as api:
        opted_out = api.get("/v1/numbers/201-555-0199", params={"campaign": "spring"}, headers=auth("check")).json()
        clean = api.get("/v1/numbers/(201) 555-0123", params={"campaign": "spring"}, headers=auth("check")).json()
        invalid = api.get("/v1/numbers/not a number", params={"campaign": "spring"}, headers=auth("check")).json()
    assert (opted_out["callable"], opted_out["outcome"], opted_out["reason"]) == (
        False,
        "suppressed",
        "internal_optouts",
    )
    assert opted_out["sources"][0]["source_file"] == "inbox/registries/internal/optouts.csv"
    assert (clean["callable"], clean["phone_e164"], clean["window_start_utc"]) == (
        True,
        "+12015550123",
        "2026-11-27T13:00:00Z",
    )
    assert (invalid["callable"], invalid["outcome"], invalid["reason"]) == (False, "invalid", "not_a_number")
    assert clean["valid_through"] == VALID_THROUGH.isoformat().replace("+00:00", "Z")


def test_a_batch_answers_in_order_and_a_repeat_as_the_number_itself(data_dir: Path) -> None:
    numbers = ["2015550123", "212-555-0142", "+1 201 555 0123"]
    with client(data_dir) as api:
        answer = api.post("/v1/numbers:check", json={"numbers": numbers, "campaign": "spring"}, headers=auth("check"))
    results = answer.json()["results"]
    assert [(row["input"], row["outcome"]) for row in results] == [
        ("2015550123", "clean"), ("212-555-0142", "suppressed"), ("+1 201 555 0123", "clean")
    ]  # fmt: skip
    assert results[1]["reason"] == "crm_do_not_call,litigators"


def test_small_and_large_batches_answer_alike(data_dir: Path) -> None:
    numbers = ["2015550123", "212-555-0142", "201-555-0199", "020 7946 0018", "garbage", "+1 800 555 0100"]
    large = numbers * (MAX_FAST_BATCH // len(numbers) + 1)
    with client(data_dir) as api:
        by_lookups = api.post(
            "/v1/numbers:check", json={"numbers": numbers, "campaign": "spring"}, headers=auth("check")
        )
        by_engine = api.post("/v1/numbers:check", json={"numbers": large, "campaign": "spring"}, headers=auth("check"))
    assert by_engine.json()["results"][: len(numbers)] == by_lookups.json()["results"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), (auth("lists"), 403), (auth("check"), 200)],
)
def test_no_key_no_answer_and_each_key_only_its_scopes(data_dir: Path, headers: dict, status: int) -> None:
    with client(data_dir) as api:
        assert api.get("/v1/numbers/2015550123", headers=headers).status_code == status


def test_a_key_may_come_from_the_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"values": ["(201) 555-0123", "07400 123456"], "region": "GB"}
    with client(data_dir) as api:
        assert (
            api.post("/v1/numbers:normalize", json=body, headers={"Authorization": "Bearer envkey"}).status_code == 401
        )
        monkeypatch.setenv(ENV_KEY_VARIABLE, "envkey")
        answer = api.post("/v1/numbers:normalize", json=body, headers={"Authorization": "Bearer envkey"})
    assert answer.status_code == 200
    assert [(row["phone_e164"], row["is_valid"]) for row in answer.json()["results"]] == [
        ("+442015550123", True), ("+447400123456", True)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("request_args", "status", "field"),
    [
        (
            ("post", "/v1/numbers:check", {"json": {"numbers": ["2015550123"] * (MAX_CHECK + 1)}}),
            422,
            ["body", "numbers"],
        ),
        (("get", "/v1/numbers/2015550123", {"params": {"region": "XX"}}), 422, ["query", "region"]),
        (("get", "/v1/numbers/2015550123", {"params": {"campaign": "nope"}}), 404, ["query", "campaign"]),
        (
            ("post", "/v1/opt-outs", {"json": {"number": "12", "source": "crm", "client_key": "k"}}),
            422,
            ["body", "number"],
        ),
        (("post", "/v1/opt-outs", {"json": {"number": "2015550123", "client_key": "k"}}), 422, ["body", "source"]),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_field(data_dir: Path, request_args: tuple, status: int, field: list) -> None:
    method, path, arguments = request_args
    with client(data_dir) as api:
        answer = getattr(api, method)(path, headers=auth("all"), **arguments)
    assert answer.status_code == status
    assert answer.json()["detail"][0]["loc"][:2] == field


def test_past_valid_through_every_check_fails_closed_and_the_list_is_gone(data_dir: Path) -> None:
    with client(data_dir, at=VALID_THROUGH) as api:
        ready = api.get("/readyz")
        check = api.get("/v1/numbers/2015550123", params={"campaign": "spring"}, headers=auth("check"))
        batch = api.post("/v1/numbers:check", json={"numbers": ["2015550123", "x"]}, headers=auth("check"))
        listed = api.get("/v1/campaigns/spring/clean.csv", headers=auth("lists"))
    assert ready.status_code == 503 and "past its valid_through" in ready.json()["reason"]
    assert check.status_code == 503 and check.json()["callable"] is False
    assert [row["callable"] for row in batch.json()["results"]] == [False, False]
    assert listed.status_code == 410 and "valid_through" in listed.json()["detail"]["reason"]


def test_a_data_directory_without_a_published_run_fails_closed(data_dir: Path) -> None:
    (data_dir / "published/latest.json").unlink()
    with client(data_dir) as api:
        assert api.get("/readyz").status_code == 503
        assert api.get("/healthz").status_code == 200
        check = api.get("/v1/numbers/2015550123", headers=auth("check"))
    assert (check.status_code, check.json()["callable"], check.json()["outcome"]) == (503, False, "unavailable")


def test_a_registry_changed_since_the_run_fails_closed_rather_than_answer_from_it(data_dir: Path) -> None:
    (data_dir / "inbox/registries/litigators/litigators.txt").write_text("2125550142\n2015550123\n")
    with client(data_dir) as api:
        ready = api.get("/readyz").json()
    assert ready["ready"] is False and "litigators.txt changed" in ready["reason"]


def test_the_list_streams_with_its_sha256_as_etag(data_dir: Path) -> None:
    with client(data_dir) as api:
        answer = api.get("/v1/campaigns/spring/clean.csv", headers=auth("lists"))
        again = api.get(
            "/v1/campaigns/spring/clean.csv", headers={**auth("lists"), "If-None-Match": answer.headers["etag"]}
        )
        parquet = api.get("/v1/campaigns/spring/clean.parquet", headers=auth("lists"))
        unknown = api.get("/v1/campaigns/nope/clean.csv", headers=auth("lists"))
    assert answer.status_code == 200
    assert answer.headers["etag"] == f'"{hashlib.sha256(answer.content).hexdigest()}"'
    assert again.status_code == 304
    assert parquet.headers["etag"] == f'"{hashlib.sha256(parquet.content).hexdigest()}"'
    assert unknown.status_code == 404


def test_an_opt_out_takes_effect_at_once_and_a_repeated_key_records_it_once(data_dir: Path) -> None:
    body = {"number": "(201) 555-0123", "source": "agent:7", "client_key": "call-991"}
    with client(data_dir) as api:
        first = api.post("/v1/opt-outs", json=body, headers=auth("opt-outs"))
        check = api.get("/v1/numbers/2015550123", params={"campaign": "winback"}, headers=auth("check")).json()
        again = api.post("/v1/opt-outs", json=body, headers=auth("opt-outs"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["recorded_at"] == first.json()["recorded_at"]
    assert (check["callable"], check["reason"]) == (False, "live_opt_outs")
    assert (data_dir / "opt-outs/journal.csv").read_text().count("call-991") == 1


def test_access_logs_never_show_a_whole_number(data_dir: Path) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("scrubline.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with client(data_dir) as api:
            api.get("/v1/numbers/+12015550123", params={"campaign": "spring"}, headers=auth("check"))
            api.get("/v1/numbers/2015550123/extra", headers=auth("check"))
            api.post(
                "/v1/opt-outs", json={"number": "2015550123", "source": "a", "client_key": "b"}, headers=auth("all")
            )
    finally:
        logger.removeHandler(handler)
    assert len(lines) == 3
    assert not any(digits in line for line in lines for digits in ("2015550123", "5550123"))
    assert lines[0].startswith("GET /v1/numbers/{value}?campaign=spring 200")


def test_the_openapi_document_lists_every_endpoint(data_dir: Path) -> None:
    with client(data_dir) as api:
        paths = set(api.get("/openapi.json").json()["paths"])
    assert {"/v1/numbers/{value}", "/v1/numbers:check", "/v1/numbers:normalize", "/v1/opt-outs",
            "/v1/campaigns/{campaign}/clean.{extension}", "/healthz", "/readyz"} <= paths  # fmt: skip
