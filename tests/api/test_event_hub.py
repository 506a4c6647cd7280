"""The SSE event hub keeps the frames of runs created here within a bound in bytes, for all
runs and for each: a large output does not stay in memory, and its readers still get every
event, from the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from api.events import EventHub
from core.plan import RunEvent, Scope
from tests.api.conftest import LiveApi
from tests.api.test_sse import hub_of

ALICE = Scope(enterprise_id="", team_id="T1", user_id="alice")
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def event(run_id: str, seq: int, output: str = "5") -> RunEvent:
    return RunEvent(run_id=run_id, seq=seq, type="step.finished", data={"output": output},
                    created_at=NOW)  # fmt: skip


def replayed(hub: EventHub, run_id: str) -> list[int] | None:
    """The seqs a reader coming now is replayed from memory (None: from the store)."""

    async def watch() -> list[int] | None:
        channel, frames = hub.watch(run_id)
        hub.unwatch(run_id, channel)
        return None if frames is None else [frame.seq for frame in frames]

    return asyncio.run(watch())


def test_a_run_whose_output_outgrows_its_bound_is_replayed_from_the_store() -> None:
    hub = EventHub(keep_bytes=100_000, keep_run_bytes=10_000)
    hub.track("small", ALICE)
    hub.track("large", ALICE)
    hub.publish(event("small", 1))
    hub.publish(event("large", 1))
    hub.publish(event("large", 2, "x" * 20_000))  # a long todo list, say
    hub.publish(event("large", 3))

    assert replayed(hub, "small") == [1]
    assert replayed(hub, "large") is None
    assert hub.owner("large") == ALICE  # still known: its readers need no store lookup to
    assert hub.kept_bytes < 1_000  # … be authorised; only the small run's frame is kept


def test_the_frames_kept_for_all_runs_stay_within_their_bound_newest_first() -> None:
    hub = EventHub(keep_bytes=50_000, keep_run_bytes=20_000)
    for i in range(100):  # 100 runs of ~10 kB each: ten times the bound
        hub.track(f"r{i}", ALICE)
        hub.publish(event(f"r{i}", 1, "y" * 10_000))

    assert hub.kept_bytes <= 50_000
    assert replayed(hub, "r99") == [1] and replayed(hub, "r96") == [1]
    assert replayed(hub, "r0") is None and hub.owner("r0") is None  # the store decides
    assert replayed(hub, "r95") is None  # four runs of ~10 kB fill 50 kB


def test_a_reader_of_a_run_the_hub_kept_nothing_of_gets_every_event(api: LiveApi) -> None:
    hub = hub_of(api)
    hub.keep_run_bytes = 1  # every run's frames outgrow it at once
    run = api.run_to_end("calculate 2+3 and add a todo to buy milk")

    events = api.events(run["id"])

    assert replayed(hub, run["id"]) is None
    assert [e.id for e in events] == [e.seq for e in api.store.events_after(run["id"])]
    assert events[-1].event == "run.finished"
