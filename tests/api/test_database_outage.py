"""PostgreSQL going away under a running server: /ready and every request answer 503 (never a
500 or a traceback), and the server serves again once the database is back — no restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.api.conftest import LiveApi, api_settings, serve
from tests.fakes.tcp_proxy import Proxy
from tests.pg import fresh_schema


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[tuple[LiveApi, Proxy]]:
    with fresh_schema() as url:
        parts = urlsplit(url)
        proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
        live = serve(api_settings(tmp_path, db=proxied, db_pool_size=3))
        try:
            yield live, proxy
        finally:
            live.stop()
            proxy.cut()


def until_ok(http: httpx.Client, method: str, path: str, **kwargs: object) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
        if response.status_code < 500 or time.monotonic() > deadline:
            return response
        assert response.status_code == 503, response.text
        time.sleep(0.2)


def test_a_lost_database_is_503_everywhere_and_the_server_recovers_by_itself(
    behind_proxy: tuple[LiveApi, Proxy],
) -> None:
    live, proxy = behind_proxy
    http = live.client()
    assert http.get("/ready").status_code == 200
    assert http.post("/api/v1/runs", json={"text": "add a todo to buy milk"}).status_code == 202
    live.settle()

    proxy.cut()
    for _ in range(3):  # every pooled connection is gone, and no new one can be made
        ready = http.get("/ready")
        assert ready.status_code == 503 and ready.json()["ok"] is False
        created = http.post("/api/v1/runs", json={"text": "calculate 1+1"})
        assert created.status_code == 503, created.text
        assert created.headers["content-type"] == "application/problem+json"
        assert created.json()["detail"] == "the database is unavailable; try again shortly"
        assert http.get("/api/v1/todos").status_code == 503

    proxy.restore()
    assert until_ok(http, "GET", "/ready").status_code == 200
    created = until_ok(http, "POST", "/api/v1/runs", json={"text": "add a todo to pay rent"})
    assert created.status_code == 202
    live.settle()
    todos = http.get("/api/v1/todos").json()
    assert [todo["title"] for todo in todos["items"]] == ["buy milk", "pay rent"]
