"""RFC 9457 problem+json for every client error — never a bare 500 or a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from api.logs import request_id
from core.errors import (
    CraneError,
    Forbidden,
    InvalidInput,
    LimitReached,
    NotFound,
    TransientError,
    Unavailable,
)

log = logging.getLogger("crane.api")

PROBLEM = "application/problem+json"
# A usage limit's 429, told apart from the work pool's (`about:blank`, "Crane is busy"): this
# one does not pass by retrying in a moment, and names the limit and when it resets.
LIMIT_PROBLEM = "urn:crane:problem:usage-limit"


class Problem(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def problem(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


def _validation_detail(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
    return "; ".join(parts) or "invalid request"


CRANE_STATUS = {InvalidInput: 422, NotFound: 404, Forbidden: 403}


def for_error(error: Exception) -> JSONResponse:
    """The problem+json answer to an error raised while serving a request (`install` makes it
    the app's answer to every exception)."""
    if isinstance(error, Problem):
        return problem(error.status, error.detail, error.headers)
    if isinstance(error, HTTPException):
        return problem(error.status_code, str(error.detail), getattr(error, "headers", None))
    if isinstance(error, RequestValidationError):
        return problem(422, _validation_detail(error))
    if isinstance(error, LimitReached):
        return problem(429, str(error), {"Retry-After": str(error.retry_after_s)},
                       type=LIMIT_PROBLEM, title="Usage limit reached", limit=error.name,
                       retry_after_s=error.retry_after_s)  # fmt: skip
    if isinstance(error, CraneError):
        if isinstance(error, Unavailable):  # the database is down: Crane recovers by itself
            return problem(503, "the database is unavailable; try again shortly",
                           {"Retry-After": "5"})  # fmt: skip
        if isinstance(error, TransientError):  # e.g. a busy database: not the client's fault
            return problem(503, "Crane is busy; try again in a moment", {"Retry-After": "1"})
        return problem(CRANE_STATUS.get(type(error), 400), str(error))
    ref = request_id.get()
    log.error("unhandled error", exc_info=error)
    return problem(500, f"internal error (ref {ref or 'none'})")


def install(app: FastAPI) -> None:
    async def handle(request: Request, error: Exception) -> Response:
        return for_error(error)

    for kind in (Problem, HTTPException, RequestValidationError, CraneError, Exception):
        app.add_exception_handler(kind, handle)
