"""The storage contract behind the Phoenix routes (every backend): projects created, updated
and paged; trace and session pages that drop nothing; one span deleted with exact roll-ups."""

from __future__ import annotations

import itertools

import pytest

from ember.errors import BadRequest, Conflict, NotFound
from ember.model import Page, SpanRecord, TraceItem, TraceQuery
from ember.store.base import Store
from tests.helpers import BASE_NS, make_span, span_id, trace_id
from tests.store.test_logs_and_cost import span_records

ERROR = 2


def one_trace(
    project: str, start: int, latency: int, *, session: str | None = None, error: bool = False,
    tokens: int = 0,
) -> list[SpanRecord]:
    trace, root = trace_id(), span_id()
    attributes: dict[str, object] = {"openinference.span.kind": "CHAIN", "input.value": "q"}
    if session is not None:
        attributes["session.id"] = session
    return span_records([
        make_span(trace, root, name="root", start=start, end=start + latency,
                  attributes=attributes),
        make_span(trace, span_id(), root, name="llm", start=start + 1, end=start + 2,
                  status_code=ERROR if error else 0,
                  attributes={"openinference.span.kind": "LLM",
                              "llm.token_count.prompt": tokens,
                              "llm.token_count.completion": tokens}),
    ], project)


def all_traces(store: Store, project_name: str, query: TraceQuery, limit: int) -> list[TraceItem]:
    project = store.get_project(project_name)
    out: list[TraceItem] = []
    cursor = None
    while True:
        page: Page[TraceItem] = store.page_traces(project, query, cursor, limit)
        assert len(page.items) <= limit
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def test_projects_are_created_updated_and_paged_newest_first(store: Store) -> None:
    created = [store.create_project(f"Alpha-{i}", f"number {i}") for i in range(5)]
    store.create_project("beta", None)
    with pytest.raises(Conflict):
        store.create_project("Alpha-1", None)
    assert store.update_project(created[0], "changed").description == "changed"
    assert store.get_project("Alpha-0").description == "changed"

    names: list[str] = []
    cursor = None
    while True:
        page = store.page_projects("alpha", cursor, 2)
        names.extend(p.name for p in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert names == [f"Alpha-{i}" for i in reversed(range(5))]
    assert [p.name for p in store.page_projects("a_", None, 10).items] == []  # `_` is literal
    with pytest.raises(BadRequest):
        store.page_projects(None, "not-a-cursor", 10)


@pytest.mark.parametrize(("sort", "order"), list(itertools.product(
    ["start_time", "latency_ms"], ["asc", "desc"]
)))
def test_trace_pages_keep_every_trace_in_order(store: Store, sort: str, order: str) -> None:
    # Ties on purpose: equal start times and equal latencies, so only the row id orders them.
    for i in range(23):
        store.write_spans(one_trace("paging", BASE_NS + (i // 3) * 1000, 100 * (i % 4 + 1)))
    items = all_traces(store, "paging", TraceQuery(sort=sort, order=order), 5)
    assert len({item.id for item in items}) == 23
    def key(item: TraceItem) -> tuple[int, int]:
        s = item.summary
        value = s.start_time if sort == "start_time" else s.end_time - s.start_time
        return value, item.id
    assert [key(i) for i in items] == sorted(map(key, items), reverse=order == "desc")
    assert all(item.spans is None for item in items)
    project = store.get_project("paging")
    page = store.page_traces(project, TraceQuery(sort=sort, order=order), None, 5)
    other = "asc" if order == "desc" else "desc"
    with pytest.raises(BadRequest, match="sorted by"):
        store.page_traces(project, TraceQuery(sort=sort, order=other), page.next_cursor, 5)


def test_trace_filters(store: Store) -> None:
    store.write_spans(one_trace("filters", BASE_NS, 5_000_000, session="s1", tokens=3))
    store.write_spans(one_trace("filters", BASE_NS + 10, 9_000_000, error=True))
    store.write_spans(one_trace("filters", BASE_NS + 20, 1_000_000, session="s2"))

    def latencies(**query: object) -> list[int]:
        items = all_traces(store, "filters", TraceQuery(**query), 10)  # type: ignore[arg-type]
        return sorted((i.summary.end_time - i.summary.start_time) // 1_000_000 for i in items)

    assert latencies() == [1, 5, 9]
    assert latencies(error=True) == [9]
    assert latencies(error=False) == [1, 5]
    assert latencies(min_latency_ns=5_000_000) == [5, 9]
    assert latencies(max_latency_ns=5_000_000) == [1, 5]
    assert latencies(start_time_from=BASE_NS + 10) == [1, 9]
    assert latencies(start_time_to=BASE_NS + 10) == [5]
    assert latencies(session_ids=("s1", "nope")) == [5]
    s2 = store.find_session(None, "s2")
    assert latencies(session_rowids=(s2.id,)) == [1]
    assert latencies(session_ids=("s1",), session_rowids=(s2.id,)) == [1, 5]

    (item,) = all_traces(store, "filters", TraceQuery(session_ids=("s1",), include_spans=True), 10)
    assert [s.name for s in item.spans or []] == ["root", "llm"]
    assert (item.summary.prompt_tokens, item.summary.total_tokens) == (3, 6)


def test_session_pages_find_and_delete(store: Store) -> None:
    for i in range(5):
        store.write_spans(one_trace("sess", BASE_NS + i, 10, session=f"s{i % 3}"))
    store.write_spans(one_trace("other", BASE_NS, 10, session="s0"))
    project = store.get_project("sess")
    seen = []
    cursor = None
    while True:
        page = store.page_sessions(project, "desc", cursor, 2)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [s.summary.session_id for s in seen] == ["s2", "s1", "s0"]
    by_id = {s.summary.session_id: s for s in seen}
    assert [t.trace_id for t in by_id["s0"].traces] == by_id["s0"].summary.trace_ids
    assert len(by_id["s0"].traces) == 2

    assert store.find_session(None, "s1").id == by_id["s1"].id
    assert store.find_session(by_id["s0"].id, None).summary.project_name == "sess"
    with pytest.raises(BadRequest, match="several projects"):
        store.find_session(None, "s0")
    with pytest.raises(NotFound):
        store.find_session(None, "nope")
    with pytest.raises(BadRequest, match="several projects"):
        store.delete_sessions((), ("s0",))
    assert store.find_session(by_id["s0"].id, None).summary.trace_count == 2

    assert store.delete_sessions((by_id["s0"].id,), ()) == 1
    assert store.delete_sessions((), ("s1", "s2", "never")) == 2
    assert store.page_sessions(project, "asc", None, 10).items == []
    assert store.find_session(None, "s0").summary.project_name == "other"


def test_deleting_one_span_recomputes_its_trace_and_session(store: Store) -> None:
    spans = one_trace("spans", BASE_NS, 100, session="s", error=True, tokens=4)
    store.write_spans(spans)
    root, child = spans
    before, _ = store.get_trace(root.trace_id)
    assert (before.span_count, before.error_count, before.prompt_tokens) == (2, 1, 4)

    store.delete_span(child.span_id)
    after, left = store.get_trace(root.trace_id)
    assert [s.span_id for s in left] == [root.span_id]
    assert (after.span_count, after.error_count, after.prompt_tokens) == (1, 0, 0)
    assert store.get_session(store.get_project("spans"), "s").error_count == 0
    with pytest.raises(NotFound):
        store.delete_span(child.span_id)

    store.delete_span(None, left[0].id)  # the last span: the trace and session go too
    with pytest.raises(NotFound):
        store.get_trace(root.trace_id)
    with pytest.raises(NotFound):
        store.get_session(store.get_project("spans"), "s")


def test_a_span_id_in_two_traces_must_be_named_by_row_id(store: Store) -> None:
    shared = span_id()
    for _ in range(2):
        store.write_spans(span_records([make_span(trace_id(), shared, name="twin")], "twins"))
    with pytest.raises(BadRequest, match="several traces"):
        store.delete_span(shared.hex())
