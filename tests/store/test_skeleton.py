"""The storage contract for the trace view's reads (every backend, through the `store` fixture):
a trace's skeleton (`Store.trace_skeleton`) and text search inside a trace
(`Store.search_trace`)."""

from __future__ import annotations

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ember.errors import NotFound
from ember.model import SpanRecord
from ember.store.base import Store
from ember.store.skeleton import in_start_order
from tests.helpers import (
    BASE_NS,
    make_log,
    make_logs_request,
    make_request,
    make_span,
    span_id,
    trace_id,
)
from tests.store.conftest import NORMALIZER

ERROR = 2
PICO = 10**12


def records(spans: list[Span], project: str = "skel") -> list[SpanRecord]:
    batch = NORMALIZER.normalize(make_request(spans, {"openinference.project.name": project}))
    assert batch.rejected == 0, batch.message
    return batch.spans


def rag_trace() -> tuple[str, dict[str, str], list[SpanRecord]]:
    """A root CHAIN over a RETRIEVER and an LLM (priced), plus a span whose parent never
    arrived; listed out of start order, as exporters send them."""
    t = trace_id()
    ids = {name: span_id() for name in ("root", "retrieve", "llm", "orphan", "absent")}
    spans = [
        make_span(t, ids["llm"], ids["root"], "ChatOpenAI", start=BASE_NS + 300,
                  end=BASE_NS + 900, attributes={
                      "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                      "llm.token_count.prompt": 1000, "llm.token_count.completion": 200,
                      "llm.input_messages.0.message.role": "user",
                      "llm.input_messages.0.message.content": 'Why is the "SKY" blue? ' + "x" * 200,
                  }),
        make_span(t, ids["orphan"], ids["absent"], "late", start=BASE_NS + 950,
                  end=BASE_NS + 990, status_code=ERROR, status_message="Timed Out",
                  events=[("exception", BASE_NS + 960, {"exception.message": "gave up"})]),
        make_span(t, ids["root"], None, "rag", start=BASE_NS, end=BASE_NS + 1000,
                  attributes={"openinference.span.kind": "CHAIN", "input.value": "question"}),
        make_span(t, ids["retrieve"], ids["root"], "retrieve", start=BASE_NS + 100,
                  end=BASE_NS + 200, attributes={
                      "openinference.span.kind": "RETRIEVER",
                      "retrieval.documents.0.document.content": "Rayleigh scattering, Ünïcode",
                      "retrieval.documents.0.document.score": 0.75,
                  }),
    ]
    return t.hex(), {k: v.hex() for k, v in ids.items()}, records(spans)


def test_skeleton_holds_every_span_in_start_order(store: Store) -> None:
    t, ids, batch = rag_trace()
    store.write_spans(batch)
    skeleton = store.trace_skeleton(t.upper())  # ids are matched whatever their case
    assert skeleton.trace_id == t
    assert skeleton.project_name == "skel"
    assert skeleton.span_ids == [ids["root"], ids["retrieve"], ids["llm"], ids["orphan"]]
    assert skeleton.parent_ids == [None, ids["root"], ids["root"], ids["absent"]]
    assert skeleton.names == ["rag", "retrieve", "ChatOpenAI", "late"]
    assert skeleton.span_kinds == ["CHAIN", "RETRIEVER", "LLM", "UNKNOWN"]
    assert skeleton.start_times == [BASE_NS, BASE_NS + 100, BASE_NS + 300, BASE_NS + 950]
    assert skeleton.end_times == [BASE_NS + 1000, BASE_NS + 200, BASE_NS + 900, BASE_NS + 990]
    assert skeleton.status_codes == [0, 0, 0, ERROR]
    assert skeleton.total_tokens == [None, None, 1200, None]
    # gpt-4o-mini at $0.15 / $0.60 per million tokens, in pico-dollars.
    llm_cost = 1000 * 150_000 + 200 * 600_000
    assert skeleton.costs == [None, None, llm_cost, None]
    assert (skeleton.start_time, skeleton.end_time) == (BASE_NS, BASE_NS + 1000)
    assert (skeleton.span_count, skeleton.error_count) == (4, 1)
    assert skeleton.total_tokens_sum == 1200
    assert skeleton.cost_sum == llm_cost


def test_skeleton_is_the_same_whatever_the_arrival_order(store: Store) -> None:
    t, _, batch = rag_trace()
    for record in reversed(batch):
        store.write_spans([record])
    once = store.trace_skeleton(t)
    assert once.names == ["rag", "retrieve", "ChatOpenAI", "late"]
    assert once.span_count == 4


def test_skeleton_of_an_unknown_trace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.trace_skeleton(trace_id().hex())


def test_search_finds_text_in_attributes_events_and_status(store: Store) -> None:
    t, ids, batch = rag_trace()
    store.write_spans(batch)
    # A long (bulky) value, found case-insensitively.
    assert store.search_trace(t, "sky\" BLUE", 10) == [ids["llm"]]
    # A short value, non-ASCII.
    assert store.search_trace(t, "ünïcode", 10) == [ids["retrieve"]]
    assert store.search_trace(t, "timed out", 10) == [ids["orphan"]]  # status message
    assert store.search_trace(t, "GAVE UP", 10) == [ids["orphan"]]  # an event attribute
    assert store.search_trace(t, "0.75", 10) == [ids["retrieve"]]  # a number
    assert store.search_trace(t, "retriever", 10) == [ids["retrieve"]]  # the kind, whole
    assert store.search_trace(t, "ChatOpen", 10) == [ids["llm"]]  # the name
    # Keys are not searched: every LLM span would match "llm.".
    assert store.search_trace(t, "input_messages", 10) == []
    # A needle with characters JSON escapes (the quote above) is still found.
    assert store.search_trace(t, 'the "sky" blue? x', 10) == [ids["llm"]]
    # Start order and the limit.
    assert store.search_trace(t, "xxx", 10) == [ids["llm"]]
    assert store.search_trace(t, "r", 2) == [ids["root"], ids["retrieve"]]


def test_search_finds_text_in_log_records(store: Store) -> None:
    t, s = trace_id(), span_id()
    store.write_spans(records([make_span(t, s, name="chat")]))
    request = make_logs_request([make_log(t, s, "gen_ai.user.message", {"content": "Zanzibar"})])
    store.write_logs(NORMALIZER.normalize_logs(request).logs)
    assert store.search_trace(t.hex(), "zanzibar", 10) == [s.hex()]


def test_search_in_an_unknown_trace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.search_trace(trace_id().hex(), "anything", 10)


def test_columns_are_put_in_start_order() -> None:
    """The SQLite read leaves ordering to Python: columns are sorted by (start time, row
    id), all of them alike."""
    rows = [("a", 30, 1), ("b", 10, 2), ("c", 10, 1), ("d", 20, 5)]
    columns = [[r[0] for r in rows], [], [], [], [r[1] for r in rows], [r[2] for r in rows]]
    columns[1:4] = [[r[0].upper() for r in rows], [None] * 4, [0, 1, 2, 3]]
    ordered = in_start_order(columns)
    assert ordered[0] == ["c", "b", "d", "a"]
    assert ordered[1] == ["C", "B", "D", "A"]
    assert ordered[3] == [2, 1, 3, 0]
    assert ordered[4] == [10, 10, 20, 30]
    assert in_start_order(ordered) is ordered  # already in order: returned as is
