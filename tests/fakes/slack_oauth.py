"""The OAuth side of the fake Slack Web API: `oauth.v2.access` (code exchange and token refresh)
and `auth.test` answered per workspace token.

    grant = fake.installs.grant("code-1", token="xoxb-t222", team_id="T222")
    # the browser comes back to /slack/oauth_redirect?code=code-1&state=…; Crane exchanges the
    # code (once: a second exchange is invalid_code) and auth.test with xoxb-t222 says T222.

Answers have the shapes of docs.slack.dev/reference/methods/oauth.v2.access: `team` is null
and `is_enterprise_install` true for an org-wide install; `refresh_token`/`expires_in` only
when token rotation is on. Tokens not granted here are answered as the default workspace
(so single-workspace tests need nothing); revoked ones answer `invalid_auth`.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, replace
from typing import Any

CLIENT_ID = "111.222"
CLIENT_SECRET = "test-client-secret"
BOT_SCOPES = "app_mentions:read,chat:write,commands"


@dataclass(frozen=True)
class Grant:
    """What Slack hands over for one OAuth code: a workspace's (or an org's) bot token."""

    code: str
    token: str
    team_id: str | None
    team_name: str = "Workspace"
    enterprise_id: str | None = None
    enterprise_wide: bool = False
    installer: str = "W111"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    refresh_token: str | None = None
    expires_in: int | None = None


class ApiError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Installs:
    def __init__(self) -> None:
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self.revoked: set[str] = set()
        self._serial = itertools.count(1)

    def grant(self, code: str, **fields: Any) -> Grant:
        """Slack will exchange `code` (once) for this grant's token."""
        grant = Grant(code=code, **fields)
        self._codes[code] = grant
        return grant

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def exchange(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        if _client(authorization, params) != (CLIENT_ID, CLIENT_SECRET):
            raise ApiError("invalid_client_id")
        if params.get("grant_type") == "refresh_token":
            return self._refreshed(str(params.get("refresh_token") or ""))
        grant = self._codes.pop(str(params.get("code") or ""), None)
        if grant is None:
            raise ApiError("invalid_code")
        self._remember(grant)
        answer: dict[str, Any] = {
            "ok": True,
            "access_token": grant.token,
            "token_type": "bot",
            "scope": BOT_SCOPES,
            "bot_user_id": grant.bot_user_id,
            "app_id": "A111",
            "team": None if grant.enterprise_wide else {"id": grant.team_id,
                                                        "name": grant.team_name},
            "enterprise": {"id": grant.enterprise_id, "name": "Org"} if grant.enterprise_id
            else None,
            "authed_user": {"id": grant.installer},
            "is_enterprise_install": grant.enterprise_wide,
        }  # fmt: skip
        if grant.refresh_token:
            answer.update(refresh_token=grant.refresh_token, expires_in=grant.expires_in)
        return answer

    def _refreshed(self, refresh_token: str) -> dict[str, Any]:
        old = self._refresh.pop(refresh_token, None)
        if old is None:
            raise ApiError("invalid_refresh_token")
        serial = next(self._serial)
        new = replace(old, token=f"{old.token}-r{serial}", refresh_token=f"xoxe-r{serial}",
                      expires_in=43200)  # fmt: skip
        self._remember(new)
        return {"ok": True, "access_token": new.token, "refresh_token": new.refresh_token,
                "expires_in": new.expires_in, "token_type": "bot", "scope": BOT_SCOPES}  # fmt: skip

    def _remember(self, grant: Grant) -> None:
        self._tokens[grant.token] = grant
        if grant.refresh_token:
            self._refresh[grant.refresh_token] = grant

    def auth_test(self, token: str | None) -> dict[str, Any] | None:
        """auth.test's answer for a granted token; None for tokens not granted here."""
        if token in self.revoked:
            raise ApiError("invalid_auth")
        grant = self._tokens.get(token or "")
        if grant is None:
            return None
        return {
            "ok": True,
            "url": f"https://{(grant.team_id or grant.enterprise_id or 'x').lower()}.slack.com/",
            "team": grant.team_name,
            "user": "crane",
            "team_id": grant.team_id or grant.enterprise_id,
            "user_id": grant.bot_user_id,
            "bot_id": grant.bot_id,
            "enterprise_id": grant.enterprise_id,
            "is_enterprise_install": grant.enterprise_wide,
        }


def _client(authorization: str, params: dict[str, Any]) -> tuple[str, str]:
    """(client id, secret) from HTTP basic auth (slack_sdk's way) or the form fields."""
    if authorization.lower().startswith("basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")
