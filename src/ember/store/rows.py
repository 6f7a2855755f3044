"""Rows of the span, trace and project tables to and from Ember's model values.

Pure functions: how a `SpanRecord` becomes the values of a `spans` row (the `attributes` and
`payload` columns are laid out by store/codec.py) and how rows become `StoredSpan`,
`TraceSummary` and `Project` again, including the way back from a stored span to the record it
was made from (for re-deriving a span when its log records arrive).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from ember.model import (
    Project,
    Promoted,
    Resource,
    RetentionPolicy,
    Scope,
    SpanRecord,
    StoredSpan,
    TraceSummary,
    is_bulky,
)
from ember.store import codec

# A trace as the writer knows it during a batch: (row id, project id, session id before it).
TraceRow = tuple[int, int, str | None]

SPAN_COLUMNS = (
    "trace_rowid", "project_id", "span_id", "parent_id", "name", "otel_kind", "span_kind",
    "start_time", "end_time", "status_code", "status_message", "session_id", "user_id",
    "model_name", "provider", "prompt_tokens", "completion_tokens", "total_tokens", "cost",
    "attributes", "payload", "resource_id", "scope_id",
)


def origin_row(origin: Resource | Scope) -> dict[str, Any]:
    row: dict[str, Any] = {
        "fingerprint": origin.fingerprint,
        "attributes": codec.dumps(origin.attributes),
        "attribute_types": codec.dumps(origin.attribute_types) if origin.attribute_types else None,
        "schema_url": origin.schema_url,
        "dropped_attributes_count": origin.dropped_attributes_count,
    }
    if isinstance(origin, Scope):
        row["name"] = origin.name
        row["version"] = origin.version
    return row


def encode_columns(r: SpanRecord) -> tuple[str, bytes]:
    """The `attributes` and `payload` column values of a span (pure; the costly part of a row)."""
    extra: dict[str, Any] = {}
    small = r.attributes
    large: dict[str, Any] = {}
    if r.bulky_keys:
        small = small.copy()
        for key in r.bulky_keys:
            large[key] = small.pop(key)
    if r.derived:
        # Derived OpenInference keys sit beside the raw ones, so queries and clients see one
        # vocabulary; the payload remembers which they are, so raw data stays separable.
        small = small.copy() if small is r.attributes else small
        for key, value in r.derived.items():
            (large if is_bulky(key, value) else small)[key] = value
        extra["derived_keys"] = list(r.derived)
    if r.mapping is not None:
        extra["mapping"] = r.mapping
    if r.cost_summary is not None:
        extra["cost"] = r.cost_summary
    if r.trace_state:
        extra["trace_state"] = r.trace_state
    if r.flags:
        extra["flags"] = r.flags
    if r.dropped_attributes_count:
        extra["dropped_attributes_count"] = r.dropped_attributes_count
    if r.dropped_events_count:
        extra["dropped_events_count"] = r.dropped_events_count
    if r.dropped_links_count:
        extra["dropped_links_count"] = r.dropped_links_count
    return (
        codec.dumps(small),
        codec.encode_payload(large, r.attribute_types, r.truncated, r.events, r.links, extra),
    )


def span_row(
    r: SpanRecord, trace_row: TraceRow, resource_id: int, scope_id: int
) -> tuple[Any, ...]:
    """The span's values in SPAN_COLUMNS order."""
    attributes_json, payload = encode_columns(r)
    p = r.promoted
    return (
        trace_row[0],
        trace_row[1],
        r.span_id,
        r.parent_id,
        r.name,
        r.otel_kind,
        p.span_kind,
        r.start_time,
        r.end_time,
        r.status_code,
        r.status_message,
        p.session_id,
        p.user_id,
        p.model_name,
        p.provider,
        p.prompt_tokens,
        p.completion_tokens,
        p.total_tokens,
        p.cost,
        attributes_json,
        payload,
        resource_id,
        scope_id,
    )


def stored_span(
    row: Row[Any],
    resource_cache: dict[int, dict[str, Any]],
    scope_cache: dict[int, dict[str, Any]],
    logs: list[dict[str, Any]] | None = None,
) -> StoredSpan:
    payload = codec.decode_payload(row.payload)
    attributes = codec.join_attributes(row.attributes, payload)
    extra = payload.get("o", {})
    derived_keys = extra.get("derived_keys", ())
    return StoredSpan(
        id=row.id,
        project_name=row.project_name,
        trace_id=row.trace_id,
        span_id=row.span_id,
        parent_id=row.parent_id,
        name=row.name,
        otel_kind=row.otel_kind,
        span_kind=row.span_kind,
        start_time=row.start_time,
        end_time=row.end_time,
        status_code=row.status_code,
        status_message=row.status_message,
        attributes=attributes,
        attribute_types=payload.get("t", {}),
        truncated=payload.get("x", {}),
        events=payload.get("e", []),
        links=payload.get("l", []),
        trace_state=extra.get("trace_state", ""),
        flags=extra.get("flags", 0),
        dropped_attributes_count=extra.get("dropped_attributes_count", 0),
        dropped_events_count=extra.get("dropped_events_count", 0),
        dropped_links_count=extra.get("dropped_links_count", 0),
        derived={key: attributes[key] for key in derived_keys},
        mapping=extra.get("mapping"),
        cost_summary=extra.get("cost"),
        logs=logs,
        resource=resource_cache[row.resource_id],
        scope=scope_cache[row.scope_id],
        promoted=Promoted(
            span_kind=row.span_kind,
            session_id=row.session_id,
            user_id=row.user_id,
            model_name=row.model_name,
            provider=row.provider,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            total_tokens=row.total_tokens,
            cost=row.cost,
        ),
    )


def record_from_stored(span: StoredSpan) -> SpanRecord:
    """The record a stored span was made from: its raw attributes (without the derived keys),
    events and links as sent, with its stored derived data (to be re-derived by the caller)."""
    raw = {k: v for k, v in span.attributes.items() if k not in span.derived}
    return SpanRecord(
        project_name=span.project_name,
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_id=span.parent_id,
        name=span.name,
        otel_kind=span.otel_kind,
        start_time=span.start_time,
        end_time=span.end_time,
        status_code=span.status_code,
        status_message=span.status_message,
        attributes=raw,
        bulky_keys=[k for k, v in raw.items() if is_bulky(k, v)],
        attribute_types=span.attribute_types,
        truncated=span.truncated,
        events=span.events,
        links=span.links,
        trace_state=span.trace_state,
        flags=span.flags,
        dropped_attributes_count=span.dropped_attributes_count,
        dropped_events_count=span.dropped_events_count,
        dropped_links_count=span.dropped_links_count,
        resource=_origin(span.resource, Resource),
        scope=_origin(span.scope, Scope),
        promoted=span.promoted,
        derived=span.derived,
        mapping=span.mapping,
        cost_summary=span.cost_summary,
    )


def _origin(stored: dict[str, Any], kind: type[Resource] | type[Scope]) -> Any:
    common = {
        "attributes": stored["attributes"],
        "schema_url": stored["schema_url"],
        "dropped_attributes_count": stored["dropped_attributes_count"],
        "attribute_types": stored["attribute_types"],
        "fingerprint": "",  # the stored row keeps its resource and scope ids
    }
    if kind is Scope:
        return Scope(name=stored["name"], version=stored["version"], **common)
    return Resource(**common)


def trace_summary(row: Row[Any]) -> TraceSummary:
    return TraceSummary(
        trace_id=row.trace_id,
        project_name=row.project_name,
        start_time=row.start_time,
        end_time=row.end_time,
        span_count=row.span_count,
        error_count=row.error_count,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.total_tokens,
        root_span_id=row.root_span_id,
        root_name=row.root_name,
        root_span_kind=row.root_span_kind,
        input_preview=row.input_preview,
        output_preview=row.output_preview,
        session_id=row.session_id,
        user_id=row.user_id,
        cost=row.cost,
        unpriced_spans=row.unpriced_spans,
    )


def project(row: Row[Any]) -> Project:
    retention = (
        RetentionPolicy(days=row.retention_days, max_traces=row.retention_max_traces)
        if row.retention_set else None
    )
    return Project(
        id=row.id, name=row.name, description=row.description, created_at=row.created_at,
        retention=retention,
    )


