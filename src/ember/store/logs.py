"""Log records tied to spans: their rows, and finding them by span.

A span's log records are always read in one order, (time, fingerprint), whatever order they
arrived in, so re-deriving a span from them gives the same result on every path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ember.model import LogRecord
from ember.store import codec
from ember.store.dialects import chunks
from ember.store.schema import span_logs

SpanKey = tuple[str, str]  # (trace_id, span_id)


def log_row(record: LogRecord, resource_id: int, scope_id: int) -> dict[str, Any]:
    return {
        "fingerprint": record.fingerprint,
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "time_unix_nano": record.time_unix_nano,
        "event_name": record.event_name,
        "payload": codec.encode_document(record.document()),
        "resource_id": resource_id,
        "scope_id": scope_id,
    }


def logs_by_span(conn: Connection, trace_ids: Iterable[str]) -> dict[SpanKey, list[dict[str, Any]]]:
    """The stored log records (`LogRecord.document()`s) of these traces, by span, in order."""
    found: dict[SpanKey, list[dict[str, Any]]] = {}
    for chunk in chunks(sorted(set(trace_ids))):
        rows = conn.execute(
            sa.select(span_logs.c.trace_id, span_logs.c.span_id, span_logs.c.payload)
            .where(span_logs.c.trace_id.in_(chunk))
            .order_by(span_logs.c.time_unix_nano, span_logs.c.fingerprint)
        )
        for row in rows:
            found.setdefault((row.trace_id, row.span_id), []).append(
                codec.decode_payload(row.payload)
            )
    return found


def logs_of_span(conn: Connection, trace_id: str, span_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(span_logs.c.payload)
        .where(span_logs.c.trace_id == trace_id, span_logs.c.span_id == span_id)
        .order_by(span_logs.c.time_unix_nano, span_logs.c.fingerprint)
    )
    return [codec.decode_payload(row.payload) for row in rows]
