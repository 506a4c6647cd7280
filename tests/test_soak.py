"""`make soak`'s verdict and plot, from the rows it samples (the soak itself runs for minutes
against three replicas: not in `make test`)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from bench.soak import KINDS, judge, pg_ports, plot


def rows(rss_end: float = 100.0, connections: int = 19, pending: int = 0) -> list[dict[str, Any]]:
    """A 30-minute soak sampled every 10 s: RSS climbs from 100 MiB to `rss_end` after warm-up."""
    made = []
    for n in range(180):
        minute = (n + 1) / 6
        row: dict[str, Any] = {"minute": minute, "phase": "load", "load1": 3.0}
        for k in (1, 2, 3):
            row[f"rss_r{k}"] = 100.0 + (rss_end - 100.0) * max(0.0, minute - 5) / 25
            row[f"files_r{k}"] = 40
            row.update({f"{kind}_conn_r{k}": 0 for kind in KINDS})
            row[f"crane_conn_r{k}"] = connections
        row.update(connections=3 * connections, jobs_todo=0, jobs_doing=0, slack_unanswered=0,
                   rest_unfinished=0, intake=0, runs_unfinished=0, ack_p50_ms=20.0,
                   ack_p99_ms=90.0, slack_answer_p50_s=0.5, slack_answer_p99_s=1.0,
                   rest_answer_p50_s=None, rest_answer_p99_s=None)  # fmt: skip
        made.append(row)
    made[-1].update(runs_unfinished=pending, sent=36000, busy=0, no_ack=0, slow_acks=0,
                    once=21000, twice=0, heavy_todos=400)  # fmt: skip
    return made


def test_a_soak_whose_memory_connections_and_queue_stay_flat_passes() -> None:
    lines = judge(rows(), 1800, 3)
    assert lines[-1] == "soak: PASS"
    assert "peak connections 57" in lines[3]


def test_memory_that_keeps_growing_after_warm_up_fails_the_soak() -> None:
    lines = judge(rows(rss_end=115.0), 1800, 3)
    assert lines[-1] == "soak: FAIL"
    assert lines[0].startswith("replica 1 RSS after warm-up (5.0 min): 100.1 → 114.9 MiB (+14.8%")


@pytest.mark.parametrize(("connections", "pending"), [(21, 0), (19, 3)])
def test_too_many_connections_or_work_left_pending_fails_the_soak(
    connections: int, pending: int
) -> None:
    assert judge(rows(connections=connections, pending=pending), 1800, 3)[-1] == "soak: FAIL"


def test_the_plot_draws_every_series_and_skips_missing_values() -> None:
    svg = ET.fromstring(plot(rows(), 3, "soak"))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    # RSS and open files per replica, 4 connection series, 2 queue, 2 ack, 4 answer, 1 load
    assert len(lines) == 3 + 3 + 4 + 2 + 2 + 4 + 1
    drawn = [bool(line.get("points")) for line in lines]
    assert drawn == [True] * 16 + [False, False, True]  # no REST answers in these rows


def test_a_replicas_connections_are_found_by_its_own_sockets() -> None:
    import psycopg

    from tests import pg

    pg.require()
    with psycopg.connect(pg.SERVER) as conn:
        row = conn.execute("SELECT client_port FROM pg_stat_activity "
                           "WHERE pid = pg_backend_pid()").fetchone()  # fmt: skip
        assert row is not None and row[0] in pg_ports(os.getpid())
