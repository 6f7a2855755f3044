"""The storage contract for log records tied to spans, and for cost roll-ups (every backend).

GenAI instrumentations send a model call's messages as log records beside its span: whichever
of the two is stored first, the span ends up derived with all its log records, and its trace
and session roll-ups are exact, under any order and any number of retries.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ember.errors import NotFound
from ember.model import LogRecord, SpanRecord, StoredSpan
from ember.store.base import Store
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

PICO = 10**12
CLIENT = 3  # OTel span kind CLIENT


def genai_call(trace: bytes, span: bytes, parent: bytes | None = None, **extra: Any) -> Any:
    """An OTel GenAI chat span as the openai-v2 instrumentation sends it: no content on it."""
    return make_span(
        trace, span, parent, name="chat gpt-4o-mini", kind=CLIENT, start=BASE_NS,
        end=BASE_NS + 5_000_000,
        attributes={
            "gen_ai.operation.name": "chat", "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 200, **extra,
        },
    )


def message_logs(trace: bytes, span: bytes, question: str = "Hi") -> list[Any]:
    return [
        make_log(trace, span, "gen_ai.system.message", {"content": "Be brief."},
                 time=BASE_NS + 1, attributes={"gen_ai.system": "openai"}),
        # Older SDKs name the event in an attribute: both forms are understood.
        make_log(trace, span, "gen_ai.user.message", {"content": question},
                 time=BASE_NS + 2, event_name_in_attribute=True),
        make_log(trace, span, "gen_ai.choice",
                 {"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": f"Answer to {question}"}},
                 time=BASE_NS + 3),
    ]


def span_records(spans: Sequence[Any], project: str = "logs") -> list[SpanRecord]:
    batch = NORMALIZER.normalize(make_request(spans, {"openinference.project.name": project}))
    assert batch.rejected == 0, batch.message
    return batch.spans


def log_records(logs: Sequence[Any]) -> list[LogRecord]:
    batch = NORMALIZER.normalize_logs(make_logs_request(logs))
    assert batch.rejected == 0, batch.message
    return batch.logs


def view(span: StoredSpan) -> tuple[Any, ...]:
    """What a span's log records change, for comparing two arrival orders."""
    return (span.derived, span.mapping, span.promoted, span.cost_summary, len(span.logs or []))


def test_logs_after_their_span_fill_its_messages(store: Store) -> None:
    trace, span = trace_id(), span_id()
    store.write_spans(span_records([genai_call(trace, span)]))
    before = store.get_span(span.hex())
    assert "llm.input_messages.0.message.role" not in before.attributes
    assert before.logs == []

    assert store.write_logs(log_records(message_logs(trace, span))) == 3

    after = store.get_span(span.hex())
    attributes = after.attributes
    assert attributes["llm.input_messages.0.message.role"] == "system"
    assert attributes["llm.input_messages.0.message.content"] == "Be brief."
    assert attributes["llm.input_messages.1.message.role"] == "user"
    assert attributes["llm.input_messages.1.message.content"] == "Hi"
    assert attributes["llm.output_messages.0.message.content"] == "Answer to Hi"
    assert [log["name"] for log in after.logs or []] == [
        "gen_ai.system.message", "gen_ai.user.message", "gen_ai.choice"
    ]
    assert (after.logs or [])[0]["body"] == {"content": "Be brief."}
    sources = {e["target"]: e["sources"] for e in (after.mapping or {})["entries"]}
    assert "event:gen_ai.user.message" in sources["llm.input_messages"]
    # The raw attributes are untouched: only derived keys were added.
    raw = {k: v for k, v in after.attributes.items() if k not in after.derived}
    assert raw == {k: v for k, v in before.attributes.items() if k not in before.derived}
    # The span is the trace's root: its previews now come from the messages.
    summary, _ = store.get_trace(trace.hex())
    assert (summary.input_preview, summary.output_preview) == ("Hi", "Answer to Hi")


def test_logs_before_their_span_give_the_same_span(open_store: Callable[[], Store]) -> None:
    store = open_store()
    first_trace, first_span = trace_id(), span_id()
    store.write_spans(span_records([genai_call(first_trace, first_span)]))
    store.write_logs(log_records(message_logs(first_trace, first_span)))

    trace, span = trace_id(), span_id()
    assert store.write_logs(log_records(message_logs(trace, span))) == 3
    with pytest.raises(NotFound):
        store.get_trace(trace.hex())  # logs alone make no trace
    store.write_spans(span_records([genai_call(trace, span)]))

    assert view(store.get_span(span.hex())) == view(store.get_span(first_span.hex()))
    summary, _ = store.get_trace(trace.hex())
    assert (summary.input_preview, summary.output_preview) == ("Hi", "Answer to Hi")


def test_any_order_of_spans_and_logs_with_retries(open_store: Callable[[], Store]) -> None:
    store = open_store()
    trace, root, child = trace_id(), span_id(), span_id()
    spans = span_records([
        make_span(trace, root, name="turn", start=BASE_NS - 10, end=BASE_NS + 9_000_000,
                  attributes={"openinference.span.kind": "CHAIN", "session.id": "s-1"}),
        genai_call(trace, child, root),
    ])
    logs = log_records(message_logs(trace, child))
    store.write_spans(spans)
    store.write_logs(logs)
    expected = view(store.get_span(child.hex()))
    expected_trace = store.get_trace(trace.hex())[0]

    for seed in range(6):
        t = trace_id()
        items: list[tuple[str, Any]] = [("span", s._replace(trace_id=t.hex())) for s in spans]
        items += [("log", g) for g in log_records(message_logs(t, child))]
        rng = random.Random(seed)
        rng.shuffle(items)
        items += rng.sample(items, 3)  # retries
        for kind, item in items:
            if kind == "span":
                store.write_spans([item])
            else:
                store.write_logs([item])
        got = store.get_trace(t.hex())
        span = next(s for s in got[1] if s.span_id == child.hex())
        assert view(span) == expected, seed
        assert dataclasses.replace(got[0], trace_id="") == dataclasses.replace(
            expected_trace, trace_id=""
        ), seed


def test_log_records_are_stored_once(store: Store) -> None:
    trace, span = trace_id(), span_id()
    logs = log_records(message_logs(trace, span))
    assert store.write_logs(logs + logs[:1]) == 3
    assert store.write_logs(logs) == 0
    store.write_spans(span_records([genai_call(trace, span)]))
    assert len(store.get_span(span.hex()).logs or []) == 3


def test_trace_read_carries_each_span_logs(store: Store) -> None:
    trace, root, child = trace_id(), span_id(), span_id()
    store.write_spans(span_records([
        make_span(trace, root, name="turn", attributes={"openinference.span.kind": "CHAIN"}),
        genai_call(trace, child, root),
    ]))
    store.write_logs(log_records(message_logs(trace, child)))
    _, spans = store.get_trace(trace.hex())
    logs = {s.span_id: len(s.logs or []) for s in spans}
    assert logs == {root.hex(): 0, child.hex(): 3}


# -------------------------------------------------------------------------------- cost


def llm_span(trace: bytes, parent: bytes, model: str, prompt: int, completion: int,
             start: int, **extra: Any) -> Any:
    return make_span(
        trace, span_id(), parent, name=f"llm {model}", start=start, end=start + 100,
        attributes={
            "openinference.span.kind": "LLM", "llm.model_name": model,
            "llm.token_count.prompt": prompt, "llm.token_count.completion": completion,
            **extra,
        },
    )


def priced_turn(session: str, k: int) -> list[SpanRecord]:
    """An agent (reporting a run total that must not count) over three model calls: one
    priced from the table, one the provider priced, one whose model has no price."""
    trace, root = trace_id(), span_id()
    start = BASE_NS + k * 10_000_000
    return span_records([
        make_span(trace, root, name="agent", start=start, end=start + 1000,
                  attributes={"openinference.span.kind": "AGENT", "session.id": session,
                              "llm.cost.total": 99.0, "llm.token_count.total": 99_999}),
        llm_span(trace, root, "gpt-4o-mini-2024-07-18", 1000, 200, start + 1),
        llm_span(trace, root, "some-model", 10, 10, start + 2, **{"llm.cost.total": 0.5}),
        llm_span(trace, root, "in-house-model-v7", 50, 5, start + 3),
    ], "costs")


# gpt-4o-mini: $0.15 / $0.60 per million tokens; the provider-reported $0.5.
TURN_COST = 1000 * 150_000 + 200 * 600_000 + PICO // 2


def test_span_cost_is_stored_with_its_source(store: Store) -> None:
    turn = priced_turn("s", 0)
    store.write_spans(turn)
    by_name = {s.name: s for s in store.get_trace(turn[0].trace_id)[1]}
    table = by_name["llm gpt-4o-mini-2024-07-18"]
    assert table.promoted.cost == 1000 * 150_000 + 200 * 600_000
    assert table.cost_summary == {
        "source": "price_table", "priced_as": "gpt-4o-mini",
        "prices_read_on": table.cost_summary["prices_read_on"] if table.cost_summary else None,
    }
    assert table.attributes["llm.cost.total"] == pytest.approx(0.00027)
    assert "llm.cost.total" in table.derived
    reported = by_name["llm some-model"]
    assert reported.promoted.cost == PICO // 2
    assert reported.cost_summary == {"source": "reported"}
    assert "llm.cost.total" not in reported.derived
    unpriced = by_name["llm in-house-model-v7"]
    assert unpriced.promoted.cost is None
    assert "in-house-model-v7" in (unpriced.cost_summary or {})["note"]


def test_trace_and_session_cost_is_exact_in_any_order(open_store: Callable[[], Store]) -> None:
    store = open_store()
    for seed in range(3):
        session = f"s-{seed}"
        spans = [r for k in range(3) for r in priced_turn(session, k)]
        random.Random(seed).shuffle(spans)
        for start in range(0, len(spans), 4):
            store.write_spans(spans[start : start + 4])
            store.write_spans(spans[max(0, start - 3) : start + 1])  # overlapping retries
        for trace in {r.trace_id for r in spans}:
            summary = store.get_trace(trace)[0]
            assert (summary.cost, summary.unpriced_spans) == (TURN_COST, 1)
        got = store.get_session(store.get_project("costs"), session)
        assert (got.cost, got.unpriced_spans, got.trace_count) == (3 * TURN_COST, 3, 3)


def test_cost_survives_re_derivation_by_logs(store: Store) -> None:
    trace, span = trace_id(), span_id()
    store.write_spans(span_records([genai_call(trace, span)]))
    before = store.get_trace(trace.hex())[0]
    store.write_logs(log_records(message_logs(trace, span)))
    after = store.get_trace(trace.hex())[0]
    assert before.cost == after.cost == 1000 * 150_000 + 200 * 600_000
    assert store.get_span(span.hex()).promoted.cost == after.cost
