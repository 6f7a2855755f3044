"""A trace's skeleton (the columns its tree needs, never a payload) and text search in a trace.

Both read through the store's reader engine; `SqlStore.trace_skeleton` and
`SqlStore.search_trace` delegate here, so the SQL of the trace view stays out of sql.py.

The skeleton selects only the short columns of the `spans` table that come before
`attributes` and `payload` in a row, so SQLite never reads the overflow pages of large spans
and PostgreSQL never detoasts them, and has the database pack each column into one JSON
array: a 50,000-span trace is one indexed range read and one row of nine texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection, Engine

from ember.errors import NotFound
from ember.store import codec
from ember.store.logs import logs_by_span
from ember.store.schema import projects, spans, traces

# Skeleton columns, in the order of `TraceSkeleton`'s per-span lists.
_SPAN_COLUMNS = (
    spans.c.span_id,
    spans.c.parent_id,
    spans.c.name,
    spans.c.span_kind,
    spans.c.start_time,
    spans.c.end_time,
    spans.c.status_code,
    spans.c.total_tokens,
    spans.c.cost,
)


@dataclass(frozen=True, slots=True)
class TraceSkeleton:
    """A whole trace, column by column: entry i of every list is span i, spans ordered by
    start time (then the order they were stored). Times are unix nanoseconds, `costs` are
    pico-dollars (None: no cost), `total_tokens` None when the span reported none.

    The trace-level fields are its stored roll-up (see `TraceSummary`)."""

    trace_id: str
    project_name: str
    start_time: int
    end_time: int
    span_count: int
    error_count: int
    total_tokens_sum: int
    cost_sum: int
    span_ids: list[str]
    parent_ids: list[str | None]
    names: list[str]
    span_kinds: list[str]
    start_times: list[int]
    end_times: list[int]
    status_codes: list[int]
    total_tokens: list[int | None]
    costs: list[int | None]


def _trace_row(conn: Connection, trace_id: str) -> Any:
    row = conn.execute(
        sa.select(
            traces.c.id, traces.c.trace_id, traces.c.start_time, traces.c.end_time,
            traces.c.span_count, traces.c.error_count, traces.c.total_tokens, traces.c.cost,
            projects.c.name.label("project_name"),
        )
        .join(projects, projects.c.id == traces.c.project_id)
        .where(traces.c.trace_id == trace_id)
    ).first()
    if row is None:
        raise NotFound(f"no trace with id {trace_id!r}")
    return row


def _columns(conn: Connection, trace_rowid: int) -> list[list[Any]]:
    """The nine skeleton columns of a trace's spans, by start time then row id.

    The database aggregates each column into one JSON array: one row of nine texts that orjson
    reads in C, instead of 50,000 rows of nine values that the driver turns into Python
    objects one by one (which was most of the time of the whole read)."""
    in_trace: sa.ColumnElement[bool] = spans.c.trace_rowid == trace_rowid
    if conn.dialect.name == "postgresql":
        order = (spans.c.start_time, spans.c.id)
        row = conn.execute(sa.select(*(
            sa.cast(sa.func.json_agg(aggregate_order_by(column, *order)), sa.Text)
            for column in _SPAN_COLUMNS
        )).where(in_trace)).one()
        return [[] if text is None else orjson.loads(text) for text in row]
    # SQLite. The (trace_rowid, span_id) index visits a trace's rows in span id order, i.e. at
    # random across the table; its row ids, looked up in order, read the table's pages front
    # to back instead (a trace's spans are mostly stored together): 1.5x faster at 50,000.
    # Rows come in row id order; Python puts them in start order faster than SQLite's sorter
    # (which would also have to carry all nine columns).
    rows = (
        sa.select(*_SPAN_COLUMNS, spans.c.id.label("row_id"))
        .where(spans.c.id.in_(sa.select(spans.c.id).where(in_trace)))
        .subquery()
    )
    row = conn.execute(sa.select(*(sa.func.json_group_array(c) for c in rows.c))).one()
    return in_start_order([orjson.loads(text) for text in row])[:9]


def in_start_order(columns: list[list[Any]]) -> list[list[Any]]:
    """Columns (start times at index 4, row ids last) reordered by (start time, row id),
    unless they are in that order already (checking is a linear pass over sorted input)."""
    keys = list(zip(columns[4], columns[-1], strict=True))
    if keys == sorted(keys):
        return columns
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [[column[i] for i in order] for column in columns]


def load_skeleton(readers: Engine, trace_id: str) -> TraceSkeleton:
    """The skeleton of one trace; raises NotFound."""
    trace_id = trace_id.lower()
    with readers.connect() as conn:
        trace = _trace_row(conn, trace_id)
        columns = _columns(conn, trace.id)
    return TraceSkeleton(
        trace_id=trace.trace_id,
        project_name=trace.project_name,
        start_time=trace.start_time,
        end_time=trace.end_time,
        span_count=trace.span_count,
        error_count=trace.error_count,
        total_tokens_sum=trace.total_tokens,
        cost_sum=trace.cost,
        span_ids=columns[0],
        parent_ids=columns[1],
        names=columns[2],
        span_kinds=columns[3],
        start_times=columns[4],
        end_times=columns[5],
        status_codes=columns[6],
        total_tokens=columns[7],
        costs=columns[8],
    )


def _contains(value: Any, needle: str) -> bool:
    """Whether any string, number or key-free leaf inside a JSON value contains `needle`
    (already lower-cased). Keys are not searched: every LLM span has `llm.` keys."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if needle in item.lower():
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None and not isinstance(item, bool) and needle in str(item):
            return True
    return False


def _may_contain(json_text: str, needle: str, exact: bool) -> bool:
    """A cheap test on JSON text (in C) before walking the decoded values (in Python).

    When `exact` (the needle has no character JSON escapes: quote, backslash, control
    characters), a needle absent from the text is absent from every value. Keys are in the
    text too, so a hit still needs the walk."""
    return not exact or needle in json_text.lower()


def search_in_trace(readers: Engine, trace_id: str, text: str, limit: int) -> list[str]:
    """Ids of the trace's spans (in start order, at most `limit`) whose name, status message,
    attribute values, events or log records contain `text`, or whose kind is `text`, ignoring
    case.
    Raises NotFound for an unknown trace."""
    needle = text.lower()
    exact = not any(ch in needle for ch in '"\\') and all(ord(ch) >= 0x20 for ch in needle)
    found: list[str] = []
    with readers.connect() as conn:
        trace = _trace_row(conn, trace_id.lower())
        logs = logs_by_span(conn, [trace.trace_id])
        rows = conn.execute(
            sa.select(
                spans.c.span_id, spans.c.name, spans.c.span_kind, spans.c.status_message,
                spans.c.attributes, spans.c.payload,
            )
            .where(spans.c.trace_rowid == trace.id)
            .order_by(spans.c.start_time, spans.c.id)
        )
        for row in rows:
            if len(found) >= limit:
                break
            if (
                needle in row.name.lower()
                or needle == row.span_kind.lower()
                or needle in row.status_message.lower()
                or _attributes_match(row.attributes, needle, exact)
                or _payload_matches(row.payload, needle, exact)
                or _contains(logs.get((trace.trace_id, row.span_id), []), needle)
            ):
                found.append(row.span_id)
    return found


def _attributes_match(attributes_json: str, needle: str, exact: bool) -> bool:
    return _may_contain(attributes_json, needle, exact) and _contains(
        orjson.loads(attributes_json), needle
    )


def _payload_matches(payload: bytes, needle: str, exact: bool) -> bool:
    document = codec.decode_payload(payload)
    # The payload's bulky attributes, events and links; "o" holds Ember's own bookkeeping.
    searched = [document.get(key) for key in ("a", "e", "l")]
    return _may_contain(orjson.dumps(searched).decode(), needle, exact) and _contains(
        searched, needle
    )
