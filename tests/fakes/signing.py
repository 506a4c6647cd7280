"""Build signed Slack requests (the bodies and headers Slack sends to the app).

Payload fixtures live outside the repository, in /work/shared/slack_payloads/ (see its README);
they are read from there, never copied.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PAYLOADS_DIR = Path(__file__).resolve().parents[3] / "shared" / "slack_payloads"

_event_ids = itertools.count(1)


def signed_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with `body`: v0 HMAC-SHA256 signature over "v0:<ts>:<body>".

    Also sets Content-Type (JSON if the body starts with "{", else form-encoded)."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    is_json = body.lstrip()[:1] == b"{"
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
    }


def load_payload(name: str) -> dict[str, Any]:
    """A fresh copy of /work/shared/slack_payloads/<name>.json ("name" or "name.json")."""
    return copy.deepcopy(_load(name.removesuffix(".json")))


@cache
def _load(name: str) -> dict[str, Any]:
    path = PAYLOADS_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def slash_command_body(**fields: Any) -> bytes:
    """Form-encoded slash command body: slash_command.json with command "/crane", then `fields`.

    bool values become "true"/"false"; None removes a field."""
    form: dict[str, Any] = load_payload("slash_command")
    form["command"] = "/crane"
    form.update(fields)
    encoded = {
        k: ("true" if v else "false") if isinstance(v, bool) else str(v)
        for k, v in form.items()
        if v is not None
    }
    return urlencode(encoded).encode()


def new_event_id() -> str:
    return f"Ev{next(_event_ids):04d}{uuid.uuid4().hex[:6].upper()}"


def event_body(event: dict[str, Any], **envelope: Any) -> bytes:
    """JSON event_callback body wrapping `event`.

    Envelope defaults come from envelope_message.json (token, team_id, enterprise_id, api_app_id,
    type, authorizations, is_ext_shared_channel, event_context); event_id is unique per call and
    event_time is the event's event_ts/ts second (else the file's). `envelope` overrides any key
    (None is sent as JSON null)."""
    body = load_payload("envelope_message")
    body.pop("event", None)
    body["event_id"] = new_event_id()
    event_ts = event.get("event_ts") or event.get("ts")
    if event_ts:
        body["event_time"] = int(float(event_ts))
    body.update(envelope)
    body["event"] = event
    return json.dumps(body).encode()


__all__ = [
    "PAYLOADS_DIR",
    "event_body",
    "load_payload",
    "new_event_id",
    "signed_headers",
    "slash_command_body",
]
