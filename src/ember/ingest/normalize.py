"""Pure: an OTLP ExportTraceServiceRequest to validated `SpanRecord`s, with per-span rejections.

A span with a bad id is rejected on its own (it is counted in the OTLP partial_success with a
message naming it); the spans beside it are kept. Project routing follows DESIGN section 3.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ember.ingest.anyvalue import AttributeConverter
from ember.model import Resource, Scope, SpanRecord
from ember.semconv.promote import promote
from ember.semconv.view import View, openinference_view

DEFAULT_PROJECT = "default"
PROJECT_ATTRIBUTE = "openinference.project.name"
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)
_MAX_MESSAGES = 5
MAX_TIME = 2**63 - 1  # OTLP times are uint64; databases store signed 64-bit integers


@dataclass
class NormalizedBatch:
    spans: list[SpanRecord] = field(default_factory=list)
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


def mapping_report(view: View) -> dict[str, Any] | None:
    """The view's report as stored JSON; None for a plain OpenInference span (nothing to say)."""
    if view.dialect == "openinference" and not view.report and not view.unmapped:
        return None
    return {
        "dialect": view.dialect,
        "entries": [
            {"target": e.target, "sources": list(e.sources), "rule": e.rule, "note": e.note}
            for e in view.report
        ],
        "unmapped": list(view.unmapped),
    }


def _time_problem(value: int, name: str) -> str | None:
    if value > MAX_TIME:
        return f"{name} {value} is beyond the year 2262, the latest time Ember can store"
    return None


class Normalizer:
    """Holds the limits; `normalize()` is pure apart from them."""

    def __init__(self, max_attribute_value_bytes: int, max_attribute_depth: int) -> None:
        self.converter = AttributeConverter(max_attribute_value_bytes, max_attribute_depth)

    def normalize(self, request: Any, header_project: str | None = None) -> NormalizedBatch:
        batch = NormalizedBatch()
        convert = self.converter.convert
        for r, resource_spans in enumerate(request.resource_spans):
            resource_types: dict[str, Any] = {}
            resource_truncated: dict[str, int] = {}
            otlp_resource = resource_spans.resource
            resource_attributes = convert(
                otlp_resource.attributes, resource_types, resource_truncated
            )
            resource = Resource(
                attributes=resource_attributes,
                schema_url=resource_spans.schema_url,
                dropped_attributes_count=otlp_resource.dropped_attributes_count,
                attribute_types=resource_types,
                fingerprint=_fingerprint(
                    resource_attributes, resource_spans.schema_url,
                    otlp_resource.dropped_attributes_count, resource_types,
                ),
            )
            project = project_for(resource_attributes, header_project)
            for s, scope_spans in enumerate(resource_spans.scope_spans):
                otlp_scope = scope_spans.scope
                scope_types: dict[str, Any] = {}
                scope_attributes = convert(otlp_scope.attributes, scope_types, {})
                scope = Scope(
                    name=otlp_scope.name,
                    version=otlp_scope.version,
                    attributes=scope_attributes,
                    schema_url=scope_spans.schema_url,
                    dropped_attributes_count=otlp_scope.dropped_attributes_count,
                    attribute_types=scope_types,
                    fingerprint=_fingerprint(
                        otlp_scope.name, otlp_scope.version, scope_attributes,
                        scope_spans.schema_url, otlp_scope.dropped_attributes_count, scope_types,
                    ),
                )
                for n, span in enumerate(scope_spans.spans):
                    record = self._span(span, project, resource, scope, batch, (r, s, n))
                    if record is not None:
                        batch.spans.append(record)
        return batch

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
        view = openinference_view(attributes, span.name, events)
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
            promoted=promote(
                {**attributes, **view.derived} if view.derived else attributes,
                view.span_kind,
                root=not parent,
            ),
            derived=view.derived,
            mapping=mapping_report(view),
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
