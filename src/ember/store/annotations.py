"""Annotations: upsert, list within a project, and delete with their targets.

An annotation points at its target by the id users see (hex span or trace id, the session's own
id; a document is a span id plus a position), never by row id, so one may arrive before its
span and is kept. It has no project column: its project is its target's, found when it is read
(`in_project`). So an annotation logged early shows up in the right project as soon as its
target arrives, and nothing needs fixing up when it does.

Upsert key: (target kind, target id, name, identifier, document position). Writing the same key
again updates the label, score, explanation, metadata, annotator kind, source and user, and
keeps `created_at`.

Deletes: deleting a trace (store/retention.py) deletes the annotations of the trace, of its
spans and of their documents; a session that disappears (its last trace went) takes its
annotations along. Span ids are unique per trace only, so in the (practically impossible) case
of two traces sharing a span id, deleting one deletes the span annotations both share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row

from ember.model import Annotation, AnnotationInput, AnnotationQuery, Page
from ember.store import codec, search
from ember.store.dialects import chunks
from ember.store.schema import annotation_table as table
from ember.store.schema import sessions, spans, traces

Key = tuple[str, str, str, str, int]  # kind, target id, name, identifier, document position
KEY_COLUMNS = ("target_kind", "target_id", "name", "identifier", "document_position")
_UPDATED_ON_CONFLICT = (
    "label", "score", "explanation", "metadata", "annotator_kind", "source", "user_id",
    "updated_at",
)


def key_of(item: AnnotationInput) -> Key:
    return (item.target_kind, item.target_id, item.name, item.identifier, item.document_position)


def _upsert_statement(dialect_name: str) -> Any:
    """INSERT ... ON CONFLICT (the key) DO UPDATE, for the dialect."""
    insert: Any
    if dialect_name == "postgresql":
        insert = postgresql.insert(table)
    elif dialect_name == "sqlite":
        insert = sqlite.insert(table)
    else:
        raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect_name}")
    return insert.on_conflict_do_update(
        index_elements=[table.c[name] for name in KEY_COLUMNS],
        set_={name: insert.excluded[name] for name in _UPDATED_ON_CONFLICT},
    )


def upsert(conn: Connection, items: Sequence[AnnotationInput], now_ns: int) -> list[int]:
    """Insert or update these annotations in the caller's transaction; return each item's row
    id, in input order (items with the same key share one row: the last one wins)."""
    if not items:
        return []
    latest: dict[Key, AnnotationInput] = {key_of(item): item for item in items}
    # Sorted keys: concurrent writers (PostgreSQL replicas) meet the unique index in one order.
    rows = [
        {
            "target_kind": item.target_kind,
            "target_id": item.target_id,
            "document_position": item.document_position,
            "name": item.name,
            "label": item.label,
            "score": item.score,
            "explanation": item.explanation,
            "metadata": codec.dumps(item.metadata or {}),
            "annotator_kind": item.annotator_kind,
            "identifier": item.identifier,
            "source": item.source,
            "user_id": item.user_id,
            "created_at": now_ns,
            "updated_at": now_ns,
        }
        for _, item in sorted(latest.items())
    ]
    statement = _upsert_statement(conn.dialect.name)
    for chunk in chunks(rows, 200):
        conn.execute(statement, list(chunk))
    ids = _ids_by_key(conn, list(latest))
    return [ids[key_of(item)] for item in items]


def _ids_by_key(conn: Connection, keys: list[Key]) -> dict[Key, int]:
    found: dict[Key, int] = {}
    wanted = set(keys)
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        by_kind.setdefault(key[0], []).append(key[1])
    for kind, target_ids in by_kind.items():
        for chunk in chunks(sorted(set(target_ids))):
            for row in conn.execute(
                sa.select(table.c.id, *(table.c[name] for name in KEY_COLUMNS))
                .where(table.c.target_kind == kind, table.c.target_id.in_(chunk))
            ):
                key = (row.target_kind, row.target_id, row.name, row.identifier,
                       row.document_position)
                if key in wanted:
                    found[key] = row.id
    return found


def in_project(kind: str, project_id: int) -> sa.ColumnElement[bool]:
    """Whether an annotation's target (correlated to the `annotations` row) is stored in the
    project: the one place an annotation's project is decided."""
    target = table.c.target_id
    if kind in ("span", "document"):
        return sa.exists().where(spans.c.span_id == target, spans.c.project_id == project_id)
    if kind == "trace":
        return sa.exists().where(traces.c.trace_id == target, traces.c.project_id == project_id)
    if kind == "session":
        return sa.exists().where(
            sessions.c.session_id == target, sessions.c.project_id == project_id
        )
    raise ValueError(f"not an annotation target kind: {kind!r}")


def targets_exist(readers: Engine, project_id: int, kind: str, target_ids: Sequence[str]) -> bool:
    """Whether any of these targets is stored in the project."""
    if kind in ("span", "document"):
        column, project_column = spans.c.span_id, spans.c.project_id
    elif kind == "trace":
        column, project_column = traces.c.trace_id, traces.c.project_id
    else:
        column, project_column = sessions.c.session_id, sessions.c.project_id
    with readers.connect() as conn:
        for chunk in chunks(sorted(set(target_ids))):
            found = conn.execute(
                sa.select(sa.literal(1)).where(project_column == project_id, column.in_(chunk))
                .limit(1)
            ).first()
            if found is not None:
                return True
    return False


def page(
    readers: Engine, project_id: int, query: AnnotationQuery, cursor: str | None, limit: int
) -> Page[Annotation]:
    """A project's annotations of one target kind matching `query`, newest row first;
    `next_cursor` is None on the last page."""
    select = sa.select(table).where(
        table.c.target_kind == query.target_kind, in_project(query.target_kind, project_id)
    )
    if query.target_ids:
        select = select.where(table.c.target_id.in_(sorted(set(query.target_ids))))
    if query.identifiers:
        select = select.where(table.c.identifier.in_(sorted(set(query.identifiers))))
    if query.include_names:
        select = select.where(table.c.name.in_(sorted(set(query.include_names))))
    if query.exclude_names:
        select = select.where(table.c.name.not_in(sorted(set(query.exclude_names))))
    select = select.add_columns(table.c.id.label("sort_value"), table.c.id.label("row_id"))
    with readers.connect() as conn:
        rows, next_cursor = search.page(conn, select, _NEWEST_FIRST, cursor, limit)
    return Page(items=[annotation(row) for row in rows], next_cursor=next_cursor)


_NEWEST_FIRST = search.Order("annotation id", table.c.id, table.c.id)


def annotation(row: Row[Any]) -> Annotation:
    return Annotation(
        id=row.id,
        target_kind=row.target_kind,
        target_id=row.target_id,
        document_position=row.document_position,
        name=row.name,
        label=row.label,
        score=row.score,
        explanation=row.explanation,
        metadata=codec.loads(row.metadata) or {},
        annotator_kind=row.annotator_kind,
        identifier=row.identifier,
        source=row.source,
        user_id=row.user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def annotations_by_target(
    conn: Connection, kind: str, target_ids: Sequence[str]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The annotations of these targets of one kind, by (target id, name), as the filter
    language reads them in Python (`label`, `score`, `explanation`, `annotator_kind`,
    `identifier`, `metadata`, `document_position`): for the part of a filter that is not
    compiled to SQL. Rows are in id order, so the oldest annotation of a name comes first."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for chunk in chunks(sorted(set(target_ids))):
        for row in conn.execute(
            sa.select(table)
            .where(table.c.target_kind == kind, table.c.target_id.in_(chunk))
            .order_by(table.c.id)
        ):
            found.setdefault((row.target_id, row.name), []).append({
                "label": row.label,
                "score": row.score,
                "explanation": row.explanation,
                "annotator_kind": row.annotator_kind,
                "identifier": row.identifier,
                "metadata": codec.loads(row.metadata) or {},
                "document_position": row.document_position,
            })
    return found


# ------------------------------------------------------------------------------------ deletes


def delete_for_spans(conn: Connection, span_ids: Iterable[str]) -> None:
    """Delete the annotations of these spans and of their documents."""
    for chunk in chunks(sorted(set(span_ids))):
        conn.execute(
            table.delete().where(
                table.c.target_kind.in_(("span", "document")),
                table.c.target_id.in_(chunk),
            )
        )


def delete_for_traces(conn: Connection, trace_ids: Iterable[str]) -> None:
    for chunk in chunks(sorted(set(trace_ids))):
        conn.execute(
            table.delete().where(
                table.c.target_kind == "trace", table.c.target_id.in_(chunk)
            )
        )


def delete_for_gone_sessions(conn: Connection, session_ids: Iterable[str]) -> None:
    """Delete the annotations of these sessions where no project holds the session any more
    (an annotation names a session by its id only, so another project's session of the same
    id keeps them)."""
    for chunk in chunks(sorted(set(session_ids))):
        still_there = sa.exists().where(sessions.c.session_id == table.c.target_id)
        conn.execute(
            table.delete().where(
                table.c.target_kind == "session",
                table.c.target_id.in_(chunk),
                sa.not_(still_there),
            )
        )


def span_ids_of_traces(conn: Connection, trace_rowids: Sequence[int]) -> list[str]:
    """The span ids of these traces (read before their spans are deleted)."""
    found: list[str] = []
    for chunk in chunks(sorted(trace_rowids)):
        found.extend(
            conn.execute(
                sa.select(spans.c.span_id).where(spans.c.trace_rowid.in_(chunk))
            ).scalars()
        )
    return found
