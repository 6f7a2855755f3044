"""What the project pages' tables read beyond Phoenix's listings, against a real `ember serve`
on SQLite and on PostgreSQL (`shared_server`):

- each session's p50 and p99 trace latency (nearest rank) in the sessions listing and in both
  session routes, recomputed when the session gains a trace;
- the sessions listing's time range (`start_time`, `end_time`) on the sessions' start times;
- `include_annotations=true` on the traces and spans listings: each row's annotations, and
  Phoenix's shapes unchanged without it.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import EmberProcess
from tests.helpers import make_span, post, project_request, span_id, trace_id

MS = 1_000_000
HOUR_NS = 3600 * 10**9
DAY_NS = 24 * HOUR_NS


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _send(
    server: EmberProcess,
    project: str,
    start: int,
    latency_ns: int,
    session: str | None = None,
) -> tuple[str, str, str]:
    """One trace (a CHAIN root and an LLM child); returns (trace id, root id, child id)."""
    trace, root, child = trace_id(), span_id(), span_id()
    tags = {"session.id": session} if session else {}
    spans = [
        make_span(trace, root, None, "turn", start=start, end=start + latency_ns,
                  attributes={"openinference.span.kind": "CHAIN", "input.value": "hi", **tags}),
        make_span(trace, child, root, "llm", start=start + 1000, end=start + 2000,
                  attributes={"openinference.span.kind": "LLM", **tags}),
    ]
    assert post(server.url, project_request(project, spans)).status_code == 200
    return trace.hex(), root.hex(), child.hex()


def _get(server: EmberProcess, path: str, **params: Any) -> Any:
    response = server.get(path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def _iso(unix_ns: int) -> str:
    return datetime.fromtimestamp(unix_ns / 1e9, tz=UTC).isoformat()


def _sessions(server: EmberProcess, project: str, **params: Any) -> dict[str, dict[str, Any]]:
    rows = _get(server, f"/v1/projects/{project}/sessions", limit=1000, **params)["data"]
    return {row["session_id"]: row for row in rows}


# ------------------------------------------------------------------- session latency percentiles


def test_session_latency_percentiles_in_every_session_route(
    shared_server: EmberProcess,
) -> None:
    project, long, short = _unique("p-latency"), _unique("long"), _unique("short")
    now = time.time_ns()
    # Nearest rank over 5 traces: p50 is the 3rd smallest, p99 the 5th (ceil(4.95)).
    latencies = [40 * MS, 10 * MS, 100_123_456, 30 * MS, 20 * MS]
    for i, latency in enumerate(latencies):
        _send(shared_server, project, now - (10 - i) * 10**9, latency, session=long)
    _send(shared_server, project, now - 3 * 10**9, 7_250_000, session=short)

    listed = _sessions(shared_server, project)
    assert listed[long]["latency_ms_p50"] == pytest.approx(30.0)
    assert listed[long]["latency_ms_p99"] == pytest.approx(100.123456)
    assert listed[short]["latency_ms_p50"] == pytest.approx(7.25)
    assert listed[short]["latency_ms_p99"] == pytest.approx(7.25)

    # The same figures by GlobalID, by own id, and through Ember's project-scoped route.
    for identifier in (listed[long]["id"], long):
        one = _get(shared_server, f"/v1/sessions/{identifier}")["data"]
        assert (one["latency_ms_p50"], one["latency_ms_p99"]) == (
            listed[long]["latency_ms_p50"], listed[long]["latency_ms_p99"]
        )
    ember = _get(shared_server, f"/v1/projects/{project}/sessions/{long}")["data"]
    assert ember["latency_ms_p50"] == pytest.approx(30.0)
    assert ember["latency_ms_p99"] == pytest.approx(100.123456)
    assert len(ember["trace_ids"]) == 5

    # Read time, not a stored roll-up: a faster sixth turn moves the median down a rank.
    _send(shared_server, project, now - 2 * 10**9, 5 * MS, session=long)
    again = _sessions(shared_server, project)[long]
    assert again["latency_ms_p50"] == pytest.approx(20.0)  # 3rd of 5, 10, 20, 30, 40, 100.1
    assert again["latency_ms_p99"] == pytest.approx(100.123456)
    # Sorting and paging still work with the extra fields (one session per page).
    first = _get(shared_server, f"/v1/projects/{project}/sessions", limit=1,
                 sort="trace_count", order="desc")
    assert first["data"][0]["session_id"] == long and first["next_cursor"]


# ------------------------------------------------------------------------ sessions' time range


def test_sessions_listing_takes_the_traces_time_range(shared_server: EmberProcess) -> None:
    project = _unique("p-range")
    # Whole seconds: the ISO `start_time` a row shows is then exact (ISO text holds only
    # microseconds), so it can be used as a bound.
    now = time.time_ns() // 10**9 * 10**9
    old, hour, recent, straddling = (_unique(n) for n in ("old", "hour", "recent", "straddle"))
    _send(shared_server, project, now - 3 * DAY_NS, MS, session=old)
    _send(shared_server, project, now - HOUR_NS, MS, session=hour)
    _send(shared_server, project, now - 60 * 10**9, MS, session=recent)
    # Starts three days ago, so it is out of a recent range even with a recent turn.
    _send(shared_server, project, now - 3 * DAY_NS + 10**9, MS, session=straddling)
    _send(shared_server, project, now - 30 * 10**9, MS, session=straddling)

    assert set(_sessions(shared_server, project)) == {old, hour, recent, straddling}
    since = _iso(now - 2 * HOUR_NS)
    assert set(_sessions(shared_server, project, start_time=since)) == {hour, recent}
    until = _iso(now - 30 * 60 * 10**9)
    assert set(_sessions(shared_server, project, end_time=until)) == {old, hour, straddling}
    assert set(_sessions(shared_server, project, start_time=since, end_time=until)) == {hour}
    # The lower bound is inclusive, the upper exclusive (at microseconds, as ISO text holds).
    start_of_hour = _sessions(shared_server, project)[hour]["start_time"]
    assert set(_sessions(shared_server, project, start_time=start_of_hour,
                         end_time=until)) == {hour}
    assert set(_sessions(shared_server, project, start_time=since,
                         end_time=start_of_hour)) == set()
    # With a filter, a sort and pages of one: the range still holds on every page.
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"start_time": since, "limit": 1, "sort": "start_time",
                                  "filter": "trace_count >= 1"}
        if cursor:
            params["cursor"] = cursor
        body = _get(shared_server, f"/v1/projects/{project}/sessions", **params)
        seen += [row["session_id"] for row in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [hour, recent]  # sessions list oldest first unless `order` says otherwise
    naive = shared_server.get(f"/v1/projects/{project}/sessions",
                              start_time="2026-01-01T00:00:00")
    assert naive.status_code == 400
    assert "start_time must carry a time zone" in naive.json()["error"]["message"]
    garbage = shared_server.get(f"/v1/projects/{project}/sessions", end_time="yesterday")
    assert garbage.status_code == 422
    assert "end_time" in garbage.text


# -------------------------------------------------------------------- annotations on the rows


def _annotate(server: EmberProcess, kind: str, items: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.url}/v1/{kind}_annotations", json={"data": items},
                          timeout=30)
    assert response.status_code == 200, response.text


def test_listing_rows_carry_their_annotations_on_request(shared_server: EmberProcess) -> None:
    project = _unique("p-notes")
    now = time.time_ns()
    first, first_root, first_child = _send(shared_server, project, now - 3 * 10**9, 5 * MS)
    second, _, _ = _send(shared_server, project, now - 2 * 10**9, 5 * MS)
    bare, _, _ = _send(shared_server, project, now - 10**9, 5 * MS)
    _annotate(shared_server, "trace", [
        {"trace_id": first, "name": "correctness", "annotator_kind": "HUMAN",
         "result": {"label": "correct", "score": 1}},
        {"trace_id": first, "name": "relevance", "annotator_kind": "LLM",
         "result": {"score": 0.25}},
        {"trace_id": first, "name": "correctness", "annotator_kind": "CODE",
         "identifier": "run-2", "result": {"label": "incorrect"}},
        {"trace_id": second, "name": "correctness", "annotator_kind": "LLM",
         "result": {"label": "<img src=x onerror=alert(1)>"}},
    ])
    _annotate(shared_server, "span", [
        {"span_id": first_child, "name": "hallucination", "annotator_kind": "CODE",
         "result": {"label": "no", "score": 0}},
    ])
    route = f"/v1/projects/{project}/traces"

    # Without the parameter: Phoenix's TraceData as before, no `annotations`.
    plain = {t["trace_id"]: t for t in _get(shared_server, route)["data"]}
    assert all("annotations" not in row for row in plain.values())

    rows = {t["trace_id"]: t for t in
            _get(shared_server, route, include_annotations="true")["data"]}
    assert rows[first]["annotations"] == [
        {"name": "correctness", "label": "correct", "score": 1.0,
         "annotator_kind": "HUMAN", "identifier": ""},
        {"name": "correctness", "label": "incorrect", "score": None,
         "annotator_kind": "CODE", "identifier": "run-2"},
        {"name": "relevance", "label": None, "score": 0.25,
         "annotator_kind": "LLM", "identifier": ""},
    ]
    assert rows[second]["annotations"] == [
        {"name": "correctness", "label": "<img src=x onerror=alert(1)>", "score": None,
         "annotator_kind": "LLM", "identifier": ""},
    ]
    assert rows[bare]["annotations"] == []
    # Everything else in the row is what the plain listing says.
    for trace, row in rows.items():
        assert {k: v for k, v in row.items() if k != "annotations"} == plain[trace]
    # Per page too: each page loads its own rows' annotations.
    paged = _get(shared_server, route, include_annotations="true", limit=1, order="asc")
    assert paged["data"][0]["trace_id"] == first
    assert len(paged["data"][0]["annotations"]) == 3

    spans_route = f"/v1/projects/{project}/spans"
    for fields in ("table", "all"):
        plain_spans = _get(shared_server, spans_route, fields=fields)["data"]
        assert all("annotations" not in span for span in plain_spans)
        spans = {s["context"]["span_id"]: s for s in _get(
            shared_server, spans_route, fields=fields, include_annotations="true")["data"]}
        assert len(spans) == 6
        assert spans[first_child]["annotations"] == [
            {"name": "hallucination", "label": "no", "score": 0.0,
             "annotator_kind": "CODE", "identifier": ""},
        ]
        # A trace's annotations are the trace's, not its root span's.
        assert spans[first_root]["annotations"] == []
        assert sum(len(s["annotations"]) for s in spans.values()) == 1

    wrong = shared_server.get(route, include_annotations="perhaps")
    assert wrong.status_code == 422
    assert "include_annotations" in wrong.text
