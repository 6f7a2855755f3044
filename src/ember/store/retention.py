"""Deleting traces (with everything that hangs off them) and choosing what retention expires.

A trace is deleted with its spans, its spans' log records and the annotations of all of them
(store/annotations.py); the sessions it belonged to are recomputed from the traces left (a
session left without traces disappears, with its annotations). Deletes take the same advisory
locks as writes (store/dialects.py), so on PostgreSQL they never race ingest
from another replica.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ember.model import RetentionPolicy
from ember.store import annotations as annotation_store
from ember.store import rollups
from ember.store.dialects import chunks, lock_key, serialize
from ember.store.schema import span_logs, spans, traces

DAY_NS = 86_400 * 10**9
# Traces deleted per transaction: short transactions, so ingest is never held up for long.
BATCH_TRACES = 500


def delete_traces(conn: Connection, trace_rows: Sequence[tuple[int, str]]) -> int:
    """Delete these traces ((row id, trace id) pairs) and what hangs off them; return how many
    trace rows were deleted."""
    if not trace_rows:
        return 0
    serialize(conn, (lock_key(trace_id) for _, trace_id in trace_rows))
    rowids = [rowid for rowid, _ in trace_rows]
    sessions = rollups.session_keys(conn, rowids)
    deleted = 0
    for chunk in chunks(sorted(trace_rows)):
        ids = [rowid for rowid, _ in chunk]
        # The annotations of the trace, its spans and their documents go with them.
        annotation_store.delete_for_spans(conn, annotation_store.span_ids_of_traces(conn, ids))
        annotation_store.delete_for_traces(conn, [trace_id for _, trace_id in chunk])
        conn.execute(spans.delete().where(spans.c.trace_rowid.in_(ids)))
        conn.execute(span_logs.delete().where(span_logs.c.trace_id.in_([t for _, t in chunk])))
        deleted += conn.execute(traces.delete().where(traces.c.id.in_(ids))).rowcount
    rollups.refresh_sessions(conn, sessions)
    annotation_store.delete_for_gone_sessions(conn, [session for _, session in sessions])
    return deleted


def expired_traces(
    conn: Connection, project_id: int, policy: RetentionPolicy, now_ns: int, limit: int
) -> list[tuple[int, str]]:
    """Up to `limit` traces of a project that the policy no longer keeps, oldest first."""
    found: dict[int, str] = {}
    if policy.days is not None:
        cutoff = now_ns - policy.days * DAY_NS
        for row in conn.execute(
            sa.select(traces.c.id, traces.c.trace_id)
            .where(traces.c.project_id == project_id, traces.c.start_time < cutoff)
            .order_by(traces.c.start_time, traces.c.id)
            .limit(limit)
        ):
            found[row.id] = row.trace_id
    if policy.max_traces is not None and len(found) < limit:
        for row in conn.execute(
            sa.select(traces.c.id, traces.c.trace_id)
            .where(traces.c.project_id == project_id)
            .order_by(traces.c.start_time.desc(), traces.c.id.desc())
            .offset(policy.max_traces)
            .limit(limit - len(found))
        ):
            found[row.id] = row.trace_id
    return list(found.items())
