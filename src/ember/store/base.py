"""The storage contract every backend keeps (one conformance suite checks it on each).

Writes
- `write_spans(records)` stores a batch in ONE transaction: all of it or none of it.
- Durable on return: when it returns, the batch is committed with the backend's durability
  setting (SQLite: WAL with synchronous=FULL by default), so the caller may acknowledge it.
- Idempotent: a span is identified by (trace_id, span_id); a span already stored, in this or an
  earlier batch, is not stored again and does not change roll-ups. The first copy wins.
- Order-free: children may arrive before parents, in other batches; a trace's first stored span
  fixes its project; trace roll-ups (span and error counts, start, end, LLM token sums, root
  span and its input/output previews, session and user) and session roll-ups are exact under
  any arrival order and any number of retries.
- Log records (`write_logs`) are stored once each (by fingerprint) and attach to their span by
  (trace_id, span_id), whichever of the two arrives first: the span's derived data (view, cost,
  promoted columns) and its trace's and session's roll-ups are always what the span's own data
  and all its stored log records give. Reads return a span's log records beside it.
- Raises on infrastructure failure (disk full, database gone); the caller turns that into a
  retryable error. Input is validated before it reaches the store.

Reads never see a half-written batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ember.model import (
    Annotation,
    AnnotationBrief,
    AnnotationInput,
    AnnotationQuery,
    LogRecord,
    Page,
    Project,
    RetentionPolicy,
    SessionItem,
    SessionSummary,
    SpanFilter,
    SpanRecord,
    StoredSpan,
    TraceItem,
    TraceQuery,
    TraceSummary,
)
from ember.store.listings import Listing
from ember.store.metrics import ProjectMetrics
from ember.store.skeleton import TraceSkeleton


class SpanDeriver(Protocol):
    """Re-derives a span with its log records (`ember.ingest.derive.SpanDeriver`); the store
    calls it when a span and its log records meet, so it never imports the ingest layer."""

    def with_logs(
        self, record: SpanRecord, logs: Sequence[Mapping[str, Any]]
    ) -> SpanRecord: ...


class Store(ABC):
    @abstractmethod
    def write_spans(self, records: Sequence[SpanRecord]) -> int:
        """Store a batch; return how many spans were new."""

    @abstractmethod
    def write_logs(self, records: Sequence[LogRecord]) -> int:
        """Store a batch of log records in one transaction; return how many were new."""

    @abstractmethod
    def list_projects(self) -> list[Project]: ...

    @abstractmethod
    def get_project(self, identifier: str) -> Project:
        """By name or by numeric id; raises NotFound."""

    @abstractmethod
    def list_spans(
        self,
        project: Project,
        span_filter: SpanFilter,
        cursor: str | None,
        limit: int,
        listing: Listing | None = None,
    ) -> Page[StoredSpan]:
        """A page of the project's spans matching `span_filter` and `listing` (filter tree,
        sort, time range; newest first by default), after `cursor`. `next_cursor` is None when
        there is nothing after the page; a page may be short (even empty) with a cursor when
        the part of a filter checked in Python scanned its budget (store/search.py)."""

    @abstractmethod
    def project_metrics(
        self, project: Project, start_from: int | None, start_to: int | None, buckets: int
    ) -> ProjectMetrics:
        """Counts, error rate, latency percentiles, tokens and cost of the project's traces
        starting in [start_from, start_to) (open ends: all), per bucket and in total, and the
        models that cost most (store/metrics.py)."""

    @abstractmethod
    def list_traces(self, project: Project, listing: Listing) -> Page[TraceSummary]:
        """A page of the project's trace roll-ups, as `list_spans` (never reads payloads
        unless part of the filter needs them)."""

    @abstractmethod
    def list_sessions(self, project: Project, listing: Listing) -> Page[SessionSummary]:
        """A page of the project's session roll-ups (`trace_ids` empty), as `list_spans`."""

    @abstractmethod
    def get_trace(self, trace_id: str) -> tuple[TraceSummary, list[StoredSpan]]:
        """A trace's roll-up and every stored span of it, by start time; raises NotFound."""

    @abstractmethod
    def trace_skeleton(self, trace_id: str) -> TraceSkeleton:
        """A trace's tree columns (ids, parent, name, kind, times, status, tokens, cost) in
        start order, read without touching any span's attributes or payload; raises NotFound."""

    @abstractmethod
    def search_trace(self, trace_id: str, text: str, limit: int) -> list[str]:
        """Ids (start order, at most `limit`) of the trace's spans whose name, status message,
        attribute values, events or log records contain `text`, or whose kind is `text`,
        ignoring case; raises NotFound."""

    @abstractmethod
    def get_session(self, project: Project, session_id: str) -> SessionSummary:
        """A session's roll-up and its trace ids in time order; raises NotFound."""

    @abstractmethod
    def get_span(self, span_id: str, trace_id: str | None = None) -> StoredSpan:
        """One span by its id (and its trace's id when the span id alone is ambiguous);
        raises NotFound, or BadRequest when several traces hold that span id."""

    @abstractmethod
    def delete_trace(self, trace_id: str) -> None:
        """Delete a trace with its spans and their log records; its sessions are recomputed
        (removed when left without traces). Raises NotFound."""

    @abstractmethod
    def delete_session(self, project: Project, session_id: str) -> int:
        """Delete a session's traces (as `delete_trace`); return how many. Raises NotFound."""

    @abstractmethod
    def delete_project(self, project: Project) -> int:
        """Delete a project and every trace, span, session and log record of it; return how
        many traces went."""

    @abstractmethod
    def set_retention(self, project: Project, policy: RetentionPolicy | None) -> Project:
        """Set a project's own retention policy (None: follow the server's default)."""

    @abstractmethod
    def prune(self, default: RetentionPolicy, now_ns: int) -> int:
        """Delete the traces every project's policy (its own, else `default`) no longer keeps,
        in short transactions; return how many traces were deleted."""

    # ------------------------------------------- Phoenix-compatible routes (store/projects.py,
    # store/pages.py, store/removal.py, store/annotations.py)

    @abstractmethod
    def create_project(self, name: str, description: str | None) -> Project:
        """Create an empty project; raises Conflict when the name is taken."""

    @abstractmethod
    def update_project(self, project: Project, description: str | None) -> Project:
        """Set a project's description; return the project as stored now."""

    @abstractmethod
    def page_projects(
        self, name_contains: str | None, cursor: str | None, limit: int
    ) -> Page[Project]:
        """Projects newest first, optionally those whose name contains the text (ignoring
        case); `next_cursor` is None on the last page."""

    @abstractmethod
    def page_traces(
        self, project: Project, query: TraceQuery, cursor: str | None, limit: int
    ) -> Page[TraceItem]:
        """A project's traces matching `query`, in its order, from the roll-ups (never the
        spans' attributes or payloads; `include_spans` adds their tree columns). Keyset
        pages: nothing that stays stored is skipped or repeated while a client pages."""

    @abstractmethod
    def trace_id_by_rowid(self, rowid: int) -> str:
        """The trace id of a trace's row id (its GlobalID); raises NotFound."""

    @abstractmethod
    def page_sessions(
        self,
        project: Project,
        order: str,
        cursor: str | None,
        limit: int,
        listing: Listing | None = None,
    ) -> Page[SessionItem]:
        """A project's sessions, each with its traces: by row id ("asc" or "desc") unless
        `listing` sorts otherwise; `listing`'s session filter applies."""

    @abstractmethod
    def find_session(self, rowid: int | None, session_id: str | None) -> SessionItem:
        """A session by row id or by its own id; raises NotFound, or BadRequest when several
        projects have a session of that id."""

    @abstractmethod
    def delete_sessions(self, rowids: Sequence[int], session_ids: Sequence[str]) -> int:
        """Delete the sessions with these row ids or own ids (every trace of them, as
        `delete_trace`); ids not stored are skipped; return how many sessions went. Raises
        BadRequest, deleting nothing, when an own id names sessions of several projects."""

    @abstractmethod
    def delete_span(self, span_id: str | None, rowid: int | None = None) -> None:
        """Delete one span (by its id, or its row id) with its log records and annotations;
        its children stay. Its trace's and session's roll-ups are recomputed; a trace left
        without spans is deleted. Raises NotFound, or BadRequest when the span id is in
        several traces."""

    @abstractmethod
    def upsert_annotations(self, items: Sequence[AnnotationInput]) -> list[int]:
        """Insert or update (on target, name, identifier) these annotations in one
        transaction, whether or not their targets are stored yet; return each item's row id
        in input order."""

    @abstractmethod
    def page_annotations(
        self, project: Project, query: AnnotationQuery, cursor: str | None, limit: int
    ) -> Page[Annotation]:
        """Annotations whose target is stored in the project, newest first."""

    @abstractmethod
    def annotation_targets_exist(
        self, project: Project, target_kind: str, target_ids: Sequence[str]
    ) -> bool:
        """Whether any of these annotation targets is stored in the project."""

    @abstractmethod
    def annotation_briefs(
        self, target_kind: str, target_ids: Sequence[str]
    ) -> dict[str, list[AnnotationBrief]]:
        """The annotations (name, label, score, annotator kind, identifier) of these spans,
        traces or sessions (`target_kind`), by target id, in one query per chunk of ids: what
        the rows of one listing page show. Raises BadRequest for another kind."""

    @abstractmethod
    def count_spans(self) -> int: ...

    @abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot answer a query."""

    @abstractmethod
    def close(self) -> None: ...
