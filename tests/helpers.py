"""Builders for OTLP requests and small clients for posting them to a server under test.

Ids are random so tests sharing one server never collide (a trace's first stored span fixes its
project, so reused trace ids would leak between tests).
"""

from __future__ import annotations

import base64
import gzip
import secrets
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
import orjson
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
BASE_NS = 1_760_000_000_123_456_789  # a fixed instant with nanoseconds a float would lose


def trace_id() -> bytes:
    return secrets.token_bytes(16)


def span_id() -> bytes:
    return secrets.token_bytes(8)


def any_value(value: Any) -> AnyValue:
    """A Python value as an OTLP AnyValue (bytes -> bytes_value, dict -> kvlist)."""
    out = AnyValue()
    if value is None:
        return out
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, Mapping):
        out.kvlist_value.SetInParent()
        for key, item in value.items():
            out.kvlist_value.values.append(key_value(key, item))
    elif isinstance(value, Sequence):
        out.array_value.SetInParent()
        for item in value:
            out.array_value.values.append(any_value(item))
    else:
        raise TypeError(f"no AnyValue for {type(value).__name__}")
    return out


def key_value(key: str, value: Any) -> KeyValue:
    kv = KeyValue(key=key)
    kv.value.CopyFrom(any_value(value))
    return kv


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [key_value(k, v) for k, v in attributes.items()]


def make_span(
    trace: bytes,
    span: bytes,
    parent: bytes | None = None,
    name: str = "span",
    *,
    kind: int = Span.SPAN_KIND_INTERNAL,
    start: int = BASE_NS,
    end: int | None = None,
    status_code: int = Status.STATUS_CODE_UNSET,
    status_message: str = "",
    attributes: Mapping[str, Any] | None = None,
    events: Iterable[tuple[str, int, Mapping[str, Any]]] = (),
) -> Span:
    out = Span(
        trace_id=trace,
        span_id=span,
        parent_span_id=parent or b"",
        name=name,
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=start,
        end_time_unix_nano=end if end is not None else start + 1_000_000,
    )
    out.status.code = status_code  # type: ignore[assignment]
    out.status.message = status_message
    out.attributes.extend(key_values(attributes or {}))
    for event_name, when, event_attributes in events:
        event = out.events.add(name=event_name, time_unix_nano=when)
        event.attributes.extend(key_values(event_attributes))
    return out


def make_request(
    spans: Iterable[Span],
    resource: Mapping[str, Any] | None = None,
    scope: str = "ember.tests",
) -> ExportTraceServiceRequest:
    """One resource with one scope holding `spans`."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(key_values(resource or {}))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = scope
    scope_spans.scope.version = "0.0.1"
    scope_spans.spans.extend(spans)
    return request


def make_log(
    trace: bytes,
    span: bytes,
    event_name: str,
    body: Any = None,
    *,
    time: int = BASE_NS,
    attributes: Mapping[str, Any] | None = None,
    event_name_in_attribute: bool = False,
) -> LogRecord:
    """A GenAI event as a log record tied to a span; older SDKs put the event name in the
    `event.name` attribute instead of the record's own field."""
    out = LogRecord(trace_id=trace, span_id=span, time_unix_nano=time)
    if event_name_in_attribute:
        out.attributes.append(key_value("event.name", event_name))
    else:
        out.event_name = event_name
    out.attributes.extend(key_values(attributes or {}))
    if body is not None:
        out.body.CopyFrom(any_value(body))
    return out


def make_logs_request(
    logs: Iterable[LogRecord], resource: Mapping[str, Any] | None = None
) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(key_values(resource or {"service.name": "app"}))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "ember.tests"
    scope_logs.log_records.extend(logs)
    return request


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def nested_value(depth: int, kind: str, leaf: Any = "leaf") -> Any:
    """A Python value `depth` containers deep: [[...["leaf"]...]] or {"k0": {"k1": ...}}."""
    value = leaf
    for level in reversed(range(depth)):
        value = [value] if kind == "array" else {f"k{level}": value}
    return value


def deep_request_bytes(
    trace: bytes, span: bytes, depth: int, kind: str, resource: Mapping[str, Any] | None = None
) -> bytes:
    """A serialized request whose one span has attribute "deep": `nested_value(depth, kind)`.

    Written at the wire level, because the protobuf runtime refuses to build (copy) a message
    nested past its own parser limit.
    """
    value = any_value("leaf").SerializeToString()
    for level in reversed(range(depth)):
        if kind == "array":
            value = _field(5, _field(1, value))  # AnyValue.array_value { values }
        else:  # AnyValue.kvlist_value { values: KeyValue { key, value } }
            value = _field(6, _field(1, _field(1, f"k{level}".encode()) + _field(2, value)))
    attribute = _field(1, b"deep") + _field(2, value)  # KeyValue
    span_bytes = make_span(trace, span, name="deep").SerializeToString() + _field(9, attribute)
    resource_bytes = make_request([], resource).resource_spans[0].resource.SerializeToString()
    scope_spans = _field(2, span_bytes)
    resource_spans = _field(1, resource_bytes) + _field(2, scope_spans)
    return _field(1, resource_spans)


def project_request(project: str, spans: Iterable[Span]) -> ExportTraceServiceRequest:
    return make_request(spans, {"openinference.project.name": project})


def to_otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """OTLP/JSON as the spec writes it: camelCase, hex ids, int64 as strings, enums as ints."""
    document: dict[str, Any] = json_format.MessageToDict(
        request, use_integers_for_enums=True, preserving_proto_field_name=False
    )
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return document


def _hex_ids(obj: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in obj:
            obj[key] = base64.b64decode(obj[key]).hex()


def compress(body: bytes, encoding: str | None) -> bytes:
    if encoding is None:
        return body
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":  # the zlib format, as HTTP's "deflate" means
        return zlib.compress(body)
    if encoding == "raw-deflate":
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(body) + compressor.flush()
    raise ValueError(encoding)


def post(
    url: str,
    body: bytes | ExportTraceServiceRequest | Mapping[str, Any],
    *,
    content_type: str | None = None,
    encoding: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> httpx.Response:
    """POST an OTLP body to `url`/v1/traces. A request message is sent as protobuf, a mapping as
    JSON; `encoding` compresses it (gzip, deflate, raw-deflate: sent as Content-Encoding
    deflate)."""
    if isinstance(body, ExportTraceServiceRequest):
        data = body.SerializeToString()
        content_type = content_type or PROTOBUF
    elif isinstance(body, Mapping):
        data = orjson.dumps(body)
        content_type = content_type or JSON
    else:
        data = body
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    if encoding is not None:
        data = compress(data, encoding)
        all_headers["content-encoding"] = "deflate" if encoding == "raw-deflate" else encoding
    return httpx.post(f"{url}/v1/traces", content=data, headers=all_headers, timeout=timeout)


def export_response(response: httpx.Response) -> ExportTraceServiceResponse:
    """The ExportTraceServiceResponse of a 200, decoded as its content type says."""
    assert response.status_code == 200, (response.status_code, response.content[:500])
    message = ExportTraceServiceResponse()
    _decode(response, message)
    return message


def error_status(response: httpx.Response) -> status_pb2.Status:
    """The google.rpc.Status of an error response, decoded as its content type says."""
    message = status_pb2.Status()
    _decode(response, message)
    return message


def _decode(response: httpx.Response, message: Any) -> None:
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media == JSON:
        json_format.Parse(response.content, message)
    else:
        assert media == PROTOBUF, f"unexpected content type {media!r}"
        message.ParseFromString(response.content)


def spans_by_id(spans: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["context"]["span_id"]: s for s in spans}


def assert_serving(url: str) -> None:
    """The server still answers: /healthz, and a good export is stored and read back."""
    assert httpx.get(f"{url}/healthz", timeout=10).json() == {"status": "ok"}
    project = f"after-{secrets.token_hex(4)}"
    trace, span = trace_id(), span_id()
    response = post(url, project_request(project, [make_span(trace, span, name="canary")]))
    assert response.status_code == 200, response.content
    trace_json = httpx.get(f"{url}/v1/traces/{trace.hex()}", timeout=10).json()["data"]
    assert [s["context"]["span_id"] for s in trace_json["spans"]] == [span.hex()]
    assert trace_json["project_name"] == project


def raw_attributes(span: Mapping[str, Any]) -> dict[str, Any]:
    """A span's attributes as the API returns them, without the keys Ember derived (the view's
    OpenInference keys and cost), i.e. exactly what was sent."""
    derived = set(span.get("derived_attributes", ()))
    return {k: v for k, v in span["attributes"].items() if k not in derived}
