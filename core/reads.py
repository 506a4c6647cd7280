"""What front ends read (they write nothing into the store themselves): runs, todos, a run's
events, conversations, idempotency keys and feedback totals."""

from __future__ import annotations

from typing import Any

from core.plan import Feedback, Run, RunEvent, RunStatus, Scope, Todo
from core.store import Store


class Reads:
    def __init__(self, store: Store) -> None:
        self._store = store

    def run(self, run_id: str, scope: Scope | None = None) -> Run:
        """One run (NotFound, also for another caller's when `scope` is given)."""
        return self._store.get_run(run_id, scope)

    def runs(
        self,
        scope: Scope | None = None,
        limit: int = 20,
        status: RunStatus | None = None,
        before: tuple[str, str] | None = None,
    ) -> list[Run]:
        """The latest runs (of one caller, with `scope`), newest first, before a cursor."""
        return self._store.list_runs(scope, limit, status, before)

    def events_after(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        return self._store.events_after(run_id, after_seq)

    def todos(self, scope: Scope, include_done: bool = False) -> list[Todo]:
        return self._store.list_todos(scope, include_done)

    def follows(self, scope: Scope, conversation: str) -> bool:
        """This user has talked with Crane in this conversation (a thread to follow)."""
        return self._store.conversation_exists(scope, conversation)

    def unfinished_in(self, tenant: Scope, conversation: str) -> list[tuple[str, RunStatus]]:
        """(run id, status) of every unfinished run of a workspace's conversation, anyone's
        (a Slack thread: its agent session's status, Slack's Stop)."""
        found = self._store.unfinished_in(tenant, conversation)
        return [(run_id, RunStatus(status)) for run_id, status in found]

    def idempotent_run(self, scope: Scope, key: str) -> tuple[str, str] | None:
        """(body hash, run id) of this caller's Idempotency-Key, within its 24 hours."""
        return self._store.idempotent_run(scope, key)

    def usage(
        self,
        days: int = 7,
        user_id: str | None = None,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        by_user: bool = True,
    ) -> list[dict[str, Any]]:
        """Usage of the last `days` UTC days, today included: per day and user (or, without
        `by_user`, per day), newest first, of the user/workspace/org given (None: any) —
        `{"date", "user", "runs", "steps", "prompt_tokens", "completion_tokens",
        "cached_tokens", "cost_usd"}` each."""
        match = {"enterprise_id": enterprise_id, "team_id": team_id, "user_id": user_id}
        given = {column: value for column, value in match.items() if value is not None}
        return self._store.usage(given, days, by_user)

    def today(self, scope: Scope) -> dict[str, Any]:
        """This user's usage today (zeros if none): the App Home's line against the limits."""
        found = self.usage(1, scope.user_id, scope.team_id, scope.enterprise_id)
        return found[0] if found else {"runs": 0, "steps": 0, "prompt_tokens": 0,
                                       "completion_tokens": 0, "cached_tokens": 0,
                                       "cost_usd": 0.0}  # fmt: skip

    def vote_totals(self) -> Feedback:
        return self._store.vote_totals()

    @property
    def database(self) -> str:
        """The database's path or URL (a replica listens to it for others' events)."""
        return self._store.path
