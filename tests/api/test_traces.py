"""Traces, received by a real OTLP/HTTP receiver the test starts: one trace per run with the
GenAI span tree — the request's SERVER span (continuing an incoming traceparent), the root
`invoke_agent` once, `plan`, and one `execute_tool` per step, across an approval wait (two
execution passes) — the run record's trace_id, JSON log lines with it; off, the SDK is never
imported; a protocol Crane does not ship is refused at start-up."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.logs import JsonFormatter
from core import tracing
from tests.api.conftest import ALICE, ALICE_SCOPE, TOKENS, LiveApi
from tests.api.test_decisions import read_until
from tests.fakes.otlp_receiver import OtlpReceiver, Span

INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", running.url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "crane-test")
        yield running
        tracing.shutdown()  # while the receiver still answers


def one(spans: list[Span], name: str) -> Span:
    (found,) = [span for span in spans if span.name == name]
    return found


def test_a_run_approved_after_a_wait_is_one_trace_under_one_root(
    start_api: Callable[..., LiveApi], receiver: OtlpReceiver
) -> None:
    api = start_api(api_tokens=TOKENS)
    api.store.add_todo(ALICE_SCOPE, "buy milk")
    traceparent = f"00-{INCOMING_TRACE}-{INCOMING_SPAN}-01"
    created = api.client(ALICE).post(
        "/api/v1/runs",
        json={"text": "calculate 2+3 and delete todo 1"},
        headers={"traceparent": traceparent},
    )
    run_id = created.json()["id"]
    read_until(api, run_id, "run.awaiting_approval", ALICE)
    assert api.client(ALICE).post(f"/api/v1/runs/{run_id}/approve").status_code == 200
    api.settle()
    tracing.flush()

    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent Crane" for s in got))
    record = api.client(ALICE).get(f"/api/v1/runs/{run_id}").json()
    run_spans = [span for span in spans if span.trace_id == INCOMING_TRACE]

    assert record["trace_id"] == INCOMING_TRACE  # the caller's trace goes on
    request = one(run_spans, "POST /api/v1/runs")
    assert (request.kind, request.parent_id) == ("SERVER", INCOMING_SPAN)
    root = one(run_spans, "invoke_agent Crane")
    assert root.parent_id == request.span_id and root.resource["service.name"] == "crane-test"
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.provider.name"] == "crane"  # the pattern planner: no model
    assert root.attributes["crane.run.status"] == "completed"
    planning = one(run_spans, "plan")
    assert planning.parent_id == root.span_id
    assert planning.attributes["gen_ai.operation.name"] == "plan"
    tools = [span for span in run_spans if span.name.startswith("execute_tool ")]
    assert [span.name for span in tools] == ["execute_tool calculator", "execute_tool delete_todo"]
    assert all(span.parent_id == root.span_id for span in tools)  # both passes, one root
    assert tools[0].attributes["gen_ai.tool.name"] == "calculator"
    assert tools[0].attributes["gen_ai.operation.name"] == "execute_tool"
    assert all(span.attributes["gen_ai.provider.name"] == "crane" for span in run_spans
               if span.kind != "SERVER")  # fmt: skip
    everything = json.dumps([span.attributes for span in spans])
    assert "2+3" not in everything  # no request text or output without CRANE_TRACE_CONTENT


def test_content_is_captured_only_when_asked(
    start_api: Callable[..., LiveApi], receiver: OtlpReceiver
) -> None:
    api = start_api(api_tokens=TOKENS, trace_content=True)
    record = api.run_to_end("calculate 2+3", token=ALICE)
    tracing.flush()

    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent Crane" for s in got))

    root = one(spans, "invoke_agent Crane")
    assert root.trace_id == record["trace_id"]
    assert root.attributes["gen_ai.input.messages"] == "calculate 2+3"
    assert one(spans, "execute_tool calculator").attributes["gen_ai.tool.call.result"] == "2+3 = 5"


def test_json_log_lines_about_a_run_carry_its_trace_id(
    start_api: Callable[..., LiveApi], receiver: OtlpReceiver
) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(JsonFormatter().format(record))  # type: ignore[method-assign]
    logging.getLogger("crane").addHandler(handler)
    logging.getLogger("crane").setLevel(logging.INFO)
    try:
        api = start_api(api_tokens=TOKENS)
        record = api.run_to_end("calculate 2+3", token=ALICE)
    finally:
        logging.getLogger("crane").removeHandler(handler)

    about = [entry for entry in map(json.loads, lines) if entry.get("run_id") == record["id"]]
    assert about and all(entry["trace_id"] == record["trace_id"] for entry in about)


def test_without_an_endpoint_the_sdk_is_never_imported(tmp_path: Path) -> None:
    code = (
        "import sys, cli; code = cli.main(['ask', 'calculate 2+3', '--json', '--db', sys.argv[1]]);"
        "assert code == 0, code;"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c.db")],
                          capture_output=True, text=True, env={"PATH": "/usr/bin"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trace_id"] is None


def test_a_protocol_crane_does_not_ship_is_refused_with_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
           "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}  # fmt: skip
    command = [sys.executable, "-m", "cli", "ask", "calculate 2+3", "--db", str(tmp_path / "c.db")]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "OTEL_EXPORTER_OTLP_PROTOCOL=grpc" in done.stderr
