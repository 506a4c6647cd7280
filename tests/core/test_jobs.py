"""The work pool puts acks first (core.jobs): a job waits to start while a request with an ack
deadline is being answered, but never longer than its bound."""

from __future__ import annotations

import threading

from core.jobs import Jobs


def test_a_job_starts_only_once_the_acks_in_progress_are_answered() -> None:
    jobs = Jobs(workers=1, limit=4, max_yield_s=60)
    started = threading.Event()
    with jobs.acking(), jobs.acking():  # two requests being acknowledged
        assert jobs.try_submit(started.set)
        assert not started.wait(0.3)
    assert started.wait(10)
    jobs.shutdown()


def test_a_steady_stream_of_acks_delays_a_job_by_its_bound_only() -> None:
    jobs = Jobs(workers=1, limit=4, max_yield_s=0.05)
    started = threading.Event()
    with jobs.acking():  # an ack that never ends, as a steady stream of them would look
        assert jobs.try_submit(started.set)
        assert started.wait(10)
    jobs.shutdown()
