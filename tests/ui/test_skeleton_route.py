"""The trace view's JSON routes on a real server, on SQLite and on PostgreSQL (`shared_server`):
`GET /v1/traces/{id}/skeleton` (compact, columnar, no payloads) and
`GET /v1/traces/{id}/search`."""

from __future__ import annotations

import secrets

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.conftest import EmberProcess
from tests.helpers import BASE_NS, make_span, post, project_request, span_id, trace_id

ERROR = 2
PAYLOAD_MARK = "PAYLOAD-ONLY-TEXT"


def _post(server: EmberProcess, project: str, spans: list[Span]) -> None:
    response = post(server.url, project_request(project, spans))
    assert response.status_code == 200, response.text


@pytest.fixture
def project() -> str:
    return f"skeleton-{secrets.token_hex(4)}"


def test_skeleton_json(shared_server: EmberProcess, project: str) -> None:
    t = trace_id()
    root, llm, tool, orphan, absent = (span_id() for _ in range(5))
    _post(shared_server, project, [
        make_span(t, tool, root, "lookup", start=BASE_NS + 500, end=BASE_NS + 800,
                  status_code=ERROR, attributes={"openinference.span.kind": "TOOL"}),
        make_span(t, root, None, "agent", start=BASE_NS, end=BASE_NS + 1_000,
                  attributes={"openinference.span.kind": "AGENT",
                              "input.value": PAYLOAD_MARK + " " * 100}),
        make_span(t, llm, root, "lookup", start=BASE_NS + 100, end=BASE_NS + 400,
                  attributes={"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                              "llm.token_count.prompt": 1000,
                              "llm.token_count.completion": 200}),
        make_span(t, orphan, absent, "late", start=BASE_NS + 900, end=BASE_NS + 2_000),
    ])
    response = shared_server.get(f"/v1/traces/{t.hex()}/skeleton")
    assert response.status_code == 200, response.text
    assert PAYLOAD_MARK not in response.text
    assert response.headers["server-timing"].startswith("store;dur=")
    cost = (1000 * 0.15 + 200 * 0.60) / 1e6
    assert response.json() == {"data": {
        "trace_id": t.hex(),
        "project_name": project,
        "start_time_unix_nano": BASE_NS,
        "end_time_unix_nano": BASE_NS + 2_000,
        "span_count": 4,
        "error_count": 1,
        "total_tokens": 1200,
        "cost": pytest.approx(cost),
        "names": ["agent", "lookup", "late"],
        "kinds": ["AGENT", "LLM", "TOOL", "UNKNOWN"],
        "missing_parents": {"3": absent.hex()},
        "spans": {
            "span_id": [root.hex(), llm.hex(), tool.hex(), orphan.hex()],
            "parent": [-1, 0, 0, -2],
            "name": [0, 1, 1, 2],
            "kind": [0, 1, 2, 3],
            "start": [0, 100, 500, 900],
            "duration": [1_000, 300, 300, 1_100],
            "status": [0, 0, ERROR, 0],
            "tokens": [None, 1200, None, None],
            "cost": [None, pytest.approx(cost), None, None],
        },
    }}

    assert shared_server.get(f"/v1/traces/{t.hex()}/skeleton", project=project).status_code == 200
    other = shared_server.get(f"/v1/traces/{t.hex()}/skeleton", project="someone-else")
    assert other.status_code == 404
    assert other.json()["error"]["message"] == (
        f"no trace with id '{t.hex()}' in project 'someone-else'"
    )
    unknown = shared_server.get(f"/v1/traces/{'0' * 32}/skeleton")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_large_skeletons_are_gzipped_for_remote_clients_that_take_it(
    shared_server: EmberProcess, project: str
) -> None:
    """Gzip costs more than it saves between processes of one machine, so only clients on
    another machine get it (here: behind a proxy on this one that says where they are)."""
    t, root = trace_id(), span_id()
    spans = [make_span(t, root, name="root", start=BASE_NS, end=BASE_NS + 10**9)]
    spans += [
        make_span(t, span_id(), root, name=f"step {k % 7}", start=BASE_NS + k, end=BASE_NS + 2 * k)
        for k in range(1, 3_000)
    ]
    _post(shared_server, project, spans)
    url = f"{shared_server.url}/v1/traces/{t.hex()}/skeleton"
    remote = {"x-forwarded-for": "203.0.113.7"}
    zipped = httpx.get(url, headers={"accept-encoding": "gzip", **remote})
    plain = httpx.get(url, headers={"accept-encoding": "identity", **remote})
    local = httpx.get(url, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "content-encoding" not in local.headers
    assert len(zipped.content) == len(plain.content)  # httpx decoded it
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    assert zipped.json() == plain.json()
    assert len(plain.json()["data"]["spans"]["span_id"]) == 3_000
    assert plain.json()["data"]["names"] == ["root"] + [f"step {k % 7}" for k in range(1, 8)]


def test_search_route(shared_server: EmberProcess, project: str) -> None:
    t, root, child = trace_id(), span_id(), span_id()
    _post(shared_server, project, [
        make_span(t, root, None, "root", attributes={"input.value": "Where do otters sleep?"}),
        make_span(t, child, root, "child", start=BASE_NS + 5,
                  attributes={"output.value": "Otters sleep holding hands. " * 10}),
    ])
    found = shared_server.get(f"/v1/traces/{t.hex()}/search", q="OTTERS")
    assert found.json() == {"data": {"span_ids": [root.hex(), child.hex()], "truncated": False}}
    first = shared_server.get(f"/v1/traces/{t.hex()}/search", q="otters", limit=1)
    assert first.json() == {"data": {"span_ids": [root.hex()], "truncated": True}}
    empty = shared_server.get(f"/v1/traces/{t.hex()}/search", q="   ")
    assert empty.status_code == 400
    assert empty.json()["error"]["message"] == "q must hold some text to search for"
    assert shared_server.get(f"/v1/traces/{t.hex()}/search").status_code == 422
    assert shared_server.get(f"/v1/traces/{'0' * 32}/search", q="x").status_code == 404
