"""An ack is a promise: real `crane serve` processes, stopped with SIGTERM while requests are
still queued or killed with SIGKILL right after the acks; the next process on the same
database (SQLite or PostgreSQL) plans and answers every acknowledged request, exactly once,
in its own thread. A request turned away as busy was never recorded, so it is never run."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.store import Store
from tests.bot.conftest import CHANNEL, SECRET, TOKEN, mention_event, scope
from tests.fakes.signing import event_body
from tests.fakes.slack_api import FakeSlack
from tests.processes import CraneProcess

REQUESTS = 6
SLOW_SLACK_S = 0.3  # every chat.postMessage: the work piles up behind one worker


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def start(
    fake: FakeSlack, tmp_path: Path, databases: Callable[[Path], str]
) -> Iterator[Callable[..., CraneProcess]]:
    db = databases(tmp_path)
    started: list[CraneProcess] = []

    def launch(**env: str) -> CraneProcess:
        # channel threads shown as messages (their edits are what these tests follow)
        slack = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                 "SLACK_API_URL": fake.url, "CRANE_SLACK_STREAMING": "dm"}  # fmt: skip
        started.append(CraneProcess(db, **slack, **env))
        return started[-1]

    yield launch
    for each in started:
        if each.process.poll() is None:
            each.stop(signal.SIGKILL)


def answers(fake: FakeSlack, thread: str) -> list[str]:
    """The answers Crane posted in a thread (its step lines and headers aside)."""
    return [
        message.text
        for message in fake.messages(CHANNEL)
        if message.thread_ts == thread
        and message.text.startswith(("Added todo", "Picked up after a restart. Added todo"))
    ]


def wait_answered(fake: FakeSlack, threads: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while any(not answers(fake, thread) for thread in threads.values()):
        assert time.monotonic() < deadline, {t: answers(fake, t) for t in threads.values()}
        time.sleep(0.1)


def todo_titles(db: str) -> list[str]:
    store = Store(db)
    try:
        return sorted(todo.title for todo in store.list_todos(scope(), include_done=True))
    finally:
        store.close()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_every_acked_request_is_answered_once_after_the_process_dies(
    start: Callable[..., CraneProcess], fake: FakeSlack, how: signal.Signals
) -> None:
    # SIGTERM: the running request may finish (its grace period is ample); those still queued
    # are left to the next start
    first = start(CRANE_SHUTDOWN_TIMEOUT_S="10")
    fake.delay("chat.postMessage", SLOW_SLACK_S)
    threads = {}
    for i in range(REQUESTS):
        thread, ack = first.mention(f"add a todo to task {i}")
        assert ack.status_code == 200, ack.text
        threads[f"task {i}"] = thread
    first.stop(how)  # at once: most requests are still queued behind the slow first one
    fake.delay("chat.postMessage", 0)

    second = start()
    wait_answered(fake, threads)
    time.sleep(1)  # anything answered twice would have been by now
    for title, thread in threads.items():
        (answer,) = answers(fake, thread)  # exactly one answer, in the request's thread
        assert answer.endswith(f": {title}")
    assert todo_titles(second.db) == sorted(threads)  # each request ran once


def test_requests_acked_together_are_each_answered_once_after_a_kill_9_right_after(
    start: Callable[..., CraneProcess], fake: FakeSlack
) -> None:
    # sent at once, so their intake records share group commits; the acks were promises
    first = start()
    fake.delay("chat.postMessage", SLOW_SLACK_S)
    titles = [f"batch {i}" for i in range(REQUESTS * 2)]
    with ThreadPoolExecutor(len(titles)) as pool:
        sent = list(pool.map(lambda title: first.mention(f"add a todo to {title}"), titles))
    assert all(ack.status_code == 200 for _, ack in sent), [ack.text for _, ack in sent]
    first.stop(signal.SIGKILL)
    fake.delay("chat.postMessage", 0)

    second = start()
    threads = {title: thread for title, (thread, _) in zip(titles, sent, strict=True)}
    wait_answered(fake, threads)
    time.sleep(1)
    for title, thread in threads.items():
        (answer,) = answers(fake, thread)
        assert answer.endswith(f": {title}")
    assert todo_titles(second.db) == sorted(titles)


def test_a_request_turned_away_as_busy_is_never_run_later(
    start: Callable[..., CraneProcess], fake: FakeSlack
) -> None:
    first = start(CRANE_QUEUE_LIMIT="1")
    fake.delay("chat.postMessage", SLOW_SLACK_S)
    taken, ack = first.mention("add a todo to the one it took")
    assert ack.status_code == 200
    busy, ack = first.mention("add a todo to the one it refused")
    assert ack.status_code == 200
    (note,) = [
        c
        for c in fake.wait_for(
            "chat.postMessage", count=1, predicate=lambda c: "busy" in c.params.get("text", "")
        )
    ]
    assert note.params["thread_ts"] == busy  # told at once, in the request's thread
    first.stop(signal.SIGKILL)
    fake.delay("chat.postMessage", 0)

    second = start()
    wait_answered(fake, {"taken": taken})
    time.sleep(1)
    assert answers(fake, busy) == []
    assert todo_titles(second.db) == ["the one it took"]


def test_while_the_database_is_gone_slack_gets_503_not_an_ack_and_its_retry_is_answered(
    fake: FakeSlack, tmp_path: Path
) -> None:
    from urllib.parse import urlsplit, urlunsplit

    from tests.bot.conftest import _serve, settings_for
    from tests.fakes.tcp_proxy import Proxy
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        parts = urlsplit(url)
        proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
        live, running = _serve(settings_for(fake, tmp_path, db=proxied), fake)
        try:
            event = mention_event("add a todo to survive the outage")
            proxy.cut()
            refused = live.post_signed(event_body(event))
            assert refused.status_code == 503  # no ack: Slack will deliver it again
            assert fake.calls("chat.postMessage") == []
            proxy.restore()
            deadline = time.monotonic() + 20
            while (retried := live.post_signed(event_body(event))).status_code == 503:
                assert time.monotonic() < deadline, retried.text
                time.sleep(0.2)
            assert retried.status_code == 200
            live.settle()
            assert answers(fake, event["ts"]) == ["Added todo #1: survive the outage"]
        finally:
            running.uv.should_exit = True
            running.thread.join(15)
            proxy.cut()


def test_a_run_taken_over_after_kill_9_goes_on_editing_the_messages_of_its_thread(
    start: Callable[..., CraneProcess], fake: FakeSlack
) -> None:
    first = start()
    fake.delay("chat.postMessage", SLOW_SLACK_S)  # a step or so every 0.6 s
    thread, ack = first.mention("add todos: milk; eggs; bread; jam")
    assert ack.status_code == 200
    fake.wait_for("chat.postMessage", count=3, timeout=30)  # the header and two steps
    first.stop(signal.SIGKILL)
    fake.delay("chat.postMessage", 0)

    second = start()
    wait_answered(fake, {"jam": thread})
    time.sleep(1)  # a second answer, or a second header, would have come by now

    replies = [m for m in fake.messages(CHANNEL) if m.thread_ts == thread and m.ts != thread]
    headers = [m for m in replies if "asked:" in m.text]
    assert len(headers) == 1 and headers[0].text.startswith("✅"), replies  # edited, not again
    steps = sorted((m for m in replies if "add_todo" in m.text and "asked:" not in m.text),
                   key=lambda m: float(m.ts))  # fmt: skip
    posted = Counter(_step_index(m.text) for m in steps)
    # one message each, also one its process died between posting and recording: the next
    # owner finds it in the thread by its metadata before posting it again
    assert posted == {1: 1, 2: 1, 3: 1, 4: 1}, posted
    latest = {_step_index(m.text): m.text for m in steps}
    assert all(text.startswith("✅") for text in latest.values()), latest
    assert len(answers(fake, thread)) == 1
    assert todo_titles(second.db) == ["bread", "eggs", "jam", "milk"]


def _step_index(text: str) -> int:
    return int(text.split("*")[1].split(".")[0])  # "✅ *2. add_todo* `…`"
