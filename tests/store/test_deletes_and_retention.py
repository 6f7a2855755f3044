"""The storage contract for deletes and retention (every backend): deleting a trace, a session
or a project removes everything that hangs off it and keeps the other roll-ups exact."""

from __future__ import annotations

import pytest

from ember.errors import NotFound
from ember.model import RetentionPolicy, SpanRecord
from ember.store.base import Store
from tests.helpers import BASE_NS, make_log, make_logs_request, make_span, span_id, trace_id
from tests.store.conftest import NORMALIZER
from tests.store.test_logs_and_cost import span_records

DAY = 86_400 * 10**9


def turn(session: str, start: int, project: str = "keep") -> list[SpanRecord]:
    trace, root = trace_id(), span_id()
    return span_records([
        make_span(trace, root, name="agent", start=start, end=start + 100,
                  attributes={"openinference.span.kind": "AGENT", "session.id": session,
                              "input.value": f"q@{start}", "output.value": f"a@{start}"}),
        make_span(trace, span_id(), root, name="llm", start=start + 1, end=start + 50,
                  attributes={"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                              "llm.token_count.prompt": 10, "llm.token_count.completion": 5}),
    ], project)


def test_deleting_a_trace_removes_its_spans_logs_and_session_share(store: Store) -> None:
    first, second = turn("s", BASE_NS), turn("s", BASE_NS + 1000)
    store.write_spans(first + second)
    gone = first[1]
    logs = NORMALIZER.normalize_logs(make_logs_request([
        make_log(bytes.fromhex(gone.trace_id), bytes.fromhex(gone.span_id), "gen_ai.choice",
                 {"message": {"content": "hi"}}),
    ])).logs
    store.write_logs(logs)
    project = store.get_project("keep")
    assert store.get_session(project, "s").trace_count == 2

    store.delete_trace(first[0].trace_id.upper())  # ids are case-insensitive

    with pytest.raises(NotFound):
        store.get_trace(first[0].trace_id)
    with pytest.raises(NotFound):
        store.get_span(gone.span_id)
    session = store.get_session(project, "s")
    assert (session.trace_count, session.total_tokens, session.first_input) == (
        1, 15, f"q@{BASE_NS + 1000}"
    )
    assert store.count_spans() == 2
    # The log records went with the span: the same ids arriving again start from nothing.
    store.write_spans(first)
    assert store.get_span(gone.span_id).logs == []
    with pytest.raises(NotFound):
        store.delete_trace(trace_id().hex())


def test_deleting_a_session_removes_its_traces(store: Store) -> None:
    mine, other = turn("mine", BASE_NS) + turn("mine", BASE_NS + 10), turn("other", BASE_NS)
    store.write_spans(mine + other)
    project = store.get_project("keep")
    assert store.delete_session(project, "mine") == 2
    with pytest.raises(NotFound):
        store.get_session(project, "mine")
    assert store.get_session(project, "other").trace_count == 1
    assert store.count_spans() == 2
    with pytest.raises(NotFound):
        store.delete_session(project, "mine")


def test_deleting_a_project_removes_everything_of_it(store: Store) -> None:
    store.write_spans(turn("a", BASE_NS, "doomed") + turn("b", BASE_NS, "doomed"))
    kept = turn("c", BASE_NS, "keep")
    store.write_spans(kept)
    assert store.delete_project(store.get_project("doomed")) == 2
    with pytest.raises(NotFound):
        store.get_project("doomed")
    assert [p.name for p in store.list_projects()] == ["keep"]
    assert store.count_spans() == 2
    # A span for the deleted project's name makes the project again, empty but for it.
    store.write_spans(turn("a", BASE_NS, "doomed"))
    assert store.get_session(store.get_project("doomed"), "a").trace_count == 1


def test_retention_by_age_and_by_count(store: Store) -> None:
    now = BASE_NS + 100 * DAY
    ages = [1, 5, 20, 40, 90]  # days before now
    for age in ages:
        store.write_spans(turn("s", now - age * DAY, "by-age"))
        store.write_spans(turn("t", now - age * DAY, "by-count"))
        store.write_spans(turn("u", now - age * DAY, "forever"))
    store.set_retention(store.get_project("by-count"), RetentionPolicy(max_traces=2))
    store.set_retention(store.get_project("forever"), RetentionPolicy())

    deleted = store.prune(RetentionPolicy(days=30), now)

    assert deleted == 2 + 3
    sessions = {
        name: store.get_session(store.get_project(name), session).trace_count
        for name, session in (("by-age", "s"), ("by-count", "t"), ("forever", "u"))
    }
    assert sessions == {"by-age": 3, "by-count": 2, "forever": 5}
    by_count = store.get_session(store.get_project("by-count"), "t")
    assert by_count.start_time == now - 5 * DAY  # the newest two are kept
    assert store.prune(RetentionPolicy(days=30), now) == 0  # nothing left to do


def test_a_project_policy_can_return_to_the_default(store: Store) -> None:
    store.write_spans(turn("s", BASE_NS, "p"))
    project = store.set_retention(store.get_project("p"), RetentionPolicy(days=7))
    assert project.retention == RetentionPolicy(days=7)
    assert store.set_retention(project, None).retention is None
