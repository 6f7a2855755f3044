"""ember.ingest.normalize and ember.ingest.anyvalue, pure: OTLP requests to SpanRecords."""

from __future__ import annotations

import base64
import math
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ember.ingest import otlp
from ember.ingest.anyvalue import DEPTH_MARKER, TRUNCATED_MARKER
from ember.ingest.normalize import DEFAULT_PROJECT, NormalizedBatch, Normalizer, project_for
from ember.model import SpanRecord
from tests.helpers import (
    deep_request_bytes,
    key_values,
    make_request,
    make_span,
    nested_value,
    span_id,
    to_otlp_json,
    trace_id,
)

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN = bytes.fromhex("b7ad6b7169203331")
PARENT = bytes.fromhex("00f067aa0ba902b7")
MiB = 1 << 20


def normalize(
    request: ExportTraceServiceRequest,
    header: str | None = None,
    max_value_bytes: int = 4 * MiB,
    max_depth: int = 32,
) -> NormalizedBatch:
    return Normalizer(max_value_bytes, max_depth).normalize(request, header)


def one(attributes: dict[str, Any], **limits: int) -> SpanRecord:
    batch = normalize(make_request([make_span(TRACE, SPAN, attributes=attributes)]), **limits)
    assert batch.rejected == 0, batch.message
    (record,) = batch.spans
    return record


# ------------------------------------------------------------------------------ ids and fields


def test_fields_are_copied_exactly() -> None:
    span = make_span(
        TRACE, SPAN, PARENT, "ChatCompletion", kind=3, start=1_700_000_000_123_456_789,
        end=1_700_000_000_987_654_321, status_code=2, status_message="rate limited",
        attributes={"openinference.span.kind": "llm", "llm.model_name": "gpt-4o",
                    "llm.token_count.prompt": 10, "llm.token_count.completion": 5},
        events=[("exception", 1_700_000_000_500_000_001,
                 {"exception.type": "RateLimitError", "exception.message": "slow down"})],
    )
    span.trace_state = "k=v"
    span.flags = 0x101
    span.dropped_attributes_count = 3
    span.dropped_events_count = 2
    span.dropped_links_count = 1
    link = span.links.add(trace_id=TRACE, span_id=PARENT, trace_state="a=b", flags=1)
    link.attributes.extend(key_values({"why": "retry"}))
    (record,) = normalize(make_request([span], {"service.name": "svc"})).spans

    assert record.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert record.span_id == "b7ad6b7169203331"
    assert record.parent_id == "00f067aa0ba902b7"
    assert record.name == "ChatCompletion"
    assert record.otel_kind == 3
    assert (record.start_time, record.end_time) == (1_700_000_000_123_456_789,
                                                    1_700_000_000_987_654_321)
    assert (record.status_code, record.status_message) == (2, "rate limited")
    assert record.trace_state == "k=v"
    assert record.flags == 0x101
    assert (record.dropped_attributes_count, record.dropped_events_count,
            record.dropped_links_count) == (3, 2, 1)
    assert record.events == [{
        "name": "exception", "time_unix_nano": 1_700_000_000_500_000_001,
        "attributes": {"exception.type": "RateLimitError", "exception.message": "slow down"},
    }]
    assert record.links == [{
        "trace_id": TRACE.hex(), "span_id": PARENT.hex(), "trace_state": "a=b",
        "attributes": {"why": "retry"}, "flags": 1,
    }]
    assert record.resource.attributes == {"service.name": "svc"}
    assert (record.scope.name, record.scope.version) == ("ember.tests", "0.0.1")
    assert record.project_name == "svc"
    promoted = record.promoted
    assert promoted.span_kind == "LLM"
    assert promoted.model_name == "gpt-4o"
    assert (promoted.prompt_tokens, promoted.completion_tokens, promoted.total_tokens) == (
        10, 5, 15)


def test_root_span_has_no_parent() -> None:
    (record,) = normalize(make_request([make_span(TRACE, SPAN)])).spans
    assert record.parent_id is None


def test_json_and_protobuf_give_the_same_records() -> None:
    span = make_span(TRACE, SPAN, PARENT, attributes={"a": [1, 2], "b": {"c": b"\x00"}})
    request = make_request([span], {"service.name": "svc"})
    from_json = otlp.decode_export_request(
        orjson.dumps(to_otlp_json(request)), otlp.JSON, None, MiB
    )
    assert normalize(from_json).spans == normalize(request).spans


@pytest.mark.parametrize(
    ("trace", "span", "parent", "problem"),
    [
        (TRACE[:15], SPAN, None, "trace_id must be 16 bytes, got 15"),
        (TRACE + b"\x01", SPAN, None, "trace_id must be 16 bytes, got 17"),
        (b"", SPAN, None, "trace_id must be 16 bytes, got 0"),
        (TRACE, SPAN[:5], None, "span_id must be 8 bytes, got 5"),
        (TRACE, b"", None, "span_id must be 8 bytes, got 0"),
        (TRACE, SPAN, PARENT[:3], "parent_span_id must be 8 bytes, got 3"),
        (bytes(16), SPAN, None, "trace_id must not be all zeros"),
        (TRACE, bytes(8), None, "span_id must not be all zeros"),
        (TRACE, SPAN, bytes(8), "parent_span_id must not be all zeros"),
    ],
)
def test_bad_ids_reject_the_span_with_a_message_naming_it(
    trace: bytes, span: bytes, parent: bytes | None, problem: str
) -> None:
    request = ExportTraceServiceRequest()
    for r in range(2):
        resource_spans = request.resource_spans.add()
        for _ in range(2):
            resource_spans.scope_spans.add().spans.append(
                make_span(TRACE, bytes([r + 1]) * 8, name="good")
            )
    # The bad span is span 1 of scope 1 of resource 1.
    request.resource_spans[1].scope_spans[1].spans.append(make_span(trace, span, parent))
    batch = normalize(request)
    assert batch.rejected == 1
    assert batch.message == f"span 1 of scope 1 of resource 1: {problem}"
    assert [r.name for r in batch.spans] == ["good"] * 4


def test_rejection_messages_are_capped() -> None:
    spans = [make_span(TRACE, bytes([n]) * 5, name=f"bad{n}") for n in range(1, 9)]
    batch = normalize(make_request(spans))
    assert (batch.rejected, batch.spans) == (8, [])
    assert batch.message.count("span_id must be 8 bytes, got 5") == 5
    assert batch.message.endswith("; and 3 more")
    assert batch.message.startswith("span 0 of scope 0 of resource 0: ")


# ------------------------------------------------------------------------------ projects


@pytest.mark.parametrize(
    ("resource", "header", "expected"),
    [
        ({"openinference.project.name": "oi", "service.name": "svc"}, "hdr", "hdr"),
        ({"openinference.project.name": "oi", "service.name": "svc"}, None, "oi"),
        ({"openinference.project.name": "  oi  "}, None, "oi"),
        ({"service.name": "svc"}, None, "svc"),
        ({"openinference.project.name": "", "service.name": "svc"}, None, "svc"),
        ({"openinference.project.name": 7, "service.name": "svc"}, None, "svc"),
        ({"service.name": "unknown_service"}, None, DEFAULT_PROJECT),
        ({"service.name": "unknown_service:python3"}, None, DEFAULT_PROJECT),
        ({"service.name": " "}, None, DEFAULT_PROJECT),
        ({}, None, DEFAULT_PROJECT),
        ({}, "", DEFAULT_PROJECT),
        ({"service.name": "unknown_service:java"}, "hdr", "hdr"),
    ],
)
def test_project_routing(resource: dict[str, Any], header: str | None, expected: str) -> None:
    assert project_for(resource, header) == expected
    batch = normalize(make_request([make_span(TRACE, SPAN)], resource), header)
    assert batch.spans[0].project_name == expected


def test_each_resource_routes_its_own_spans() -> None:
    request = make_request([make_span(TRACE, SPAN)], {"service.name": "a"})
    request.resource_spans.extend(
        make_request([make_span(TRACE, PARENT)], {"openinference.project.name": "b"})
        .resource_spans
    )
    assert [r.project_name for r in normalize(request).spans] == ["a", "b"]
    assert [r.project_name for r in normalize(request, "h").spans] == ["h", "h"]


def test_resource_and_scope_fingerprints() -> None:
    a1 = normalize(make_request([make_span(TRACE, SPAN)], {"service.name": "a"})).spans[0]
    a2 = normalize(make_request([make_span(TRACE, PARENT)], {"service.name": "a"})).spans[0]
    b = normalize(make_request([make_span(TRACE, SPAN)], {"service.name": "b"})).spans[0]
    c = normalize(make_request([make_span(TRACE, SPAN)], {"service.name": "a"}, "other")).spans[0]
    assert a1.resource.fingerprint == a2.resource.fingerprint
    assert a1.resource.fingerprint != b.resource.fingerprint
    assert a1.scope.fingerprint == a2.scope.fingerprint == b.scope.fingerprint
    assert a1.scope.fingerprint != c.scope.fingerprint


# ------------------------------------------------------------------------------ attribute values


def test_value_types_survive() -> None:
    attributes = {
        "s": "text", "empty": "", "i": -(2**63), "big": 2**63 - 1, "f": 0.1, "t": True,
        "strings": ["a", "b"], "ints": [1, 2], "mixed": [1, "a", 2.5, False, None],
        "map": {"k": "v", "n": 1, "inner": {"deep": [1, {"x": "y"}]}}, "none": None,
        "empty_list": [], "empty_map": {},
    }
    record = one(attributes)
    assert record.attributes == attributes
    for key, value in attributes.items():
        assert type(record.attributes[key]) is type(value), key
    assert record.attribute_types == {}
    assert record.truncated == {}


def test_ten_thousand_attributes_all_kept() -> None:
    attributes = {f"attr.{n}": n for n in range(10_000)}
    assert one(attributes).attributes == attributes


def test_bytes_values_are_base64_with_their_otlp_json_form() -> None:
    record = one({"raw": b"\x00\xffhi", "list": ["a", b"\x01"]})
    assert record.attributes["raw"] == base64.b64encode(b"\x00\xffhi").decode()
    assert record.attribute_types["raw"] == {"bytesValue": "AP9oaQ=="}
    assert record.attributes["list"] == ["a", "AQ=="]
    assert record.attribute_types["list"] == {
        "arrayValue": {"values": [{"stringValue": "a"}, {"bytesValue": "AQ=="}]}
    }


def test_non_finite_doubles_are_text_with_their_otlp_json_form() -> None:
    record = one({"nan": math.nan, "inf": math.inf, "ninf": -math.inf, "fine": 1.5,
                  "in_map": {"x": math.nan, "y": 2}})
    assert record.attributes["nan"] == "NaN"
    assert record.attributes["inf"] == "Infinity"
    assert record.attributes["ninf"] == "-Infinity"
    assert record.attributes["fine"] == 1.5
    assert record.attribute_types["nan"] == {"doubleValue": "NaN"}
    assert record.attribute_types["inf"] == {"doubleValue": "Infinity"}
    assert record.attribute_types["ninf"] == {"doubleValue": "-Infinity"}
    assert "fine" not in record.attribute_types
    assert record.attributes["in_map"] == {"x": "NaN", "y": 2}
    assert record.attribute_types["in_map"] == {"kvlistValue": {"values": [
        {"key": "x", "value": {"doubleValue": "NaN"}},
        {"key": "y", "value": {"intValue": "2"}},
    ]}}


def test_event_and_link_attributes_record_types_too() -> None:
    span = make_span(TRACE, SPAN, events=[("e", 1, {"raw": b"\x01"})])
    link = span.links.add(trace_id=TRACE, span_id=PARENT)
    link.attributes.extend(key_values({"score": math.inf}))
    (record,) = normalize(make_request([span])).spans
    assert record.events[0]["attributes"] == {"raw": "AQ=="}
    assert record.events[0]["attribute_types"] == {"raw": {"bytesValue": "AQ=="}}
    assert record.links[0]["attributes"] == {"score": "Infinity"}
    assert record.links[0]["attribute_types"] == {"score": {"doubleValue": "Infinity"}}


def test_a_one_megabyte_value_is_kept_whole_by_default() -> None:
    text = "x" * MiB
    record = one({"input.value": text})
    assert record.attributes["input.value"] == text
    assert record.truncated == {}


def test_a_long_string_is_cut_to_the_limit_and_listed_with_its_size() -> None:
    text = "é" * 1000  # 2 bytes each
    record = one({"input.value": text, "short": "é" * 50}, max_value_bytes=101)
    cut = record.attributes["input.value"]
    assert cut == "é" * 50 + TRUNCATED_MARKER  # never half a character
    assert record.truncated == {"input.value": 2000}
    assert record.attributes["short"] == "é" * 50


def test_limit_is_in_bytes_not_characters() -> None:
    record = one({"k": "€" * 40}, max_value_bytes=100)  # 120 bytes in 40 characters
    assert record.truncated == {"k": 120}
    assert record.attributes["k"] == "€" * 33 + TRUNCATED_MARKER


def test_strings_inside_lists_and_maps_are_cut_too() -> None:
    record = one({"list": ["a" * 500, "b"], "map": {"m": "c" * 500}}, max_value_bytes=100)
    assert record.attributes["list"] == ["a" * 100 + TRUNCATED_MARKER, "b"]
    assert record.attributes["map"] == {"m": "c" * 100 + TRUNCATED_MARKER}
    assert record.truncated == {"list": 500, "map": 500}


def test_bytes_values_are_cut_and_their_type_record_holds_no_more() -> None:
    raw = bytes(range(256)) * 40
    record = one({"raw": raw}, max_value_bytes=100)
    assert record.truncated == {"raw": len(raw)}
    assert base64.b64decode(record.attributes["raw"]) == raw[:100]
    # The OTLP/JSON form beside it is within the limit as well: it must not smuggle the
    # whole value past the limit.
    assert record.attribute_types["raw"] == {"bytesValue": record.attributes["raw"]}


def test_a_cut_string_beside_bytes_is_cut_in_the_type_record_too() -> None:
    record = one({"list": ["z" * 500, b"\x01"]}, max_value_bytes=100)
    values = record.attribute_types["list"]["arrayValue"]["values"]
    assert values[0] == {"stringValue": "z" * 100 + TRUNCATED_MARKER}


def test_event_attribute_values_are_cut_too() -> None:
    span = make_span(TRACE, SPAN, events=[("exception", 1, {"exception.stacktrace": "s" * 500})])
    batch = normalize(make_request([span]), max_value_bytes=100)
    event = batch.spans[0].events[0]
    assert event["attributes"]["exception.stacktrace"] == "s" * 100 + TRUNCATED_MARKER
    assert event["truncated"] == {"exception.stacktrace": 500}


def _levels(value: Any) -> int:
    """How many containers deep a stored value goes before its leaf or marker."""
    depth = 0
    while isinstance(value, list | dict):
        value = value[0] if isinstance(value, list) else next(iter(value.values()))
        depth += 1
    return depth


@pytest.mark.parametrize("kind", ["array", "kvlist"])
@pytest.mark.parametrize("max_depth", [1, 5, 10])
def test_values_nested_deeper_than_the_limit_end_in_a_marker(kind: str, max_depth: int) -> None:
    record = one({"deep": nested_value(max_depth + 3, kind), "ok": nested_value(max_depth, kind)},
                 max_depth=max_depth)
    assert record.attributes["ok"] == nested_value(max_depth, kind)
    assert record.attributes["deep"] == nested_value(max_depth, kind, leaf=DEPTH_MARKER)
    assert _levels(record.attributes["deep"]) == max_depth
    assert set(record.truncated) == {"deep"}
    assert record.truncated["deep"] > 0


def test_deep_value_with_bytes_keeps_its_type_record_within_the_limit() -> None:
    record = one({"deep": [b"\x01", nested_value(20, "array")]}, max_depth=4)
    assert record.attributes["deep"] == ["AQ==", nested_value(3, "array", leaf=DEPTH_MARKER)]
    values = record.attribute_types["deep"]["arrayValue"]["values"]
    assert values[0] == {"bytesValue": "AQ=="}
    json_form = values[1]
    for _ in range(3):
        json_form = json_form["arrayValue"]["values"][0]
    assert json_form == {"stringValue": DEPTH_MARKER}


@pytest.mark.parametrize(("kind", "depth"), [("array", 45), ("kvlist", 30)])
def test_deepest_value_protobuf_can_carry_is_cut_at_the_default_limit(
    kind: str, depth: int
) -> None:
    """As deep as the protobuf parser allows (100 nested messages): 45 arrays, 30 kvlists."""
    body = deep_request_bytes(TRACE, SPAN, depth, kind)
    request = otlp.decode_export_request(body, otlp.PROTOBUF, None, MiB)
    (record,) = normalize(request, max_depth=20).spans
    assert record.attributes["deep"] == nested_value(20, kind, leaf=DEPTH_MARKER)
    assert "deep" in record.truncated


def test_bulky_keys_marked_while_decoding_match_the_rule() -> None:
    """The one-pass classification in the converter agrees with `ember.model.is_bulky`."""
    from ember.model import is_bulky

    attributes = {
        "short": "gpt-4o-mini",
        "long": "x" * 65,
        "llm.input_messages.0.message.content": "hi",
        "llm.input_messages.0.message.role": "user",
        "retrieval.documents.3.document.score": 0.5,
        "count": 3,
        "ratio": 0.25,
        "flag": True,
        "tags": ["a", "b"],
        "many": list(range(40)),
        "long-items": ["y" * 70],
        "map": {"a": 1},
        "nested-list": [[1], [2]],
    }
    request = make_request([make_span(trace_id(), span_id(), attributes=attributes)])
    (record,) = Normalizer(1 << 20, 32).normalize(request).spans
    expected = {key for key, value in record.attributes.items() if is_bulky(key, value)}
    assert set(record.bulky_keys) == expected
    assert expected == {
        "long", "llm.input_messages.0.message.content", "llm.input_messages.0.message.role",
        "retrieval.documents.3.document.score", "many", "long-items", "map", "nested-list",
    }
