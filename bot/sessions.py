"""Slack agent sessions: every thread where Crane shows runs is a session whose status follows
its runs — `processing` while any of them runs (Slack shows its own Stop button then),
`suspended` while one waits for approval, else `active`. Crane never sets `closed`.

Slack does not change a session's status by itself; whichever process shows a run's event sets
it, computed from the store (all the thread's runs, whoever asked and wherever they execute),
so a run taken over by another replica keeps its session right. The title is the request that
created the session (Slack ignores a title for a session that exists; Crane never renames).
A workspace that cannot have sessions (`not_allowed`, `missing_scope`, no agents) is left
alone for an hour; a refused argument is logged for that call. Neither fails nor holds up a run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.plan import RunStatus, Scope
from core.runtime import Crane

log = logging.getLogger("crane.slack")

# what Slack answers where a workspace (or this app's install) cannot have agent sessions
NO_SESSIONS = frozenset({"not_allowed", "missing_scope", "not_allowed_token_type",
                         "feature_not_enabled", "team_not_allowed", "not_an_agent",
                         "unknown_method", "invalid_auth", "no_permission"})  # fmt: skip
OFF_FOR_S = 3600.0
TITLE_CHARS = 200
GOING = (RunStatus.pending, RunStatus.running)


@dataclass(frozen=True)
class Thread:
    """Where a session lives: a thread of a channel or DM, in one workspace."""

    tenant: Scope
    channel: str
    thread_ts: str
    conversation: str  # where its runs are stored
    run_id: str  # the run shown there now

    @property
    def alone(self) -> bool:
        """A top-level DM: its run is the thread's only one, though its conversation (the
        user's rolling DM conversation) holds the other threads' runs too."""
        return self.conversation.endswith(":dm")


def thread_status(statuses: list[RunStatus]) -> str:
    """The session status for the unfinished runs of a thread."""
    if any(status in GOING for status in statuses):
        return "processing"
    if RunStatus.awaiting_approval in statuses:
        return "suspended"
    return "active"


class Sessions:
    def __init__(self, crane: Crane, clock: Callable[[], float] = time.monotonic) -> None:
        self.crane, self.clock = crane, clock
        self._off_until: dict[tuple[str, str], float] = {}  # workspace → when to try again
        self._lock = threading.Lock()

    def follow(
        self, client: WebClient, thread: Thread, title: str | None = None, told: str | None = None
    ) -> str:
        """Set the thread's session to what its runs say now, unless that is what this pass
        `told` it last (Tier 3 calls are not spent twice on one status); the status."""
        found = self.crane.reads.unfinished_in(thread.tenant, thread.conversation)
        statuses = [status for run_id, status in found
                    if not thread.alone or run_id == thread.run_id]  # fmt: skip
        status = thread_status(statuses)
        if status != told:
            self.set(client, thread, status, title)
        return status

    def set(self, client: WebClient, thread: Thread, status: str, title: str | None = None) -> None:
        workspace = (thread.tenant.enterprise_id, thread.tenant.team_id)
        with self._lock:
            if self._off_until.get(workspace, 0.0) > self.clock():
                return
        try:
            client.agents_sessions_setStatus(
                channel_id=thread.channel, thread_ts=thread.thread_ts, status=status,
                title=title[:TITLE_CHARS] if title else None,
            )  # fmt: skip
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in NO_SESSIONS:
                log.info("no agent sessions in this workspace for an hour: %s", reason)
                with self._lock:
                    self._off_until[workspace] = self.clock() + OFF_FOR_S
            else:
                log.warning("agents.sessions.setStatus refused: %s", reason)
        except Exception as error:  # Slack unreachable: the run goes on without its status
            log.warning("agents.sessions.setStatus failed: %r", error)
