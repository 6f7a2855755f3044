"""JSON shapes of the REST API: Phoenix's where Phoenix has one, plus Ember's own fields.

A span carries Phoenix's fields (`id`, `name`, `context`, `span_kind`, `parent_id`, `start_time`,
`end_time` as ISO 8601, `status_code`, `status_message`, `attributes`, `events`) and, because ISO
text cannot hold nanoseconds, Ember's exact `start_time_unix_nano` / `end_time_unix_nano` beside
them, with what else OTLP sent (links, resource, scope, kind, dropped counts).
"""

from __future__ import annotations

import base64
from typing import Any

from ember.cost.compute import usd
from ember.model import (
    OTEL_KIND_NAMES,
    STATUS_NAMES,
    Annotation,
    AnnotationBrief,
    Project,
    SessionItem,
    SessionSummary,
    StoredSpan,
    TraceItem,
    TraceSummary,
    iso_time,
)


def global_id(kind: str, rowid: int) -> str:
    """Phoenix's GlobalID: base64 of "Kind:rowid"."""
    return base64.b64encode(f"{kind}:{rowid}".encode()).decode()


def parse_global_id(text: str, kind: str) -> int | None:
    try:
        decoded = base64.b64decode(text, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, number = decoded.partition(":")
    if prefix != kind or not number.isdigit():
        return None
    return int(number)


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": global_id("Project", project.id),
        "name": project.name,
        "description": project.description,
    }


def _span_head(span: StoredSpan) -> dict[str, Any]:
    """The fields every span shape starts with (Phoenix's)."""
    return {
        "id": global_id("Span", span.id),
        "name": span.name,
        "context": {"trace_id": span.trace_id, "span_id": span.span_id},
        "span_kind": span.span_kind,
        "parent_id": span.parent_id,
        "start_time": iso_time(span.start_time),
        "end_time": iso_time(span.end_time),
    }


def span_json(span: StoredSpan) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_span_head(span),
        "status_code": STATUS_NAMES.get(span.status_code, "UNSET"),
        "status_message": span.status_message,
        "attributes": span.attributes,
        "events": [
            {
                "name": event["name"],
                "timestamp": iso_time(event["time_unix_nano"]),
                "time_unix_nano": event["time_unix_nano"],
                "attributes": event["attributes"],
                **{k: event[k] for k in ("attribute_types", "truncated", "dropped_attributes_count")
                   if k in event},
            }
            for event in span.events
        ],
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "latency_ms": (span.end_time - span.start_time) / 1e6,
        "otel_kind": OTEL_KIND_NAMES.get(span.otel_kind, str(span.otel_kind)),
        "project_name": span.project_name,
        "links": span.links,
        "resource": span.resource,
        "scope": span.scope,
    }
    out["cost"] = span_cost_json(span)
    exception = exception_json(span.events)
    if exception is not None:
        out["exception"] = exception
    if span.logs is not None:
        out["logs"] = [
            {**log, "timestamp": iso_time(log["time_unix_nano"])} for log in span.logs
        ]
    if span.derived:
        out["derived_attributes"] = sorted(span.derived)
    if span.attribute_types:
        out["attribute_types"] = span.attribute_types
    if span.truncated:
        out["truncated_attributes"] = span.truncated
    if span.trace_state:
        out["trace_state"] = span.trace_state
    if span.flags:
        out["flags"] = span.flags
    for name in ("dropped_attributes_count", "dropped_events_count", "dropped_links_count"):
        value = getattr(span, name)
        if value:
            out[name] = value
    return out


def span_cost_json(span: StoredSpan) -> dict[str, Any] | None:
    """The span's cost in USD with where it came from (`reported` by the provider or the
    `price_table`), or null with a note saying why there is none; null when cost does not
    apply (not a model call)."""
    if span.cost_summary is None and span.promoted.cost is None:
        return None
    cost = span.promoted.cost
    return {"total": None if cost is None else usd(cost), **(span.cost_summary or {})}


TABLE_PREVIEW_CHARS = 300


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= TABLE_PREVIEW_CHARS else text[: TABLE_PREVIEW_CHARS - 1] + "…"


def span_row_json(span: StoredSpan) -> dict[str, Any]:
    """A span as a table row (Ember's `fields=table`): ids, kind, name, times, status, the
    promoted columns and short input/output previews; no attributes, events or resource."""
    p = span.promoted
    return {
        **_span_head(span),
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "latency_ms": (span.end_time - span.start_time) / 1e6,
        "status_code": STATUS_NAMES.get(span.status_code, "UNSET"),
        "status_message": span.status_message,
        "input_preview": _preview(span.attributes.get("input.value")),
        "output_preview": _preview(span.attributes.get("output.value")),
        "model_name": p.model_name,
        "token_count_prompt": p.prompt_tokens,
        "token_count_completion": p.completion_tokens,
        "token_count_total": p.total_tokens,
        "cost": None if p.cost is None else {"total": usd(p.cost)},
        "session_id": p.session_id,
        "user_id": p.user_id,
    }


def exception_json(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last `exception` event's type, message and stack trace."""
    for event in reversed(events):
        if event.get("name") == "exception":
            attributes = event.get("attributes") or {}
            return {
                "type": attributes.get("exception.type"),
                "message": attributes.get("exception.message"),
                "stacktrace": attributes.get("exception.stacktrace"),
                "escaped": attributes.get("exception.escaped"),
            }
    return None


def span_detail_json(span: StoredSpan) -> dict[str, Any]:
    """A span with its mapping report: which OpenInference key came from which raw key."""
    out = span_json(span)
    mapping = span.mapping or {"dialect": "openinference", "entries": [], "unmapped": []}
    out["mapping_report"] = mapping
    return out


def trace_json(summary: TraceSummary, spans: list[StoredSpan]) -> dict[str, Any]:
    return {
        "trace_id": summary.trace_id,
        "project_name": summary.project_name,
        "start_time": iso_time(summary.start_time),
        "end_time": iso_time(summary.end_time),
        "start_time_unix_nano": summary.start_time,
        "end_time_unix_nano": summary.end_time,
        "span_count": summary.span_count,
        "error_count": summary.error_count,
        "token_count": {
            "prompt": summary.prompt_tokens,
            "completion": summary.completion_tokens,
            "total": summary.total_tokens,
        },
        "root_span": None if summary.root_span_id is None else {
            "span_id": summary.root_span_id,
            "name": summary.root_name,
            "span_kind": summary.root_span_kind,
            "input_preview": summary.input_preview,
            "output_preview": summary.output_preview,
        },
        "cost": {"total": usd(summary.cost), "unpriced_spans": summary.unpriced_spans},
        "session_id": summary.session_id,
        "user_id": summary.user_id,
        "spans": [span_json(span) for span in spans],
    }


def session_json(session: SessionSummary) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "project_name": session.project_name,
        "start_time": iso_time(session.start_time),
        "end_time": iso_time(session.end_time),
        "start_time_unix_nano": session.start_time,
        "end_time_unix_nano": session.end_time,
        "trace_count": session.trace_count,
        "error_count": session.error_count,
        "token_count": {
            "prompt": session.prompt_tokens,
            "completion": session.completion_tokens,
            "total": session.total_tokens,
        },
        "cost": {"total": usd(session.cost), "unpriced_spans": session.unpriced_spans},
        "first_input": session.first_input,
        "last_output": session.last_output,
        "user_id": session.user_id,
        "trace_ids": session.trace_ids,
        "latency_ms_p50": session.latency_ms_p50,
        "latency_ms_p99": session.latency_ms_p99,
    }


# ------------------------------------------------------------- Phoenix's trace, session and
# annotation shapes (phoenix.client.__generated__.v1: TraceData, SessionData, SpanAnnotation,
# TraceAnnotation, SessionAnnotation, SpanDocumentAnnotation), with Ember's fields beside.

# The GlobalID kind of each annotation target kind, as Phoenix names its annotation types.
ANNOTATION_GLOBAL_KINDS = {
    "span": "SpanAnnotation",
    "trace": "TraceAnnotation",
    "session": "ProjectSessionAnnotation",
    "document": "DocumentAnnotation",
}


def trace_data_json(item: TraceItem) -> dict[str, Any]:
    """Phoenix's TraceData: ids, times and token counts, the spans' tree columns when asked
    for; then Ember's roll-ups."""
    summary = item.summary
    out: dict[str, Any] = {
        "id": global_id("Trace", item.id),
        "trace_id": summary.trace_id,
        "project_id": global_id("Project", item.project_id),
        "start_time": iso_time(summary.start_time),
        "end_time": iso_time(summary.end_time),
        "token_count_prompt": summary.prompt_tokens,
        "token_count_completion": summary.completion_tokens,
        "token_count_total": summary.total_tokens,
    }
    if item.spans is not None:
        out["spans"] = [
            {
                "id": global_id("Span", span.id),
                "span_id": span.span_id,
                "parent_id": span.parent_id,
                "name": span.name,
                "span_kind": span.span_kind,
                "status_code": STATUS_NAMES.get(span.status_code, "UNSET"),
                "start_time": iso_time(span.start_time),
                "end_time": iso_time(span.end_time),
            }
            for span in item.spans
        ]
    out.update(
        start_time_unix_nano=summary.start_time,
        end_time_unix_nano=summary.end_time,
        latency_ms=(summary.end_time - summary.start_time) / 1e6,
        span_count=summary.span_count,
        error_count=summary.error_count,
        root_span_name=summary.root_name,
        session_id=summary.session_id,
        cost={"total": usd(summary.cost), "unpriced_spans": summary.unpriced_spans},
        root_span_id=summary.root_span_id,
        root_span_kind=summary.root_span_kind,
        input_preview=summary.input_preview,
        output_preview=summary.output_preview,
        user_id=summary.user_id,
    )
    return out


def session_data_json(item: SessionItem) -> dict[str, Any]:
    """Phoenix's SessionData (its traces in time order, token counts); then Ember's roll-ups."""
    summary = item.summary
    return {
        "id": global_id("ProjectSession", item.id),
        "session_id": summary.session_id,
        "project_id": global_id("Project", item.project_id),
        "start_time": iso_time(summary.start_time),
        "end_time": iso_time(summary.end_time),
        "traces": [
            {
                "id": global_id("Trace", trace.id),
                "trace_id": trace.trace_id,
                "start_time": iso_time(trace.start_time),
                "end_time": iso_time(trace.end_time),
            }
            for trace in item.traces
        ],
        "token_count_prompt": summary.prompt_tokens,
        "token_count_completion": summary.completion_tokens,
        "token_count_total": summary.total_tokens,
        "project_name": summary.project_name,
        "start_time_unix_nano": summary.start_time,
        "end_time_unix_nano": summary.end_time,
        "trace_count": summary.trace_count,
        "error_count": summary.error_count,
        "first_input": summary.first_input,
        "last_output": summary.last_output,
        "user_id": summary.user_id,
        "cost": {"total": usd(summary.cost), "unpriced_spans": summary.unpriced_spans},
        "latency_ms_p50": summary.latency_ms_p50,
        "latency_ms_p99": summary.latency_ms_p99,
    }


def annotation_briefs_json(briefs: list[AnnotationBrief]) -> list[dict[str, Any]]:
    """A listing row's `annotations` (Ember's `include_annotations=true`): name, label, score,
    annotator kind and identifier of each, oldest first within a name."""
    return [
        {
            "name": brief.name,
            "label": brief.label,
            "score": brief.score,
            "annotator_kind": brief.annotator_kind,
            "identifier": brief.identifier,
        }
        for brief in briefs
    ]


def annotation_json(annotation: Annotation) -> dict[str, Any]:
    """Phoenix's SpanAnnotation, TraceAnnotation, SessionAnnotation or SpanDocumentAnnotation,
    by the annotation's target kind."""
    target_field = {
        "span": "span_id", "document": "span_id", "trace": "trace_id", "session": "session_id",
    }[annotation.target_kind]
    out: dict[str, Any] = {
        "id": global_id(ANNOTATION_GLOBAL_KINDS[annotation.target_kind], annotation.id),
        target_field: annotation.target_id,
        "name": annotation.name,
        "annotator_kind": annotation.annotator_kind,
        "result": {
            "label": annotation.label,
            "score": annotation.score,
            "explanation": annotation.explanation,
        },
        "metadata": annotation.metadata,
        "identifier": annotation.identifier,
        "source": annotation.source,
        "user_id": annotation.user_id,
        "created_at": iso_time(annotation.created_at),
        "updated_at": iso_time(annotation.updated_at),
    }
    if annotation.target_kind == "document":
        out["document_position"] = annotation.document_position
    return out
