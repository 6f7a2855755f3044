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
    LogRecord,
    Page,
    Project,
    RetentionPolicy,
    SessionSummary,
    SpanFilter,
    SpanRecord,
    StoredSpan,
    TraceSummary,
)


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
        self, project: Project, span_filter: SpanFilter, cursor: str | None, limit: int
    ) -> Page[StoredSpan]:
        """Newest first (start time, then row id); `next_cursor` is None on the last page."""

    @abstractmethod
    def get_trace(self, trace_id: str) -> tuple[TraceSummary, list[StoredSpan]]:
        """A trace's roll-up and every stored span of it, by start time; raises NotFound."""

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

    @abstractmethod
    def count_spans(self) -> int: ...

    @abstractmethod
    def ping(self) -> None:
        """Raise if the database cannot answer a query."""

    @abstractmethod
    def close(self) -> None: ...
