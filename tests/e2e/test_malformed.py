"""Malformed and oversized OTLP input: each gets its documented status and a google.rpc.Status
body in the request's encoding, never a 500, and the server keeps serving afterwards."""

from __future__ import annotations

import base64
import functools
import gzip
import math
import random
import secrets
import zlib
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from ember.ingest.anyvalue import DEPTH_MARKER, TRUNCATED_MARKER
from tests.conftest import EmberProcess
from tests.helpers import (
    JSON,
    PROTOBUF,
    assert_serving,
    deep_request_bytes,
    error_status,
    export_response,
    make_request,
    make_span,
    nested_value,
    post,
    project_request,
    span_id,
    to_otlp_json,
    trace_id,
)

INVALID_ARGUMENT, RESOURCE_EXHAUSTED = 3, 8
REQUEST_LIMIT = 64 * 1024
VALUE_LIMIT = 1000
DEPTH_LIMIT = 8
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    """A server with small limits on request size, attribute value size and nesting depth."""
    server = EmberProcess(
        tmp_path_factory.mktemp("ember-limited"),
        {
            "EMBER_MAX_REQUEST_BYTES": str(REQUEST_LIMIT),
            "EMBER_MAX_ATTRIBUTE_VALUE_BYTES": str(VALUE_LIMIT),
            "EMBER_MAX_ATTRIBUTE_DEPTH": str(DEPTH_LIMIT),
        },
    ).start()
    yield server
    server.stop()


def _project() -> str:
    return f"bad-{secrets.token_hex(4)}"


def _good_request(project: str, n: int = 3) -> Any:
    trace = trace_id()
    return project_request(project, [make_span(trace, span_id(), name=f"s{k}") for k in range(n)])


def _refused(
    response: httpx.Response, status: int, fragment: str, as_json: bool = False
) -> str:
    """Assert the status and a google.rpc.Status body in the expected encoding; its message."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    media = response.headers["content-type"].split(";")[0]
    assert media == (JSON if as_json else PROTOBUF)
    body = error_status(response)
    assert body.code == {400: INVALID_ARGUMENT, 413: RESOURCE_EXHAUSTED, 415: INVALID_ARGUMENT}[
        status
    ]
    assert fragment in body.message, body.message
    return body.message


# ------------------------------------------------------------------------------ undecodable


def test_truncated_protobuf_is_400(shared_server: EmberProcess) -> None:
    data = _good_request(_project()).SerializeToString()
    _refused(post(shared_server.url, data[:-5], content_type=PROTOBUF), 400,
             "not a valid protobuf")
    assert_serving(shared_server.url)


def test_garbage_protobuf_is_400(shared_server: EmberProcess) -> None:
    _refused(post(shared_server.url, b"\xff" * 64, content_type=PROTOBUF), 400,
             "not a valid protobuf")
    assert_serving(shared_server.url)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(b'{"resourceSpans": [', "not valid JSON"), (b"[]", "JSON object"),
     (b'{"resourceSpans": [{"scopeSpans": "x"}]}', "invalid OTLP/JSON")],
)
def test_invalid_json_is_400(shared_server: EmberProcess, body: bytes, fragment: str) -> None:
    _refused(post(shared_server.url, body, content_type=JSON), 400, fragment, as_json=True)
    assert_serving(shared_server.url)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_empty_body_is_400(shared_server: EmberProcess, content_type: str) -> None:
    _refused(post(shared_server.url, b"", content_type=content_type), 400, "empty",
             as_json=content_type == JSON)
    assert_serving(shared_server.url)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_undecodable_compressed_body_is_400(
    shared_server: EmberProcess, content_type: str, encoding: str
) -> None:
    _refused(
        post(shared_server.url, b"not compressed at all", content_type=content_type,
             headers={"content-encoding": encoding}),
        400, f"could not {encoding}-decode", as_json=content_type == JSON,
    )
    assert_serving(shared_server.url)


def test_truncated_gzip_is_400(shared_server: EmberProcess) -> None:
    body = gzip.compress(_good_request(_project(), 50).SerializeToString())
    _refused(post(shared_server.url, body[: len(body) // 2], content_type=PROTOBUF,
                  headers={"content-encoding": "gzip"}), 400, "truncated")
    assert_serving(shared_server.url)


def test_random_corruptions_never_give_a_500(shared_server: EmberProcess) -> None:
    """Bit flips, cuts and splices of a valid body: decoded (200) or refused (400), never
    anything else, and the server keeps serving."""
    rng = random.Random(20260101)  # fully deterministic: fixed ids and project too
    trace = rng.randbytes(16)
    original = project_request("fuzz", [
        make_span(trace, rng.randbytes(8), name=f"s{k}", attributes={"k": k, "text": "abc"})
        for k in range(5)
    ]).SerializeToString()
    statuses: set[int] = set()
    for attempt in range(60):
        data = bytearray(original)
        if attempt % 3 == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif attempt % 3 == 1:
            data = data[: rng.randrange(1, len(data))]
        else:
            cut = rng.randrange(len(data))
            data = data[:cut] + bytes(rng.randrange(256) for _ in range(16)) + data[cut:]
        response = post(shared_server.url, bytes(data), content_type=PROTOBUF)
        statuses.add(response.status_code)
        assert response.status_code in (200, 400), (attempt, response.content[:300])
    assert statuses == {200, 400}
    assert_serving(shared_server.url)


# ------------------------------------------------------------------------------ bad ids


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_all_spans_invalid_is_400_naming_the_span(
    shared_server: EmberProcess, content_type: str
) -> None:
    project = _project()
    request = project_request(project, [make_span(trace_id(), span_id()[:5], name="short")])
    body: Any = request if content_type == PROTOBUF else to_otlp_json(request)
    message = _refused(post(shared_server.url, body), 400,
                       "span 0 of scope 0 of resource 0: span_id must be 8 bytes, got 5",
                       as_json=content_type == JSON)
    assert message == "span 0 of scope 0 of resource 0: span_id must be 8 bytes, got 5"
    assert_serving(shared_server.url)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_mixed_valid_and_invalid_spans_is_a_partial_success(
    shared_server: EmberProcess, content_type: str
) -> None:
    project = _project()
    trace = trace_id()
    good = [span_id() for _ in range(3)]
    spans = [
        make_span(trace, good[0], name="good0"),
        make_span(trace, span_id()[:5], name="short span id"),
        make_span(trace, good[1], name="good1"),
        make_span(trace[:15], span_id(), name="short trace id"),
        make_span(trace, good[2], span_id()[:3], name="short parent id"),
    ]
    request = project_request(project, spans)
    body: Any = request if content_type == PROTOBUF else to_otlp_json(request)
    response = post(shared_server.url, body)
    assert response.headers["content-type"].startswith(content_type)
    partial = export_response(response).partial_success
    assert partial.rejected_spans == 3
    assert partial.error_message == (
        "span 1 of scope 0 of resource 0: span_id must be 8 bytes, got 5; "
        "span 3 of scope 0 of resource 0: trace_id must be 16 bytes, got 15; "
        "span 4 of scope 0 of resource 0: parent_span_id must be 8 bytes, got 3"
    )
    stored = {s["context"]["span_id"] for s in shared_server.spans(project)}
    assert stored == {good[0].hex(), good[1].hex()}
    assert_serving(shared_server.url)


# ------------------------------------------------------------------------------ media and encoding


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/grpc", "application/protobuf"]
)
def test_unknown_content_type_is_415(shared_server: EmberProcess, content_type: str | None) -> None:
    data = _good_request(_project()).SerializeToString()
    _refused(post(shared_server.url, data, content_type=content_type), 415, "Content-Type")
    assert_serving(shared_server.url)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("encoding", ["br", "zstd", "x-custom"])
def test_unknown_content_encoding_is_415(
    shared_server: EmberProcess, content_type: str, encoding: str
) -> None:
    _refused(
        post(shared_server.url, b"\x00\x01", content_type=content_type,
             headers={"content-encoding": encoding}),
        415, f"Content-Encoding {encoding}", as_json=content_type == JSON,
    )
    assert_serving(shared_server.url)


# ------------------------------------------------------------------------------ size limits


def test_body_over_the_limit_is_413(limited: EmberProcess) -> None:
    project = _project()
    big = project_request(project, [make_span(trace_id(), span_id(), attributes={
        f"a{n}": "v" * 200 for n in range(REQUEST_LIMIT // 200 + 10)})])
    data = big.SerializeToString()
    assert len(data) > REQUEST_LIMIT
    _refused(post(limited.url, data, content_type=PROTOBUF), 413, str(REQUEST_LIMIT))
    # Without a Content-Length (chunked), the stream is counted as it arrives.
    chunked = httpx.post(f"{limited.url}/v1/traces", content=iter([data[:40_000], data[40_000:]]),
                         headers={"content-type": PROTOBUF}, timeout=30)
    assert "content-length" not in chunked.request.headers
    _refused(chunked, 413, str(REQUEST_LIMIT))
    assert not _exists(limited, project)
    assert_serving(limited.url)


def _exists(server: EmberProcess, project: str) -> bool:
    return server.get(f"/v1/projects/{project}").status_code == 200


def test_body_just_under_the_limit_is_taken(limited: EmberProcess) -> None:
    project = _project()
    request = project_request(project, [make_span(trace_id(), span_id(), attributes={
        "text": "t" * (REQUEST_LIMIT - 500)})])
    assert len(request.SerializeToString()) <= REQUEST_LIMIT
    assert post(limited.url, request).status_code == 200
    assert len(limited.spans(project)) == 1


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_bomb_inflating_past_the_limit_is_413(
    limited: EmberProcess, shared_server: EmberProcess, content_type: str, encoding: str
) -> None:
    for server, limit in ((limited, REQUEST_LIMIT), (shared_server, 32 * 1024 * 1024)):
        body = _bomb(encoding, limit * 3)
        assert len(body) < limit
        _refused(
            post(server.url, body, content_type=content_type,
                 headers={"content-encoding": encoding}),
            413, "inflates to more than", as_json=content_type == JSON,
        )
        assert_serving(server.url)


@functools.cache
def _bomb(encoding: str, size: int) -> bytes:
    inflated = b"\0" * size
    return gzip.compress(inflated, 9) if encoding == "gzip" else zlib.compress(inflated, 9)


def test_one_megabyte_attribute_is_stored_whole_by_default(shared_server: EmberProcess) -> None:
    project = _project()
    text = "é" + "x" * (1024 * 1024)
    raw = bytes(range(256)) * 4096
    trace, span = trace_id(), span_id()
    request = project_request(project, [make_span(trace, span, attributes={
        "input.value": text, "raw": raw})])
    assert post(shared_server.url, request).status_code == 200
    (stored,) = shared_server.spans(project)
    assert stored["attributes"]["input.value"] == text
    assert stored["attribute_types"]["raw"]["bytesValue"] == stored["attributes"]["raw"]
    assert base64.b64decode(stored["attributes"]["raw"]) == raw
    assert "truncated_attributes" not in stored


def test_attribute_over_the_value_limit_is_cut_and_listed(limited: EmberProcess) -> None:
    project = _project()
    text = "y" * 50_000
    event = ("exception", 1_760_000_000_000_000_000, {"exception.stacktrace": "s" * 5000})
    request = project_request(project, [make_span(trace_id(), span_id(), attributes={
        "input.value": text, "short": "z" * VALUE_LIMIT, "raw": b"\x07" * 3000,
        "list": ["a" * 2000, "b"]}, events=[event])])
    assert post(limited.url, request).status_code == 200
    (stored,) = limited.spans(project)
    attributes = stored["attributes"]
    assert attributes["input.value"] == "y" * VALUE_LIMIT + TRUNCATED_MARKER
    assert attributes["short"] == "z" * VALUE_LIMIT
    assert attributes["list"] == ["a" * VALUE_LIMIT + TRUNCATED_MARKER, "b"]
    assert base64.b64decode(attributes["raw"]) == b"\x07" * VALUE_LIMIT
    assert stored["truncated_attributes"] == {"input.value": 50_000, "raw": 3000, "list": 2000}
    # The OTLP/JSON form kept beside a bytes value holds no more than the limit either.
    assert stored["attribute_types"]["raw"] == {"bytesValue": attributes["raw"]}
    (stored_event,) = stored["events"]
    stacktrace = stored_event["attributes"]["exception.stacktrace"]
    assert stacktrace == "s" * VALUE_LIMIT + TRUNCATED_MARKER
    assert stored_event["truncated"] == {"exception.stacktrace": 5000}


def test_ten_thousand_attributes_on_one_span_all_stored(shared_server: EmberProcess) -> None:
    project = _project()
    attributes: dict[str, Any] = {f"attr.{n:05d}": n for n in range(5000)}
    attributes.update({f"text.{n:05d}": f"value {n} " * 10 for n in range(5000)})
    request = project_request(project, [make_span(trace_id(), span_id(), attributes=attributes)])
    assert post(shared_server.url, request).status_code == 200
    (stored,) = shared_server.spans(project)
    assert len(stored["attributes"]) == 10_000
    assert stored["attributes"] == attributes


def test_bytes_and_non_finite_doubles_keep_their_otlp_json_form(
    shared_server: EmberProcess,
) -> None:
    project = _project()
    request = project_request(project, [make_span(trace_id(), span_id(), attributes={
        "raw": b"\x00\xff\x10", "nan": math.nan, "inf": math.inf, "ninf": -math.inf,
        "mixed": [1.5, math.nan, b"\x01"], "fine": 2.5,
    })])
    assert post(shared_server.url, request).status_code == 200
    (stored,) = shared_server.spans(project)
    assert stored["attributes"] == {
        "raw": "AP8Q", "nan": "NaN", "inf": "Infinity", "ninf": "-Infinity",
        "mixed": [1.5, "NaN", "AQ=="], "fine": 2.5,
    }
    assert stored["attribute_types"] == {
        "raw": {"bytesValue": "AP8Q"},
        "nan": {"doubleValue": "NaN"},
        "inf": {"doubleValue": "Infinity"},
        "ninf": {"doubleValue": "-Infinity"},
        "mixed": {"arrayValue": {"values": [
            {"doubleValue": 1.5}, {"doubleValue": "NaN"}, {"bytesValue": "AQ=="}]}},
    }


# ------------------------------------------------------------------------------ nesting depth


def _post_deep(server: EmberProcess, depth: int, kind: str, content_type: str) -> tuple[
    httpx.Response, str, str
]:
    project = _project()
    trace, span = trace_id(), span_id()
    resource = {"openinference.project.name": project}
    if content_type == PROTOBUF:
        body: Any = deep_request_bytes(trace, span, depth, kind, resource)
    else:
        # Written as text: JSON encoders stop at a few hundred levels.
        if kind == "array":
            value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"leaf"}' + "]}}" * depth
        else:
            value = "".join(
                f'{{"kvlistValue":{{"values":[{{"key":"k{level}","value":' for level in range(depth)
            ) + '{"stringValue":"leaf"}' + "}]}}" * depth
        document = to_otlp_json(make_request([make_span(trace, span)], resource))
        document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
            {"key": "deep", "value": "DEEP-VALUE"}]
        body = orjson.dumps(document).replace(b'"DEEP-VALUE"', value.encode())
    return post(server.url, body, content_type=content_type), project, span.hex()


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize(("kind", "depth"), [("array", 45), ("kvlist", 30)])
def test_deep_values_are_stored_cut_at_the_depth_limit(
    limited: EmberProcess, shared_server: EmberProcess, content_type: str, kind: str, depth: int
) -> None:
    """As deep as protobuf carries (45 arrays, 30 kvlists): stored, with what lies deeper than
    EMBER_MAX_ATTRIBUTE_DEPTH replaced by a marker and the attribute listed as truncated."""
    for server, limit in ((limited, DEPTH_LIMIT), (shared_server, 32)):
        response, project, _ = _post_deep(server, depth, kind, content_type)
        assert response.status_code == 200, response.content[:300]
        (stored,) = server.spans(project)
        if depth > limit:
            assert stored["attributes"]["deep"] == nested_value(limit, kind, leaf=DEPTH_MARKER)
            assert "deep" in stored["truncated_attributes"]
        else:
            assert stored["attributes"]["deep"] == nested_value(depth, kind)
            assert "truncated_attributes" not in stored
    assert_serving(limited.url)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("kind", ["array", "kvlist"])
def test_fifty_deep_values_are_refused_clearly(
    limited: EmberProcess, content_type: str, kind: str
) -> None:
    """protobuf's parser stops at 100 nested messages (about 47 arrays or 31 kvlists of
    AnyValue). That limit is kept on purpose: the decoder recurses on the C stack, and raising
    it lets a ~500 KB body crash the process. Deeper values get a 400 that says why."""
    response, _project_name, _ = _post_deep(limited, 50, kind, content_type)
    assert response.status_code == 400, response.content[:300]
    assert b"nested more than 100 deep" in response.content
    assert_serving(limited.url)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize(
    ("kind", "depth"), [("array", 200), ("kvlist", 200), ("array", 20_000), ("kvlist", 20_000)]
)
def test_nesting_past_the_parser_limit_is_400(
    shared_server: EmberProcess, content_type: str, kind: str, depth: int
) -> None:
    response, project, _ = _post_deep(shared_server, depth, kind, content_type)
    # Deep JSON stops in the JSON parser first: it says so in its own words.
    fragment = "depth limit exceeded" if content_type == JSON and depth > 200 else (
        "nested more than 100 deep")
    _refused(response, 400, fragment, as_json=content_type == JSON)
    assert not _exists(shared_server, project)
    assert_serving(shared_server.url)


# ------------------------------------------------------------------------------ gRPC


def _raw_export(server: EmberProcess, data: bytes) -> grpc.RpcError | ExportTraceServiceResponse:
    with grpc.insecure_channel(server.grpc_endpoint) as channel:
        export = channel.unary_unary(EXPORT)
        try:
            reply = export(data, timeout=30)
        except grpc.RpcError as error:
            return error
    response = ExportTraceServiceResponse()
    response.ParseFromString(reply)
    return response


@pytest.mark.parametrize(
    "make_body",
    [
        lambda: _good_request(_project()).SerializeToString()[:-5],
        lambda: b"\xff" * 40,
        lambda: deep_request_bytes(trace_id(), span_id(), 200, "kvlist"),
    ],
    ids=["truncated", "garbage", "too-deep"],
)
def test_grpc_undecodable_is_invalid_argument(shared_server: EmberProcess, make_body: Any) -> None:
    result = _raw_export(shared_server, make_body())
    assert isinstance(result, grpc.RpcError)
    assert result.code() == grpc.StatusCode.INVALID_ARGUMENT, result.details()
    assert "protobuf" in (result.details() or "")
    assert_serving(shared_server.url)


def test_grpc_bad_ids(shared_server: EmberProcess) -> None:
    project = _project()
    trace, good = trace_id(), span_id()
    with grpc.insecure_channel(shared_server.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as caught:
            stub.Export(project_request(project, [make_span(trace, b"12345")]), timeout=30)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details() == (
            "span 0 of scope 0 of resource 0: span_id must be 8 bytes, got 5")
        reply = stub.Export(
            project_request(project, [make_span(trace, b"12345"), make_span(trace, good)]),
            timeout=30,
        )
    assert reply.partial_success.rejected_spans == 1
    assert "span 0 of scope 0 of resource 0" in reply.partial_success.error_message
    assert [s["context"]["span_id"] for s in shared_server.spans(project)] == [good.hex()]


def test_grpc_message_over_the_limit_is_resource_exhausted(limited: EmberProcess) -> None:
    big = project_request(_project(), [make_span(trace_id(), span_id(), attributes={
        "text": "t" * (REQUEST_LIMIT + 100)})])
    result = _raw_export(limited, big.SerializeToString())
    assert isinstance(result, grpc.RpcError)
    assert result.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_serving(limited.url)


def test_grpc_gzip_bomb_is_refused(limited: EmberProcess) -> None:
    request = project_request(_project(), [make_span(trace_id(), span_id(), attributes={
        "text": "\0" * (REQUEST_LIMIT * 20)})])
    with grpc.insecure_channel(limited.grpc_endpoint, compression=grpc.Compression.Gzip) as ch:
        stub = trace_service_pb2_grpc.TraceServiceStub(ch)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as caught:
            stub.Export(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_serving(limited.url)


# ------------------------------------------------------------------------------ bad values


def test_time_beyond_int64_is_refused_not_retried(shared_server: EmberProcess) -> None:
    project = _project()
    trace = trace_id()
    bad = make_span(trace, span_id(), name="far future", start=2**64 - 1, end=2**64 - 1)
    good = make_span(trace, span_id(), name="fine")
    response = post(shared_server.url, project_request(project, [bad, good]))
    assert response.status_code == 200, (response.status_code, response.content)
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "span 0 of scope 0 of resource 0: start_time_unix_nano" in (
        answer.partial_success.error_message
    )
    assert [s["name"] for s in shared_server.spans(project)] == ["fine"]
    assert_serving(shared_server.url)


def test_json_error_bodies_are_json(shared_server: EmberProcess) -> None:
    response = post(shared_server.url, b"{", content_type=JSON)
    assert response.status_code == 400
    body = orjson.loads(response.content)
    assert body["code"] == INVALID_ARGUMENT
    assert "not valid JSON" in body["message"]
