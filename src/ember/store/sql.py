"""The one Store implementation, over SQLAlchemy Core.

Write path per batch, in one transaction and with a fixed number of statements whatever the
batch size (no per-span round trips):
1. projects, resources and scopes: in-memory caches; the few misses are inserted set-wise;
2. traces: new ones inserted (ON CONFLICT DO NOTHING), then all of the batch's looked up;
3. spans: the dialect's bulk INSERT ... ON CONFLICT DO NOTHING (dialects.row_inserter: COPY
   through a staging table on PostgreSQL, executemany of plain tuples on SQLite);
4. roll-ups (store/rollups.py): when every span was new (the usual case) the batch's own
   contribution is added to its traces; when some were duplicates, the touched traces are
   recomputed from their spans, which is exact because SQLite has a single writer; then the
   sessions of the touched traces are recomputed from their traces.
Log records already stored for a batch's spans are found with one query per batch (by trace
id) and the spans derived with them before they are written. Log records that arrive after
their span re-derive it in place (store/logs.py), then its trace and session are recomputed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from ember.errors import BadRequest, NotFound
from ember.model import (
    Annotation,
    AnnotationBrief,
    AnnotationInput,
    AnnotationQuery,
    LogRecord,
    Page,
    Project,
    Resource,
    RetentionPolicy,
    Scope,
    SessionItem,
    SessionSummary,
    SpanFilter,
    SpanRecord,
    StoredSpan,
    TraceItem,
    TraceQuery,
    TraceSummary,
)
from ember.store import annotations as annotation_store
from ember.store import codec, listings, metrics, pages, removal, retention, rollups, skeleton
from ember.store import projects as project_store
from ember.store.base import SpanDeriver, Store
from ember.store.dialects import chunks, insert_ignore, lock_key, row_inserter, serialize
from ember.store.listings import Listing
from ember.store.logs import SpanKey, log_row, logs_by_span, logs_of_span
from ember.store.metrics import ProjectMetrics
from ember.store.rows import (
    SPAN_COLUMNS,
    TraceRow,
    encode_columns,
    origin_row,
    project,
    record_from_stored,
    span_row,
    stored_span,
    trace_summary,
)
from ember.store.schema import (
    projects,
    resources,
    scopes,
    sessions,
    span_logs,
    spans,
    traces,
)


def _insert(engine: Engine, table: sa.Table) -> Any:
    return insert_ignore(engine.dialect.name, table)


class SqlStore(Store):
    def __init__(self, writer: Engine, readers: Engine, deriver: SpanDeriver) -> None:
        self._writer = writer
        self.deriver = deriver
        self._readers = readers
        self._write_lock = threading.Lock()
        self._resource_ids: dict[str, int] = {}
        self._scope_ids: dict[str, int] = {}
        self._resource_cache: dict[int, dict[str, Any]] = {}
        self._scope_cache: dict[int, dict[str, Any]] = {}
        self._insert_projects = _insert(writer, projects)
        self._insert_resources = _insert(writer, resources)
        self._insert_scopes = _insert(writer, scopes)
        self._insert_traces = _insert(writer, traces)
        self._insert_logs = _insert(writer, span_logs).returning(span_logs.c.id)
        # The hot statement: rows of plain tuples, inserted the dialect's fastest way.
        self._insert_span_rows = row_inserter(writer, spans, SPAN_COLUMNS)

    # ------------------------------------------------------------------ writes


    def write_spans(self, records: Sequence[SpanRecord]) -> int:
        unique: dict[tuple[str, str], SpanRecord] = {}
        for record in records:
            unique.setdefault((record.trace_id, record.span_id), record)
        batch = list(unique.values())
        if not batch:
            return 0
        with self._transaction() as conn:
            return self._write(conn, batch)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """The writer's transaction, one at a time in this process."""
        with self._write_lock:
            try:
                with self._writer.begin() as conn:
                    yield conn
            except BaseException:
                # Ids cached during a transaction that rolled back may not exist: forget them.
                self._resource_ids.clear()
                self._scope_ids.clear()
                raise

    def _write(self, conn: Connection, batch: list[SpanRecord]) -> int:
        serialize(conn, (lock_key(r.trace_id) for r in batch))
        resource_ids = self._ensure_resources(
            conn, {r.resource.fingerprint: r.resource for r in batch}
        )
        scope_ids = self._ensure_scopes(conn, {r.scope.fingerprint: r.scope for r in batch})
        trace_rows = self._ensure_traces(conn, batch)
        batch = self._with_stored_logs(conn, batch)
        rows = [
            span_row(r, trace_rows[r.trace_id], resource_ids[r.resource.fingerprint],
                      scope_ids[r.scope.fingerprint])
            for r in batch
        ]
        inserted = self._insert_span_rows(conn, rows)
        touched = {row[0] for row in trace_rows.values()}
        sessions_before = {(row[1], row[2]) for row in trace_rows.values() if row[2]}
        if inserted == len(rows):
            sessions_after = rollups.add_batch(conn, batch, trace_rows)
        else:
            rollups.recompute(conn, touched)
            sessions_after = rollups.session_keys(conn, touched)
        rollups.refresh_sessions(conn, sessions_before | sessions_after)
        return inserted

    def _with_stored_logs(self, conn: Connection, batch: list[SpanRecord]) -> list[SpanRecord]:
        """The batch with each span that has stored log records derived with them."""
        logs = logs_by_span(conn, {r.trace_id for r in batch})
        if not logs:
            return batch
        with_logs = self.deriver.with_logs
        return [
            with_logs(r, found) if (found := logs.get((r.trace_id, r.span_id))) else r
            for r in batch
        ]

    def write_logs(self, records: Sequence[LogRecord]) -> int:
        unique = list({r.fingerprint: r for r in records}.values())
        if not unique:
            return 0
        with self._transaction() as conn:
            serialize(conn, (lock_key(r.trace_id) for r in unique))
            resource_ids = self._ensure_resources(
                conn, {r.resource.fingerprint: r.resource for r in unique}
            )
            scope_ids = self._ensure_scopes(conn, {r.scope.fingerprint: r.scope for r in unique})
            # RETURNING counts the new rows (executemany's rowcount is not reliable).
            inserted = len(conn.execute(
                self._insert_logs,
                [
                    log_row(r, resource_ids[r.resource.fingerprint],
                            scope_ids[r.scope.fingerprint])
                    for r in sorted(unique, key=lambda r: r.fingerprint)
                ],
            ).all())
            if inserted:
                self._rederive(conn, {(r.trace_id, r.span_id) for r in unique})
        return inserted

    def _rederive(self, conn: Connection, keys: set[SpanKey]) -> None:
        """Derive the stored spans among `keys` again with all their log records, then
        recompute their traces' and sessions' roll-ups."""
        rows: list[Row[Any]] = []
        for chunk in chunks(sorted({trace_id for trace_id, _ in keys})):
            span_ids = {s for t, s in keys if t in chunk}
            rows.extend(
                row for row in conn.execute(
                    self._span_select().where(
                        traces.c.trace_id.in_(chunk), spans.c.span_id.in_(span_ids)
                    )
                )
                if (row.trace_id, row.span_id) in keys
            )
        if not rows:
            return  # the spans have not arrived yet; they will be derived with these logs
        logs = logs_by_span(conn, {row.trace_id for row in rows})
        updates = []
        for span in self._stored_spans(conn, rows):
            record = self.deriver.with_logs(
                record_from_stored(span), logs.get((span.trace_id, span.span_id), [])
            )
            attributes_json, payload = encode_columns(record)
            p = record.promoted
            updates.append({
                "row_id": span.id, "span_kind": p.span_kind, "session_id": p.session_id,
                "user_id": p.user_id, "model_name": p.model_name, "provider": p.provider,
                "prompt_tokens": p.prompt_tokens, "completion_tokens": p.completion_tokens,
                "total_tokens": p.total_tokens, "cost": p.cost,
                "attributes": attributes_json, "payload": payload,
            })
        columns = [key for key in updates[0] if key != "row_id"]
        conn.execute(
            spans.update()
            .where(spans.c.id == sa.bindparam("row_id"))
            .values({c: sa.bindparam(c, type_=spans.c[c].type) for c in columns}),
            updates,
        )
        touched = {row.trace_rowid for row in rows}
        before = rollups.session_keys(conn, touched)
        rollups.recompute(conn, touched)
        rollups.refresh_sessions(conn, before | rollups.session_keys(conn, touched))

    def _ensure_projects(self, conn: Connection, names: set[str]) -> dict[str, int]:
        """Project ids by name, creating the missing projects. Not cached: a project may be
        deleted (here or by another replica), and this runs only for batches with new traces."""
        wanted = sorted(names)
        found = self._project_rows(conn, wanted)
        # Sorted, here and for every insert below: concurrent writers (PostgreSQL replicas)
        # then meet unique keys in the same order and cannot deadlock.
        missing = [name for name in wanted if name not in found]
        if missing:
            now = time.time_ns()
            conn.execute(
                self._insert_projects,
                [{"name": name, "description": None, "created_at": now} for name in missing],
            )
            found.update(self._project_rows(conn, missing))
        return found

    @staticmethod
    def _project_rows(conn: Connection, names: list[str]) -> dict[str, int]:
        return {
            row.name: row.id
            for row in conn.execute(
                sa.select(projects.c.id, projects.c.name).where(projects.c.name.in_(names))
            )
        }

    def _ensure_resources(self, conn: Connection, by_print: dict[str, Resource]) -> dict[str, int]:
        return self._ensure_origins(
            conn, resources, self._insert_resources, self._resource_ids, by_print
        )

    def _ensure_scopes(self, conn: Connection, by_print: dict[str, Scope]) -> dict[str, int]:
        return self._ensure_origins(conn, scopes, self._insert_scopes, self._scope_ids, by_print)

    def _ensure_origins(
        self,
        conn: Connection,
        table: sa.Table,
        insert: Any,
        cache: dict[str, int],
        by_print: dict[str, Resource] | dict[str, Scope],
    ) -> dict[str, int]:
        """Row ids of resources or scopes by fingerprint, inserting the ones not stored yet."""
        missing = sorted(fp for fp in by_print if fp not in cache)
        if missing:
            conn.execute(insert, [origin_row(by_print[fp]) for fp in missing])
            cache.update(self._ids_by_fingerprint(conn, table, missing))
        return cache

    @staticmethod
    def _ids_by_fingerprint(
        conn: Connection, table: sa.Table, fingerprints: list[str]
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunks(fingerprints):
            for row in conn.execute(
                sa.select(table.c.id, table.c.fingerprint).where(table.c.fingerprint.in_(chunk))
            ):
                found[row.fingerprint] = row.id
        return found

    def _ensure_traces(
        self, conn: Connection, batch: list[SpanRecord]
    ) -> dict[str, TraceRow]:
        """trace_id -> (trace row id, project id, session id before this batch).

        A new trace takes its first span's project; projects are created only for new traces,
        so a span that joins an existing trace of another project leaves no empty project."""
        found = self._trace_rows(conn, list({r.trace_id: None for r in batch}))
        new: dict[str, dict[str, Any]] = {}
        first_project: dict[str, str] = {}
        for r in batch:
            if r.trace_id in found:
                continue
            entry = new.get(r.trace_id)
            if entry is None:
                first_project[r.trace_id] = r.project_name
                new[r.trace_id] = {
                    "trace_id": r.trace_id,
                    "start_time": r.start_time,
                    "end_time": r.end_time,
                    "span_count": 0,
                    "error_count": 0,
                }
            else:
                entry["start_time"] = min(entry["start_time"], r.start_time)
                entry["end_time"] = max(entry["end_time"], r.end_time)
        if new:
            project_ids = self._ensure_projects(conn, set(first_project.values()))
            for trace_id, entry in new.items():
                entry["project_id"] = project_ids[first_project[trace_id]]
            conn.execute(self._insert_traces, [new[t] for t in sorted(new)])
            found.update(self._trace_rows(conn, list(new)))
        return found

    @staticmethod
    def _trace_rows(conn: Connection, trace_ids: list[str]) -> dict[str, TraceRow]:
        found: dict[str, TraceRow] = {}
        for chunk in chunks(trace_ids):
            for row in conn.execute(
                sa.select(
                    traces.c.id, traces.c.trace_id, traces.c.project_id, traces.c.session_id
                ).where(traces.c.trace_id.in_(chunk))
            ):
                found[row.trace_id] = (row.id, row.project_id, row.session_id)
        return found

    # ------------------------------------------------------------------- reads

    def list_projects(self) -> list[Project]:
        with self._readers.connect() as conn:
            rows = conn.execute(sa.select(projects).order_by(projects.c.id)).all()
        return [project(row) for row in rows]

    def get_project(self, identifier: str) -> Project:
        with self._readers.connect() as conn:
            row = conn.execute(
                sa.select(projects).where(projects.c.name == identifier)
            ).first()
            if row is None and identifier.isdigit():
                row = conn.execute(
                    sa.select(projects).where(projects.c.id == int(identifier))
                ).first()
        if row is None:
            raise NotFound(f"no project named or numbered {identifier!r}")
        return project(row)

    def list_spans(
        self,
        project: Project,
        span_filter: SpanFilter,
        cursor: str | None,
        limit: int,
        listing: Listing | None = None,
    ) -> Page[StoredSpan]:
        listing = replace(listing or Listing(), cursor=cursor, limit=limit)
        query = _apply_filter(
            self._span_select().where(spans.c.project_id == project.id), span_filter
        )
        with self._readers.connect() as conn:
            return listings.span_page(conn, project.id, query, listing, self._stored_spans)

    def project_metrics(
        self, project: Project, start_from: int | None, start_to: int | None, buckets: int
    ) -> ProjectMetrics:
        with self._readers.connect() as conn:
            return metrics.project_metrics(conn, project, start_from, start_to, buckets)

    def list_traces(self, project: Project, listing: Listing) -> Page[TraceSummary]:
        with self._readers.connect() as conn:
            rows, cursor = listings.trace_page(conn, project, listing, self._spans_of_trace)
        return Page(items=[trace_summary(row) for row in rows], next_cursor=cursor)

    def list_sessions(self, project: Project, listing: Listing) -> Page[SessionSummary]:
        with self._readers.connect() as conn:
            rows, cursor = listings.session_page(conn, project, listing)
        items = [listings.session_summary(row) for row in rows]
        return Page(items=items, next_cursor=cursor)

    def _spans_of_trace(
        self, conn: Connection, trace_rowid: int, span_id: str | None
    ) -> list[StoredSpan]:
        query = self._span_select().where(spans.c.trace_rowid == trace_rowid)
        if span_id is not None:
            query = query.where(spans.c.span_id == span_id)
        return self._stored_spans(conn, conn.execute(query).all())

    def get_trace(self, trace_id: str) -> tuple[TraceSummary, list[StoredSpan]]:
        trace_id = trace_id.lower()
        with self._readers.connect() as conn:
            trace = conn.execute(
                sa.select(traces, projects.c.name.label("project_name"))
                .join(projects, projects.c.id == traces.c.project_id)
                .where(traces.c.trace_id == trace_id)
            ).first()
            if trace is None:
                raise NotFound(f"no trace with id {trace_id!r}")
            rows = conn.execute(
                self._span_select()
                .where(spans.c.trace_rowid == trace.id)
                .order_by(spans.c.start_time, spans.c.id)
            ).all()
            items = self._stored_spans(conn, rows, logs_by_span(conn, [trace_id]))
        return trace_summary(trace), items

    def trace_skeleton(self, trace_id: str) -> skeleton.TraceSkeleton:
        return skeleton.load_skeleton(self._readers, trace_id)

    def search_trace(self, trace_id: str, text: str, limit: int) -> list[str]:
        return skeleton.search_in_trace(self._readers, trace_id, text, limit)

    def get_session(self, project: Project, session_id: str) -> SessionSummary:
        return pages.get_session(self._readers, project, session_id)

    def get_span(self, span_id: str, trace_id: str | None = None) -> StoredSpan:
        query = self._span_select().where(spans.c.span_id == span_id.lower())
        if trace_id is not None:
            query = query.where(traces.c.trace_id == trace_id.lower())
        with self._readers.connect() as conn:
            rows = conn.execute(query.limit(2)).all()
            if not rows:
                raise NotFound(f"no span with id {span_id!r}")
            if len(rows) > 1:
                raise BadRequest(
                    f"span id {span_id!r} appears in several traces; add ?trace_id= to choose"
                )
            row = rows[0]
            logs = {(row.trace_id, row.span_id): logs_of_span(conn, row.trace_id, row.span_id)}
            (span,) = self._stored_spans(conn, rows, logs)
        return span

    # ---------------------------------------------------------------- deletes

    def _delete(self, trace_rows: list[tuple[int, str]]) -> int:
        with self._transaction() as conn:
            return retention.delete_traces(conn, trace_rows)

    def delete_trace(self, trace_id: str) -> None:
        trace_id = trace_id.lower()
        with self._readers.connect() as conn:
            rowid = conn.execute(
                sa.select(traces.c.id).where(traces.c.trace_id == trace_id)
            ).scalar()
        if rowid is None or not self._delete([(rowid, trace_id)]):
            raise NotFound(f"no trace with id {trace_id!r}")

    def delete_session(self, project: Project, session_id: str) -> int:
        with self._readers.connect() as conn:
            rows = [(r.id, r.trace_id) for r in conn.execute(
                sa.select(traces.c.id, traces.c.trace_id).where(
                    traces.c.project_id == project.id, traces.c.session_id == session_id
                )
            )]
        if not rows:
            raise NotFound(f"no session {session_id!r} in project {project.name!r}")
        return self._delete(rows)

    def delete_project(self, project: Project) -> int:
        deleted = 0
        while True:
            with self._readers.connect() as conn:
                rows = [(r.id, r.trace_id) for r in conn.execute(
                    sa.select(traces.c.id, traces.c.trace_id)
                    .where(traces.c.project_id == project.id)
                    .limit(retention.BATCH_TRACES)
                )]
            if not rows:
                break
            deleted += self._delete(rows)
        with self._transaction() as conn:
            conn.execute(sessions.delete().where(sessions.c.project_id == project.id))
            conn.execute(projects.delete().where(projects.c.id == project.id))
        return deleted

    def set_retention(self, project: Project, policy: RetentionPolicy | None) -> Project:
        with self._transaction() as conn:
            conn.execute(
                projects.update().where(projects.c.id == project.id).values(
                    retention_days=policy.days if policy else None,
                    retention_max_traces=policy.max_traces if policy else None,
                    retention_set=policy is not None,
                )
            )
        return self.get_project(str(project.id))

    def prune(self, default: RetentionPolicy, now_ns: int) -> int:
        deleted = 0
        for item in self.list_projects():
            policy = item.retention or default
            if policy.keeps_everything:
                continue
            while True:
                with self._readers.connect() as conn:
                    rows = retention.expired_traces(
                        conn, item.id, policy, now_ns, retention.BATCH_TRACES
                    )
                if not rows:
                    break
                deleted += self._delete(rows)
        return deleted

    # ------------------------------------------------------- Phoenix-compatible routes

    def create_project(self, name: str, description: str | None) -> Project:
        with self._transaction() as conn:
            rowid = project_store.create(conn, name, description, time.time_ns())
        return self.get_project(str(rowid))

    def update_project(self, project: Project, description: str | None) -> Project:
        with self._transaction() as conn:
            project_store.update_description(conn, project.id, description)
        return self.get_project(str(project.id))

    def page_projects(
        self, name_contains: str | None, cursor: str | None, limit: int
    ) -> Page[Project]:
        return project_store.page(self._readers, name_contains, cursor, limit)

    def page_traces(
        self, project: Project, query: TraceQuery, cursor: str | None, limit: int
    ) -> Page[TraceItem]:
        return pages.page_traces(
            self._readers, project, query, cursor, limit, self._spans_of_trace
        )

    def trace_id_by_rowid(self, rowid: int) -> str:
        return pages.trace_id_by_rowid(self._readers, rowid)

    def page_sessions(
        self,
        project: Project,
        order: str,
        cursor: str | None,
        limit: int,
        listing: Listing | None = None,
    ) -> Page[SessionItem]:
        return pages.page_sessions(self._readers, project, order, cursor, limit, listing)

    def find_session(self, rowid: int | None, session_id: str | None) -> SessionItem:
        return pages.find_session(self._readers, rowid, session_id)

    def delete_sessions(self, rowids: Sequence[int], session_ids: Sequence[str]) -> int:
        keys = pages.session_keys(self._readers, rowids, session_ids)
        rows = removal.traces_of_sessions(self._readers, keys, session_ids)
        for start in range(0, len(rows), retention.BATCH_TRACES):
            self._delete(rows[start : start + retention.BATCH_TRACES])
        return len(keys)

    def delete_span(self, span_id: str | None, rowid: int | None = None) -> None:
        if rowid is None:
            rowid = removal.span_rowid(self._readers, span_id)
        with self._transaction() as conn:
            removal.delete_span(conn, rowid)

    def upsert_annotations(self, items: Sequence[AnnotationInput]) -> list[int]:
        with self._transaction() as conn:
            return annotation_store.upsert(conn, items, time.time_ns())

    def page_annotations(
        self, project: Project, query: AnnotationQuery, cursor: str | None, limit: int
    ) -> Page[Annotation]:
        return annotation_store.page(self._readers, project.id, query, cursor, limit)

    def annotation_targets_exist(
        self, project: Project, target_kind: str, target_ids: Sequence[str]
    ) -> bool:
        return annotation_store.targets_exist(
            self._readers, project.id, target_kind, target_ids
        )

    def annotation_briefs(
        self, target_kind: str, target_ids: Sequence[str]
    ) -> dict[str, list[AnnotationBrief]]:
        return pages.annotation_briefs(self._readers, target_kind, target_ids)

    def count_spans(self) -> int:
        with self._readers.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(spans)).scalar_one())

    def ping(self) -> None:
        with self._readers.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(projects)).scalar_one()

    def close(self) -> None:
        self._writer.dispose()
        self._readers.dispose()

    @staticmethod
    def _span_select() -> sa.Select[Any]:
        return sa.select(
            spans,
            traces.c.trace_id,
            projects.c.name.label("project_name"),
        ).join(traces, traces.c.id == spans.c.trace_rowid).join(
            projects, projects.c.id == spans.c.project_id
        )

    def _stored_spans(
        self,
        conn: Connection,
        rows: Sequence[Row[Any]],
        logs: dict[SpanKey, list[dict[str, Any]]] | None = None,
    ) -> list[StoredSpan]:
        """Stored spans of these rows, with their log records when `logs` is given."""
        self._load_origins(conn, {r.resource_id for r in rows}, {r.scope_id for r in rows})
        return [
            stored_span(
                row, self._resource_cache, self._scope_cache,
                None if logs is None else logs.get((row.trace_id, row.span_id), []),
            )
            for row in rows
        ]

    def _load_origins(self, conn: Connection, resource_ids: set[int], scope_ids: set[int]) -> None:
        """Resources and scopes never change once written, so they are cached for good."""
        missing = [i for i in resource_ids if i not in self._resource_cache]
        for chunk in chunks(missing):
            for row in conn.execute(sa.select(resources).where(resources.c.id.in_(chunk))):
                self._resource_cache[row.id] = {
                    "attributes": codec.loads(row.attributes),
                    "attribute_types": codec.loads(row.attribute_types) or {},
                    "schema_url": row.schema_url,
                    "dropped_attributes_count": row.dropped_attributes_count,
                }
        missing = [i for i in scope_ids if i not in self._scope_cache]
        for chunk in chunks(missing):
            for row in conn.execute(sa.select(scopes).where(scopes.c.id.in_(chunk))):
                self._scope_cache[row.id] = {
                    "name": row.name,
                    "version": row.version,
                    "attributes": codec.loads(row.attributes),
                    "attribute_types": codec.loads(row.attribute_types) or {},
                    "schema_url": row.schema_url,
                    "dropped_attributes_count": row.dropped_attributes_count,
                }


def _apply_filter(query: sa.Select[Any], f: SpanFilter) -> sa.Select[Any]:
    if f.trace_ids:
        query = query.where(traces.c.trace_id.in_([t.lower() for t in f.trace_ids]))
    if f.span_ids:
        query = query.where(spans.c.span_id.in_([s.lower() for s in f.span_ids]))
    if f.names:
        query = query.where(spans.c.name.in_(f.names))
    if f.span_kinds:
        query = query.where(spans.c.span_kind.in_([k.upper() for k in f.span_kinds]))
    if f.status_codes:
        query = query.where(spans.c.status_code.in_(f.status_codes))
    if f.roots_only:
        query = query.where(spans.c.parent_id.is_(None))
    elif f.parent_id is not None:
        query = query.where(spans.c.parent_id == f.parent_id.lower())
    if f.start_time_from is not None:
        query = query.where(spans.c.start_time >= f.start_time_from)
    if f.start_time_to is not None:
        query = query.where(spans.c.start_time < f.start_time_to)
    return query
