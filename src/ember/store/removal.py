"""Deleting one span, and finding what deleting sessions means, for the Phoenix routes.

A span is deleted alone (its children stay, pointing at a parent that is gone, as Phoenix
does), with its log records and annotations; its trace's roll-ups are recomputed from the
spans left, and so are its session's. A trace left without spans is deleted whole
(store/retention.py), which also settles its session.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ember.errors import BadRequest, NotFound
from ember.store import annotations as annotation_store
from ember.store import retention, rollups
from ember.store.dialects import chunks, lock_key, serialize
from ember.store.schema import span_logs, spans, traces


def delete_span(conn: Connection, rowid: int) -> None:
    """Delete the span with this row id in the caller's (writer's) transaction; raises
    NotFound when it is not stored (any more)."""
    found = conn.execute(
        sa.select(spans.c.trace_rowid, spans.c.span_id, traces.c.trace_id)
        .join(traces, traces.c.id == spans.c.trace_rowid)
        .where(spans.c.id == rowid)
    ).first()
    if found is None:
        raise NotFound(f"no span with row id {rowid}")
    trace_rowid, span_id, trace_id = found.trace_rowid, found.span_id, found.trace_id
    serialize(conn, [lock_key(trace_id)])
    conn.execute(spans.delete().where(spans.c.id == rowid))
    conn.execute(
        span_logs.delete().where(span_logs.c.trace_id == trace_id, span_logs.c.span_id == span_id)
    )
    annotation_store.delete_for_spans(conn, [span_id])
    left = conn.execute(
        sa.select(sa.func.count()).select_from(spans).where(spans.c.trace_rowid == trace_rowid)
    ).scalar_one()
    if not left:
        retention.delete_traces(conn, [(trace_rowid, trace_id)])
        return
    before = rollups.session_keys(conn, [trace_rowid])
    rollups.recompute(conn, [trace_rowid])
    rollups.refresh_sessions(conn, before | rollups.session_keys(conn, [trace_rowid]))


def span_rowid(readers: Engine, span_id: str | None) -> int:
    """The row id of the span with this id; raises NotFound, or BadRequest when several
    traces hold a span of that id."""
    if span_id is None:
        raise BadRequest("name the span by its id or its row id")
    with readers.connect() as conn:
        found = conn.execute(
            sa.select(spans.c.id).where(spans.c.span_id == span_id.lower()).limit(2)
        ).scalars().all()
    if not found:
        raise NotFound(f"no span with id {span_id!r}")
    if len(found) > 1:
        raise BadRequest(f"span id {span_id!r} appears in several traces; use its GlobalID")
    return int(found[0])


def traces_of_sessions(
    readers: Engine, keys: Sequence[tuple[int, str]], own_ids: Sequence[str]
) -> list[tuple[int, str]]:
    """(row id, trace id) of the traces of these (project row id, session id) sessions.
    Raises BadRequest when one of `own_ids` (sessions named by their own id) is in several
    projects' keys: such an id does not say which session is meant."""
    projects_of: dict[str, set[int]] = {}
    for project_id, session_id in keys:
        projects_of.setdefault(session_id, set()).add(project_id)
    shared = sorted(s for s in set(own_ids) if len(projects_of.get(s, ())) > 1)
    if shared:
        raise BadRequest(
            f"several projects have sessions with the ids {shared}: name them by their "
            "GlobalIDs; nothing was deleted"
        )
    found: list[tuple[int, str]] = []
    with readers.connect() as conn:
        for chunk in chunks(sorted(keys)):
            found.extend(
                (row.id, row.trace_id) for row in conn.execute(
                    sa.select(traces.c.id, traces.c.trace_id).where(
                        sa.tuple_(traces.c.project_id, traces.c.session_id).in_(list(chunk))
                    )
                )
            )
    return found
