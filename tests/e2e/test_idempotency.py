"""Retries, duplicates and arrival order against a real server: every span stored once, trace
roll-ups exact, trees complete, and a trace's project fixed by its first stored span."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.conftest import EmberProcess
from tests.helpers import (
    BASE_NS,
    export_response,
    make_request,
    make_span,
    post,
    project_request,
    span_id,
    to_otlp_json,
    trace_id,
)

OK, ERROR = 1, 2


def _project() -> str:
    return f"idem-{secrets.token_hex(4)}"


def _tree(trace: bytes, depth: int = 3, fanout: int = 2) -> list[Span]:
    """A tree of spans, parents first; every third span in error; distinct times."""
    spans: list[Span] = []
    level = [make_span(trace, span_id(), name="root", start=BASE_NS, end=BASE_NS + 10**9)]
    spans += level
    for d in range(1, depth):
        nxt = []
        for parent in level:
            for _ in range(fanout):
                n = len(spans) + len(nxt)
                nxt.append(make_span(
                    trace, span_id(), parent.span_id, name=f"d{d}-{n}",
                    start=BASE_NS + n * 1000, end=BASE_NS + 10**9 + n * 3,
                    status_code=ERROR if n % 3 == 0 else OK,
                ))
        spans += nxt
        level = nxt
    return spans


def _assert_trace(server: EmberProcess, spans: list[Span], project: str) -> None:
    """The stored trace is exactly `spans` (each once), its roll-ups exact, its tree whole."""
    trace = server.get(f"/v1/traces/{spans[0].trace_id.hex()}").json()["data"]
    stored_ids = [s["context"]["span_id"] for s in trace["spans"]]
    assert sorted(stored_ids) == sorted({s.span_id.hex() for s in spans})
    assert trace["span_count"] == len({s.span_id for s in spans})
    assert trace["error_count"] == len({s.span_id for s in spans if s.status.code == ERROR})
    assert trace["start_time_unix_nano"] == min(s.start_time_unix_nano for s in spans)
    assert trace["end_time_unix_nano"] == max(s.end_time_unix_nano for s in spans)
    assert trace["project_name"] == project
    by_id = {s["context"]["span_id"]: s for s in trace["spans"]}
    roots = [s for s in trace["spans"] if s["parent_id"] is None]
    assert len(roots) == 1
    for span in trace["spans"]:
        assert span["parent_id"] is None or span["parent_id"] in by_id
        assert span["project_name"] == project
    listed = server.spans(project, trace_id=spans[0].trace_id.hex())
    assert sorted(s["context"]["span_id"] for s in listed) == sorted(stored_ids)


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_same_request_twice_is_stored_once(shared_server: EmberProcess, encoding: str) -> None:
    project = _project()
    spans = _tree(trace_id())
    request = project_request(project, spans)
    body: Any = request if encoding == "protobuf" else to_otlp_json(request)
    for _ in range(3):
        response = post(shared_server.url, body)
        assert not export_response(response).HasField("partial_success")
    _assert_trace(shared_server, spans, project)


def test_same_span_in_different_requests(shared_server: EmberProcess) -> None:
    project = _project()
    spans = _tree(trace_id(), depth=4)
    for chunk in (spans[0:6], spans[4:10], spans[8:], spans[::2], spans[1::3]):
        assert post(shared_server.url, project_request(project, chunk)).status_code == 200
    _assert_trace(shared_server, spans, project)


def test_duplicate_within_one_request(shared_server: EmberProcess) -> None:
    project = _project()
    spans = _tree(trace_id())
    request = project_request(project, [*spans, spans[0], spans[3], spans[3]])
    # The same span in a second resource and scope of the same request, too.
    request.resource_spans.extend(project_request(project, [spans[1], spans[-1]]).resource_spans)
    assert post(shared_server.url, request).status_code == 200
    _assert_trace(shared_server, spans, project)


def test_a_retried_copy_does_not_replace_the_first(shared_server: EmberProcess) -> None:
    project = _project()
    trace, sid = trace_id(), span_id()
    first = make_span(trace, sid, name="first", status_code=OK, start=BASE_NS, end=BASE_NS + 5)
    second = make_span(trace, sid, name="second", status_code=ERROR, start=BASE_NS - 100,
                       end=BASE_NS + 500)
    post(shared_server.url, project_request(project, [first]))
    post(shared_server.url, project_request(project, [second]))
    _assert_trace(shared_server, [first], project)
    (stored,) = shared_server.spans(project)
    assert stored["name"] == "first"


def test_concurrent_duplicates_in_one_group_commit(shared_server: EmberProcess) -> None:
    """The same spans in many requests at once (they share batches): stored once each."""
    project = _project()
    spans = _tree(trace_id(), depth=4)
    requests = [project_request(project, spans[k % 5:]) for k in range(16)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda r: post(shared_server.url, r).status_code, requests))
    assert statuses == [200] * 16
    _assert_trace(shared_server, spans, project)


def test_same_spans_over_http_and_grpc(shared_server: EmberProcess) -> None:
    project = _project()
    spans = _tree(trace_id())
    post(shared_server.url, project_request(project, spans[:4]))
    with grpc.insecure_channel(shared_server.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
        stub.Export(project_request(project, spans), timeout=30)
        stub.Export(project_request(project, spans[2:]), timeout=30)
    _assert_trace(shared_server, spans, project)


def test_children_before_parents(shared_server: EmberProcess) -> None:
    project = _project()
    spans = _tree(trace_id(), depth=4)
    leaves, middle, root = spans[7:], spans[1:7], spans[:1]
    for chunk in (leaves[4:], middle[3:], leaves[:4], middle[:3], root):
        assert post(shared_server.url, project_request(project, chunk)).status_code == 200
    _assert_trace(shared_server, spans, project)


def test_one_request_with_children_first(shared_server: EmberProcess) -> None:
    project = _project()
    spans = _tree(trace_id(), depth=4)
    assert post(shared_server.url, project_request(project, spans[::-1])).status_code == 200
    _assert_trace(shared_server, spans, project)


def test_interleaved_traces_out_of_order(shared_server: EmberProcess) -> None:
    project = _project()
    trees = [_tree(trace_id()) for _ in range(4)]
    order = [span for k in range(7) for tree in trees for span in tree[6 - k : 7 - k]]
    for start in range(0, len(order), 5):
        post(shared_server.url, project_request(project, order[start : start + 5]))
    for tree in trees:
        _assert_trace(shared_server, tree, project)


def test_first_stored_span_fixes_the_trace_project(shared_server: EmberProcess) -> None:
    first_project, other_project = _project(), _project()
    spans = _tree(trace_id())
    # A child arrives first, under one project; the rest later under another (by header).
    post(shared_server.url, project_request(first_project, spans[3:4]))
    post(shared_server.url, project_request(other_project, spans[:3] + spans[4:]))
    post(shared_server.url, make_request(spans[4:]), headers={"x-project-name": other_project})
    _assert_trace(shared_server, spans, first_project)
    other = shared_server.get(f"/v1/projects/{other_project}/spans")
    if other.status_code == 200:
        assert other.json()["data"] == []
    else:
        assert other.status_code == 404
