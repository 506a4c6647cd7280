"""Crane as several `crane serve` replicas on one PostgreSQL database: the job library's schema
comes with Crane's migrations, a dead replica's runs are taken over by a live one, and a frozen
replica that wakes up after its lease was taken writes nothing."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from procrastinate import App, PsycopgConnector

import cli
from core.cluster import QUEUE, WORKER_TASK
from core.orchestrator import Orchestrator
from core.plan import Plan, PlannedStep, RunStatus, Scope
from core.runtime import Crane
from core.store import Store
from tests.api.conftest import SseEvent, parse_sse
from tests.bot.conftest import (
    CHANNEL,
    ENTERPRISE,
    SECRET,
    TEAM,
    TOKEN,
    USER,
    _serve,
    mention_event,
    message_event,
    settings_for,
)
from tests.fakes.signing import event_body, signed_headers, slash_command_body
from tests.fakes.slack_api import FakeSlack, Message
from tests.pg import fresh_schema
from tests.replicas import Replica, replicas

ALICE = Scope(enterprise_id="", team_id="T01", user_id="U01")
TAKEOVER_S = 30.0


@pytest.fixture
def shared_db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _wait_finished(store: Store, run_id: str, within_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        if store.get_run(run_id).status in (RunStatus.completed, RunStatus.failed):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {store.get_run(run_id).status} after {within_s}s")


def test_crane_db_upgrade_applies_the_job_librarys_schema_too(shared_db: str) -> None:
    assert cli.main(["db", "upgrade", "--db", shared_db]) == 0
    store = Store(shared_db)
    try:
        with store.write() as conn:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs') AS t").fetchone()
        assert row["t"] is not None
    finally:
        store.close()


def test_a_run_left_by_a_dead_replica_is_taken_over_by_a_live_one(
    shared_db: str, tmp_path: Path
) -> None:
    with replicas(shared_db, tmp_path, 1):
        store = Store(shared_db)
        try:  # a replica on this machine died with a run stored, not yet finished
            dead = Orchestrator(store, owner=(socket.gethostname(), _dead_pid(), "dead"))
            crane = Crane(store, lambda text, history: Plan(), dead)
            plan = Plan(steps=[PlannedStep(tool="add_todo", args={"title": "taken over"})])
            run = crane.start(ALICE, "add a todo: taken over", plan)

            _wait_finished(store, run.id, TAKEOVER_S)

            assert [todo.title for todo in store.list_todos(ALICE)] == ["taken over"]
            assert store.get_run(run.id).status is RunStatus.completed
        finally:
            store.close()


def test_a_frozen_replica_writes_nothing_after_its_lease_was_taken(
    shared_db: str, tmp_path: Path
) -> None:
    env = {"CRANE_LEASE_S": "2", "CRANE_WORKERS": "1"}
    with replicas(shared_db, tmp_path, 2, **env) as (frozen, _live):
        store = Store(shared_db)
        try:
            with frozen.client() as client:
                titles = "; ".join(f"frozen {n}" for n in range(50))
                body = client.post("/api/v1/runs", json={"text": f"add todos: {titles}"}).json()
            frozen.freeze()  # SIGSTOP mid-run (50 commits take far longer than this): its lease
            at_freeze = store.get_run(body["id"])  # runs out
            assert at_freeze.status in (RunStatus.pending, RunStatus.running)
            _wait_finished(store, body["id"], TAKEOVER_S)  # the live replica finished it
            done = store.get_run(body["id"])
            events = len(store.events_after(body["id"]))
            frozen.thaw()  # it wakes up believing it still owns the run
            time.sleep(3)

            assert store.get_run(body["id"]) == done  # not one write more
            assert len(store.events_after(body["id"])) == events
            titles_now = [todo.title for todo in store.list_todos(ALICE)]
            assert sorted(titles_now) == sorted(f"frozen {n}" for n in range(50))
        finally:
            store.close()


def test_an_sse_reader_on_one_replica_sees_a_run_executed_on_another(
    shared_db: str, tmp_path: Path
) -> None:
    with replicas(shared_db, tmp_path, 2) as (reading, executing):
        store = Store(shared_db)
        store.add_todo(ALICE, "buy milk")
        store.close()
        with executing.client() as http:
            run_id = http.post("/api/v1/runs", json={"text": "delete todo 1"}).json()["id"]
            _wait_status(http, run_id, "awaiting_approval")
        seen: list[SseEvent] = []

        def follow() -> None:
            with (
                reading.client() as client,
                client.stream("GET", f"/api/v1/runs/{run_id}/events") as stream,
            ):
                seen.extend(parse_sse(stream.iter_lines()))

        follower = threading.Thread(target=follow)
        follower.start()  # replica A replays what is stored, then waits with the run
        time.sleep(1)  # (the stream's frames arrive only when it ends: give it time to open)
        with executing.client() as http:  # replica B executes the rest
            assert http.post(f"/api/v1/runs/{run_id}/approve").status_code == 200
        follower.join(15)

        assert not follower.is_alive(), "the stream on the other replica never ended"
        assert [e.id for e in seen] == list(range(1, len(seen) + 1))
        assert [e.event for e in seen][-3:] == ["step.started", "step.finished", "run.finished"]
        assert seen[-1].data["status"] == "completed"


def _wait_status(http: httpx.Client, run_id: str, status: str) -> None:
    _wait_until(lambda: http.get(f"/api/v1/runs/{run_id}").json()["status"] == status)


def _wait_until(
    done: Callable[[], bool], within_s: float = 10.0, state: Callable[[], object] = str
) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, f"timed out: {state()}"
        time.sleep(0.05)


def test_a_burst_over_three_replicas_with_one_killed_answers_every_acked_request_once(
    shared_db: str, tmp_path: Path
) -> None:
    with FakeSlack() as fake, replicas(shared_db, tmp_path, 3, **_slack_env(fake)) as group:
        survivors, victim = group[:2], group[2]
        rest: dict[str, str] = {}  # title → run id of each accepted REST request
        replays: list[tuple[str, str]] = []  # (run id first answered, run id of the replay)
        mentions: dict[str, str] = {}  # title → ts of its mention
        commands: list[str] = []  # titles of slash commands
        big = [f"victim {n}" for n in range(50)]
        slack_big = [f"slack victim {n}" for n in range(12)]
        for n in range(24):
            if n == 12:  # kill -9 mid-burst, in the middle of long runs it accepted
                with victim.client() as http:
                    text = "add todos: " + "; ".join(big)
                    in_flight = http.post("/api/v1/runs", json={"text": text}).json()["id"]
                event = mention_event("add todos: " + "; ".join(slack_big))
                mentions[slack_big[0]] = event["ts"]
                assert _signed_post(victim, event_body(event)).status_code == 200
                victim.kill()
            alive = group if victim.process.poll() is None else survivors
            title = f"rest {n}"
            with alive[n % len(alive)].client() as http:
                body = {"text": f"add a todo: {title}"}
                key = {"Idempotency-Key": f"key-{n}"}
                created = http.post("/api/v1/runs", json=body, headers=key)
                assert created.status_code == 202, created.text
                rest[title] = created.json()["id"]
            if n % 4 == 0:  # the client retries on another replica
                with survivors[(n + 1) % 2].client() as http:
                    again = http.post("/api/v1/runs", json=body, headers=key)
                    replays.append((rest[title], again.json()["id"]))
            if n % 3 == 1:  # a slash command: its header starts the thread
                title = f"command {n:02d}"
                raw = slash_command_body(text=f"add a todo: {title}", trigger_id=f"trigger-{n}",
                                         response_url=fake.response_url(f"r{n}"))  # fmt: skip
                assert _signed_post(alive[(n + 2) % len(alive)], raw).status_code == 200
                commands.append(title)
            if n % 2 == 0:  # a Slack mention, and Slack's retry of it to another replica
                title = f"slack {n}"
                event = mention_event(f"add a todo: {title}")
                mentions[title] = event["ts"]
                raw = event_body(event)  # to the victim too, while it lives
                assert _signed_post(alive[(n + 1) % len(alive)], raw).status_code == 200
                retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
                assert _signed_post(survivors[n % 4 // 2], raw, retry).status_code == 200

        store = Store(shared_db)
        try:

            def answered(ts: str) -> bool:
                return any(m.thread_ts == ts and m.text.startswith("Added todo")
                           for m in fake.messages(CHANNEL))  # fmt: skip

            def command_threads() -> dict[str, str]:  # title → ts of the header it posted
                return {title: m.ts for m in fake.messages(CHANNEL) for title in commands
                        if m.thread_ts is None and title in m.text}  # fmt: skip

            def state() -> object:
                threads = {**mentions, **command_threads()}
                return (_unfinished(store), _received(store), set(commands) - set(threads),
                        [title for title, ts in threads.items() if not answered(ts)])  # fmt: skip

            _wait_until(lambda: not any(state()), within_s=60, state=state)
            time.sleep(1)  # a second answer would have come by now
            assert all(first == again for first, again in replays)
            for run_id in rest.values():
                assert store.get_run(run_id).status is RunStatus.completed
            titles = [todo.title for todo in store.list_todos(ALICE)]
            assert sorted(titles) == sorted([*rest, *big])  # each applied once
            taken = store.get_run(in_flight)
            assert taken.status is RunStatus.completed
            assert store.run_owner(in_flight)["owner_pid"] != victim.process.pid
            slack_titles = [todo.title for todo in store.list_todos(SLACK_USER)]
            assert sorted(slack_titles) == sorted([*mentions, *slack_big[1:], *commands])
            for ts in mentions.values():  # one header, one final answer per request
                thread = [m for m in fake.messages(CHANNEL) if m.thread_ts == ts]
                headers = [m for m in thread if "asked:" in m.text]
                assert len(headers) == 1 and headers[0].text.startswith("✅"), thread
                answers = [m for m in thread if m.text.startswith("Added todo")]
                assert len(answers) == 1, thread
            for title in commands:  # one header in the channel, one answer in its thread
                (header,) = [m for m in fake.messages(CHANNEL)
                             if m.thread_ts is None and title in m.text]  # fmt: skip
                assert header.text.startswith("✅"), header
                thread = [m for m in fake.messages(CHANNEL) if m.thread_ts == header.ts]
                assert len([m for m in thread if m.text.startswith("Added todo")]) == 1, thread
            with survivors[0].client() as http:  # its events, in order, on any replica
                stream = http.get(f"/api/v1/runs/{in_flight}/events").text
            events = parse_sse(iter(stream.split("\n")))
            assert [event.id for event in events] == list(range(1, len(events) + 1))
            assert events[-1].event == "run.finished"
        finally:
            store.close()


SLACK_USER = Scope(enterprise_id=ENTERPRISE, team_id=TEAM, user_id=USER)


def test_a_slack_run_whose_replica_died_is_finished_by_another_in_the_same_messages(
    shared_db: str, tmp_path: Path
) -> None:
    with FakeSlack() as fake, replicas(shared_db, tmp_path / "a", 1, **_slack_env(fake)) as group:
        (victim,) = group
        fake.delay("chat.postMessage", 1.5)  # seven posts: the run lasts ten seconds or more
        event = mention_event("add todos: " + "; ".join(f"slow {n}" for n in range(1, 6)))
        assert _signed_post(victim, event_body(event)).status_code == 200
        fake.wait_for("chat.postMessage", count=2, timeout=30)  # its header and first step
        # mid-run: its worker's job stalls, its run's owner is gone (killed before the other
        # starts: a replica starting on a loaded machine may take longer than the whole run)
        victim.kill()
        fake.delay("chat.postMessage", 0)
        with replicas(shared_db, tmp_path / "b", 1, **_slack_env(fake)) as (live,):
            store = Store(shared_db)
            try:
                (run_id,) = [run.id for run in store.list_runs(SLACK_USER)]
                took = _wait_finished(store, run_id, TAKEOVER_S)
                time.sleep(1)  # a second answer would have come by now
                assert store.run_owner(run_id)["owner_pid"] == live.process.pid, took
                titles = sorted(todo.title for todo in store.list_todos(SLACK_USER))
            finally:
                store.close()
        assert titles == [f"slow {n}" for n in range(1, 6)]  # each step applied once
        thread = [m for m in fake.messages(CHANNEL) if m.thread_ts == event["ts"]]
        headers = [m for m in thread if "asked:" in m.text]
        assert len(headers) == 1 and headers[0].text.startswith("✅"), thread
        assert len([m for m in thread if m.text.startswith("Added todo")]) == 1, thread


def _slack_env(fake: FakeSlack) -> dict[str, str]:
    # Slack's per-workspace budgets (issue 22) raised: these bursts are about durability, and
    # the fake enforces no limit here (one workspace's 60 posts a minute would pace them)
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.url,
            "CRANE_SLACK_STREAMING": "off", "CRANE_WORKERS": "2",
            "CRANE_SLACK_RATE_LIMITS": "chat.postMessage=6000/min,chat.update=6000/min",
            }  # fmt: skip


def _signed_post(
    replica: Replica, raw: bytes, extra: dict[str, str] | None = None
) -> httpx.Response:
    headers = signed_headers(raw, SECRET) | (extra or {})
    return httpx.post(replica.url + "/slack/events", content=raw, headers=headers, timeout=30)


def _received(store: Store) -> int:
    """Slack requests acked and not yet planned."""
    with store.write() as conn:
        return int(conn.execute("SELECT COUNT(*) AS n FROM intake").fetchone()["n"])


def _unfinished(store: Store) -> list[str]:
    with store.write() as conn:
        rows = conn.execute("SELECT id FROM runs WHERE status IN ('pending', 'running')").fetchall()
    return [row["id"] for row in rows]


def test_ready_says_503_while_the_replicas_job_worker_is_not_running(
    shared_db: str, tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        live, running = _serve(settings_for(fake, tmp_path, db=shared_db), fake, replica=True)
        try:
            _wait_until(lambda: live.http.get("/ready").status_code == 200)

            async def worker_dies() -> None:
                (worker,) = [t for t in asyncio.all_tasks() if t.get_name() == WORKER_TASK]
                worker.cancel()

            cluster = live.server.cluster  # the worker runs on the cluster's own event loop
            assert cluster is not None and cluster.loop is not None
            asyncio.run_coroutine_threadsafe(worker_dies(), cluster.loop).result(5)

            def not_ready() -> bool:  # the load balancer stops sending it work
                answer = live.http.get("/ready")
                return answer.status_code == 503 and answer.json() == {
                    "ok": False, "error": "the job worker is not running"}  # fmt: skip

            _wait_until(not_ready)
        finally:
            running.uv.should_exit = True
            running.thread.join(15)


def test_the_cluster_prunes_old_slack_delivery_records_with_its_prune_job(
    shared_db: str, tmp_path: Path
) -> None:
    day_before_yesterday = datetime.now(UTC) - timedelta(hours=49)
    old, fresh = Store(shared_db, clock=lambda: day_before_yesterday), Store(shared_db)
    try:
        with replicas(shared_db, tmp_path, 1):
            assert old.claim_delivery("old-delivery", ALICE)
            assert fresh.claim_delivery("fresh-delivery", ALICE)
            jobs = App(connector=PsycopgConnector(conninfo=shared_db))
            with jobs.open():  # what the periodic tick defers, once per period for the cluster
                jobs.configure_task("crane.prune", queue=QUEUE).defer(timestamp=0)

            def kept() -> list[str]:
                with fresh.write() as conn:
                    rows = conn.execute("SELECT key FROM deliveries ORDER BY key").fetchall()
                return [row["key"] for row in rows]

            _wait_until(lambda: kept() == ["fresh-delivery"], within_s=15, state=kept)
    finally:
        old.close()
        fresh.close()


def test_a_dm_to_a_replica_is_streamed_by_whichever_worker_runs_it(
    shared_db: str, tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        env = _slack_env(fake) | {"CRANE_SLACK_STREAMING": "dm"}
        with replicas(shared_db, tmp_path, 2, **env) as group:
            event = message_event("calculate 2+3", channel="D111", channel_type="im")
            assert _signed_post(group[0], event_body(event)).status_code == 200

            def answered() -> list[Message]:
                return [m for m in fake.messages("D111") if m.streamed and not m.streaming]

            _wait_until(lambda: bool(answered()), within_s=20, state=fake.messages)
        (answer,) = answered()
        assert answer.thread_ts == event["ts"] and "5" in answer.text
        assert fake.messages("D111") == [answer]  # no header, no second answer


def test_a_finished_run_replays_whole_on_the_replica_that_accepted_it_wherever_it_ran(
    shared_db: str, tmp_path: Path
) -> None:
    with replicas(shared_db, tmp_path, 2) as (accepting, other):
        store = Store(shared_db)
        executors = set()
        try:
            with accepting.client() as http:
                for n in range(10):  # either replica's worker runs each: both, most likely
                    run_id = http.post("/api/v1/runs", json={"text": f"calculate {n}+1"}).json()[
                        "id"
                    ]
                    _wait_finished(store, run_id, 15)
                    executors.add(store.run_owner(run_id)["owner_pid"])
                    # a stream left waiting for what already happened gets no frame: timed out
                    replay = http.get(f"/api/v1/runs/{run_id}/events", timeout=5).text
                    events = parse_sse(iter(replay.split("\n")))
                    assert [e.event for e in events][-1] == "run.finished", (n, events)
                    assert events[-1].data["answer"] == f"{n}+1 = {n + 1}"
        finally:
            store.close()
        assert executors <= {accepting.process.pid, other.process.pid}
