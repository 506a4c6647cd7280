"""The assembly: Slack (`bot`), HTTP (`api`) and the runtime (`core`) joined into one server."""

from server.app import Server, create
from server.serve import serve

__all__ = ["Server", "create", "serve"]
