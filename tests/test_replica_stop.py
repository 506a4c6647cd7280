"""Slack's Stop (`agent_session_stopped`) delivered to a replica that is not executing the run:
the run stops at its next step, once; a duplicate delivery changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.plan import RunStatus
from core.store import Store
from tests.bot.conftest import CHANNEL, USER, mention_event, new_ts
from tests.fakes.signing import event_body, load_payload
from tests.fakes.slack_api import FakeSlack
from tests.pg import fresh_schema
from tests.replicas import replicas
from tests.test_replicas import SLACK_USER, _signed_post, _slack_env, _wait_until

STOP_WITHIN_S = 10.0  # a step boundary comes every half second here; generous for a busy CI


@pytest.fixture
def shared_db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def test_slacks_stop_on_another_replica_stops_the_run_once(shared_db: str, tmp_path: Path) -> None:
    store = Store(shared_db)
    try:
        with FakeSlack() as fake, replicas(shared_db, tmp_path, 2, **_slack_env(fake)) as group:
            fake.delay("chat.postMessage", 0.5)  # each step's message: the run lasts seconds
            root = new_ts()
            event = mention_event("add todos: " + "; ".join(f"slow {n}" for n in range(1, 6)),
                                  ts=root)  # fmt: skip
            assert _signed_post(group[0], event_body(event)).status_code == 200
            _wait_until(lambda: [r.status for r in store.list_runs(SLACK_USER)]
                        == [RunStatus.running], 30)  # fmt: skip
            (run,) = store.list_runs(SLACK_USER)
            executor = store.run_owner(run.id)["owner_pid"]
            other = next(r for r in group if r.process.pid != executor)

            stop = load_payload("agent_session_stopped") | {
                "user": USER,
                "channel": CHANNEL,
                "thread_ts": root,
                "streaming_message_ts": [],
            }
            body = event_body(stop, event_id="Ev0STOPREPLICA")
            started = time.monotonic()
            assert _signed_post(other, body).status_code == 200
            assert _signed_post(other, body).status_code == 200  # Slack retried it
            _wait_until(lambda: store.get_run(run.id).status is RunStatus.cancelled,
                        STOP_WITHIN_S, state=lambda: store.get_run(run.id))  # fmt: skip
            took = time.monotonic() - started
            fake.delay("chat.postMessage", 0)
            time.sleep(1)  # a second "Stopped by" would have come by now

            stopped = store.get_run(run.id)
            assert [s.status.value for s in stopped.steps].count("skipped") >= 1, took
            said = [m for m in fake.messages(CHANNEL) if m.text == f"Stopped by <@{USER}>."]
            assert len(said) == 1 and said[0].thread_ts == root
            assert fake.session(CHANNEL, root)["status"] == "active"  # type: ignore[index]
    finally:
        store.close()
