"""The HTTP API of `scrubline serve` (FastAPI on uvicorn): checks, normalisation, opt-outs, lists, health.

Every route but `/healthz`, `/readyz` and `/openapi.json` needs an API key (`Authorization: Bearer <key>`)
with the route's scope. Access logs name the route, never the number (`scrubline.access`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

import phonenumbers
import polars as pl
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from pipelines.phones.e164 import normalise_phones
from pipelines.serving.decisions import ANY_CAMPAIGN, decide
from pipelines.serving.fast import decide_one
from pipelines.serving.settings import ApiKey, Scope, key_for
from pipelines.serving.state import Answerable, Clock, ServiceState, utc_now

MAX_CHECK = 10_000
MAX_NORMALIZE = 100_000
# Batches up to this size take the single-number path (lookups); larger ones the engine's frames, cheaper per number.
MAX_FAST_BATCH = 200
# An opt-out dated later than this after the service's clock is a client's clock error, not a request.
_CLOCK_SKEW = timedelta(minutes=5)
_TOKEN = r"^[A-Za-z0-9._:@/+-]{1,200}$"
access_log = logging.getLogger("scrubline.access")


class CheckRequest(BaseModel):
    """Up to 10,000 numbers, as written, read in `region` (default: the configuration's default region)."""

    numbers: list[str] = Field(min_length=1, max_length=MAX_CHECK)
    region: str | None = None
    campaign: str | None = None


class NormalizeRequest(BaseModel):
    """Up to 100,000 values, as written, read in `region` (default: the configuration's default region)."""

    values: list[str] = Field(min_length=1, max_length=MAX_NORMALIZE)
    region: str | None = None


class OptOutRequest(BaseModel):
    """A do-not-call request: the number, when it was made (default: now), the seller or campaign it binds
    (default: every seller), where it came from, and the client's idempotency key."""

    number: str = Field(min_length=1, max_length=64)
    region: str | None = None
    requested_at: datetime | None = None
    seller: str | None = Field(default=None, pattern=_TOKEN)
    source: str = Field(pattern=_TOKEN)
    client_key: str = Field(pattern=_TOKEN)


def create_app(data_dir: Path, *, now: Clock = utc_now, reload_seconds: float = 1.0) -> FastAPI:
    """The service over `data_dir`; `now` is its clock (expiry, calling windows, EBR), injected by tests."""
    state = ServiceState(data_dir, now=now)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        watcher = asyncio.create_task(_watch(state, reload_seconds))
        yield
        watcher.cancel()

    app = FastAPI(
        title="Scrubline",
        summary="Ask before you dial: the nightly run's decision for any number; opt-outs take effect at once.",
        version="1",
        lifespan=lifespan,
    )
    app.state.scrubline = state

    app.add_middleware(_MaskedAccessLog)

    def require(scope: Scope) -> Callable[..., Any]:
        # A coroutine, so FastAPI runs it on the event loop rather than sending it to a thread.
        async def check_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiKey:
            presented = (authorization or "").removeprefix("Bearer ").strip()
            key = key_for(presented, state.settings.keys) if presented else None
            if key is None:
                raise HTTPException(
                    401,
                    detail=_problem(
                        ["header", "authorization"], "a valid API key is required: Authorization: Bearer <key>"
                    ),
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.state.key_name = key.name
            if scope not in key.scopes:
                raise HTTPException(
                    403, detail=_problem(["header", "authorization"], f"key '{key.name}' lacks the scope '{scope}'")
                )
            return key

        return check_key

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        """Up; which published run is loaded and its `valid_through`."""
        run = state.run
        return {
            "status": "up",
            "run_id": run.run_id if run else None,
            "valid_through": _iso(run.valid_through) if run else None,
        }

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """Ready when a published run within its `valid_through` is loaded; 503 with the reason otherwise."""
        answerable = state.answerable()
        run = answerable.run
        body = {
            "ready": answerable.reason is None,
            "run_id": run.run_id if run else None,
            "valid_through": _iso(run.valid_through) if run else None,
            "reason": answerable.reason,
            "count_live_opt_outs": len(state.journal.entries()),
        }
        return JSONResponse(body, status_code=200 if answerable.reason is None else 503)

    @app.get("/v1/numbers/{value}", tags=["check"], dependencies=[Depends(require("check"))])
    async def check_number(
        value: str,
        region: Annotated[str | None, Query(description="region of a number written without +country code")] = None,
        campaign: Annotated[str | None, Query(description="the dialler campaign (its seller's opt-outs bind)")] = None,
    ) -> JSONResponse:
        """The decision for one number as the dialler sees it."""
        # About 0.2 ms of lookups, answered on the event loop; a day's or a new opt-out's preparation in a thread.
        if state.is_prepared():
            answer, status = _check(state, [value], region=region, campaign=campaign, field="query")
        else:
            answer, status = await asyncio.to_thread(
                _check, state, [value], region=region, campaign=campaign, field="query"
            )
        results = answer.pop("results")
        (result,) = json.loads(results) if isinstance(results, str) else results
        return JSONResponse({**answer, **result}, status_code=status)

    @app.post("/v1/numbers:check", tags=["check"], dependencies=[Depends(require("check"))])
    def check_numbers(request: CheckRequest) -> Response:
        """The decision for up to 10,000 numbers, in order."""
        answer, status = _check(state, request.numbers, region=request.region, campaign=request.campaign, field="body")
        results = answer.pop("results")
        if not isinstance(results, str):
            return JSONResponse({**answer, "results": results}, status_code=status)
        # The engine path's results are JSON text already (polars writes it): spliced in, not parsed and re-written.
        body = json.dumps(answer, separators=(",", ":"))[:-1] + ',"results":' + results + "}"
        return Response(body, status_code=status, media_type="application/json")

    @app.post("/v1/numbers:normalize", tags=["normalize"], dependencies=[Depends(require("normalize"))])
    def normalize_numbers(request: NormalizeRequest) -> JSONResponse:
        """The E.164 engine for write-back points: E.164, validity, type, region and reason for each value."""
        region = _region(state, request.region, field="body")
        normalised = normalise_phones(pl.DataFrame({"value": request.values}, schema={"value": pl.String}), "value",
                                      region=region)  # fmt: skip
        results = normalised.select(
            input="value", phone_e164="value_e164", is_valid=pl.col("value_valid").fill_null(False),
            phone_type="value_type", phone_region="value_region", reason="value_reason",
            extension="value_extension",
        ).to_dicts()  # fmt: skip
        return JSONResponse({"region": region, "results": results})

    @app.post("/v1/opt-outs", tags=["opt-outs"], status_code=201, dependencies=[Depends(require("opt-outs"))])
    def record_opt_out(request: OptOutRequest) -> JSONResponse:
        """Record a do-not-call request: durable before 201, effective at once; the same client_key again returns
        the entry already recorded (200)."""
        now = state.now()
        region = _region(state, request.region, field="body")
        parsed = normalise_phones(pl.DataFrame({"n": [request.number]}), "n", region=region).row(0, named=True)
        if not parsed["n_valid"]:
            raise HTTPException(
                422, detail=_problem(["body", "number"], f"not a valid number in {region}: {parsed['n_reason']}")
            )
        requested_at = request.requested_at or now
        if requested_at.tzinfo is None:
            requested_at = requested_at.replace(tzinfo=UTC)
        if requested_at > now + _CLOCK_SKEW:
            raise HTTPException(422, detail=_problem(["body", "requested_at"], "is in the future"))
        _check_seller(state, request.seller)
        entry, is_new = state.journal.record(
            phone_e164=parsed["n_e164"], requested_at=requested_at, seller=request.seller, source=request.source,
            client_key=request.client_key, now=now,
        )  # fmt: skip
        body = {
            "phone_e164": entry.phone_e164,
            "requested_at": _iso(entry.requested_at),
            "seller": entry.seller,
            "source": entry.source,
            "client_key": entry.client_key,
            "recorded_at": _iso(entry.recorded_at),
            "journal": state.journal.relative_path,
            "journal_row": entry.source_row,
            "is_new": is_new,
        }
        return JSONResponse(body, status_code=201 if is_new else 200)

    @app.get("/v1/campaigns/{campaign}/clean.{extension}", tags=["lists"], dependencies=[Depends(require("lists"))])
    def clean_list(campaign: str, extension: str, if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """The latest published clean list (`csv` or `parquet`), with its SHA-256 as ETag; 410 once past its
        `valid_through`."""
        if extension not in ("csv", "parquet"):
            raise HTTPException(404, detail=_problem(["path", "extension"], "lists are clean.csv or clean.parquet"))
        answerable = state.answerable()
        run = answerable.run
        if run is None:
            raise HTTPException(410, detail={"reason": answerable.reason})
        if campaign not in run.campaigns or not (run.run_dir / "clean" / f"{campaign}.{extension}").is_file():
            raise HTTPException(404, detail=_problem(["path", "campaign"], f"no published list for '{campaign}'"))
        valid_through = run.campaign_valid_through(campaign)
        if answerable.reason is not None or (valid_through is not None and state.now() >= valid_through):
            raise HTTPException(
                410,
                detail={
                    "reason": answerable.reason
                    or f"the list of '{campaign}' is past its valid_through {_iso(valid_through)}; "
                    "wait for the next run",
                    "valid_through": _iso(valid_through),
                    "run_id": run.run_id,
                },
            )
        name = f"clean/{campaign}.{extension}"
        etag = f'"{run.manifest["outputs"][name]["sha256"]}"'
        headers = {"ETag": etag, "X-Scrubline-Run": run.run_id, "X-Scrubline-Valid-Through": _iso(valid_through) or ""}
        if if_none_match == etag:
            return Response(status_code=304, headers=headers)
        media = "text/csv" if extension == "csv" else "application/vnd.apache.parquet"
        return FileResponse(run.run_dir / name, media_type=media, headers=headers, filename=f"{campaign}.{extension}")

    return app


class _MaskedAccessLog:
    """One line a request: method, the route (never the number), region and campaign, status, time and key name.

    Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which costs a task and a stream per request.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or _masked(scope["path"])
            query = "&".join(
                f"{key}={_masked(value)}"
                for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
                if key in ("region", "campaign")
            )
            access_log.info(
                "%s %s%s %d %.1fms key=%s",
                scope["method"], path, f"?{query}" if query else "", status[0],
                (time.perf_counter() - started) * 1000, scope.get("state", {}).get("key_name", "-"),
            )  # fmt: skip


def _check(
    state: ServiceState, values: list[str], *, region: str | None, campaign: str | None, field: str
) -> tuple[dict[str, Any], int]:
    """The batch's answers and the status: 200, or 503 with every number `callable: false` (fail closed)."""
    answerable = state.answerable()
    region = _region(state, region, field=field)
    if answerable.reason is not None:
        return _closed(answerable, values), 503
    run = answerable.run
    assert run is not None and answerable.prepared is not None
    if campaign is not None and campaign not in run.campaigns:
        raise HTTPException(404, detail=_problem([field, "campaign"], f"unknown campaign '{campaign}'"))
    if campaign is None and run.config.sellers is not None:
        raise HTTPException(
            422, detail=_problem([field, "campaign"], "required: opt-outs bind by seller, and sellers are configured")
        )
    now = state.now()
    if len(values) <= MAX_FAST_BATCH and answerable.index is not None:
        seller = str(run.campaigns[campaign] if campaign is not None else run.config.seller_of(ANY_CAMPAIGN))
        results = [
            _rendered(decide_one(answerable.prepared, answerable.index, value, region=region, seller=seller, now=now))
            for value in values
        ]
    else:
        results = _results_json(decide(answerable.prepared, values, region=region, campaign=campaign, now=now))
    return {
        "run_id": run.run_id,
        "valid_through": _iso(run.valid_through),
        "checked_at": _iso(now),
        "campaign": campaign,
        "region": region,
        "results": results,
    }, 200


def _results_json(decided: pl.DataFrame) -> str:
    """The engine path's decisions as a JSON array, in the shape `_rendered` gives the single-number path's."""
    instants = [name for name, dtype in decided.schema.items() if isinstance(dtype, pl.Datetime)]
    rows = decided.with_columns(pl.col(instants).dt.strftime("%Y-%m-%dT%H:%M:%SZ")).select(
        input="phone_raw", phone_e164="phone_e164", is_valid="phone_valid", phone_type="phone_type",
        phone_region="phone_region", phone_reason="phone_reason",
        callable=pl.col("outcome") == "clean", outcome="outcome", reason="reason",
        sources="suppression_sources", exemptions="exemptions", exemption_reason="exemption_reason",
        window_start_utc="window_start_utc", window_end_utc="window_end_utc", not_before_utc="not_before_utc",
    )  # fmt: skip
    return rows.write_json()


_WINDOW_COLUMNS = ("window_start_utc", "window_end_utc", "not_before_utc")


def _rendered(row: dict[str, Any]) -> dict[str, Any]:
    """A single-number-path decision in the same JSON shape as `_results_json` gives the engine's."""
    return {
        "input": row["phone_raw"], "phone_e164": row["phone_e164"], "is_valid": row["phone_valid"],
        "phone_type": row["phone_type"], "phone_region": row["phone_region"], "phone_reason": row["phone_reason"],
        "callable": row["outcome"] == "clean", "outcome": row["outcome"], "reason": row["reason"],
        "sources": _plain(row["suppression_sources"]), "exemptions": _plain(row["exemptions"]),
        "exemption_reason": row["exemption_reason"],
        **{name: None if row[name] is None else row[name].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
           for name in _WINDOW_COLUMNS},
    }  # fmt: skip


def _plain(sources: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Dates and instants inside sources as polars writes them: ISO dates, ISO instants with offset."""
    if sources is None:
        return None
    return [
        {key: value.isoformat() if isinstance(value, date | datetime) else value for key, value in source.items()}
        for source in sources
    ]


def _closed(answerable: Answerable, values: list[str]) -> dict[str, Any]:
    run = answerable.run
    return {
        "run_id": run.run_id if run else None,
        "valid_through": _iso(run.valid_through) if run else None,
        "results": [
            {"input": value, "callable": False, "outcome": "unavailable", "reason": answerable.reason}
            for value in values
        ],
    }


def _region(state: ServiceState, region: str | None, *, field: str) -> str:
    if region is None:
        run = state.run
        return run.config.default_region if run else "US"
    region = region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise HTTPException(
            422, detail=_problem([field, "region"], f"'{region}' is not an ISO 3166 alpha-2 region (e.g. US, GB)")
        )
    return region


def _check_seller(state: ServiceState, seller: str | None) -> None:
    """A scope must name a configured seller or campaign: the nightly run's check would fail on any other."""
    run = state.run
    if seller is None or run is None or run.config.sellers is None:
        return
    known = set(run.config.sellers) | {campaign for listed in run.config.sellers.values() for campaign in listed}
    if seller not in known:
        raise HTTPException(
            422, detail=_problem(["body", "seller"], f"'{seller}' is neither a configured seller nor a campaign")
        )


def _problem(location: list[str], message: str) -> list[dict[str, Any]]:
    """FastAPI's own 422 shape, so every 4xx names its field the same way."""
    return [{"loc": location, "msg": message}]


def _masked(text: str) -> str:
    """Every digit replaced: a path or query value that did not match a route may hold a whole number."""
    return re.sub(r"\d", "*", text)


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _watch(state: ServiceState, seconds: float) -> None:
    """Switch to a newly published run (loaded in a worker thread while requests go on)."""
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(state.reload)
