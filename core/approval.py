"""Answers to a waiting run's question, and Stop: each one compare-and-set in one transaction.

A run with `approval` pauses before each destructive step (`core.execution`). Its requester
approves (the run becomes `pending` again, owned by the approving process, which executes it),
cancels (that step and the rest `skipped`, the run `cancelled`), or lets it expire. Of two
answers to one question — a double click, a click racing the expiry sweep — exactly one counts;
the other gets `stale`. Callers check who may answer (only the run's requester) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core import questions, spans
from core.plan import Run, RunEvent, RunStatus

if TYPE_CHECKING:
    from core.orchestrator import Orchestrator


class Outcome(StrEnum):
    approved = "approved"  # the run goes on: the caller executes it now
    skipped = "skipped"  # that step skipped, the run goes on: the caller executes it now
    cancelled = "cancelled"  # it was waiting: now cancelled
    stopping = "stopping"  # it is running: it stops at its next step boundary
    expired = "expired"  # the question had expired: the run is cancelled now (or was already)
    stale = "stale"  # nothing to answer: already answered, finished, or another question


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    run: Run  # as it is after the decision
    index: int | None = None  # the step the question was about
    place: str | None = None  # where a front end showed the question (its own JSON)
    earlier: str | None = None  # for `stale`: how the question was answered before
    earlier_by: str | None = None  # …and by whom


def approve(orchestrator: Orchestrator, run_id: str, by: str, index: int | None = None) -> Decision:
    """Approve the waiting question (the one about step `index`, if given)."""
    return _decide(orchestrator, run_id, by, index, approving=True)


def skip(orchestrator: Orchestrator, run_id: str, by: str, index: int | None = None) -> Decision:
    """Skip the step the waiting question is about (the third answer when a crash left an MCP
    call's outcome unknown): it is marked `skipped` and the run goes on after it."""
    return _decide(orchestrator, run_id, by, index, approving=True, skipping=True)


def cancel(orchestrator: Orchestrator, run_id: str, by: str, index: int | None = None) -> Decision:
    """Cancel the waiting question (about step `index`, if given); without `index` this is Stop:
    a running or pending run stops at its next step boundary."""
    return _decide(orchestrator, run_id, by, index, approving=False)


def expire(orchestrator: Orchestrator) -> list[Decision]:
    """Cancel every question left unanswered past its time (the server sweeps now and then)."""
    found = []
    for run_id in orchestrator.store.expired_approvals():
        decision = _decide(orchestrator, run_id, "", None, approving=False, stop=False)
        if decision.outcome is Outcome.expired:
            found.append(decision)
    return found


def _decide(
    orchestrator: Orchestrator,
    run_id: str,
    by: str,
    index: int | None,
    *,
    approving: bool,
    stop: bool = True,
    skipping: bool = False,
) -> Decision:
    store = orchestrator.store
    events: list[RunEvent] = []
    with store.write():  # one transaction: read the state, change it, write its events
        run = store.get_run(run_id)
        execution = orchestrator.execution(run)
        journal = execution.journal
        with journal.transaction() as events:
            now = store.clock()
            ask = journal.waiting() if run.status is RunStatus.awaiting_approval else None
            if ask is None or (index is not None and ask["idx"] != index):
                if stop and index is None and not approving and journal.request_stop():
                    return Decision(Outcome.stopping, run)
                return _stale(orchestrator, run, index)
            step = ask["idx"]
            if datetime.fromisoformat(ask["expires_at"]) <= now:
                outcome = Outcome.expired
            elif skipping:
                outcome = Outcome.skipped
            else:
                outcome = Outcome.approved if approving else Outcome.cancelled
            # the compare-and-set: on PostgreSQL two transactions may both have read the
            # question as waiting; only one UPDATE finds it still so
            if not journal.decide(step, outcome.value, by, now):
                return _stale(orchestrator, run, index)
            if outcome in (Outcome.approved, Outcome.skipped):
                if outcome is Outcome.skipped:
                    journal.resync()
                    questions.skip(execution, step, now)
                journal.resume(orchestrator.owner, now)
                run.status = RunStatus.pending
            else:
                journal.resync()  # the events of a run this process may never have executed
                execution.cancel(step, now)
    orchestrator.announce(events)
    if outcome is not Outcome.approved:  # cancelled or expired: finished here
        spans.finish(run, store.clock())
    return Decision(outcome, run, step, ask["place"])


def _stale(orchestrator: Orchestrator, run: Run, index: int | None) -> Decision:
    run = orchestrator.store.get_run(run.id)  # as it is now: another answer may have just won
    last: Any = orchestrator.store.last_decision(run.id)
    if last is None:
        return Decision(Outcome.stale, run, index)
    outcome = Outcome.expired if last["status"] == Outcome.expired.value else Outcome.stale
    return Decision(outcome, run, last["idx"], last["place"], last["status"], last["decided_by"])
