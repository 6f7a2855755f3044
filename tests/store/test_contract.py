"""The storage contract (ember.store.base), run against every backend through the `store` fixture
(tests/store/conftest.py).

Records are made the way the server makes them: OTLP requests through the Normalizer.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from ember.errors import NotFound
from ember.model import SpanFilter, SpanRecord, StoredSpan
from ember.store.base import Store
from tests.helpers import BASE_NS, make_request, make_span, span_id, trace_id
from tests.store.conftest import NORMALIZER

OK, ERROR = 1, 2


def stored_raw(span: StoredSpan) -> dict[str, Any]:
    """A stored span's attributes as sent, without the keys Ember derived."""
    return {k: v for k, v in span.attributes.items() if k not in span.derived}


def replace(record: SpanRecord, **changes: Any) -> SpanRecord:
    return record._replace(**changes)


def records(
    spans: Sequence[Any], project: str = "proj", resource: dict[str, Any] | None = None
) -> list[SpanRecord]:
    batch = NORMALIZER.normalize(
        make_request(spans, resource or {"openinference.project.name": project})
    )
    assert batch.rejected == 0, batch.message
    return batch.spans


def a_trace(n: int = 4, *, errors: int = 0, project: str = "proj") -> list[SpanRecord]:
    """A root and n-1 children, the last `errors` of them in error; distinct times."""
    trace, root = trace_id(), span_id()
    spans = [make_span(trace, root, name="root", start=BASE_NS, end=BASE_NS + 10_000)]
    for k in range(1, n):
        spans.append(make_span(
            trace, span_id(), root, name=f"child{k}", start=BASE_NS + k * 1000,
            end=BASE_NS + 20_000 + k * 7,  # children may end after the root
            status_code=ERROR if k > n - 1 - errors else OK,
            attributes={"k": k, "input.value": f"question {k} " + "x" * 100},
        ))
    return records(spans, project)


def stored(store: Store, trace: str) -> list[StoredSpan]:
    return store.get_trace(trace)[1]


def assert_rollup(store: Store, expected: Sequence[SpanRecord]) -> None:
    """The trace's roll-up equals what its distinct spans say."""
    distinct = {r.span_id: r for r in expected}.values()
    summary, spans = store.get_trace(next(iter(distinct)).trace_id)
    assert summary.span_count == len(distinct) == len(spans)
    assert summary.error_count == sum(r.status_code == ERROR for r in distinct)
    assert summary.start_time == min(r.start_time for r in distinct)
    assert summary.end_time == max(r.end_time for r in distinct)


def all_spans(store: Store, project: str) -> list[StoredSpan]:
    out: list[StoredSpan] = []
    cursor = None
    while True:
        page = store.list_spans(store.get_project(project), SpanFilter(), cursor, 3)
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


# ------------------------------------------------------------------------------ writes


def test_write_returns_how_many_were_new_and_stores_them(store: Store) -> None:
    batch = a_trace(5, errors=2)
    assert store.write_spans(batch) == 5
    assert store.count_spans() == 5
    assert_rollup(store, batch)


def test_empty_batch(store: Store) -> None:
    assert store.write_spans([]) == 0
    assert store.count_spans() == 0


def test_same_batch_twice_is_stored_once(store: Store) -> None:
    batch = a_trace(4, errors=1)
    assert store.write_spans(batch) == 4
    assert store.write_spans(batch) == 0
    assert store.count_spans() == 4
    assert_rollup(store, batch)


def test_retries_in_any_overlap_keep_rollups_exact(store: Store) -> None:
    batch = a_trace(6, errors=2)
    store.write_spans(batch[2:4])
    store.write_spans(batch[:3])  # one old, two new
    store.write_spans(batch[3:])  # one old, two new
    store.write_spans(batch)  # all old
    store.write_spans(list(reversed(batch)))
    assert store.count_spans() == 6
    assert_rollup(store, batch)


def test_duplicate_within_one_batch_is_stored_once(store: Store) -> None:
    batch = a_trace(3, errors=1)
    assert store.write_spans([batch[0], batch[1], batch[0], batch[2], batch[2]]) == 3
    assert store.count_spans() == 3
    assert_rollup(store, batch)


def test_duplicate_within_a_batch_beside_already_stored_spans(store: Store) -> None:
    batch = a_trace(4, errors=2)
    store.write_spans(batch[:2])
    assert store.write_spans([batch[1], batch[2], batch[2], batch[3], batch[1]]) == 2
    assert_rollup(store, batch)


def test_first_copy_wins(store: Store) -> None:
    (original,) = a_trace(1)
    changed = replace(original, name="changed", status_code=ERROR, end_time=original.end_time * 2)
    store.write_spans([original])
    assert store.write_spans([changed]) == 0
    (got,) = stored(store, original.trace_id)
    assert got.name == original.name
    assert_rollup(store, [original])
    # Within one batch too.
    (other,) = a_trace(1)
    store.write_spans([other, replace(other, name="second")])
    assert [s.name for s in stored(store, other.trace_id)] == [other.name]


def test_many_traces_in_one_batch(store: Store) -> None:
    traces = [a_trace(3, errors=k % 2) for k in range(20)]
    assert store.write_spans([r for t in traces for r in t]) == 60
    for t in traces:
        assert_rollup(store, t)


def test_children_before_parents_across_batches(store: Store) -> None:
    batch = a_trace(5, errors=1)
    root, children = batch[0], batch[1:]
    store.write_spans(children[2:])
    store.write_spans([root])
    store.write_spans(children[:2])
    spans = stored(store, root.trace_id)
    ids = {s.span_id for s in spans}
    assert ids == {r.span_id for r in batch}
    assert all(s.parent_id is None or s.parent_id in ids for s in spans)
    assert_rollup(store, batch)


def test_every_arrival_order_gives_the_same_trace(open_store: Callable[[], Store]) -> None:
    store = open_store()
    batch = a_trace(4, errors=1)
    for order in ([3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]):
        # Fresh ids per order, same shape.
        t, ids = trace_id().hex(), {r.span_id: span_id().hex() for r in batch}
        copies = [
            replace(r, trace_id=t, span_id=ids[r.span_id],
                    parent_id=ids[r.parent_id] if r.parent_id else None)
            for r in batch
        ]
        for index in order:
            store.write_spans([copies[index]])
        assert_rollup(store, copies)
        shape = sorted((s.name, s.parent_id is None) for s in stored(store, t))
        assert shape == sorted((r.name, r.parent_id is None) for r in batch)


def test_first_stored_span_fixes_the_project(store: Store) -> None:
    batch = a_trace(3)
    first = [replace(batch[1], project_name="first")]
    later = [replace(r, project_name="later") for r in (batch[0], batch[2])]
    store.write_spans(first)
    store.write_spans(later)
    summary, spans = store.get_trace(batch[0].trace_id)
    assert summary.project_name == "first"
    assert {s.project_name for s in spans} == {"first"}
    assert {s.span_id for s in all_spans(store, "first")} == {r.span_id for r in batch}
    later_ids = {s.span_id for s in _spans_or_none(store, "later")}
    assert later_ids.isdisjoint({r.span_id for r in batch})
    # Spans that joined another project's trace leave no empty project behind.
    assert "later" not in {p.name for p in store.list_projects()}


def test_within_a_batch_the_first_span_fixes_the_project(store: Store) -> None:
    batch = a_trace(3)
    mixed = [replace(batch[0], project_name="one"), replace(batch[1], project_name="two"),
             replace(batch[2], project_name="one")]
    store.write_spans(mixed)
    summary, spans = store.get_trace(batch[0].trace_id)
    assert summary.project_name == "one"
    assert {s.project_name for s in spans} == {"one"}
    assert "two" not in {p.name for p in store.list_projects()}


def _spans_or_none(store: Store, project: str) -> list[StoredSpan]:
    try:
        return all_spans(store, project)
    except NotFound:
        return []


def test_a_failing_batch_stores_nothing(store: Store) -> None:
    """Atomic per batch: one span the database can't take fails the whole batch, which leaves
    no span, trace, project or roll-up behind, and the store keeps working."""
    good = a_trace(3, project="atomic")
    before = a_trace(2, project="atomic")
    store.write_spans(before)
    poison = replace(a_trace(1, project="atomic-new")[0], start_time=2**64 - 1)
    extra = replace(before[1], span_id=span_id().hex(), status_code=ERROR)
    with pytest.raises(Exception):  # noqa: B017 - whatever the database raises
        store.write_spans([*good, extra, poison])
    assert store.count_spans() == 2
    with pytest.raises(NotFound):
        store.get_trace(good[0].trace_id)
    with pytest.raises(NotFound):
        store.get_trace(poison.trace_id)
    with pytest.raises(NotFound):
        store.get_project("atomic-new")
    assert_rollup(store, before)
    # Still serving, and the same good spans go in afterwards.
    assert store.write_spans([*good, extra]) == 4
    assert_rollup(store, good)
    assert_rollup(store, [*before, extra])


def test_readers_never_see_half_a_batch(store: Store) -> None:
    size, batches = 40, 25
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(store.count_spans())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(batches):
            store.write_spans([r for _ in range(size // 4) for r in a_trace(4)])
    finally:
        done.set()
        reader.join()
    assert seen
    assert all(count % size == 0 for count in seen), sorted(set(seen))
    assert store.count_spans() == size * batches


def test_stored_on_return_and_after_reopening(open_store: Callable[[], Store]) -> None:
    batch = a_trace(3, errors=1)
    first = open_store()
    first.write_spans(batch)
    first.close()
    again = open_store()
    assert again.count_spans() == 3
    assert_rollup(again, batch)
    assert again.write_spans(batch) == 0  # idempotent across store instances too


# ------------------------------------------------------------------------------ what is stored


def test_everything_sent_reads_back(store: Store) -> None:
    trace, parent, child = trace_id(), span_id(), span_id()
    span = make_span(
        trace, child, parent, "llm", kind=3, start=BASE_NS, end=BASE_NS + 123_456_789,
        status_code=ERROR, status_message="boom",
        attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
            "llm.token_count.prompt": 3, "llm.token_count.completion": 4,
            "session.id": "s1", "user.id": "u1",
            "input.value": "x" * 10_000, "short": "y", "n": 2**62, "f": 0.25, "b": False,
            "list": list(range(100)), "small_list": ["a", "b"], "map": {"k": [1, {"z": None}]},
            "llm.input_messages.0.message.content": "hi", "raw": b"\x00\x01",
            "nan": float("nan"),
        },
        events=[("exception", BASE_NS + 5, {"exception.type": "ValueError"})],
    )
    span.trace_state = "a=1"
    span.dropped_events_count = 2
    link = span.links.add(trace_id=trace, span_id=parent)
    link.attributes.add(key="why").value.string_value = "retry"
    (record,) = records([span], resource={"service.name": "svc", "host": "h1"})
    record = replace(record, truncated={"input.value": 20_000})
    store.write_spans([record])
    (got,) = stored(store, trace.hex())

    assert (got.trace_id, got.span_id, got.parent_id) == (trace.hex(), child.hex(), parent.hex())
    assert (got.name, got.otel_kind, got.span_kind) == ("llm", 3, "LLM")
    assert (got.start_time, got.end_time) == (BASE_NS, BASE_NS + 123_456_789)
    assert (got.status_code, got.status_message) == (ERROR, "boom")
    assert stored_raw(got) == record.attributes
    assert got.derived == record.derived
    assert got.attribute_types == record.attribute_types
    assert got.truncated == {"input.value": 20_000}
    assert got.events == record.events
    assert got.links == record.links
    assert (got.trace_state, got.dropped_events_count) == ("a=1", 2)
    assert got.resource["attributes"] == {"service.name": "svc", "host": "h1"}
    assert (got.scope["name"], got.scope["version"]) == ("ember.tests", "0.0.1")
    assert got.project_name == "svc"
    assert got.promoted == record.promoted


# ------------------------------------------------------------------------------ reads


def test_list_spans_newest_first_with_cursors(store: Store) -> None:
    project = f"list-{secrets.token_hex(3)}"
    batch = a_trace(7, project=project)
    store.write_spans(batch)
    listed = all_spans(store, project)  # pages of 3
    assert [s.span_id for s in listed] == [
        r.span_id for r in sorted(batch, key=lambda r: r.start_time, reverse=True)
    ]


def test_list_spans_filters(store: Store) -> None:
    batch = a_trace(5, errors=2, project="filters")
    store.write_spans(batch)
    project = store.get_project("filters")

    def ids(f: SpanFilter) -> set[str]:
        return {s.span_id for s in store.list_spans(project, f, None, 100).items}

    assert ids(SpanFilter(roots_only=True)) == {batch[0].span_id}
    assert ids(SpanFilter(status_codes=(ERROR,))) == {r.span_id for r in batch[3:]}
    assert ids(SpanFilter(parent_id=batch[0].span_id.upper())) == {r.span_id for r in batch[1:]}
    assert ids(SpanFilter(trace_ids=(batch[0].trace_id.upper(),))) == {r.span_id for r in batch}
    assert ids(SpanFilter(span_ids=(batch[2].span_id,))) == {batch[2].span_id}
    assert ids(SpanFilter(names=("child1", "child2"))) == {batch[1].span_id, batch[2].span_id}


def test_projects(store: Store) -> None:
    store.write_spans(a_trace(1, project="p-a"))
    store.write_spans(a_trace(1, project="p-b"))
    names = [p.name for p in store.list_projects()]
    assert names == ["p-a", "p-b"]
    by_name = store.get_project("p-b")
    assert store.get_project(str(by_name.id)) == by_name
    with pytest.raises(NotFound):
        store.get_project("missing")


def test_unknown_trace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get_trace("0" * 32)


def test_trace_id_lookup_ignores_case(store: Store) -> None:
    batch = a_trace(2)
    store.write_spans(batch)
    assert store.get_trace(batch[0].trace_id.upper())[0].span_count == 2


def test_ping(store: Store) -> None:
    store.ping()


def test_stored_spans_are_exactly_what_was_sent(store: Store) -> None:
    batch = a_trace(5, errors=1)
    assert store.write_spans(batch) == 5
    by_id = {s.span_id: s for s in stored(store, batch[0].trace_id)}
    for record in batch:
        got = by_id[record.span_id]
        assert stored_raw(got) == record.attributes
        assert got.derived == record.derived
        assert got.events == record.events
        assert got.links == record.links
        assert got.promoted == record.promoted._replace(input_preview=None, output_preview=None)
        assert (got.start_time, got.end_time, got.status_code) == (
            record.start_time, record.end_time, record.status_code
        )
    assert_rollup(store, batch)


# ------------------------------------------------------------------ trace and session roll-ups


def a_session_turn(
    session: str, turn: int, *, user: str = "user-7", agent_tokens: int = 999
) -> list[SpanRecord]:
    """One conversation turn: an AGENT root carrying run totals, two LLM children, a TOOL."""
    trace, root = trace_id(), span_id()
    start = BASE_NS + turn * 1_000_000
    context = {"session.id": session, "user.id": user}
    spans = [
        make_span(trace, root, name="agent", start=start, end=start + 900_000, attributes={
            **context, "openinference.span.kind": "AGENT",
            "input.value": f"question {turn}", "output.value": f"answer {turn}",
            "llm.token_count.total": agent_tokens,  # a run total: must not be counted again
        }),
        make_span(trace, span_id(), root, name="llm-1", start=start + 1, end=start + 10,
                  attributes={**context, "openinference.span.kind": "LLM",
                              "llm.token_count.prompt": 10, "llm.token_count.completion": 5}),
        make_span(trace, span_id(), root, name="llm-2", start=start + 20, end=start + 30,
                  attributes={**context, "openinference.span.kind": "LLM",
                              "llm.token_count.prompt": 7, "llm.token_count.completion": 3,
                              "llm.token_count.total": 10}),
        make_span(trace, span_id(), root, name="tool", start=start + 11, end=start + 19,
                  status_code=ERROR, attributes={**context, "openinference.span.kind": "TOOL"}),
    ]
    return records(spans, "sessions")


def test_trace_rollup_counts_llm_tokens_only_and_names_its_root(store: Store) -> None:
    turn = a_session_turn("s-1", 0)
    store.write_spans(turn)
    summary, _ = store.get_trace(turn[0].trace_id)
    assert (summary.prompt_tokens, summary.completion_tokens, summary.total_tokens) == (
        17, 8, 25
    )
    assert (summary.root_name, summary.root_span_kind, summary.root_span_id) == (
        "agent", "AGENT", turn[0].span_id
    )
    assert (summary.input_preview, summary.output_preview) == ("question 0", "answer 0")
    assert (summary.session_id, summary.user_id) == ("s-1", "user-7")


def test_an_orphan_is_not_the_root(store: Store) -> None:
    turn = a_session_turn("s-orphan", 0)
    children = turn[1:]
    store.write_spans(children)  # the root has not arrived: no root yet
    assert store.get_trace(turn[0].trace_id)[0].root_span_id is None
    store.write_spans([turn[0]])
    assert store.get_trace(turn[0].trace_id)[0].root_name == "agent"


def test_session_rollup_is_exact_in_any_order_with_retries(
    open_store: Callable[[], Store],
) -> None:
    import random

    turns = [a_session_turn("conversation", k) for k in range(3)]
    spans = [r for turn in turns for r in turn]
    expected = None
    store = open_store()
    for seed in range(4):
        shuffled = spans[:]
        random.Random(seed).shuffle(shuffled)
        session_name = f"conversation-{seed}"
        renamed = [_in_session(r, session_name, seed) for r in shuffled]
        for start in range(0, len(renamed), 3):
            store.write_spans(renamed[start : start + 3])
            store.write_spans(renamed[max(0, start - 2) : start + 1])  # overlapping retries
        session = store.get_session(store.get_project("sessions"), session_name)
        got = (
            session.trace_count, session.error_count, session.prompt_tokens,
            session.completion_tokens, session.total_tokens, session.first_input,
            session.last_output, session.user_id, len(session.trace_ids),
        )
        expected = expected or got
        assert got == expected == (3, 3, 51, 24, 75, "question 0", "answer 2", "user-7", 3)
        for trace in {r.trace_id for r in renamed}:
            summary, stored_spans = store.get_trace(trace)
            assert summary.span_count == len(stored_spans) == 4
            assert summary.total_tokens == 25
            assert summary.root_name == "agent"


def _in_session(record: SpanRecord, session: str, seed: int) -> SpanRecord:
    """The same span in another session and trace (so each round is a fresh conversation)."""
    promoted = record.promoted._replace(session_id=session)
    trace = record.trace_id[:-2] + f"{seed:02x}"
    return record._replace(trace_id=trace, promoted=promoted)


def test_a_session_id_change_moves_the_trace(store: Store) -> None:
    """A trace's session is the smallest session id among its spans, whatever arrives last."""
    turn = a_session_turn("b-session", 0)
    store.write_spans(turn[:2])
    project = store.get_project("sessions")
    assert store.get_session(project, "b-session").trace_count == 1
    late = turn[2]._replace(promoted=turn[2].promoted._replace(session_id="a-session"))
    store.write_spans([late, *turn[3:]])
    assert store.get_session(project, "a-session").trace_count == 1
    with pytest.raises(NotFound):
        store.get_session(project, "b-session")
