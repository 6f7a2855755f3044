"""The filter language against real databases: tables of (filter, expected rows), on every
backend, each also checked against the pure-Python evaluator over the whole stored rows.

The data set puts values on both sides of the store's split (store/codec.py): short values in the
queryable attributes column, long text and list members in the compressed payload, so each
case exercises SQL, the Python residual, or both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from ember.model import AnnotationInput, AnnotationQuery, SpanFilter
from ember.query.evaluate import Evaluator
from ember.query.parse import parse_filter
from ember.store import search
from ember.store.base import Store
from ember.store.listings import Listing
from ember.store.rowviews import RollUpView, SpanView
from tests.helpers import BASE_NS, make_request, make_span
from tests.store.conftest import BACKENDS, NORMALIZER, _open

MS = 1_000_000
LONG_REFUND = "Please explain the Refund policy for orders older than thirty days, in detail. " * 2
LONG_SILVER = json.dumps({"tier": "silver", "note": "x" * 80})
T1, T2, T3 = (bytes([n]) * 16 for n in (1, 2, 3))


def _iso(ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // 10**9))


def _span_id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _spans() -> list[Any]:
    at = BASE_NS
    return [
        # Trace 1: a RAG run with a long input and short metadata.
        make_span(T1, _span_id(1), None, "rag", start=at, end=at + 300 * MS, attributes={
            "openinference.span.kind": "CHAIN", "input.value": LONG_REFUND,
            "output.value": "Refunds take 5 days.",
            "metadata": json.dumps({"tier": "gold", "region": "eu"}),
            "session.id": "s1", "user.id": "u1",
        }),
        make_span(T1, _span_id(2), _span_id(1), "retrieve", start=at + MS, end=at + 51 * MS,
                  attributes={
                      "openinference.span.kind": "RETRIEVER",
                      "retrieval.documents.0.document.content": "Refund terms: 30 days",
                      "retrieval.documents.0.document.score": 0.9,
                  }),
        make_span(T1, _span_id(3), _span_id(1), "llm", start=at + 60 * MS, end=at + 70 * MS,
                  status_code=1, attributes={
                      "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
                      "llm.token_count.prompt": 100, "llm.token_count.completion": 20,
                      "llm.token_count.total": 120, "tag.tags": ["alpha", "beta"],
                  }),
        # Trace 2: an agent with long metadata, a failing tool and custom attributes.
        make_span(T2, _span_id(4), None, "agent", start=at + 1000 * MS, end=at + 1500 * MS,
                  attributes={
                      "openinference.span.kind": "AGENT", "input.value": "cancel my order",
                      "metadata": LONG_SILVER, "session.id": "s1", "user.id": "u1",
                  }),
        make_span(T2, _span_id(5), _span_id(4), "tool", start=at + 1010 * MS,
                  end=at + 1020 * MS, status_code=2, status_message="boom", attributes={
                      "openinference.span.kind": "TOOL", "tool.name": "search",
                      "acme.team": "infra", "acme.retries": 3, "acme.flag": True,
                      "acme.score": 0.5,
                  }),
        make_span(T2, _span_id(6), _span_id(4), "llm2", start=at + 1100 * MS,
                  end=at + 1400 * MS, attributes={
                      "openinference.span.kind": "LLM", "llm.model_name": "o3",
                      "llm.token_count.prompt": 1000, "llm.token_count.completion": 500,
                      "llm.token_count.total": 1500, "acme.team": "ml",
                  }),
        # Trace 3: no input, a numeric-looking string, an orphan whose parent never came.
        make_span(T3, _span_id(7), None, "solo", start=at + 2000 * MS, end=at + 2001 * MS,
                  attributes={"openinference.span.kind": "CHAIN", "acme.retries": "3",
                              "session.id": "s2"}),
        make_span(T3, _span_id(8), _span_id(99), "lost", start=at + 2002 * MS,
                  end=at + 2003 * MS, attributes={"metadata": "{not json"}),
    ]


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    url = BACKENDS[request.param](request, tmp_path_factory.mktemp("filters"))
    store = _open(url)
    batch = NORMALIZER.normalize(make_request(_spans(), {"openinference.project.name": "p"}))
    assert batch.rejected == 0, batch.message
    store.write_spans(batch.spans)
    store.upsert_annotations([
        AnnotationInput("span", _span_id(3).hex(), "correctness", "LLM", label="incorrect",
                        score=0.2),
        AnnotationInput("span", _span_id(3).hex(), "correctness", "HUMAN", label="correct",
                        score=1.0, identifier="reviewer"),
        AnnotationInput("span", _span_id(6).hex(), "correctness", "LLM", label="correct",
                        score=0.9),
        AnnotationInput("span", _span_id(6).hex(), "tone", "CODE", label="rude"),
        AnnotationInput("trace", T2.hex(), "resolved", "HUMAN", label="no"),
        AnnotationInput("session", "s2", "satisfied", "HUMAN", score=0.1),
    ])
    yield store
    store.close()


def _span_names(store: Store, text: str, limit: int = 100) -> list[str]:
    project = store.get_project("p")
    names: list[str] = []
    cursor = None
    while True:
        page = store.list_spans(
            project, SpanFilter(), cursor, limit, Listing(condition=parse_filter(text, "span"))
        )
        names += [s.name for s in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return sorted(names)


def _annotations(store: Store, kind: str) -> Callable[[str, str], list[dict[str, Any]]]:
    """(target id, name) -> that target's annotations of that name, read through the store."""
    page = store.page_annotations(store.get_project("p"), AnnotationQuery(kind), None, 1000)
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in page.items:
        found.setdefault((a.target_id, a.name), []).append(
            {"label": a.label, "score": a.score, "explanation": a.explanation}
        )
    return lambda target, name: found.get((target, name), [])


def _python_span_names(store: Store, text: str) -> list[str]:
    tree = parse_filter(text, "span")
    evaluator = Evaluator(time.time_ns())
    notes = _annotations(store, "span")
    found = []
    for trace in (T1, T2, T3):
        _, spans = store.get_trace(trace.hex())
        found += [
            s.name for s in spans if evaluator.matches(tree, SpanView(s, partial(notes, s.span_id)))
        ]
    return sorted(found)


SPAN_CASES: list[tuple[str, set[str]]] = [
    ("span_kind == 'LLM'", {"llm", "llm2"}),
    ("'refund' in input.value", {"rag"}),
    ("'REFUND' in input", {"rag"}),
    ("'cancel' in input.value", {"agent"}),
    ("'refund' not in input.value", {"agent"}),
    ("input.value is None", {"retrieve", "llm", "tool", "llm2", "solo", "lost"}),
    ("input.value is not None", {"rag", "agent"}),
    ("input.value != 'cancel my order'", {"rag"}),
    ("metadata['tier'] == 'gold'", {"rag"}),
    ("metadata['tier'] == 'silver'", {"agent"}),
    ("metadata['tier'] != 'gold'", {"agent"}),
    ("metadata['region'] is not None", {"rag"}),
    ("metadata['tier'] is None", {"retrieve", "llm", "tool", "llm2", "solo", "lost"}),
    ("acme.retries > 2", {"tool"}),
    ("acme.retries == '3'", {"solo"}),
    ("attributes['acme.flag'] == True", {"tool"}),
    ("acme.score >= 0.5", {"tool"}),
    ("acme.team != 'infra'", {"llm2"}),
    ("acme.team is None or acme.team != 'infra'",
     {"rag", "retrieve", "llm", "agent", "llm2", "solo", "lost"}),
    ("not acme.team == 'infra'", {"llm2"}),
    ("acme.team in ['infra', 'ml']", {"tool", "llm2"}),
    ("acme.team not in ['infra']", {"llm2"}),
    ("acme.retries in [3, 4]", {"tool"}),
    ("llm.model_name in ['gpt-4o', 'o3']", {"llm", "llm2"}),
    ("total_tokens > 200", {"llm2"}),
    ("llm.token_count.prompt >= 100 and llm.token_count.prompt < 1000", {"llm"}),
    ("status_code == 'ERROR'", {"tool"}),
    ("status_code != 'UNSET'", {"llm", "tool"}),
    ("'BOO' in status_message", {"tool"}),
    ("latency_ms > 40 and latency_ms < 100", {"retrieve"}),
    ("latency_ms >= seconds(0.3)", {"rag", "agent", "llm2"}),
    ("parent_id is None", {"rag", "agent", "solo"}),
    (f"trace_id == '{T1.hex()}'", {"rag", "retrieve", "llm"}),
    (f"trace_id != '{T1.hex()}' and parent_id is None", {"agent", "solo"}),
    ("span_id in ['0000000000000001', '0000000000000008']", {"rag", "lost"}),
    ("'terms' in attributes['retrieval.documents.0.document.content']", {"retrieve"}),
    ("attributes['retrieval.documents.0.document.score'] > 0.5", {"retrieve"}),
    ("'alp' in tag.tags", {"llm"}),
    ("session.id == 's1' and user.id == 'u1'", {"rag", "agent"}),
    (f"start_time >= '{_iso(BASE_NS + 2000 * MS)}'", {"solo", "lost"}),
    ("start_time > now() - days(36500)", {"rag", "retrieve", "llm", "agent", "tool", "llm2",
                                          "solo", "lost"}),
    ("start_time > now()", set()),
    ("(span_kind == 'LLM' or 'refund' in input) and not status_code == 'OK'", {"rag", "llm2"}),
    ("name == 'x' or 'boom' in status_message", {"tool"}),
    ("'; DROP TABLE spans; --' in input.value", set()),
    ("attributes['a\"b'] == 'c'", set()),
    # Annotations: a condition holds when some annotation of that name satisfies it.
    ("annotations['correctness'].label == 'incorrect'", {"llm"}),
    ("annotations['correctness'].label == 'correct'", {"llm", "llm2"}),
    ("annotations['correctness'].score < 0.5", {"llm"}),
    ("not annotations['correctness'].label == 'incorrect'",
     {"rag", "retrieve", "agent", "tool", "llm2", "solo", "lost"}),
    ("annotations['tone'] is not None", {"llm2"}),
    ("annotations['tone'] is None and span_kind == 'LLM'", {"llm"}),
    ("evals['tone'].label == 'rude' or 'refund' in input.value", {"llm2", "rag"}),
]


@pytest.mark.parametrize(("text", "expected"), SPAN_CASES, ids=[c[0] for c in SPAN_CASES])
def test_span_filters(loaded: Store, text: str, expected: set[str]) -> None:
    assert _span_names(loaded, text) == sorted(expected)
    assert _python_span_names(loaded, text) == sorted(expected)


def test_pages_through_a_python_checked_filter_without_losing_rows(
    loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a tiny scan budget, pages come back short or empty but with a cursor; following
    the cursors yields every match once."""
    monkeypatch.setattr(search, "MAX_SCAN", 1)
    monkeypatch.setattr(search, "CHUNK", 1)
    text = "'refund' in input.value or acme.team == 'ml'"
    project = loaded.get_project("p")
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = loaded.list_spans(
            project, SpanFilter(), cursor, 1, Listing(condition=parse_filter(text, "span"))
        )
        pages.append([s.name for s in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    names = [name for page in pages for name in page]
    assert names == ["llm2", "rag"]  # newest first
    assert [] in pages  # the budget really ran out somewhere


WINDOWED_CASES = [
    "span_kind == 'LLM'",  # decided in SQL
    "acme.retries > 2 or acme.score >= 0.5",  # decided in SQL, on the short values
    "'refund' in input.value or acme.team == 'ml'",  # partly left to Python
    "metadata['tier'] is None",
]


@pytest.mark.parametrize("text", WINDOWED_CASES)
def test_a_filtered_listing_walks_a_window_at_a_time_without_losing_rows(
    loaded: Store, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """With a window of two rows, each request looks at two spans of the project: pages come
    back short or empty with a cursor at the window's edge, and following the cursors yields
    every match once, in order."""
    monkeypatch.setattr(search, "WINDOW", 2)
    project = loaded.get_project("p")
    condition = parse_filter(text, "span")
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = loaded.list_spans(project, SpanFilter(), cursor, 2, Listing(condition=condition))
        pages.append([s.name for s in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(pages) < 20, "the cursors must reach the end"
    names = [name for page in pages for name in page]
    monkeypatch.setattr(search, "WINDOW", 10_000)
    whole = loaded.list_spans(project, SpanFilter(), None, 100, Listing(condition=condition))
    assert names == [s.name for s in whole.items]
    assert sorted(names) == _span_names(loaded, text)
    assert len(pages) >= 4  # eight spans, two per window: the window really bounded each request


@pytest.mark.parametrize(
    ("text", "expected"),
    [("user.id == 'u1'", {"rag", "agent"}), ("span_id == '0000000000000001'", {"rag"})],
)
def test_a_filter_an_index_serves_is_not_windowed(
    loaded: Store, monkeypatch: pytest.MonkeyPatch, text: str, expected: set[str]
) -> None:
    """An equality an index finds (spans by user, by id) answers in one page, however small
    the window: walking windows would only cost round trips for a rare value."""
    monkeypatch.setattr(search, "WINDOW", 1)
    page = loaded.list_spans(
        loaded.get_project("p"), SpanFilter(), None, 10,
        Listing(condition=parse_filter(text, "span")),
    )
    assert {s.name for s in page.items} == expected
    assert page.next_cursor is None


def test_a_rare_attribute_value_skips_the_window_walk_where_an_index_finds_it(
    loaded: Store, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`acme.team == 'ml'` matches one span. On PostgreSQL, when a window leaves the page
    short, the GIN index finds the rest at once (one page, no cursor); SQLite, with no such
    index, walks windows, and its cursors reach the same span."""
    monkeypatch.setattr(search, "WINDOW", 1)
    project = loaded.get_project("p")
    condition = parse_filter("acme.team == 'ml'", "span")
    page = loaded.list_spans(project, SpanFilter(), None, 10, Listing(condition=condition))
    names = [s.name for s in page.items]
    requests = 1
    while page.next_cursor is not None:
        page = loaded.list_spans(
            project, SpanFilter(), page.next_cursor, 10, Listing(condition=condition)
        )
        names += [s.name for s in page.items]
        requests += 1
    assert names == ["llm2"]
    assert (requests == 1) == ("postgresql" in request.node.callspec.id)


def test_traces_sorted_by_an_indexed_key_page_through_windows(
    loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "WINDOW", 1)
    project = loaded.get_project("p")
    seen: list[str] = []
    cursor = None
    while True:
        page = loaded.list_traces(
            project,
            Listing(condition=parse_filter("span_count >= 1", "trace"), sort="latency_ms",
                    limit=5, cursor=cursor),
        )
        seen += [t.trace_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [T2.hex(), T1.hex(), T3.hex()]


def _trace_ids(store: Store, text: str, sort: str = "start_time") -> list[str]:
    page = store.list_traces(
        store.get_project("p"), Listing(condition=parse_filter(text, "trace"), sort=sort)
    )
    assert page.next_cursor is None
    return [t.trace_id for t in page.items]


TRACE_CASES: list[tuple[str, list[bytes]]] = [
    ("any(span_kind == 'TOOL' and status_code == 'ERROR')", [T2]),
    ("span_count > 2", [T2, T1]),
    ("'refund' in input", [T1]),
    ("metadata['tier'] == 'silver'", [T2]),
    ("metadata['tier'] == 'gold'", [T1]),
    ("any('terms' in attributes['retrieval.documents.0.document.content'])", [T1]),
    ("any('refund' in input.value)", [T1]),
    ("not any(span_kind == 'LLM')", [T3]),
    ("total_tokens > 1000", [T2]),
    ("llm.token_count.total >= 120", [T2, T1]),
    ("error_count > 0 and latency_ms > 100", [T2]),
    ("root_name == 'solo' or session.id == 's1'", [T3, T2, T1]),
    ("acme.retries == '3'", [T3]),
    ("annotations['resolved'].label == 'no'", [T2]),
    ("any(annotations['tone'].label == 'rude')", [T2]),
    # Left to Python (a list member), with annotations inside any(...).
    ("any(annotations['correctness'].score < 0.5 and "
     "attributes['retrieval.documents.0.document.score'] is None)", [T1]),
]


@pytest.mark.parametrize(("text", "expected"), TRACE_CASES, ids=[c[0] for c in TRACE_CASES])
def test_trace_filters(loaded: Store, text: str, expected: list[bytes]) -> None:
    assert _trace_ids(loaded, text) == [t.hex() for t in expected]
    evaluator = Evaluator(time.time_ns())
    tree = parse_filter(text, "trace")
    notes = _annotations(loaded, "trace")
    span_notes = _annotations(loaded, "span")
    by_python = []
    for trace in (T3, T2, T1):
        summary, spans = loaded.get_trace(trace.hex())
        root = next((s for s in spans if s.span_id == summary.root_span_id), None)
        view = RollUpView(
            summary,
            attributes=lambda root=root: {} if root is None else root.attributes,
            spans=lambda spans=spans: spans,
            annotations=partial(notes, trace.hex()),
            span_annotations=span_notes,
        )
        if evaluator.matches(tree, view):
            by_python.append(trace.hex())
    assert by_python == [t.hex() for t in expected]


def test_traces_sort_and_page(loaded: Store) -> None:
    project = loaded.get_project("p")
    by_tokens = loaded.list_traces(project, Listing(sort="total_tokens", descending=False))
    assert [t.trace_id for t in by_tokens.items] == [T3.hex(), T1.hex(), T2.hex()]
    seen = []
    cursor = None
    while True:
        page = loaded.list_traces(project, Listing(sort="latency_ms", limit=1, cursor=cursor))
        seen += [t.trace_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [T2.hex(), T1.hex(), T3.hex()]


SESSION_CASES: list[tuple[str, list[str]]] = [
    ("trace_count >= 2", ["s1"]),
    ("traces == 1", ["s2"]),
    ("'refund' in first_input", ["s1"]),
    ("total_tokens > 0 and user.id == 'u1'", ["s1"]),
    ("user_id is None", ["s2"]),
    ("annotations['satisfied'].score < 0.5", ["s2"]),
]


@pytest.mark.parametrize(("text", "expected"), SESSION_CASES, ids=[c[0] for c in SESSION_CASES])
def test_session_filters(loaded: Store, text: str, expected: list[str]) -> None:
    page = loaded.list_sessions(
        loaded.get_project("p"), Listing(condition=parse_filter(text, "session"))
    )
    assert [s.session_id for s in page.items] == expected


def test_a_cursor_from_another_sort_is_refused(loaded: Store) -> None:
    project = loaded.get_project("p")
    page = loaded.list_traces(project, Listing(sort="cost", limit=1))
    assert page.next_cursor is not None
    from ember.errors import BadRequest

    with pytest.raises(BadRequest, match="sorted by cost"):
        loaded.list_traces(project, Listing(limit=1, cursor=page.next_cursor))
    with pytest.raises(BadRequest, match="not a cursor"):
        loaded.list_traces(project, Listing(limit=1, cursor="garbage!"))




def test_metadata_filters_run_inside_parallel_queries_on_postgresql(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """ember_jsonb() (the non-raising JSON parse of metadata) must not run in a parallel
    worker: its EXCEPTION block is a subtransaction, which parallel mode refuses. Parallel plans
    are forced here, as a big table would get them."""
    forced = "-c force_parallel_mode=on -c parallel_setup_cost=0 -c parallel_tuple_cost=0 " \
             "-c min_parallel_table_scan_size=0"
    url = postgres.create_database()
    store = _open(f"{url}{'&' if '?' in url else '?'}options={forced.replace(' ', '%20')}")
    try:
        batch = NORMALIZER.normalize(make_request(_spans(), {"openinference.project.name": "p"}))
        store.write_spans(batch.spans)
        assert _span_names(store, "metadata['tier'] == 'gold'") == ["rag"]
        assert _span_names(store, "metadata['tier'] != 'gold'") == ["agent"]
    finally:
        store.close()


def test_an_attribute_value_is_found_through_the_gin_index_on_postgresql(postgres: Any) -> None:
    """`tool.name == 'x'` is also compiled as JSON containment, which must match migration
    0008's index expression exactly, or PostgreSQL reads every span for a rare value. With
    plain scans priced out and the start-time index dropped (in a transaction rolled back; on
    a table this small it would win), the plan of the listing's query must use that index."""
    store = _open(postgres.create_database())
    try:
        batch = NORMALIZER.normalize(make_request(_spans(), {"openinference.project.name": "p"}))
        store.write_spans(batch.spans)
        statements: list[tuple[str, Any]] = []
        engine = store._readers  # type: ignore[attr-defined]

        def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            assert _span_names(store, "acme.team == 'ml'") == ["llm2"]
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        statement, parameters = next(s for s in statements if "@>" in s[0])
        with engine.connect() as conn, conn.begin() as transaction:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("DROP INDEX ix_spans_project_id_start_time")
            plan = "\n".join(
                row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            )
            transaction.rollback()
        assert "ix_spans_attributes" in plan, plan
    finally:
        store.close()
