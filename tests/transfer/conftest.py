"""A source server full of spans of every kind, for the export/import tests.

The data: spans made by the real OpenTelemetry SDK (every attribute type the SDK can set:
strings, ints, doubles, bools and arrays of each; events, links, an exception, error status,
span kinds, a resource and a scope with a schema URL and attributes), spans the SDK cannot make
built as OTLP protobuf (bytes, kvlists, non-finite doubles, empty values, int64 extremes, nested
arrays, trace state, flags, dropped counts), and 1,100 small spans in 110 trees, so an export
needs more than one page of the span listing. A second project holds a GenAI span whose
messages came as OTLP log records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry._logs import LogRecord as SdkLogRecord
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace import Status as OtelStatus
from opentelemetry.trace import StatusCode as OtelStatusCode

from tests.conftest import EmberProcess
from tests.helpers import (
    BASE_NS,
    key_values,
    make_log,
    make_logs_request,
    make_span,
    post,
    span_id,
    trace_id,
)

SOURCE_PROJECT = "transfer-source"
FILLER_TRACES, FILLER_SPANS_PER_TRACE = 110, 10

SDK_LLM_ATTRIBUTES: dict[str, Any] = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o-mini",
    "llm.provider": "openai",
    "llm.token_count.prompt": 1200,
    "llm.token_count.completion": 300,
    "llm.input_messages.0.message.role": "user",
    "llm.input_messages.0.message.content": "What is the refund policy? " * 20,
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": "Refunds within 30 days.",
    "input.value": '{"question": "refunds?"}',
    "input.mime_type": "application/json",
    "session.id": "session-42",
    "user.id": "user-7",
    "metadata": '{"tier": "gold"}',
    "an.int": 7,
    "a.negative.int": -9_000_000_000,
    "a.double": 0.875,
    "an.integral.double": 2.0,
    "a.bool": False,
    "strings": ["a", "b", ""],
    "ints": [1, -2, 3_000_000_000],
    "doubles": [0.5, 1.0, -2.25],
    "bools": [True, False],
    "an.empty.array": [],
    "long.text": "y" * 3000,
}


def ingest_sdk_spans(url: str, project: str) -> None:
    """A small agent run through the real OTel SDK and its OTLP/HTTP exporter."""
    provider = TracerProvider(resource=Resource.create(
        {
            "openinference.project.name": project, "service.name": "transfer-tests",
            "resource.int": 3, "resource.double": 1.5, "resource.bool": True,
            "resource.list": ["x", "y"],
        },
        schema_url="https://opentelemetry.io/schemas/1.21.0",
    ))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces")))
    tracer = provider.get_tracer(
        "ember.transfer.tests", "2.0.1", schema_url="https://example.test/scope-schema",
        attributes={"scope.int": 7, "scope.list": [1.5, 2.5]},
    )
    with tracer.start_as_current_span("agent", kind=SpanKind.SERVER) as root:
        root.set_attribute("openinference.span.kind", "AGENT")
        root.set_attribute("input.value", "refunds?")
        root.set_attribute("output.value", "Refunds within 30 days.")
        with tracer.start_as_current_span(
            "OpenAI.chat", kind=SpanKind.CLIENT, attributes=SDK_LLM_ATTRIBUTES
        ) as llm:
            llm.add_event("first token", {"index": 0, "latency": 0.25, "tags": ["a", "b"]})
            llm.add_event("done", {"ok": True}, timestamp=BASE_NS + 987_654_321)
            llm.set_status(OtelStatus(OtelStatusCode.OK))
        with tracer.start_as_current_span(
            "lookup", links=[Link(llm.get_span_context(), {"why": "uses", "n": 2})],
            start_time=BASE_NS + 1, attributes={"openinference.span.kind": "TOOL"},
            end_on_exit=False,
        ) as tool:
            try:
                raise ValueError("lookup failed: no such order")
            except ValueError as exc:
                tool.record_exception(exc)
            tool.set_status(OtelStatus(OtelStatusCode.ERROR, "lookup failed"))
            tool.end(end_time=BASE_NS + 123_456_789)
        with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER):
            pass
    provider.shutdown()


def raw_request(project: str) -> ExportTraceServiceRequest:
    """What the SDK cannot send: bytes, kvlists, non-finite doubles, empty values, trace state,
    flags, dropped counts; on the resource and scope too."""
    trace, root_id, child_id = trace_id(), span_id(), span_id()
    other_trace, other_span = trace_id(), span_id()
    root = make_span(
        trace, root_id, name="raw-root", kind=Span.SPAN_KIND_CONSUMER, start=BASE_NS + 5,
        end=BASE_NS + 2_000_000_007, status_code=Status.STATUS_CODE_ERROR,
        status_message="it broke",
        attributes={
            "openinference.span.kind": "CHAIN",
            "bytes": b"\x00\xffbinary",
            "kv": {"a": 1, "b": [b"x", 2.5, None], "c": {"deep": True}},
            "not.a.number": math.nan,
            "infinity": math.inf,
            "minus.infinity": -math.inf,
            "empty": None,
            "int64.max": 2**63 - 1,
            "int64.min": -(2**63),
            "nested": [[1, 2], ["a"], []],
            "mixed": [1, "two", 3.0, False],
        },
        events=[("with bytes", BASE_NS + 17, {"payload": b"\x01\x02", "n": 1})],
    )
    root.trace_state = "vendor=abc,other=1"
    root.flags = 0x101
    root.dropped_attributes_count = 3
    root.dropped_events_count = 2
    root.dropped_links_count = 1
    root.events[0].dropped_attributes_count = 4
    link = root.links.add(trace_id=other_trace, span_id=other_span, trace_state="k=v", flags=1)
    link.attributes.extend(key_values({"link.bytes": b"\x07", "link.double": 3.0}))
    link.dropped_attributes_count = 5
    child = make_span(
        trace, child_id, root_id, name="raw-child", kind=Span.SPAN_KIND_PRODUCER,
        start=BASE_NS + 6, end=BASE_NS + 7, attributes={"openinference.span.kind": "RETRIEVER"},
    )
    child.links.add(trace_id=trace, span_id=root_id)  # a link inside the data
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add(schema_url="https://example.test/raw-resource")
    resource_spans.resource.attributes.extend(
        key_values({"openinference.project.name": project, "resource.bytes": b"\x09"})
    )
    resource_spans.resource.dropped_attributes_count = 6
    scope_spans = resource_spans.scope_spans.add(schema_url="https://example.test/raw-scope")
    scope_spans.scope.name = "raw.scope"
    scope_spans.scope.version = "0.9"
    scope_spans.scope.attributes.extend(key_values({"scope.bytes": b"\x08", "scope.nan": math.nan}))
    scope_spans.scope.dropped_attributes_count = 2
    scope_spans.spans.extend([root, child])
    return request


def filler_request(project: str) -> ExportTraceServiceRequest:
    """Small trees (a root and children) with distinct start times."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(key_values({"openinference.project.name": project}))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "filler"
    for t in range(FILLER_TRACES):
        trace, root = trace_id(), span_id()
        start = BASE_NS + 10_000_000 + t * 1_000_000
        spans = [make_span(trace, root, name=f"filler-{t}", start=start, end=start + 999_999,
                           attributes={"t": t, "openinference.span.kind": "CHAIN"})]
        for k in range(1, FILLER_SPANS_PER_TRACE):
            spans.append(make_span(
                trace, span_id(), root, name=f"filler-{t}.{k}", start=start + k,
                end=start + 500_000 + k, attributes={"k": k, "share": k / 8},
            ))
        scope_spans.spans.extend(spans)
    return request


def ingest_everything(url: str, project: str) -> None:
    ingest_sdk_spans(url, project)
    for request in (raw_request(project), filler_request(project)):
        response = post(url, request)
        assert response.status_code == 200, response.content
        assert b"rejected" not in response.content.lower(), response.content


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    """A server holding SOURCE_PROJECT (tests only read it)."""
    server = EmberProcess(tmp_path_factory.mktemp("transfer-source")).start()
    ingest_everything(server.url, SOURCE_PROJECT)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def source_spans(source: EmberProcess) -> list[dict[str, Any]]:
    spans = source.spans(SOURCE_PROJECT)
    assert len(spans) == 4 + 2 + FILLER_TRACES * FILLER_SPANS_PER_TRACE
    return spans


@pytest.fixture(scope="session")
def exports(
    source: EmberProcess, source_spans: list[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """The source project exported once in each format (by the library)."""
    from ember_sdk.client import Client

    folder = tmp_path_factory.mktemp("exports")
    paths = {}
    with Client(source.url) as client:
        for fmt, name in (("jsonl", "spans.jsonl"), ("parquet", "spans.parquet"),
                          ("otlp-json", "spans.otlp.json")):
            result = client.export_spans(SOURCE_PROJECT, folder / name)
            assert result.format == fmt
            assert result.spans == len(source_spans)
            paths[fmt] = result.path
    return paths


LOGS_PROJECT = "transfer-logs"


def ingest_spans_with_logs(url: str, project: str) -> str:
    """A GenAI chat span whose messages arrive as log records (as the openai-v2
    instrumentation sends them), through the real OTel SDK; plus records the SDK cannot make
    (a bytes body, the event name in an `event.name` attribute). Returns the span's id once the
    server has derived it with its records."""
    resource = Resource.create({"openinference.project.name": project})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces"))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{url}/v1/logs"))
    )
    span = tracer_provider.get_tracer("openai-v2-like").start_span(
        "chat gpt-4o-mini", kind=SpanKind.CLIENT, start_time=BASE_NS + 100,
        attributes={
            "gen_ai.operation.name": "chat", "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 200,
        },
    )
    span.end(end_time=BASE_NS + 900)
    context = span.get_span_context()
    logger = logger_provider.get_logger("openai-v2-like")
    for offset, (name, body) in enumerate([
        ("gen_ai.system.message", {"content": "You answer in one line."}),
        ("gen_ai.user.message", {"content": "Capital of France?"}),
        ("gen_ai.choice", {"index": 0, "finish_reason": "stop",
                           "message": {"role": "assistant", "content": "Paris."}}),
    ]):
        logger.emit(SdkLogRecord(
            timestamp=BASE_NS + 200 + offset, observed_timestamp=BASE_NS + 300 + offset,
            trace_id=context.trace_id, span_id=context.span_id, event_name=name, body=body,
            attributes={"gen_ai.system": "openai", "n": offset}, severity_text="INFO",
            severity_number=SeverityNumber.INFO,
        ))
    tracer_provider.shutdown()
    logger_provider.shutdown()
    trace, span_hex = context.trace_id.to_bytes(16, "big"), context.span_id.to_bytes(8, "big")
    raw = make_logs_request([
        make_log(trace, span_hex, "gen_ai.tool.message", {"id": "call-1", "data": b"\x00\x01"},
                 time=BASE_NS + 250),
        make_log(trace, span_hex, "custom.note", "plain text", time=BASE_NS + 260,
                 event_name_in_attribute=True),
    ], {"openinference.project.name": project})
    response = httpx.post(f"{url}/v1/logs", content=raw.SerializeToString(),
                          headers={"content-type": "application/x-protobuf"}, timeout=30)
    assert response.status_code == 200, response.content
    span_id_hex = f"{context.span_id:016x}"
    deadline = time.monotonic() + 10
    while True:
        detail = httpx.get(f"{url}/v1/spans/{span_id_hex}", timeout=10)
        if detail.status_code == 200 and len(detail.json()["data"].get("logs") or []) == 5:
            assert "llm.output_messages.0.message.content" in detail.json()["data"]["attributes"]
            return span_id_hex
        assert time.monotonic() < deadline, "the span never got its log records"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def logs_span_id(source: EmberProcess) -> str:
    return ingest_spans_with_logs(source.url, LOGS_PROJECT)
