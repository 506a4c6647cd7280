"""JSON text for the store's columns (step arguments and results, event data).

pydantic-core's serializer and parser are several times faster than the json module, and the
per-step hot path writes JSON four times. They read and write the same JSON, except for lone
surrogates ("\\ud800"), which only the json module handles: it takes over for those.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, from_json, to_json


def dump(value: Any) -> str:
    try:
        return to_json(value).decode()
    except PydanticSerializationError:
        return json.dumps(value)


def load(text: str) -> Any:
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)
