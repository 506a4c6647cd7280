"""Who is calling: a bearer token from CRANE_API_TOKENS (`TOKEN:TEAM:USER[:ENTERPRISE]`, comma
separated), so an API caller can be the same tenant and user as in Slack. With no tokens
configured, only loopback clients are served, as the local user (like the CLI)."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from api.problems import Problem
from core.errors import InvalidInput
from core.plan import Scope

LOCAL = Scope(enterprise_id="", team_id="", user_id="local")


def parse_tokens(spec: str | None) -> dict[str, Scope]:
    tokens: dict[str, Scope] = {}
    for entry in (spec or "").split(","):
        if not entry.strip():
            continue
        parts = [part.strip() for part in entry.split(":")]
        if len(parts) not in (3, 4) or not all(parts[:3]):
            raise InvalidInput(
                "CRANE_API_TOKENS entries must look like TOKEN:TEAM:USER[:ENTERPRISE]"
            )
        token, team, user = parts[:3]
        enterprise = parts[3] if len(parts) == 4 else ""
        tokens[token] = Scope(enterprise_id=enterprise, team_id=team, user_id=user)
    return tokens


@lru_cache(maxsize=1024)
def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Auth:
    def __init__(self, tokens: dict[str, Scope]) -> None:
        self.tokens = tokens
        self._encoded = [(token.encode(), scope) for token, scope in tokens.items()]

    def page_allowed(self, request: Request) -> None:
        """The playground page: anyone may load it when tokens exist (the API still asks
        for one); without tokens, loopback clients only, like the API."""
        if not self.tokens and not is_loopback(request.client.host if request.client else None):
            raise Problem(403, "no API tokens are configured: only local clients are served")

    def __call__(self, request: Request) -> Scope:
        host = request.client.host if request.client else None
        return self.caller(request.headers.get("authorization", ""), host)

    def caller(self, authorization: str, host: str | None) -> Scope:
        """The scope of a request with this Authorization header from this client address."""
        if not self.tokens:
            if not is_loopback(host):
                raise Problem(403, "no API tokens are configured: only local clients are served")
            return LOCAL
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            given = token.strip().encode()
            for known, scope in self._encoded:
                if hmac.compare_digest(known, given):
                    return scope
        raise Problem(401, "missing or unknown bearer token", {"WWW-Authenticate": "Bearer"})


async def caller(request: Request) -> Scope:  # async: FastAPI runs sync ones in a thread
    """The authenticated caller's scope (the `Auth` set on the app at build time)."""
    auth: Auth = request.app.state.auth
    return auth(request)


Caller = Annotated[Scope, Depends(caller)]
