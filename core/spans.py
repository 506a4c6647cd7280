"""The spans of a run (GenAI semantic conventions), under the root fixed at its acceptance
(`core.tracing`): `plan` with a `chat {model}` CLIENT span per model request, `execute_tool
{tool}` per step, and the root `invoke_agent Crane`, emitted once by the process that finishes
the run. Each is a no-op while tracing is off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

from core.plan import Run, RunStatus, Step, StepStatus
from core.tracing import ACCEPTING, LOG_TRACE, PRESET, STATE

AGENT = "Crane"
NO_SPAN: AbstractContextManager[None] = nullcontext()
T = TypeVar("T")


def _under(trace_id: str, span_id: str) -> Any:
    """A context whose parent is the span (trace_id, span_id), wherever it was or will be made."""
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    parent = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True,
                         trace_flags=TraceFlags(TraceFlags.SAMPLED))  # fmt: skip
    return trace.set_span_in_context(NonRecordingSpan(parent))


@contextmanager
def _span(
    name: str, parent: Any, attributes: dict[str, Any], kind: str = "INTERNAL"
) -> Iterator[Any]:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with STATE.tracer.start_as_current_span(
        name, context=parent, kind=SpanKind[kind], attributes=attributes,
        record_exception=False, set_status_on_exception=False,
    ) as span:  # fmt: skip
        try:
            yield span
        except BaseException as error:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
            raise


def _provider_of(planner: str) -> str:
    return "openai" if planner == "llm" else "crane"  # crane: planned without a model


@contextmanager
def planning(text: str) -> Iterator[Callable[[str, str | None], None]]:
    """The `plan` span under the run's root (ids from `accept`); yields `done(planner,
    fallback_reason)` to record the outcome."""
    ids = ACCEPTING.get()
    if STATE.tracer is None or ids is None:
        yield lambda planner, reason: None
        return
    attributes = {"gen_ai.operation.name": "plan", "gen_ai.agent.name": AGENT,
                  "gen_ai.provider.name": "crane"}  # fmt: skip
    if STATE.content:
        attributes["gen_ai.input.messages"] = text
    with _span("plan", _under(ids.trace_id, ids.root_span_id), attributes) as span:

        def done(planner: str, reason: str | None) -> None:
            span.set_attribute("gen_ai.provider.name", _provider_of(planner))
            span.set_attribute("crane.planner", planner)
            if reason:
                span.set_attribute("crane.fallback_reason", reason)

        yield done


def model_call(server: str, call: Callable[..., T], arguments: dict[str, Any]) -> T:
    """One request to the model, a `chat {model}` CLIENT span (retries and re-asks each one)."""
    if STATE.tracer is None:
        return call(**arguments)
    model = arguments["model"]
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                  "gen_ai.request.model": model, "server.address": server}  # fmt: skip
    with _span(f"chat {model}", None, attributes, "CLIENT") as span:
        completion = call(**arguments)
        usage = getattr(completion, "usage", None)
        if getattr(completion, "model", None):
            span.set_attribute("gen_ai.response.model", completion.model)  # type: ignore[attr-defined]
        if usage is not None:
            span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens or 0)
            span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens or 0)
        return completion


@contextmanager
def execution(run: Run) -> Iterator[None]:
    """One execution pass of a run, on any process: its spans are children of the run's root."""
    token = LOG_TRACE.set(run.trace_id)
    try:
        yield
    finally:
        LOG_TRACE.reset(token)


def step(run: Run, item: Step) -> AbstractContextManager[None]:
    """An `execute_tool {tool}` span around one step (its retries included). It runs on every
    step: while tracing is off, a shared no-op rather than a generator to start and finish."""
    if STATE.tracer is None or not run.trace_id or not run.root_span_id:
        return NO_SPAN
    return _step(run, item, run.trace_id, run.root_span_id)


@contextmanager
def _step(run: Run, item: Step, trace_id: str, root_span_id: str) -> Iterator[None]:
    # Crane's own tools: no model provider runs them
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.provider.name": "crane",
                  "gen_ai.tool.name": item.tool,
                  "gen_ai.tool.type": "function", "crane.step.index": item.index}  # fmt: skip
    with _span(f"execute_tool {item.tool}", _under(trace_id, root_span_id),
               attributes) as span:  # fmt: skip
        yield
        span.set_attribute("crane.step.attempts", item.attempts)
        if item.status is StepStatus.failed:
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("error.type", "tool_error")
            span.set_status(Status(StatusCode.ERROR, (item.error or "")[:200]))
        elif STATE.content and item.output:
            span.set_attribute("gen_ai.tool.call.result", item.output)


def finish(run: Run, now: datetime) -> None:
    """Emit the run's root `invoke_agent` span, once, from the process that finished it."""
    if STATE.tracer is None or not run.trace_id or not run.root_span_id:
        return
    from opentelemetry.trace import Status, StatusCode

    parent = _under(run.trace_id, run.root_parent_id) if run.root_parent_id else None
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": AGENT,
        "gen_ai.provider.name": _provider_of(run.planner), "crane.run.id": run.id,
        "crane.run.status": run.status.value,
    }  # fmt: skip
    if run.conversation:
        attributes["gen_ai.conversation.id"] = run.conversation
    if run.usage is not None and run.usage.model:
        attributes["gen_ai.request.model"] = run.usage.model
        attributes["gen_ai.usage.input_tokens"] = run.usage.prompt_tokens
        attributes["gen_ai.usage.output_tokens"] = run.usage.completion_tokens
    if STATE.content:
        attributes["gen_ai.input.messages"] = run.text
    token = PRESET.set((int(run.trace_id, 16), int(run.root_span_id, 16)))
    try:
        span = STATE.tracer.start_span(
            f"invoke_agent {AGENT}", parent, attributes=attributes, start_time=_ns(run.created_at)
        )
    finally:
        PRESET.reset(token)
    if run.status is RunStatus.failed:
        span.set_attribute("error.type", "run_failed")
        span.set_status(Status(StatusCode.ERROR))
    span.end(end_time=_ns(run.finished_at or now))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)
