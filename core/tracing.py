"""OpenTelemetry traces of runs, following the GenAI semantic conventions: one trace per run.

On only when the standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (and neither
OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none): spans go by OTLP over HTTP/protobuf, and
the SDK's own OTEL_* variables (headers, timeout, sampler, resource, batch) apply. Off, the SDK
is never imported and every function here is a cheap no-op.

A run's trace id and root span id are fixed when it is accepted (`accept`, then stored with
the run), so planning, every execution pass (after an approval wait, a restart, a takeover: on
any process) and the root itself are one tree; the root `invoke_agent` span is emitted once,
by the process that finishes the run (`finish`), spanning from acceptance to the finish.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

PROTOCOL = "http/protobuf"  # the one OTLP protocol Crane ships an exporter for


@dataclass(frozen=True)
class Ids:
    """A run's trace, fixed at acceptance (hex): its root span's parent is the request's span."""

    trace_id: str
    root_span_id: str
    parent_span_id: str | None = None


class _State:
    tracer: Any = None  # the SDK's tracer while tracing is on
    provider: Any = None
    endpoint: str | None = None
    content = False  # request text and tool output as attributes


STATE = _State()
PRESET: ContextVar[tuple[int, int] | None] = ContextVar("crane_tracePRESET", default=None)
ACCEPTING: ContextVar[Ids | None] = ContextVar("crane_traceACCEPTING", default=None)
LOG_TRACE: ContextVar[str | None] = ContextVar("crane_trace_log", default=None)


def configure(settings: Any) -> bool:
    """Turn tracing on or off from the settings (OTEL_* and CRANE_TRACE_CONTENT); InvalidInput
    for an exporter or protocol Crane does not ship. True when on."""
    exporter = (settings.otel_traces_exporter or "otlp").strip().lower()
    if exporter not in ("otlp", "none"):
        raise InvalidInput(f"OTEL_TRACES_EXPORTER={exporter} is not supported: use otlp or none")
    protocol = settings.otel_exporter_otlp_traces_protocol or settings.otel_exporter_otlp_protocol
    if protocol and protocol.strip().lower() != PROTOCOL:
        raise InvalidInput(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is not supported: Crane "
                           f"exports traces by OTLP over HTTP ({PROTOCOL})")  # fmt: skip
    endpoint = settings.otel_exporter_otlp_traces_endpoint
    if not endpoint and settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    STATE.content = settings.trace_content or settings.otel_genai_capture_content
    if settings.otel_sdk_disabled or exporter == "none" or not endpoint:
        shutdown()
        return False
    if endpoint != STATE.endpoint:
        shutdown()
        _start(endpoint, settings.otel_service_name)
    return True


def _start(endpoint: str, service: str) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class Preset(RandomIdGenerator):
        """The ids fixed at acceptance, for the one span that takes them (the run's root)."""

        def generate_span_id(self) -> int:
            preset = PRESET.get()
            return preset[1] if preset else super().generate_span_id()

        def generate_trace_id(self) -> int:
            preset = PRESET.get()
            return preset[0] if preset else super().generate_trace_id()

    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), id_generator=Preset()
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    STATE.provider, STATE.endpoint = provider, endpoint
    STATE.tracer = provider.get_tracer("crane")


def shutdown() -> None:
    """Export what is buffered and stop (server shutdown; reconfiguring)."""
    if STATE.provider is not None:
        STATE.provider.shutdown()
    STATE.tracer = STATE.provider = STATE.endpoint = None


def flush() -> None:
    if STATE.provider is not None:
        STATE.provider.force_flush()


def enabled() -> bool:
    return STATE.tracer is not None


def log_trace_id() -> str | None:
    """The trace of the run this thread works on, for its JSON log lines."""
    return LOG_TRACE.get()


# --- acceptance --------------------------------------------------------------------------------


def accept() -> Ids | None:
    """Fix the ids of a run about to be planned here (under the current request's span, if
    any); `accepted` hands them to the run when it is stored."""
    if STATE.tracer is None:
        return None
    from opentelemetry import trace

    current = trace.get_current_span().get_span_context()
    ids = Ids(
        trace_id=f"{current.trace_id:032x}" if current.is_valid else secrets.token_hex(16),
        root_span_id=secrets.token_hex(8),
        parent_span_id=f"{current.span_id:016x}" if current.is_valid else None,
    )
    ACCEPTING.set(ids)
    LOG_TRACE.set(ids.trace_id)
    return ids


def accepted_ids() -> tuple[str | None, str | None, str | None]:
    """(trace id, root span id, its parent's id) of the run being stored (None when off): the
    ids `accept` fixed in this context (taken once), or new ones."""
    ids = ACCEPTING.get() or accept()
    ACCEPTING.set(None)
    return (ids.trace_id, ids.root_span_id, ids.parent_span_id) if ids else (None, None, None)


@contextmanager
def request(name: str, headers: Mapping[str, str]) -> Iterator[None]:
    """The SERVER span of an HTTP or Slack request, continuing an incoming `traceparent`."""
    if STATE.tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = TraceContextTextMapPropagator().extract(dict(headers))
    with STATE.tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER):
        yield
