"""The LLM planner's model calls in the run's trace: one `chat {model}` CLIENT span per request
to the model — the re-ask included — under the run's `plan` span, with the GenAI request model
and token usage; received by a real OTLP/HTTP receiver the test starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import tracing
from core.orchestrator import Orchestrator
from core.plan import Scope
from core.planners.llm import LLMPlanner
from core.runtime import Crane
from core.settings import Settings
from core.store import Store
from tests.fakes.openai_server import FakeOpenAI, completion, plan, step
from tests.fakes.otlp_receiver import OtlpReceiver

ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running
        tracing.shutdown()


def test_every_model_request_is_a_chat_span_under_planning(
    receiver: OtlpReceiver, store: Store
) -> None:
    with FakeOpenAI() as model:
        settings = Settings(planner="llm", openai_base_url=model.base_url, model="gpt-4o-mini",
                            otel_exporter_otlp_endpoint=receiver.url)  # fmt: skip
        assert tracing.configure(settings)
        model.script(
            completion("not json", prompt_tokens=100, completion_tokens=7),
            plan([step("calculator", expression="2+3")], prompt_tokens=150, completion_tokens=10),
        )
        crane = Crane(store, LLMPlanner(settings), Orchestrator(store))
        text, planned = crane.plan(ALICE, "calculate 2+3")
        run = crane.ask(ALICE, text, plan=planned)
    tracing.flush()

    spans = receiver.wait_for(lambda got: any(s.name.startswith("invoke_agent") for s in got))

    assert {span.trace_id for span in spans} == {run.trace_id}
    (planning,) = [span for span in spans if span.name == "plan"]
    chats = [span for span in spans if span.name.startswith("chat ")]
    assert [span.name for span in chats] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    assert all(span.parent_id == planning.span_id and span.kind == "CLIENT" for span in chats)
    first = chats[0].attributes
    assert (first["gen_ai.operation.name"], first["gen_ai.provider.name"]) == ("chat", "openai")
    assert first["gen_ai.request.model"] == "gpt-4o-mini"
    assert (first["gen_ai.usage.input_tokens"], first["gen_ai.usage.output_tokens"]) == (100, 7)
    (root,) = [span for span in spans if span.name == "invoke_agent Crane"]
    assert root.parent_id is None and root.attributes["gen_ai.provider.name"] == "openai"
    assert planning.parent_id == root.span_id
