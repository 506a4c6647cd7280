"""A Slack run's trace: the `POST /slack/events` SERVER span that acknowledged the mention is
the parent of the run's root, though the run is planned and executed after the ack, in the work
pool; received by a real OTLP/HTTP receiver the test starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from core import tracing
from tests.bot.conftest import LiveServer, mention_event, new_ts, scope
from tests.fakes.otlp_receiver import OtlpReceiver


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", running.url)
        yield running
        tracing.shutdown()


def test_a_mentions_run_hangs_off_the_slack_request_that_acknowledged_it(
    start_server: Callable[..., LiveServer], receiver: OtlpReceiver
) -> None:
    server = start_server()
    server.event(mention_event("calculate 2+3", ts=new_ts()))
    server.settle()
    tracing.flush()

    spans = receiver.wait_for(lambda got: any(s.name == "invoke_agent Crane" for s in got))

    (run,) = server.runs(scope())
    mine = [span for span in spans if span.trace_id == run.trace_id]
    (request,) = [span for span in mine if span.name == "POST /slack/events"]
    (root,) = [span for span in mine if span.name == "invoke_agent Crane"]
    assert request.kind == "SERVER" and request.parent_id is None
    assert root.parent_id == request.span_id
    assert [span.name for span in mine if span.parent_id == root.span_id] == [
        "plan", "execute_tool calculator"
    ]  # fmt: skip
