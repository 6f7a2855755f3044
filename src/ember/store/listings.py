"""Filtered, sorted, keyset-paged listings of a project's spans, traces and sessions.

The listings read only what a table row shows: spans with their attributes (payloads are
decoded for the rows returned, and for candidates only when part of the filter needs Python);
traces and sessions from their roll-up rows, never their spans' payloads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from ember.errors import BadRequest
from ember.model import Page, Project, SessionSummary, StoredSpan
from ember.query.ast import Condition, Target, walk
from ember.query.evaluate import Evaluator, RowView
from ember.store import search
from ember.store.filters import Plan, RowSource, compile_filter, span_source
from ember.store.rowviews import RollUpView, SpanView
from ember.store.schema import projects, sessions, spans, traces

StoredSpans = Callable[[Connection, Sequence[Row[Any]]], list[StoredSpan]]
SpansOfTrace = Callable[[Connection, int, str | None], list[StoredSpan]]


@dataclass(frozen=True, slots=True)
class Listing:
    """What a listing asks: a filter tree (of the listing's target), a sort, a time range on
    start times ([start_from, start_to) in unix ns) and a page."""

    condition: Condition | None = None
    sort: str = "start_time"
    descending: bool = True
    start_from: int | None = None
    start_to: int | None = None
    limit: int = 100
    cursor: str | None = None


# The sort keys each listing accepts; nullable columns sort as -1 so keyset positions exist.
_SORTS: dict[Target, Mapping[str, Any]] = {
    "span": {
        "start_time": spans.c.start_time,
        "end_time": spans.c.end_time,
        "latency_ms": spans.c.end_time - spans.c.start_time,
        "prompt_tokens": sa.func.coalesce(spans.c.prompt_tokens, -1),
        "completion_tokens": sa.func.coalesce(spans.c.completion_tokens, -1),
        "total_tokens": sa.func.coalesce(spans.c.total_tokens, -1),
        "cost": sa.func.coalesce(spans.c.cost, -1),
    },
    "trace": {
        "start_time": traces.c.start_time,
        "end_time": traces.c.end_time,
        "latency_ms": traces.c.end_time - traces.c.start_time,
        "span_count": traces.c.span_count,
        "error_count": traces.c.error_count,
        "prompt_tokens": traces.c.prompt_tokens,
        "completion_tokens": traces.c.completion_tokens,
        "total_tokens": traces.c.total_tokens,
        "cost": traces.c.cost,
    },
    "session": {
        "id": sessions.c.id,  # creation order, as Phoenix lists sessions
        "start_time": sessions.c.start_time,
        "end_time": sessions.c.end_time,
        "latency_ms": sessions.c.end_time - sessions.c.start_time,
        "trace_count": sessions.c.trace_count,
        "error_count": sessions.c.error_count,
        "prompt_tokens": sessions.c.prompt_tokens,
        "completion_tokens": sessions.c.completion_tokens,
        "total_tokens": sessions.c.total_tokens,
        "cost": sessions.c.cost,
    },
}
# Each target's table: its row id, project id and start time order and bound the listings.
_TABLES: dict[Target, sa.Table] = {"span": spans, "trace": traces, "session": sessions}
# Sorts an index serves (schema.py), so a filtered listing can walk them a window at a time
# (store/search.py). Under any other sort a filtered page reads and sorts every row of the
# project, window or not.
_INDEXED_SORTS: dict[Target, frozenset[str]] = {
    "span": frozenset({"start_time"}),
    "trace": frozenset({"start_time", "latency_ms", "cost", "total_tokens", "span_count"}),
    "session": frozenset({"id", "start_time"}),
}


def _order(target: Target, listing: Listing) -> search.Order:
    expression = _SORTS[target].get(listing.sort)
    if expression is None:
        raise BadRequest(
            f"cannot sort {target}s by {listing.sort!r}; one of: {', '.join(_SORTS[target])}"
        )
    return search.Order(listing.sort, expression, _TABLES[target].c.id, listing.descending)


def _narrowed(
    query: sa.Select[Any],
    target: Target,
    listing: Listing,
    dialect: str,
    source: RowSource | None = None,
) -> tuple[sa.Select[Any], Plan | None, Evaluator]:
    evaluator = Evaluator(time.time_ns())
    query = query.where(*_time_range(target, listing))
    if listing.condition is None:
        return query, None, evaluator
    plan = compile_filter(listing.condition, target, dialect, evaluator.now_ns, source)
    return query.where(plan.where), plan, evaluator


def _time_range(target: Target, listing: Listing) -> list[ColumnElement[bool]]:
    start = _TABLES[target].c.start_time
    bounds = []
    if listing.start_from is not None:
        bounds.append(start >= listing.start_from)
    if listing.start_to is not None:
        bounds.append(start < listing.start_to)
    return bounds


def _frame(
    target: Target, listing: Listing, order: search.Order, project_id: int
) -> sa.Select[Any] | None:
    """The unfiltered rows a filtered page walks a window at a time, when an index serves the
    sort; None otherwise."""
    if listing.sort not in _INDEXED_SORTS[target]:
        return None
    return sa.select(order.expression.label("sort_value")).where(
        _TABLES[target].c.project_id == project_id, *_time_range(target, listing)
    )


def reads_annotations(condition: Condition | None) -> bool:
    """Whether the filter reads annotations (so the Python check must load them)."""
    return condition is not None and any(
        getattr(node, "kind", None) == "annotation" for node in walk(condition)
    )


ViewsOf = Callable[[Sequence[Row[Any]], Condition], Sequence[RowView]]


def _page(
    conn: Connection,
    target: Target,
    project_id: int,
    query: sa.Select[Any],
    listing: Listing,
    views: ViewsOf,
    source: RowSource | None = None,
    on_match: Callable[[RowView], None] | None = None,
) -> tuple[list[Row[Any]], str | None]:
    """One page of `query` (the target's rows of one project) under `listing`: the filter's
    SQL part narrows the query, a window at a time when an index serves the sort; its Python
    part, if any, is checked on `views(rows, residual)` of each chunk, and `on_match` sees the
    view of each row that passes."""
    order = _order(target, listing)
    query = query.add_columns(
        order.expression.label("sort_value"), _TABLES[target].c.id.label("row_id")
    )
    query, plan, evaluator = _narrowed(query, target, listing, conn.dialect.name, source)
    check = None
    if plan is not None and plan.residual is not None:
        residual = plan.residual

        def check(rows: Sequence[Row[Any]]) -> list[bool]:
            verdicts = []
            for view in views(rows, residual):
                ok = evaluator.matches(residual, view)
                if ok and on_match is not None:
                    on_match(view)
                verdicts.append(ok)
            return verdicts

    if plan is None or plan.index == "column":
        # Unfiltered, or a B-tree finds the rows: the page is read at once.
        return search.page(conn, query, order, listing.cursor, listing.limit, check)
    frame = _frame(target, listing, order, project_id)
    rows, cursor = search.page(conn, query, order, listing.cursor, listing.limit, check, frame)
    short = cursor is not None and len(rows) < listing.limit
    if plan.index == "containment" and frame is not None and short:
        # PostgreSQL's planner cannot tell a common value from a rare one in the GIN index:
        # reading every match of a common one and sorting them costs more than a window,
        # which fills the page at once. A value rare enough to leave the window short is
        # found through the index instead, without walking more windows.
        return search.page(conn, query, order, listing.cursor, listing.limit, check)
    return rows, cursor


def span_page(
    conn: Connection,
    project_id: int,
    base: sa.Select[Any],
    listing: Listing,
    stored_spans: StoredSpans,
) -> Page[StoredSpan]:
    """`base` selects the spans rows (joined with their trace and project) of the project."""
    matched: dict[int, StoredSpan] = {}  # decoded for the check, reused for the page

    def keep(view: RowView) -> None:
        assert isinstance(view, SpanView)
        matched[view.span.id] = view.span

    def views(rows: Sequence[Row[Any]], residual: Condition) -> list[SpanView]:
        items = stored_spans(conn, rows)
        notes = _annotation_lookup(conn, "span", [s.span_id for s in items], residual)
        return [SpanView(item, partial(notes, item.span_id)) for item in items]

    # `base` joins the span's trace, so its trace id is read from there.
    source = span_source(spans, trace_id=traces.c.trace_id)
    rows, next_cursor = _page(conn, "span", project_id, base, listing, views, source, keep)
    items = [matched[row.id] for row in rows] if matched else stored_spans(conn, rows)
    return Page(items=items, next_cursor=next_cursor)


def trace_page(
    conn: Connection,
    project: Project,
    listing: Listing,
    spans_of: SpansOfTrace,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[list[Row[Any]], str | None]:
    """The `traces` rows (with `project_name`) of one page, and the next cursor.

    `spans_of(conn, trace row id, span id or None)` decodes a trace's spans (or one), for the
    parts of a filter on root attributes or `any(...)` that SQL could not decide; `where` adds
    conditions of the caller's own (Phoenix's trace parameters)."""

    def views(rows: Sequence[Row[Any]], residual: Condition) -> list[RollUpView]:
        notes = _annotation_lookup(conn, "trace", [r.trace_id for r in rows], residual)
        span_notes = partial(_span_annotation, conn) if reads_annotations(residual) else None
        return [
            RollUpView(
                row,
                attributes=partial(_root_attributes, conn, row, spans_of),
                spans=partial(spans_of, conn, row.id, None),
                annotations=partial(notes, row.trace_id),
                span_annotations=span_notes,
            )
            for row in rows
        ]

    query = (
        sa.select(traces, projects.c.name.label("project_name"))
        .join(projects, projects.c.id == traces.c.project_id)
        .where(traces.c.project_id == project.id, *where)
    )
    return _page(conn, "trace", project.id, query, listing, views)


def session_page(
    conn: Connection, project: Project, listing: Listing
) -> tuple[list[Row[Any]], str | None]:
    """The `sessions` rows (with `project_name`) of one page, and the next cursor."""

    def views(rows: Sequence[Row[Any]], residual: Condition) -> list[RollUpView]:
        notes = _annotation_lookup(conn, "session", [r.session_id for r in rows], residual)
        return [RollUpView(row, annotations=partial(notes, row.session_id)) for row in rows]

    query = (
        sa.select(sessions, projects.c.name.label("project_name"))
        .join(projects, projects.c.id == sessions.c.project_id)
        .where(sessions.c.project_id == project.id)
    )
    return _page(conn, "session", project.id, query, listing, views)


def session_summary(row: Row[Any], trace_ids: Sequence[str] = ()) -> SessionSummary:
    """A session row's roll-up (a listing leaves `trace_ids` empty)."""
    return SessionSummary(
        session_id=row.session_id,
        project_name=row.project_name,
        start_time=row.start_time,
        end_time=row.end_time,
        trace_count=row.trace_count,
        error_count=row.error_count,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.total_tokens,
        first_input=row.first_input,
        last_output=row.last_output,
        user_id=row.user_id,
        trace_ids=list(trace_ids),
        cost=row.cost,
        unpriced_spans=row.unpriced_spans,
    )


# --- what the Python part of a filter reads ------------------------------------------------


def _root_attributes(
    conn: Connection, row: Row[Any], spans_of: SpansOfTrace
) -> Mapping[str, Any]:
    if row.root_span_id is None:
        return {}
    found = spans_of(conn, row.id, row.root_span_id)
    return found[0].attributes if found else {}


def _span_annotation(conn: Connection, span_id: str, name: str) -> list[dict[str, Any]]:
    """One span's annotations of one name (for `any(...)` over annotations left to Python)."""
    from ember.store.annotations import annotations_by_target

    return annotations_by_target(conn, "span", [span_id]).get((span_id, name), [])


def _annotation_lookup(
    conn: Connection, kind: str, target_ids: list[str], condition: Condition
) -> Callable[[str, str], list[dict[str, Any]]]:
    """Annotations of these rows by (target id, name), loaded once per chunk, only when the
    Python part of the filter reads annotations."""
    if not reads_annotations(condition):
        return lambda _key, _name: []
    from ember.store.annotations import annotations_by_target

    found = annotations_by_target(conn, kind, target_ids)
    return lambda key, name: found.get((key, name), [])
