"""RFC 9457 problem+json for every client error — never a bare 500 or a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.errors import CraneError, Forbidden, InvalidInput, NotFound, TransientError

log = logging.getLogger("crane.api")

PROBLEM = "application/problem+json"


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


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, error: Problem) -> JSONResponse:
        return problem(error.status, error.detail, error.headers)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(422, _validation_detail(error))

    @app.exception_handler(CraneError)
    async def on_crane(request: Request, error: CraneError) -> JSONResponse:
        if isinstance(error, TransientError):  # e.g. a busy database: not the client's fault
            return problem(503, "Crane is busy; try again in a moment", {"Retry-After": "1"})
        return problem(CRANE_STATUS.get(type(error), 400), str(error))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        ref = request.headers.get("x-request-id", "")
        log.exception("unhandled error", extra={"request_id": ref})
        return problem(500, f"internal error (ref {ref or 'none'})")
