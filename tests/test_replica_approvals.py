"""An approved run goes on through the cluster's job queue, exactly like a new run: approvals
received by a replica whose every worker slot is busy are executed by another replica's worker,
once, and a slash command answered by `response_url` is answered by whichever replica executes
it — through the approval click's own (fresh) `response_url`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.plan import RunStatus, Scope
from core.store import Store
from tests.bot.conftest import CHANNEL, mention_event, message_event, new_ts
from tests.bot.test_slack_buttons import button_of, click_body
from tests.fakes.signing import event_body, slash_command_body
from tests.fakes.slack_api import FakeSlack
from tests.pg import fresh_schema
from tests.replicas import replicas
from tests.test_replicas import ALICE, SLACK_USER, _signed_post, _slack_env, _wait_until

BUSY_S = 20.0  # how long Slack takes to start each stream that keeps A's workers busy


@pytest.fixture
def shared_db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def _status(store: Store, run_id: str) -> RunStatus:
    return store.get_run(run_id).status


def _run_in(store: Store, who: Scope, text: str) -> str:
    (run,) = [run for run in store.list_runs(who, 50) if run.text == text]
    return run.id


def test_approvals_on_a_busy_replica_go_on_on_another_replicas_worker_once(
    shared_db: str, tmp_path: Path
) -> None:
    store = Store(shared_db)
    try:
        for title in ("milk in a thread", "milk by response_url"):
            store.add_todo(SLACK_USER, title)  # #1, #2
        store.add_todo(ALICE, "milk by REST")  # ALICE's #1
        with FakeSlack() as fake:
            env = _slack_env(fake) | {"CRANE_SLACK_STREAMING": "dm", "CRANE_WORKERS": "2"}
            with replicas(shared_db, tmp_path / "a", 1, **env) as (a,):
                # three runs accepted by A wait for their requester's approval
                waiting = RunStatus.awaiting_approval
                root = new_ts()
                _signed_post(a, event_body(mention_event("delete todo 1", ts=root)))
                fake.wait_for("chat.postMessage", count=2, timeout=20)  # its header and prompt
                thread_id = _run_in(store, SLACK_USER, "delete todo 1")
                _wait_until(lambda: _status(store, thread_id) is waiting, 20)
                fake.fail("chat.postMessage", "not_in_channel")  # the command's header
                command = slash_command_body(text="delete todo 2",
                                             response_url=fake.response_url("command"))  # fmt: skip
                assert _signed_post(a, command).status_code == 200
                fake.wait_for("response_url", count=2, timeout=20)  # the invite note, the prompt
                hook_id = _run_in(store, SLACK_USER, "delete todo 2")
                _wait_until(lambda: _status(store, hook_id) is waiting, 20)
                with a.client() as http:
                    rest_id = http.post("/api/v1/runs", json={"text": "delete todo 1"}).json()["id"]
                _wait_until(lambda: _status(store, rest_id) is waiting, 20)

                # every worker slot of A busy: two DMs whose streams Slack is slow to start
                fake.delay("chat.startStream", BUSY_S)
                for channel in ("D0BUSY1", "D0BUSY2"):
                    dm = message_event("calculate 1+1", channel=channel, channel_type="im")
                    _signed_post(a, event_body(dm))
                running = RunStatus.running
                _wait_until(
                    lambda: [r.status for r in store.list_runs(SLACK_USER, 50)
                             if r.text == "calculate 1+1"] == [running, running], 20,
                )  # fmt: skip

                with replicas(shared_db, tmp_path / "bc", 2, **env) as others:
                    prompt = next(m for m in fake.messages(CHANNEL) if m.thread_ts == root
                                  and button_of(m, "crane_approve"))  # fmt: skip
                    approve = button_of(prompt, "crane_approve")
                    assert approve is not None
                    click = click_body(fake, "crane_approve", approve["value"], message=prompt)
                    assert _signed_post(a, click).status_code == 200

                    asked = fake.calls("response_url")[1].params
                    (hooked,) = [e for b in asked["blocks"] if b["type"] == "actions"
                                 for e in b["elements"]
                                 if e["action_id"] == "crane_approve"]  # fmt: skip
                    click = click_body(fake, "crane_approve", hooked["value"])
                    assert _signed_post(a, click).status_code == 200

                    with a.client() as http:
                        assert http.post(f"/api/v1/runs/{rest_id}/approve").status_code == 200

                    done = RunStatus.completed
                    for run_id in (thread_id, hook_id, rest_id):
                        _wait_until(lambda run_id=run_id: _status(store, run_id) is done, 15,
                                    state=lambda run_id=run_id: _status(store, run_id))  # fmt: skip
                    executors = {store.run_owner(run_id)["owner_pid"]
                                 for run_id in (thread_id, hook_id, rest_id)}  # fmt: skip
                    assert executors <= {other.process.pid for other in others}, executors
                    busy = [r.status for r in store.list_runs(SLACK_USER, 50)
                            if r.text == "calculate 1+1"]  # fmt: skip
                    assert busy == [running, running]  # A's workers were busy all along

                # each deletion happened once, and each requester was answered once
                assert store.list_todos(SLACK_USER) == [] and store.list_todos(ALICE) == []
                thread = [m for m in fake.messages(CHANNEL) if m.thread_ts == root]
                headers = [m for m in thread if "asked:" in m.text]
                answers = [m for m in thread if "*Done.*" in json.dumps(m.blocks)]
                assert len(headers) == len(answers) == 1 and headers[0].text.startswith("✅")
                assert fake.message(CHANNEL, prompt.ts).text.startswith("✅ Approved")  # type: ignore[union-attr]
                assert len(thread) == 4, thread  # header, prompt, the step, the answer
                hooked_answers = [c for c in fake.calls("response_url")
                                  if "Deleted todo #2" in json.dumps(c.params)]  # fmt: skip
                (answer,) = hooked_answers
                assert answer.path == "/response/click"  # the click's fresh response_url
                events = store.events_after(rest_id)
                assert [e.type for e in events].count("run.finished") == 1
    finally:
        store.close()
