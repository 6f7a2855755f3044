"""The real OpenTelemetry SDK and OTLP exporters against a real `ember serve`."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.conftest import EmberProcess
from tests.helpers import raw_attributes

ATTRIBUTES: dict[str, Any] = {
    "openinference.span.kind": "llm",
    "input.value": "What is the refund policy?",
    "llm.model_name": "gpt-4o-mini",
    "llm.token_count.prompt": 12,
    "llm.token_count.completion": 30,
    "score": 0.875,
    "flag": True,
    "tag.tags": ["a", "b", "c"],
    "ints": [1, 2, 3],
    "floats": [0.5, 1.5],
    "bools": [True, False],
    "long.text": "x" * 5000,
    "session.id": "sess-1",
    "user.id": "user-7",
}


class Recorder(SimpleSpanProcessor):
    """Keeps what the SDK exported, to compare against what Ember returns."""

    def __init__(self, exporter: Any) -> None:
        super().__init__(exporter)
        self.ended: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)
        super().on_end(span)


def _trace_app(exporter: Any, project: str) -> list[ReadableSpan]:
    provider = TracerProvider(
        resource=Resource.create(
            {"openinference.project.name": project, "service.name": "svc", "deployment": "test"}
        )
    )
    recorder = Recorder(exporter)
    provider.add_span_processor(recorder)
    tracer = provider.get_tracer("ember.tests", "1.2.3")
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER) as root:
        root.set_attribute("openinference.span.kind", "CHAIN")
        with tracer.start_as_current_span("llm-call", attributes=ATTRIBUTES) as child:
            child.add_event("first token", {"index": 0, "note": "streamed"})
            child.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span(
            "tool", links=[Link(root.get_span_context(), {"why": "feedback"})]
        ) as failing:
            try:
                raise ValueError("tool exploded")
            except ValueError as exc:
                failing.record_exception(exc)
                failing.set_status(Status(StatusCode.ERROR, "tool exploded"))
    provider.shutdown()
    return recorder.ended


def _by_span_id(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["context"]["span_id"]: s for s in spans}


def _assert_same(sent: list[ReadableSpan], stored: list[dict[str, Any]], project: str) -> None:
    assert len(stored) == len(sent)
    by_id = _by_span_id(stored)
    for span in sent:
        ctx = span.get_span_context()
        got = by_id[format(ctx.span_id, "016x")]
        assert got["context"]["trace_id"] == format(ctx.trace_id, "032x")
        assert got["parent_id"] == (format(span.parent.span_id, "016x") if span.parent else None)
        assert got["name"] == span.name
        assert got["start_time_unix_nano"] == span.start_time
        assert got["end_time_unix_nano"] == span.end_time
        assert got["project_name"] == project
        assert got["otel_kind"] == span.kind.name
        assert got["status_code"] == span.status.status_code.name
        assert got["status_message"] == (span.status.description or "")
        expected_attributes = {
            k: list(v) if isinstance(v, tuple) else v for k, v in span.attributes.items()
        }
        assert raw_attributes(got) == expected_attributes
        for key, value in expected_attributes.items():
            assert type(got["attributes"][key]) is type(value), key
        assert len(got["events"]) == len(span.events)
        for event, stored_event in zip(span.events, got["events"], strict=True):
            assert stored_event["name"] == event.name
            assert stored_event["time_unix_nano"] == event.timestamp
            assert stored_event["attributes"] == dict(event.attributes)
        assert [(lk["trace_id"], lk["span_id"], lk["attributes"]) for lk in got["links"]] == [
            (format(lk.context.trace_id, "032x"), format(lk.context.span_id, "016x"),
             dict(lk.attributes))
            for lk in span.links
        ]
        assert got["resource"]["attributes"] == dict(span.resource.attributes)
        assert got["scope"]["name"] == "ember.tests"
        assert got["scope"]["version"] == "1.2.3"


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_sdk_spans_read_back_field_by_field(shared_server: EmberProcess, transport: str) -> None:
    project = f"exporters-{transport}"
    if transport == "http":
        exporter: Any = HttpExporter(endpoint=f"{shared_server.url}/v1/traces")
    else:
        exporter = GrpcExporter(endpoint=shared_server.grpc_endpoint, insecure=True)
    sent = _trace_app(exporter, project)
    stored = shared_server.spans(project)
    _assert_same(sent, stored, project)

    llm = next(s for s in stored if s["name"] == "llm-call")
    assert llm["span_kind"] == "LLM"  # lower-case kind normalized
    tool = next(s for s in stored if s["name"] == "tool")
    assert [e["name"] for e in tool["events"]] == ["exception"]
    assert tool["events"][0]["attributes"]["exception.type"] == "ValueError"

    trace_id = llm["context"]["trace_id"]
    trace = shared_server.get(f"/v1/traces/{trace_id}").json()["data"]
    assert trace["span_count"] == 3
    assert trace["error_count"] == 1
    assert trace["start_time_unix_nano"] == min(s.start_time for s in sent)
    assert trace["end_time_unix_nano"] == max(s.end_time for s in sent)
    assert [s["name"] for s in trace["spans"]] == ["root", "llm-call", "tool"]


def test_gzip_http_exporter(shared_server: EmberProcess) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    exporter = HttpExporter(
        endpoint=f"{shared_server.url}/v1/traces", compression=Compression.Gzip
    )
    sent = _trace_app(exporter, "exporters-gzip")
    _assert_same(sent, shared_server.spans("exporters-gzip"), "exporters-gzip")


def test_grpc_gzip_exporter(shared_server: EmberProcess) -> None:
    from grpc import Compression as GrpcCompression

    exporter = GrpcExporter(
        endpoint=shared_server.grpc_endpoint, insecure=True, compression=GrpcCompression.Gzip
    )
    sent = _trace_app(exporter, "exporters-grpc-gzip")
    _assert_same(sent, shared_server.spans("exporters-grpc-gzip"), "exporters-grpc-gzip")
