"""Phoenix's trace listing and span delete, through the real `arize-phoenix-client`, with
traces made by the real OpenTelemetry SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import EmberProcess
from tests.phoenix.support import MS, Turn, client, now_ns, send_turn, tracer, unique

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def many(shared_server: EmberProcess) -> tuple[str, list[Turn]]:
    """130 traces, 1 ms apart, with latencies that repeat (ties) and every 7th one failing."""
    project = unique("traces")
    base = now_ns() - 3_600 * 10**9
    with tracer(shared_server, project) as t:
        turns = [
            send_turn(t, base + i * MS, latency_ns=(10 + i % 5) * MS, error=i % 7 == 0,
                      session=f"s{i % 4}")
            for i in range(130)
        ]
    return project, turns


def test_every_trace_is_listed_once_in_each_order(
    shared_server: EmberProcess, many: tuple[str, list[Turn]]
) -> None:
    project, turns = many
    px = client(shared_server)
    newest_first = px.traces.get_traces(project_identifier=project, limit=1000)
    assert [t["trace_id"] for t in newest_first] == [t.trace_id for t in reversed(turns)]
    oldest_first = px.traces.get_traces(project_identifier=project, order="asc", limit=1000)
    assert [t["trace_id"] for t in oldest_first] == [t.trace_id for t in turns]

    by_latency = px.traces.get_traces(project_identifier=project, sort="latency_ms",
                                      limit=1000)
    assert len({t["trace_id"] for t in by_latency}) == 130  # ties never drop a trace
    # Ember's exact latency beside Phoenix's fields (ISO text keeps microseconds only).
    latencies = [t["latency_ms"] for t in by_latency]
    assert latencies == sorted(latencies, reverse=True)
    assert sorted(latencies) == sorted(t.latency_ns / MS for t in turns)

    first = newest_first[0]
    assert first["project_id"] == px.projects.get(project_name=project)["id"]
    assert (first["token_count_prompt"], first["token_count_completion"],
            first["token_count_total"]) == (12, 3, 15)
    assert "spans" not in first
    assert px.traces.get_traces(project_identifier=project, limit=7) == newest_first[:7]


def test_time_range_latency_error_and_session_filters(
    shared_server: EmberProcess, many: tuple[str, list[Turn]]
) -> None:
    project, turns = many
    px = client(shared_server)

    def ids(**params: object) -> set[str]:
        found = px.traces.get_traces(
            project_identifier=project, limit=1000, **params  # type: ignore[arg-type]
        )
        return {t["trace_id"] for t in found}

    # Times go as ISO text, to the microsecond: the bounds are those microseconds.
    low, high = turns[10].start // 1000, turns[20].start // 1000
    start, end = (EPOCH + timedelta(microseconds=us) for us in (low, high))
    in_range = {t.trace_id for t in turns if low * 1000 <= t.start < high * 1000}
    assert ids(start_time=start, end_time=end) == in_range
    assert {t.trace_id for t in turns[10:20]} <= in_range | {turns[10].trace_id}

    assert ids(error=True) == {t.trace_id for t in turns if t.error}
    assert ids(error=False) == {t.trace_id for t in turns if not t.error}
    assert ids(min_latency_ms=13) == {t.trace_id for t in turns if t.latency_ns >= 13 * MS}
    assert ids(max_latency_ms=11) == {t.trace_id for t in turns if t.latency_ns <= 11 * MS}
    assert ids(session_id=["s1", "s2"]) == {
        t.trace_id for t in turns if t.session in ("s1", "s2")
    }
    s3 = next(s for s in px.sessions.list(project_name=project) if s["session_id"] == "s3")
    assert ids(session_id=[s3["id"], "s0"]) == {
        t.trace_id for t in turns if t.session in ("s3", "s0")
    }


def test_include_spans_gives_each_trace_its_spans(
    shared_server: EmberProcess, many: tuple[str, list[Turn]]
) -> None:
    project, turns = many
    px = client(shared_server)
    (trace,) = px.traces.get_traces(project_identifier=project, include_spans=True,
                                    order="asc", limit=1)
    assert trace["trace_id"] == turns[0].trace_id
    spans = trace["spans"]
    assert [s["span_id"] for s in spans] == turns[0].span_ids
    assert [s["name"] for s in spans] == ["agent", "llm", "retrieve"]
    assert spans[0]["parent_id"] is None and spans[1]["parent_id"] == turns[0].root
    assert spans[1]["span_kind"] == "LLM" and spans[1]["status_code"] == "ERROR"
    assert set(spans[0]) == {"id", "span_id", "parent_id", "name", "span_kind", "status_code",
                             "start_time", "end_time"}


def test_bad_parameters_get_a_4xx_that_says_why(
    shared_server: EmberProcess, many: tuple[str, list[Turn]]
) -> None:
    project, _ = many
    route = f"{shared_server.url}/v1/projects/{project}/traces"
    bad_sort = httpx.get(route, params={"sort": "name"})
    assert bad_sort.status_code == 400 and "cannot sort" in bad_sort.json()["error"]["message"]
    page = httpx.get(route, params={"limit": 2}).json()
    mixed = httpx.get(route, params={"cursor": page["next_cursor"], "order": "asc"})
    assert mixed.status_code == 400 and "sorted by" in mixed.json()["error"]["message"]
    bad_filter = httpx.get(route, params={"filter": "span_count > 'x'"})
    assert bad_filter.status_code == 400 and "1:" in bad_filter.json()["error"]["message"]
    by_filter = httpx.get(route, params={"filter": "error_count > 0", "sort": "span_count"})
    assert by_filter.status_code == 200
    assert all(t["error_count"] > 0 for t in by_filter.json()["data"])
    naive = httpx.get(route, params={"start_time": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and "time zone" in naive.json()["error"]["message"]
    assert httpx.get(f"{shared_server.url}/v1/projects/{unique('no')}/traces").status_code == 404
    with pytest.raises(ValueError, match="min_latency_ms"):
        client(shared_server).traces.get_traces(project_identifier=project, min_latency_ms=-1)


def test_deleting_a_span_keeps_its_trace_with_exact_roll_ups(
    shared_server: EmberProcess,
) -> None:
    project = unique("span-delete")
    with tracer(shared_server, project) as t:
        turn = send_turn(t, now_ns(), error=True)
        lone = send_turn(t, now_ns())
    px = client(shared_server)

    px.spans.delete(span_identifier=turn.llm)
    trace = shared_server.get(f"/v1/traces/{turn.trace_id}").json()["data"]
    assert [s["context"]["span_id"] for s in trace["spans"]] == [turn.root, turn.retriever]
    assert (trace["span_count"], trace["error_count"], trace["token_count"]["total"]) == (2, 0, 0)
    with pytest.raises(httpx.HTTPStatusError) as again:
        px.spans.delete(span_identifier=turn.llm)
    assert again.value.response.status_code == 404

    (listed,) = [
        t for t in px.traces.get_traces(project_identifier=project, include_spans=True)
        if t["trace_id"] == lone.trace_id
    ]
    for span in listed["spans"]:  # by GlobalID; the last one takes the trace along
        px.spans.delete(span_identifier=span["id"])
    assert shared_server.get(f"/v1/traces/{lone.trace_id}").status_code == 404
    assert [t["trace_id"] for t in px.traces.get_traces(project_identifier=project)] == [
        turn.trace_id
    ]
