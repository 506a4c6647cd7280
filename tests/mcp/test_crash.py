"""kill -9 between an MCP call and its record, on SQLite and PostgreSQL: the server counts the
calls it received. A trusted idempotent tool is called again by itself; any other is never
called twice without its requester's answer — approve (again), cancel or skip — and a CLI run
fails saying the tool may have run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.app import toolbox
from core.orchestrator import Orchestrator
from core.plan import Run, RunStatus, Scope, StepStatus
from core.planners import pattern
from core.runtime import Crane
from core.settings import Settings
from core.store import Store
from tests.mcp.servers import START_S, received, stdio, wait_for, write_config

ME = Scope(team_id="T1", user_id="U1")
RUNNER = str(Path(__file__).with_name("crash_runner.py"))
ROOT = str(Path(__file__).parents[2])


@pytest.fixture
def setup(tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    calls = tmp_path / "calls.txt"
    env = {"DEMO_DELETE_SLEEP": "${DEMO_SLEEP}"}
    config = write_config(tmp_path, {"demo": stdio(calls, trust_annotations=True, env=env)})
    monkeypatch.setenv("CRANE_MCP_CONFIG", config)
    monkeypatch.setenv("CRANE_DB", database)
    monkeypatch.setenv("DEMO_SLEEP", "0")  # the server started after the crash answers at once
    yield calls


def crash(calls: Path, command: list[str], tool: str) -> None:
    """Run `command` (and so its MCP server) until the server received `tool`, then kill -9
    the whole process group: the call was made, its result never recorded."""
    env = {**os.environ, "DEMO_SLEEP": "600", "PYTHONPATH": ROOT}
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert wait_for(lambda: tool in received(calls) or process.poll() is not None, START_S * 2)
        assert tool in received(calls), "the call never reached the server"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def recovered(database: str) -> tuple[Crane, Run]:
    """A new process's runtime on the same database: it resumes the dead one's run."""
    store = Store(database)
    crane = Crane(store, pattern.plan, Orchestrator(store, toolbox(Settings(), False)))
    (run_id,) = crane.recover()
    return crane, crane.reads.run(run_id)


def test_a_destructive_call_cut_short_asks_and_approve_calls_it_again(
    setup: Path, database: str
) -> None:
    crash(setup, [sys.executable, RUNNER, "call demo.delete_thing id=1"], "delete_thing")
    crane, run = recovered(database)
    try:
        assert run.status is RunStatus.awaiting_approval and received(setup) == ["delete_thing"]
        asked = crane.reads.events_after(run.id)[-1]
        assert asked.type == "run.awaiting_approval"
        assert asked.data["reason"] == "outcome_unknown"
        assert asked.data["question"] == "demo.delete_thing may or may not have run — run it again?"
        assert crane.decide(run.id, ME, "approve").outcome.value == "approved"
        run = crane.execute(run.id)
        assert run.status is RunStatus.completed
        assert received(setup) == ["delete_thing", "delete_thing"]
    finally:
        crane.close()


def test_cancel_after_a_crash_ends_the_run_without_a_second_call(
    setup: Path, database: str
) -> None:
    crash(setup, [sys.executable, RUNNER, "call demo.delete_thing id=1"], "delete_thing")
    crane, run = recovered(database)
    try:
        assert crane.decide(run.id, ME, "cancel").outcome.value == "cancelled"
        run = crane.reads.run(run.id)
        assert run.status is RunStatus.cancelled and run.steps[0].status is StepStatus.skipped
        assert received(setup) == ["delete_thing"]
    finally:
        crane.close()


def test_skip_after_a_crash_goes_on_and_a_reference_to_the_skipped_step_fails(
    setup: Path, database: str
) -> None:
    text = "call demo.delete_thing id=1 then call demo.echo text=after then call demo.show value=$1"
    crash(setup, [sys.executable, RUNNER, text], "delete_thing")
    crane, run = recovered(database)
    try:
        assert crane.decide(run.id, ME, "skip").outcome.value == "skipped"
        run = crane.execute(run.id)
        assert [s.status for s in run.steps] == [
            StepStatus.skipped, StepStatus.completed, StepStatus.failed
        ]  # fmt: skip
        assert run.steps[2].error == "step 1 was skipped, so $1 has no value"
        assert received(setup) == ["delete_thing", "echo"]
    finally:
        crane.close()


def test_a_trusted_idempotent_call_cut_short_is_repeated_by_itself(
    setup: Path, database: str
) -> None:
    crash(setup, [sys.executable, RUNNER, "call demo.set_flag name=lights"], "set_flag")
    crane, run = recovered(database)
    try:
        assert run.status is RunStatus.completed and run.steps[0].output == "lights is on"
        assert received(setup) == ["set_flag", "set_flag"]
    finally:
        crane.close()


def test_a_cli_run_cut_short_fails_saying_the_tool_may_have_run(setup: Path, database: str) -> None:
    crane_cli = str(Path(sys.executable).with_name("crane"))
    crash(setup, [crane_cli, "ask", "call demo.delete_thing id=1"], "delete_thing")
    store = Store(database)
    crane = Crane(store, pattern.plan, Orchestrator(store, toolbox(Settings(), False)))
    try:
        (run_id,) = crane.recover()
        run = crane.reads.run(run_id)
        assert run.status is RunStatus.failed
        assert run.steps[0].error == "interrupted; demo.delete_thing may have run"
        assert received(setup) == ["delete_thing"]
    finally:
        crane.close()
