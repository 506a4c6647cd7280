"""Never a 5xx for anything a client sends: schemathesis generates requests (fitting the schema
and not) for every operation of the app's own OpenAPI schema and sends them with and without a
valid bearer token; every client error must be problem+json.

(Driven through hypothesis directly: schemathesis' lazy `from_fixture` pytest loader does not
work with this pytest, and a schema built at import time would need a server at collection.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.schemas import APIOperation, BaseSchema

from server import Server, create
from tests.api.conftest import ALICE, TOKENS, api_settings

AUTH = {"Authorization": f"Bearer {ALICE}"}
PROBLEM = "application/problem+json"
EXAMPLES = 30  # per operation and generation mode: bounded, a few seconds in all


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    server = create(api_settings(folder, api_tokens=TOKENS, queue_limit=20))
    yield server
    server.jobs.shutdown(5)
    server.crane.store.close()


def without_lifespan(app: Any) -> Any:
    """schemathesis' ASGI client runs the app's lifespan around every call; a real server
    starts and stops once. Without this, every call after the first meets a server that is
    shutting down (503) instead of the request handling under test."""

    async def serve(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await app(scope, receive, send)

    return serve


@pytest.fixture(scope="module")
def api_schema(fuzz_server: Server) -> BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(fuzz_server.app))


def operations(schema: BaseSchema) -> list[APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def test_schema_covers_the_api_and_not_slack(api_schema: BaseSchema) -> None:
    labels = {operation.label for operation in operations(api_schema)}
    assert labels == {
        "POST /api/v1/runs", "GET /api/v1/runs", "GET /api/v1/runs/{run_id}",
        "GET /api/v1/runs/{run_id}/events", "GET /api/v1/todos", "GET /health", "GET /ready",
        "POST /api/v1/runs/{run_id}/approve", "POST /api/v1/runs/{run_id}/cancel",
        "POST /api/v1/runs/{run_id}/feedback", "GET /api/v1/usage",
        "POST /api/v1/runs/{run_id}/skip", "GET /api/v1/tools",
    }  # fmt: skip


def check(case: Case) -> None:
    for headers in (AUTH, {}):
        response = case.call(headers=headers)
        sent = f"{case.method} {case.formatted_path} {case.query} {case.headers} {headers}"
        status = response.status_code
        assert status < 500, f"{sent} → {status}\n{response.text}"
        if status >= 400:
            assert response.headers["content-type"][0].startswith(PROBLEM), f"{sent} → {status}"
        if not headers and case.path.startswith("/api/"):
            assert status == 401, f"{sent} → {status} without a token"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_makes_a_server_error(api_schema: BaseSchema, mode: GenerationMode) -> None:
    unbreakable = []
    for operation in operations(api_schema):
        fuzz = settings(
            max_examples=EXAMPLES, deadline=None, database=None,
            suppress_health_check=list(HealthCheck),
        )(given(case=operation.as_strategy(generation_mode=mode))(check))  # fmt: skip
        try:
            fuzz()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            unbreakable.append(operation.label)  # no input that could be wrong (any string)
    assert "POST /api/v1/runs" not in unbreakable and "GET /api/v1/runs" not in unbreakable
