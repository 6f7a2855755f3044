"""Pure: OTLP export requests to validated `SpanRecord`s and `LogRecord`s, with per-item
rejections.

A span (or log record) with a bad id is rejected on its own (it is counted in the OTLP
partial_success with a message naming it); the items beside it are kept. Project routing
follows DESIGN section 3. Each span's derived data (OpenInference view, cost, promoted columns)
comes from `ember.ingest.derive`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ember.cost.table import bundled_table
from ember.ingest.anyvalue import AttributeConverter
from ember.ingest.derive import SpanDeriver
from ember.model import LogRecord, Resource, Scope, SpanRecord

DEFAULT_PROJECT = "default"
PROJECT_ATTRIBUTE = "openinference.project.name"
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)
_MAX_MESSAGES = 5
MAX_TIME = 2**63 - 1  # OTLP times are uint64; databases store signed 64-bit integers


@dataclass
class Rejections:
    """Items rejected one by one, with the first few reasons for the partial_success message."""

    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def reject(self, problem: str) -> None:
        self.rejected += 1
        if len(self.problems) < _MAX_MESSAGES:
            self.problems.append(problem)

    @property
    def message(self) -> str:
        text = "; ".join(self.problems)
        more = self.rejected - len(self.problems)
        if more > 0:
            text += f"; and {more} more"
        return text


@dataclass
class NormalizedBatch(Rejections):
    spans: list[SpanRecord] = field(default_factory=list)


@dataclass
class NormalizedLogs(Rejections):
    logs: list[LogRecord] = field(default_factory=list)


def _fingerprint(*parts: Any) -> str:
    return hashlib.blake2b(
        orjson.dumps(parts, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


def project_for(resource_attributes: dict[str, Any], header_project: str | None) -> str:
    if header_project:
        return header_project
    named = resource_attributes.get(PROJECT_ATTRIBUTE)
    if isinstance(named, str) and named.strip():
        return named.strip()
    service = resource_attributes.get("service.name")
    if isinstance(service, str) and service.strip() and not service.startswith("unknown_service"):
        return service.strip()
    return DEFAULT_PROJECT


def _id_problem(raw: bytes, size: int, name: str) -> str | None:
    if len(raw) != size:
        return f"{name} must be {size} bytes, got {len(raw)}"
    if raw == (_ZERO_TRACE if size == 16 else _ZERO_SPAN):
        return f"{name} must not be all zeros"
    return None


def _log_problem(log: Any) -> str | None:
    if not log.trace_id or not log.span_id:
        return (
            "it has no trace_id and span_id; Ember keeps only log records tied to a span "
            "(GenAI events), not general logs"
        )
    problem = _id_problem(log.trace_id, 16, "trace_id") or _id_problem(log.span_id, 8, "span_id")
    if problem is None:
        problem = _time_problem(log.time_unix_nano, "time_unix_nano") or _time_problem(
            log.observed_time_unix_nano, "observed_time_unix_nano"
        )
    return problem


def _time_problem(value: int, name: str) -> str | None:
    if value > MAX_TIME:
        return f"{name} {value} is beyond the year 2262, the latest time Ember can store"
    return None


class Normalizer:
    """Holds the limits and the deriver; `normalize()` is pure apart from them."""

    def __init__(
        self,
        max_attribute_value_bytes: int,
        max_attribute_depth: int,
        deriver: SpanDeriver | None = None,
    ) -> None:
        self.converter = AttributeConverter(max_attribute_value_bytes, max_attribute_depth)
        self.deriver = deriver or SpanDeriver(bundled_table())

    def normalize(self, request: Any, header_project: str | None = None) -> NormalizedBatch:
        """An ExportTraceServiceRequest to span records."""
        batch = NormalizedBatch()
        for r, resource_spans in enumerate(request.resource_spans):
            resource = self._resource(resource_spans)
            project = project_for(resource.attributes, header_project)
            for s, scope_spans in enumerate(resource_spans.scope_spans):
                scope = self._scope(scope_spans)
                for n, span in enumerate(scope_spans.spans):
                    record = self._span(span, project, resource, scope, batch, (r, s, n))
                    if record is not None:
                        batch.spans.append(record)
        return batch

    def normalize_logs(self, request: Any) -> NormalizedLogs:
        """An ExportLogsServiceRequest to log records. Only records tied to a span are kept
        (Ember is not a log store): one without a trace and span id is rejected, counted in
        the OTLP partial_success."""
        batch = NormalizedLogs()
        for r, resource_logs in enumerate(request.resource_logs):
            resource = self._resource(resource_logs)
            for s, scope_logs in enumerate(resource_logs.scope_logs):
                scope = self._scope(scope_logs)
                for n, log in enumerate(scope_logs.log_records):
                    problem = _log_problem(log)
                    if problem is not None:
                        batch.reject(f"log record {n} of scope {s} of resource {r}: {problem}")
                        continue
                    batch.logs.append(self._log(log, resource, scope))
        return batch

    def _resource(self, resource_items: Any) -> Resource:
        types: dict[str, Any] = {}
        otlp_resource = resource_items.resource
        attributes = self.converter.convert(otlp_resource.attributes, types, {})
        return Resource(
            attributes=attributes,
            schema_url=resource_items.schema_url,
            dropped_attributes_count=otlp_resource.dropped_attributes_count,
            attribute_types=types,
            fingerprint=_fingerprint(
                attributes, resource_items.schema_url,
                otlp_resource.dropped_attributes_count, types,
            ),
        )

    def _scope(self, scope_items: Any) -> Scope:
        otlp_scope = scope_items.scope
        types: dict[str, Any] = {}
        attributes = self.converter.convert(otlp_scope.attributes, types, {})
        return Scope(
            name=otlp_scope.name,
            version=otlp_scope.version,
            attributes=attributes,
            schema_url=scope_items.schema_url,
            dropped_attributes_count=otlp_scope.dropped_attributes_count,
            attribute_types=types,
            fingerprint=_fingerprint(
                otlp_scope.name, otlp_scope.version, attributes,
                scope_items.schema_url, otlp_scope.dropped_attributes_count, types,
            ),
        )

    def _log(self, log: Any, resource: Resource, scope: Scope) -> LogRecord:
        convert = self.converter
        types: dict[str, Any] = {}
        truncated: dict[str, int] = {}
        attributes = convert.convert(log.attributes, types, truncated)
        body_types: dict[str, Any] = {}
        body = (
            convert.convert_value("body", log.body, body_types, truncated)
            if log.HasField("body") else None
        )
        if body_types:
            types["(body)"] = body_types["body"]
        # The event name has its own field since OTLP 1.5; older SDKs put it in an attribute.
        name = log.event_name or attributes.get("event.name") or ""
        time = log.time_unix_nano or log.observed_time_unix_nano
        trace_id, span_id = log.trace_id.hex(), log.span_id.hex()
        return LogRecord(
            trace_id=trace_id,
            span_id=span_id,
            time_unix_nano=time,
            observed_time_unix_nano=log.observed_time_unix_nano,
            event_name=name if isinstance(name, str) else str(name),
            severity_number=log.severity_number,
            severity_text=log.severity_text,
            body=body,
            attributes=attributes,
            attribute_types=types,
            truncated=truncated,
            dropped_attributes_count=log.dropped_attributes_count,
            flags=log.flags,
            resource=resource,
            scope=scope,
            fingerprint=_fingerprint(
                trace_id, span_id, time, log.observed_time_unix_nano, name,
                log.severity_number, log.severity_text, body, attributes, types,
                log.dropped_attributes_count, log.flags, resource.fingerprint,
                scope.fingerprint,
            ),
        )

    def _span(
        self,
        span: Any,
        project: str,
        resource: Resource,
        scope: Scope,
        batch: NormalizedBatch,
        where: tuple[int, int, int],
    ) -> SpanRecord | None:
        trace_id = span.trace_id
        span_id = span.span_id
        parent = span.parent_span_id
        problem = _id_problem(trace_id, 16, "trace_id") or _id_problem(span_id, 8, "span_id")
        if problem is None and parent:
            problem = _id_problem(parent, 8, "parent_span_id")
        if problem is None:
            problem = _time_problem(span.start_time_unix_nano, "start_time_unix_nano") or (
                _time_problem(span.end_time_unix_nano, "end_time_unix_nano")
            )
        if problem is not None:
            r, s, n = where
            batch.reject(f"span {n} of scope {s} of resource {r}: {problem}")
            return None
        convert = self.converter.convert
        types: dict[str, Any] = {}
        truncated: dict[str, int] = {}
        bulky: list[str] = []
        attributes = convert(span.attributes, types, truncated, bulky)
        events = [
            self._event(event) for event in span.events
        ] if span.events else []
        links = [self._link(link) for link in span.links] if span.links else []
        promoted, derived, mapping, cost_summary = self.deriver.derive(
            attributes, span.name, events, root=not parent
        )
        status = span.status
        return SpanRecord(
            project_name=project,
            trace_id=trace_id.hex(),
            span_id=span_id.hex(),
            parent_id=parent.hex() if parent else None,
            name=span.name,
            otel_kind=span.kind,
            start_time=span.start_time_unix_nano,
            end_time=span.end_time_unix_nano,
            status_code=status.code,
            status_message=status.message,
            attributes=attributes,
            bulky_keys=bulky,
            attribute_types=types,
            truncated=truncated,
            events=events,
            links=links,
            trace_state=span.trace_state,
            flags=span.flags,
            dropped_attributes_count=span.dropped_attributes_count,
            dropped_events_count=span.dropped_events_count,
            dropped_links_count=span.dropped_links_count,
            resource=resource,
            scope=scope,
            promoted=promoted,
            derived=derived,
            mapping=mapping,
            cost_summary=cost_summary,
        )

    def _event(self, event: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"name": event.name, "time_unix_nano": event.time_unix_nano}
        return self._with_attributes(out, event)

    def _link(self, link: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "trace_id": link.trace_id.hex(),
            "span_id": link.span_id.hex(),
            "trace_state": link.trace_state,
        }
        if link.flags:
            out["flags"] = link.flags
        return self._with_attributes(out, link)

    def _with_attributes(self, out: dict[str, Any], item: Any) -> dict[str, Any]:
        """An event's or link's attributes, dropped count, types and truncations into `out`."""
        types: dict[str, Any] = {}
        truncated: dict[str, int] = {}
        out["attributes"] = self.converter.convert(item.attributes, types, truncated)
        if item.dropped_attributes_count:
            out["dropped_attributes_count"] = item.dropped_attributes_count
        if types:
            out["attribute_types"] = types
        if truncated:
            out["truncated"] = truncated
        return out
