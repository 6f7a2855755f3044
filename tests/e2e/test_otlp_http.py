"""OTLP/HTTP by hand against a real server: OTLP/JSON, compressed bodies, project routing."""

from __future__ import annotations

import secrets
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from tests.conftest import EmberProcess
from tests.helpers import (
    JSON,
    PROTOBUF,
    export_response,
    make_request,
    make_span,
    post,
    raw_attributes,
    span_id,
    spans_by_id,
    to_otlp_json,
    trace_id,
)

KIND = "openinference.span.kind"


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _hand_written(project: str, trace: str, root: str, child: str, snake: bool) -> dict[str, Any]:
    """OTLP/JSON as a person or a non-Python SDK writes it."""

    def k(camel: str) -> str:
        if not snake:
            return camel
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)

    return {
        k("resourceSpans"): [{
            "resource": {"attributes": [
                {"key": "openinference.project.name", "value": {k("stringValue"): project}},
                {"key": "service.name", "value": {k("stringValue"): "ignored"}},
            ]},
            k("scopeSpans"): [{
                "scope": {"name": "hand", "version": "9"},
                "spans": [
                    {
                        k("traceId"): trace, k("spanId"): root, "name": "root", "kind": 2,
                        k("startTimeUnixNano"): "1700000000000000001",
                        k("endTimeUnixNano"): "1700000000900000009",
                        "status": {"code": 1},
                        "attributes": [
                            {"key": KIND, "value": {k("stringValue"): "CHAIN"}},
                            {"key": "input.value", "value": {k("stringValue"): "héllo ✓"}},
                        ],
                    },
                    {
                        k("traceId"): trace, k("spanId"): child, k("parentSpanId"): root,
                        "name": "llm", "kind": 3,
                        k("startTimeUnixNano"): "1700000000100000002",
                        k("endTimeUnixNano"): "1700000000800000003",
                        "status": {"code": 2, "message": "model overloaded"},
                        k("traceState"): "vendor=x",
                        "attributes": [
                            {"key": KIND, "value": {k("stringValue"): "LLM"}},
                            {"key": "llm.model_name", "value": {k("stringValue"): "gpt-4o"}},
                            {"key": "llm.token_count.prompt", "value": {k("intValue"): "12"}},
                            {"key": "llm.token_count.completion", "value": {k("intValue"): 30}},
                            {"key": "big", "value": {k("intValue"): "9007199254740993"}},
                            {"key": "temperature", "value": {k("doubleValue"): 0.7}},
                            {"key": "stream", "value": {k("boolValue"): True}},
                            {"key": "tags", "value": {k("arrayValue"): {"values": [
                                {k("stringValue"): "a"}, {k("intValue"): "2"}]}}},
                            {"key": "meta", "value": {k("kvlistValue"): {"values": [
                                {"key": "tier", "value": {k("stringValue"): "gold"}}]}}},
                            {"key": "raw", "value": {k("bytesValue"): "AAEC"}},
                            {"key": "nan", "value": {k("doubleValue"): "NaN"}},
                            {"key": "inf", "value": {k("doubleValue"): "Infinity"}},
                            {"key": "empty", "value": {}},
                        ],
                        "events": [{
                            k("timeUnixNano"): "1700000000500000005", "name": "exception",
                            "attributes": [
                                {"key": "exception.type",
                                 "value": {k("stringValue"): "Overloaded"}},
                            ],
                        }],
                        "links": [{k("traceId"): trace, k("spanId"): root,
                                   "attributes": [{"key": "why",
                                                   "value": {k("stringValue"): "follows"}}]}],
                    },
                ],
            }],
        }],
    }


@pytest.mark.parametrize("snake", [False, True], ids=["camelCase", "snake_case"])
def test_hand_written_otlp_json(shared_server: EmberProcess, snake: bool) -> None:
    project = _name("json-hand")
    trace, root, child = trace_id().hex(), span_id().hex(), span_id().hex()
    document = _hand_written(project, trace.upper() if snake else trace, root, child, snake)
    response = post(shared_server.url, document)
    assert response.headers["content-type"].startswith(JSON)
    assert response.json() == {}  # an ExportTraceServiceResponse with nothing rejected
    export_response(response)

    spans = spans_by_id(shared_server.spans(project))
    assert set(spans) == {root, child}
    r, c = spans[root], spans[child]
    assert r["context"]["trace_id"] == trace
    assert (r["parent_id"], c["parent_id"]) == (None, root)
    assert (r["otel_kind"], c["otel_kind"]) == ("SERVER", "CLIENT")
    assert (r["span_kind"], c["span_kind"]) == ("CHAIN", "LLM")
    assert (r["start_time_unix_nano"], r["end_time_unix_nano"]) == (
        1_700_000_000_000_000_001, 1_700_000_000_900_000_009)
    assert (c["start_time_unix_nano"], c["end_time_unix_nano"]) == (
        1_700_000_000_100_000_002, 1_700_000_000_800_000_003)
    assert (r["status_code"], r["status_message"]) == ("OK", "")
    assert (c["status_code"], c["status_message"]) == ("ERROR", "model overloaded")
    assert c["trace_state"] == "vendor=x"
    assert raw_attributes(r) == {"openinference.span.kind": "CHAIN", "input.value": "héllo ✓"}
    assert raw_attributes(c) == {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
        "llm.token_count.prompt": 12, "llm.token_count.completion": 30,
        "big": 9_007_199_254_740_993, "temperature": 0.7, "stream": True,
        "tags": ["a", 2], "meta": {"tier": "gold"}, "raw": "AAEC", "nan": "NaN",
        "inf": "Infinity", "empty": None,
    }
    assert c["attribute_types"] == {
        "raw": {"bytesValue": "AAEC"}, "nan": {"doubleValue": "NaN"},
        "inf": {"doubleValue": "Infinity"},
    }
    assert [(e["name"], e["time_unix_nano"], e["attributes"]) for e in c["events"]] == [
        ("exception", 1_700_000_000_500_000_005, {"exception.type": "Overloaded"})]
    assert [(lk["trace_id"], lk["span_id"], lk["attributes"]) for lk in c["links"]] == [
        (trace, root, {"why": "follows"})]
    assert c["scope"]["name"] == "hand"
    assert c["project_name"] == project

    trace_json = shared_server.get(f"/v1/traces/{trace}").json()["data"]
    assert (trace_json["span_count"], trace_json["error_count"]) == (2, 1)
    assert trace_json["start_time_unix_nano"] == 1_700_000_000_000_000_001
    assert trace_json["end_time_unix_nano"] == 1_700_000_000_900_000_009


def test_json_partial_success_is_json(shared_server: EmberProcess) -> None:
    project = _name("json-partial")
    trace = trace_id().hex()
    good = span_id().hex()
    document = {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "openinference.project.name", "value": {"stringValue": project}}]},
        "scopeSpans": [{"spans": [
            {"traceId": trace, "spanId": good, "name": "good"},
            {"traceId": trace, "spanId": "0102030405", "name": "short id"},
        ]}],
    }]}
    response = post(shared_server.url, document)
    assert response.status_code == 200
    assert response.json() == {"partialSuccess": {
        "rejectedSpans": "1",
        "errorMessage": "span 1 of scope 0 of resource 0: span_id must be 8 bytes, got 5",
    }}
    assert [s["context"]["span_id"] for s in shared_server.spans(project)] == [good]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_compressed_bodies(shared_server: EmberProcess, encoding: str, content_type: str) -> None:
    project = _name(f"enc-{encoding}")
    trace = trace_id()
    spans = [make_span(trace, span_id(), name=f"s{n}", attributes={"text": "lorem " * 500})
             for n in range(20)]
    request = make_request(spans, {"openinference.project.name": project})
    body: Any = request if content_type == PROTOBUF else to_otlp_json(request)
    response = post(shared_server.url, body, encoding=encoding)
    assert response.status_code == 200, response.content
    assert response.headers["content-type"].startswith(content_type)
    assert not export_response(response).HasField("partial_success")
    stored = spans_by_id(shared_server.spans(project))
    assert set(stored) == {s.span_id.hex() for s in spans}
    assert all(s["attributes"]["text"] == "lorem " * 500 for s in stored.values())


# ------------------------------------------------------------------------------ project routing


def _routed(
    server: EmberProcess,
    resource: dict[str, Any],
    header: str | None,
    transport: str,
    content_type: str = PROTOBUF,
) -> str:
    trace = trace_id()
    request = make_request([make_span(trace, span_id())], resource)
    if transport == "http":
        body: Any = request if content_type == PROTOBUF else to_otlp_json(request)
        headers = {"x-project-name": header} if header else {}
        response = post(server.url, body, headers=headers)
        assert response.status_code == 200, response.content
    else:
        with grpc.insecure_channel(server.grpc_endpoint) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
            metadata = [("x-project-name", header)] if header else []
            stub.Export(request, metadata=metadata, timeout=30)
    return str(server.get(f"/v1/traces/{trace.hex()}").json()["data"]["project_name"])


@pytest.mark.parametrize("transport", ["http", "http-json", "grpc"])
def test_project_routing(shared_server: EmberProcess, transport: str) -> None:
    content_type = JSON if transport == "http-json" else PROTOBUF
    kind = "grpc" if transport == "grpc" else "http"
    oi, svc, hdr = _name("oi"), _name("svc"), _name("hdr")

    def route(resource: dict[str, Any], header: str | None = None) -> str:
        return _routed(shared_server, resource, header, kind, content_type)

    both = {"openinference.project.name": oi, "service.name": svc}
    assert route(both, hdr) == hdr
    assert route(both) == oi
    assert route({"service.name": svc}) == svc
    assert route({"service.name": svc}, hdr) == hdr
    assert route({"service.name": "unknown_service:python"}) == "default"
    assert route({"service.name": "unknown_service"}) == "default"
    assert route({}) == "default"
    names = {p["name"] for p in httpx.get(f"{shared_server.url}/v1/projects").json()["data"]}
    assert {oi, svc, hdr, "default"} <= names
