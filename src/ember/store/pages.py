"""Trace and session pages for the Phoenix-compatible listings, from the roll-up tables alone.

Traces are read from `traces` (their roll-ups), never from the spans' attributes or payload:
`include_spans` adds the spans' tree columns only. Pages are keyset pages on (sort value, row
id), so rows written or deleted while a client pages never make it skip or repeat a row that
stayed; the cursor remembers the sort it was made for. Sessions page on their row id.

A session's p50 and p99 trace latency are not roll-up columns: they are ranked at read time
from the one query over `traces` that already loads the traces of the page's sessions (served
by the partial index ix_traces_session), never from spans or payloads. Annotation briefs of a
page's traces or spans are loaded in one query per chunk of ids (store/annotations.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from ember.errors import BadRequest, NotFound
from ember.model import (
    AnnotationBrief,
    Page,
    Project,
    SessionItem,
    SessionSummary,
    SessionTrace,
    SpanBrief,
    TraceItem,
    TraceQuery,
)
from ember.store import listings
from ember.store.annotations import annotations_by_target
from ember.store.dialects import chunks
from ember.store.metrics import percentile
from ember.store.rows import trace_summary
from ember.store.schema import projects, sessions, spans, traces

ORDERS = ("asc", "desc")


def page_traces(
    readers: Engine,
    project: Project,
    q: TraceQuery,
    cursor: str | None,
    limit: int,
    spans_of: listings.SpansOfTrace,
) -> Page[TraceItem]:
    """A project's traces matching `q`, in its order (store/listings.py pages them, so cursors
    and filters work as in every listing); `next_cursor` is None on the last page."""
    if q.order not in ORDERS:
        raise BadRequest(f"order must be one of {ORDERS}")
    listing = listings.Listing(
        condition=q.condition,
        sort=q.sort,
        descending=q.order == "desc",
        start_from=q.start_time_from,
        start_to=q.start_time_to,
        limit=limit,
        cursor=cursor,
    )
    with readers.connect() as conn:
        rows, next_cursor = listings.trace_page(
            conn, project, listing, spans_of, _trace_filters(project, q)
        )
        briefs = _span_briefs(conn, [row.id for row in rows]) if q.include_spans else None
    items = [
        TraceItem(
            id=row.id,
            project_id=row.project_id,
            summary=trace_summary(row),
            spans=None if briefs is None else briefs.get(row.id, []),
        )
        for row in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


def _trace_filters(project: Project, q: TraceQuery) -> list[sa.ColumnElement[bool]]:
    """Phoenix's trace parameters (sessions, error, latency bounds) as SQL conditions."""
    where: list[sa.ColumnElement[bool]] = []
    latency = traces.c.end_time - traces.c.start_time
    if q.session_ids or q.session_rowids:
        of_sessions = []
        if q.session_ids:
            of_sessions.append(traces.c.session_id.in_(sorted(set(q.session_ids))))
        if q.session_rowids:
            of_sessions.append(traces.c.session_id.in_(
                sa.select(sessions.c.session_id).where(
                    sessions.c.id.in_(sorted(set(q.session_rowids))),
                    sessions.c.project_id == project.id,
                )
            ))
        where.append(sa.or_(*of_sessions))
    if q.error is not None:
        where.append(traces.c.error_count > 0 if q.error else traces.c.error_count == 0)
    if q.min_latency_ns is not None:
        where.append(latency >= q.min_latency_ns)
    if q.max_latency_ns is not None:
        where.append(latency <= q.max_latency_ns)
    return where


def _span_briefs(conn: Connection, trace_rowids: Sequence[int]) -> dict[int, list[SpanBrief]]:
    """The tree columns of these traces' spans, by trace row id, in start order."""
    found: dict[int, list[SpanBrief]] = {}
    for chunk in chunks(sorted(trace_rowids)):
        for row in conn.execute(
            sa.select(
                spans.c.id, spans.c.trace_rowid, spans.c.span_id, spans.c.parent_id,
                spans.c.name, spans.c.span_kind, spans.c.status_code, spans.c.start_time,
                spans.c.end_time,
            )
            .where(spans.c.trace_rowid.in_(chunk))
            .order_by(spans.c.start_time, spans.c.id)
        ):
            found.setdefault(row.trace_rowid, []).append(SpanBrief(
                id=row.id, span_id=row.span_id, parent_id=row.parent_id, name=row.name,
                span_kind=row.span_kind, status_code=row.status_code,
                start_time=row.start_time, end_time=row.end_time,
            ))
    return found


def trace_id_by_rowid(readers: Engine, rowid: int) -> str:
    """The trace id of a trace row; raises NotFound."""
    with readers.connect() as conn:
        trace_id = conn.execute(
            sa.select(traces.c.trace_id).where(traces.c.id == rowid)
        ).scalar()
    if trace_id is None:
        raise NotFound(f"no trace with row id {rowid}")
    return str(trace_id)


# ----------------------------------------------------------------------------------- sessions


def page_sessions(
    readers: Engine,
    project: Project,
    order: str,
    cursor: str | None,
    limit: int,
    listing: listings.Listing | None = None,
) -> Page[SessionItem]:
    """A project's sessions, each with its traces: by row id (`order` asc or desc) unless
    `listing` sorts them otherwise; `listing`'s filter applies."""
    if order not in ORDERS:
        raise BadRequest(f"order must be one of {ORDERS}")
    base = listing or listings.Listing(sort="id")
    listing = replace(base, descending=order == "desc", cursor=cursor, limit=limit)
    with readers.connect() as conn:
        rows, next_cursor = listings.session_page(conn, project, listing)
        items = _session_items(conn, rows)
    return Page(items=items, next_cursor=next_cursor)


def find_session(readers: Engine, rowid: int | None, session_id: str | None) -> SessionItem:
    """A session by row id, or by its own id when exactly one project has a session of that
    id; raises NotFound, or BadRequest when several projects do."""
    query = _session_select()
    if rowid is not None:
        query = query.where(sessions.c.id == rowid)
        missing = f"no session with row id {rowid}"
    else:
        query = query.where(sessions.c.session_id == session_id)
        missing = f"no session with id {session_id!r}"
    with readers.connect() as conn:
        rows = list(conn.execute(query.order_by(sessions.c.id).limit(2)))
        if not rows:
            raise NotFound(missing)
        if len(rows) > 1:
            raise BadRequest(
                f"several projects have a session with id {session_id!r}: name it by its "
                "GlobalID (the `id` of GET /v1/projects/{project}/sessions)"
            )
        (item,) = _session_items(conn, rows)
    return item


def session_keys(
    readers: Engine, rowids: Sequence[int], session_ids: Sequence[str]
) -> list[tuple[int, str]]:
    """(project row id, session id) of the sessions with these row ids or these own ids (in
    every project that has them)."""
    keys: set[tuple[int, str]] = set()
    with readers.connect() as conn:
        for column, values in ((sessions.c.id, rowids), (sessions.c.session_id, session_ids)):
            for chunk in chunks(sorted(set(values))):
                keys.update(
                    (row.project_id, row.session_id) for row in conn.execute(
                        sa.select(sessions.c.project_id, sessions.c.session_id)
                        .where(column.in_(chunk))
                    )
                )
    return sorted(keys)


def _session_select() -> sa.Select[Any]:
    return sa.select(sessions, projects.c.name.label("project_name")).join(
        projects, projects.c.id == sessions.c.project_id
    )


def _session_items(conn: Connection, rows: Sequence[Row[Any]]) -> list[SessionItem]:
    """The sessions of these rows with their traces (one query for all of them)."""
    traces_of: dict[tuple[int, str], list[SessionTrace]] = {}
    by_project: dict[int, list[str]] = {}
    for row in rows:
        by_project.setdefault(row.project_id, []).append(row.session_id)
    for project_id, session_ids in by_project.items():
        for chunk in chunks(sorted(session_ids)):
            # No ORDER BY: with one, SQLite (no ANALYZE statistics) walks the project's
            # whole start-time index instead of ix_traces_session; the few rows of a page's
            # sessions are put in time order below.
            for trace in conn.execute(
                sa.select(
                    traces.c.id, traces.c.trace_id, traces.c.start_time, traces.c.end_time,
                    traces.c.session_id,
                )
                .where(traces.c.project_id == project_id, traces.c.session_id.in_(chunk))
            ):
                traces_of.setdefault((project_id, trace.session_id), []).append(SessionTrace(
                    id=trace.id, trace_id=trace.trace_id, start_time=trace.start_time,
                    end_time=trace.end_time,
                ))
    for members in traces_of.values():
        members.sort(key=lambda t: (t.start_time, t.trace_id))
    items = []
    for row in rows:
        members = traces_of.get((row.project_id, row.session_id), [])
        summary = _with_latencies(
            listings.session_summary(row, [t.trace_id for t in members]),
            [t.end_time - t.start_time for t in members],
        )
        items.append(SessionItem(
            id=row.id, project_id=row.project_id, summary=summary, traces=members
        ))
    return items


def get_session(readers: Engine, project: Project, session_id: str) -> SessionSummary:
    """A session of the project: its roll-up, its trace ids in time order and its traces'
    latency percentiles (one query over `traces`); raises NotFound."""
    with readers.connect() as conn:
        row = conn.execute(
            sa.select(sessions, sa.literal(project.name).label("project_name")).where(
                sessions.c.project_id == project.id, sessions.c.session_id == session_id
            )
        ).first()
        if row is None:
            raise NotFound(f"no session {session_id!r} in project {project.name!r}")
        members = conn.execute(
            sa.select(traces.c.trace_id, traces.c.start_time, traces.c.end_time)
            .where(traces.c.project_id == project.id, traces.c.session_id == session_id)
            .order_by(traces.c.start_time, traces.c.trace_id)
        ).all()
    return _with_latencies(
        listings.session_summary(row, [t.trace_id for t in members]),
        [t.end_time - t.start_time for t in members],
    )


def _with_latencies(summary: SessionSummary, latencies_ns: list[int]) -> SessionSummary:
    """The summary with the nearest-rank p50 and p99 of these trace latencies, in ms (the
    definition store/metrics.py uses for a project's charts); None for no traces."""
    latencies_ns.sort()
    p50, p99 = percentile(latencies_ns, 0.5), percentile(latencies_ns, 0.99)
    return replace(
        summary,
        latency_ms_p50=None if p50 is None else p50 / 1e6,
        latency_ms_p99=None if p99 is None else p99 / 1e6,
    )


# -------------------------------------------------------------------------- annotation briefs

ANNOTATED_KINDS = ("span", "trace", "session")


def annotation_briefs(
    readers: Engine, target_kind: str, target_ids: Sequence[str]
) -> dict[str, list[AnnotationBrief]]:
    """The annotations of these targets of one kind, by target id: oldest first within a name,
    names in the order their first annotation was written. One query per chunk of ids."""
    if target_kind not in ANNOTATED_KINDS:
        raise BadRequest(f"annotation target kind must be one of {ANNOTATED_KINDS}")
    if not target_ids:
        return {}
    with readers.connect() as conn:
        found = annotations_by_target(conn, target_kind, target_ids)
    briefs: dict[str, list[AnnotationBrief]] = {}
    for (target_id, name), notes in found.items():
        briefs.setdefault(target_id, []).extend(
            AnnotationBrief(
                name=name,
                label=note["label"],
                score=note["score"],
                annotator_kind=note["annotator_kind"],
                identifier=note["identifier"],
            )
            for note in notes
        )
    return briefs

