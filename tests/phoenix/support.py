"""Traces made with the real OpenTelemetry SDK and sent over OTLP/HTTP to the server under test,
and the real `arize-phoenix-client` pointed at it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode, Tracer, set_span_in_context
from phoenix.client import Client

from tests.conftest import EmberProcess

MS = 1_000_000


def unique(prefix: str) -> str:
    """A project name no other test on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client(server: EmberProcess) -> Client:
    return Client(base_url=server.url)


@contextmanager
def tracer(server: EmberProcess, project: str) -> Iterator[Tracer]:
    """A tracer whose spans reach the server when the block ends (the SDK's shutdown flushes,
    and a 200 from Ember means stored)."""
    provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces"))
    )
    try:
        yield provider.get_tracer("ember.tests.phoenix")
    finally:
        provider.shutdown()


def hex_ids(span: Span) -> tuple[str, str]:
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


@dataclass
class Turn:
    """One trace as sent: a CHAIN root with an LLM child and a RETRIEVER child."""

    trace_id: str
    root: str
    llm: str
    retriever: str
    start: int
    latency_ns: int
    error: bool
    session: str | None
    span_ids: list[str] = field(default_factory=list)


def send_turn(
    t: Tracer,
    start: int,
    latency_ns: int = 10 * MS,
    *,
    session: str | None = None,
    error: bool = False,
    question: str = "What is the refund policy?",
) -> Turn:
    attributes: dict[str, Any] = {"openinference.span.kind": "CHAIN", "input.value": question,
                                  "output.value": "30 days"}
    if session is not None:
        attributes["session.id"] = session
    root = t.start_span("agent", start_time=start, attributes=attributes)
    ctx = set_span_in_context(root)
    llm = t.start_span("llm", context=ctx, start_time=start + MS, attributes={
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": 12, "llm.token_count.completion": 3,
    })
    if error:
        llm.set_status(Status(StatusCode.ERROR, "rate limited"))
    llm.end(end_time=start + 2 * MS)
    retriever = t.start_span("retrieve", context=ctx, start_time=start + 2 * MS, attributes={
        "openinference.span.kind": "RETRIEVER",
        "retrieval.documents.0.document.content": "Refunds within 30 days.",
        "retrieval.documents.1.document.content": "Shipping is free.",
    })
    retriever.end(end_time=start + 3 * MS)
    root.end(end_time=start + latency_ns)
    trace_id, root_id = hex_ids(root)
    turn = Turn(trace_id, root_id, hex_ids(llm)[1], hex_ids(retriever)[1], start, latency_ns,
                error, session)
    turn.span_ids = [turn.root, turn.llm, turn.retriever]
    return turn


def now_ns() -> int:
    return time.time_ns()
