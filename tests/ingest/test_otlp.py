"""ember.ingest.otlp, pure: media types, encodings, limits, protobuf and OTLP/JSON decoding."""

from __future__ import annotations

import base64
import gzip
import zlib
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ember.errors import DecodeError, PayloadTooLarge, UnsupportedMediaType
from ember.ingest import otlp
from tests.helpers import (
    any_value,
    deep_request_bytes,
    make_request,
    make_span,
    nested_value,
    to_otlp_json,
)

TRACE = bytes(range(1, 17))
SPAN = bytes(range(1, 9))
PARENT = bytes(range(9, 17))
LIMIT = 1 << 20


def _request() -> ExportTraceServiceRequest:
    span = make_span(
        TRACE, SPAN, PARENT, "llm", kind=3, start=1_700_000_000_123_456_789,
        end=1_700_000_001_987_654_321, status_code=2, status_message="boom",
        attributes={"input.value": "hi", "n": 7, "x": 0.5, "ok": True, "tags": ["a", "b"]},
        events=[("exception", 1_700_000_000_500_000_001, {"exception.type": "ValueError"})],
    )
    link = span.links.add(trace_id=TRACE, span_id=PARENT)
    link.attributes.add(key="why").value.string_value = "retry"
    return make_request([span], {"service.name": "svc"})


def _json_span(**fields: Any) -> bytes:
    span = {"traceId": TRACE.hex(), "spanId": SPAN.hex(), "name": "s", **fields}
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})


def _only_span(request: ExportTraceServiceRequest) -> Any:
    return request.resource_spans[0].scope_spans[0].spans[0]


# ------------------------------------------------------------------ media types and encodings


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", otlp.PROTOBUF),
        ("application/json", otlp.JSON),
        ("Application/JSON; charset=utf-8", otlp.JSON),
        (" application/x-protobuf ;foo=bar", otlp.PROTOBUF),
    ],
)
def test_media_type_accepts_protobuf_and_json(header: str, expected: str) -> None:
    assert otlp.media_type(header) == expected


@pytest.mark.parametrize("header", [None, "", "text/plain", "application/grpc", "application/xml"])
def test_media_type_refuses_others_with_415(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        otlp.media_type(header)
    assert caught.value.status == 415
    assert "application/x-protobuf" in caught.value.message


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, "identity"), ("", "identity"), ("identity", "identity"), ("GZIP", "gzip"),
     (" deflate ", "deflate")],
)
def test_content_encoding_known(header: str | None, expected: str) -> None:
    assert otlp.content_encoding(header) == expected


@pytest.mark.parametrize("header", ["br", "zstd", "compress", "gzip, deflate"])
def test_content_encoding_unknown_is_415(header: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        otlp.content_encoding(header)
    assert caught.value.status == 415
    assert header.strip().lower() in caught.value.message


def test_gzip_round_trip() -> None:
    data = b"x" * 1000
    assert otlp.decompress(gzip.compress(data), "gzip", LIMIT) == data


def test_deflate_accepts_zlib_format_and_raw_deflate() -> None:
    data = b"some protobuf bytes" * 50
    assert otlp.decompress(zlib.compress(data), "deflate", LIMIT) == data
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert otlp.decompress(raw.compress(data) + raw.flush(), "deflate", LIMIT) == data


def test_deflate_is_not_gzip() -> None:
    with pytest.raises(DecodeError):
        otlp.decompress(gzip.compress(b"abc"), "deflate", LIMIT)


def test_gzip_is_not_deflate() -> None:
    with pytest.raises(DecodeError):
        otlp.decompress(zlib.compress(b"abc"), "gzip", LIMIT)


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_raw_deflate_at_every_level(level: int) -> None:
    """Raw deflate data whose first bytes could pass for a zlib header must still inflate."""
    data = bytes(range(256)) * 20
    raw = zlib.compressobj(level, wbits=-zlib.MAX_WBITS)
    assert otlp.decompress(raw.compress(data) + raw.flush(), "deflate", LIMIT) == data


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_garbage_compressed_body_is_400(encoding: str) -> None:
    with pytest.raises(DecodeError) as caught:
        otlp.decompress(b"this is not compressed", encoding, LIMIT)
    assert caught.value.status == 400
    assert encoding in caught.value.message


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_truncated_compressed_body_is_400(encoding: str) -> None:
    data = bytes(range(256)) * 40
    body = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
    with pytest.raises(DecodeError) as caught:
        otlp.decompress(body[: len(body) // 2], encoding, LIMIT)
    assert "truncated" in caught.value.message


def test_inflating_exactly_to_the_limit_is_allowed() -> None:
    data = b"a" * 4096
    assert otlp.decompress(gzip.compress(data), "gzip", 4096) == data


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_bomb_inflating_past_the_limit_is_413(encoding: str) -> None:
    data = b"\0" * (LIMIT * 8)
    body = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
    assert len(body) < LIMIT // 100
    with pytest.raises(PayloadTooLarge) as caught:
        otlp.decompress(body, encoding, LIMIT)
    assert caught.value.status == 413
    assert str(LIMIT) in caught.value.message


def test_one_byte_past_the_limit_is_413() -> None:
    with pytest.raises(PayloadTooLarge):
        otlp.decompress(gzip.compress(b"a" * 4097), "gzip", 4096)


# ------------------------------------------------------------------ protobuf


def test_protobuf_round_trip() -> None:
    request = _request()
    decoded = otlp.decode_export_request(
        request.SerializeToString(), otlp.PROTOBUF, None, LIMIT
    )
    assert decoded == request


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_protobuf(encoding: str) -> None:
    request = _request()
    data = request.SerializeToString()
    body = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
    assert otlp.decode_export_request(body, otlp.PROTOBUF, encoding, LIMIT) == request


def test_empty_body_is_400() -> None:
    with pytest.raises(DecodeError) as caught:
        otlp.decode_export_request(b"", otlp.PROTOBUF, None, LIMIT)
    assert "empty" in caught.value.message


def test_truncated_protobuf_is_400() -> None:
    data = _request().SerializeToString()
    with pytest.raises(DecodeError) as caught:
        otlp.decode_export_request(data[:-7], otlp.PROTOBUF, None, LIMIT)
    assert caught.value.status == 400
    assert "protobuf" in caught.value.message


def test_media_type_checked_before_body() -> None:
    with pytest.raises(UnsupportedMediaType):
        otlp.decode_export_request(b"", "text/plain", None, LIMIT)
    with pytest.raises(UnsupportedMediaType):
        otlp.decode_export_request(b"x", otlp.PROTOBUF, "br", LIMIT)


@pytest.mark.parametrize("kind", ["array", "kvlist"])
def test_protobuf_nested_past_the_parser_limit_is_400_with_a_message(kind: str) -> None:
    body = deep_request_bytes(TRACE, SPAN, 200, kind)
    with pytest.raises(DecodeError) as caught:
        otlp.decode_export_request(body, otlp.PROTOBUF, None, LIMIT)
    assert "nested more than 100 deep" in caught.value.message


def test_deep_request_builder_matches_the_protobuf_runtime() -> None:
    """The wire-level builder the depth tests rely on writes what the runtime would."""
    body = deep_request_bytes(TRACE, SPAN, 5, "kvlist")
    request = otlp.decode_export_request(body, otlp.PROTOBUF, None, LIMIT)
    attribute = _only_span(request).attributes[0]
    assert attribute.key == "deep"
    assert attribute.value == any_value(nested_value(5, "kvlist"))


# ------------------------------------------------------------------ OTLP/JSON


def test_json_equals_protobuf() -> None:
    request = _request()
    body = orjson.dumps(to_otlp_json(request))
    assert otlp.decode_export_request(body, otlp.JSON, None, LIMIT) == request


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_json(encoding: str) -> None:
    request = _request()
    data = orjson.dumps(to_otlp_json(request))
    body = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
    assert otlp.decode_export_request(body, "application/json", encoding, LIMIT) == request


def test_json_hex_ids_upper_or_lower_case() -> None:
    body = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": TRACE.hex().upper(), "spanId": SPAN.hex(), "parentSpanId": PARENT.hex().upper(),
    }]}]}]})
    span = _only_span(otlp.parse_json(body))
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE, SPAN, PARENT)


def test_json_base64_ids_tolerated() -> None:
    body = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": base64.b64encode(TRACE).decode(),
        "spanId": base64.b64encode(SPAN).decode(),
    }]}]}]})
    span = _only_span(otlp.parse_json(body))
    assert (span.trace_id, span.span_id) == (TRACE, SPAN)


def test_json_snake_case_names_int64_strings_and_enums_as_ints() -> None:
    body = orjson.dumps({"resource_spans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"string_value": "svc"}}]},
        "scope_spans": [{"scope": {"name": "sc"}, "spans": [{
            "trace_id": TRACE.hex(), "span_id": SPAN.hex(), "parent_span_id": PARENT.hex(),
            "name": "n", "kind": 3,
            "start_time_unix_nano": "1700000000123456789",
            "end_time_unix_nano": 1700000000987654321,
            "status": {"code": 2, "message": "bad"},
            "attributes": [{"key": "big", "value": {"int_value": "9007199254740993"}}],
            "links": [{"trace_id": TRACE.hex(), "span_id": PARENT.hex()}],
        }]}],
    }]})
    request = otlp.parse_json(body)
    span = _only_span(request)
    assert request.resource_spans[0].resource.attributes[0].value.string_value == "svc"
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE, SPAN, PARENT)
    assert span.kind == 3
    assert span.start_time_unix_nano == 1_700_000_000_123_456_789
    assert span.end_time_unix_nano == 1_700_000_000_987_654_321
    assert (span.status.code, span.status.message) == (2, "bad")
    assert span.attributes[0].value.int_value == 9_007_199_254_740_993  # beyond a double
    assert (span.links[0].trace_id, span.links[0].span_id) == (TRACE, PARENT)


def test_json_camel_case_with_enum_names() -> None:
    body = _json_span(kind="SPAN_KIND_CLIENT", status={"code": "STATUS_CODE_OK"},
                      startTimeUnixNano="42")
    span = _only_span(otlp.parse_json(body))
    assert (span.kind, span.status.code, span.start_time_unix_nano) == (3, 1, 42)


def test_json_unknown_fields_are_ignored() -> None:
    body = _json_span(somethingNew={"a": 1})
    assert _only_span(otlp.parse_json(body)).name == "s"


def test_json_special_values() -> None:
    body = _json_span(attributes=[
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "inf", "value": {"doubleValue": "-Infinity"}},
        {"key": "raw", "value": {"bytesValue": base64.b64encode(b"\0\1\2").decode()}},
    ])
    values = {kv.key: kv.value for kv in _only_span(otlp.parse_json(body)).attributes}
    assert values["nan"].double_value != values["nan"].double_value
    assert values["inf"].double_value == float("-inf")
    assert values["raw"].bytes_value == b"\0\1\2"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"resourceSpans": 5}', "invalid OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": {"a": 1}}]}]}]}',
         "invalid OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": 1}]}]}]}]}',
         "invalid OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
         "invalid OTLP/JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_invalid_json_is_400(body: bytes, fragment: str) -> None:
    with pytest.raises(DecodeError) as caught:
        otlp.decode_export_request(body, otlp.JSON, None, LIMIT)
    assert caught.value.status == 400
    assert fragment in caught.value.message
    assert len(caught.value.message) < 300
    assert fragment in caught.value.message


def test_json_id_of_wrong_length_is_left_for_the_span_to_be_rejected() -> None:
    """A hex id of the wrong length decodes to its bytes: the normalizer rejects that span
    alone (partial success), instead of the whole request failing."""
    span = _only_span(otlp.parse_json(_json_span(spanId="0102030405")))
    assert span.span_id == bytes([1, 2, 3, 4, 5])
    span = _only_span(otlp.parse_json(_json_span(traceId="00" * 20)))
    assert len(span.trace_id) == 20


@pytest.mark.parametrize(
    ("field", "value"),
    [("spanId", "not-an-id!"), ("traceId", "zz-" * 10), ("parentSpanId", "0102-30g")],
)
def test_json_id_that_is_neither_hex_nor_base64_is_400_naming_the_span(
    field: str, value: str
) -> None:
    body = orjson.dumps({"resourceSpans": [{"scopeSpans": [
        {"spans": [{"traceId": TRACE.hex(), "spanId": SPAN.hex()}]},
        {"spans": [{"traceId": TRACE.hex(), "spanId": SPAN.hex()},
                   {"traceId": TRACE.hex(), "spanId": SPAN.hex(), field: value}]},
    ]}]})
    with pytest.raises(DecodeError) as caught:
        otlp.parse_json(body)
    assert caught.value.message.startswith(f"span 1 of scope 1 of resource 0: {field}")
    assert value in caught.value.message


def test_json_link_ids_are_hex() -> None:
    body = _json_span(links=[{"traceId": TRACE.hex(), "spanId": PARENT.hex()}])
    link = _only_span(otlp.parse_json(body)).links[0]
    assert (link.trace_id, link.span_id) == (TRACE, PARENT)


@pytest.mark.parametrize(
    ("depth", "fragment"), [(200, "nested more than 100 deep"), (400, "not valid JSON")]
)
def test_json_nested_past_the_limit_is_400(depth: int, fragment: str) -> None:
    """200 levels pass the JSON parser and stop at protobuf's limit; 400 stop in the parser."""
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"leaf"}' + "]}}" * depth
    head = orjson.dumps({"traceId": TRACE.hex(), "spanId": SPAN.hex()}).decode()[:-1]
    span = head + ',"attributes":[{"key":"deep","value":' + value + "}]}"
    body = ('{"resourceSpans":[{"scopeSpans":[{"spans":[' + span + "]}]}]}").encode()
    with pytest.raises(DecodeError) as caught:
        otlp.decode_export_request(body, otlp.JSON, None, LIMIT)
    assert caught.value.status == 400
    assert fragment in caught.value.message
    assert len(caught.value.message) < 300
