"""Ember's span JSON (the REST API's shape) to OTLP/JSON, and new ids for a second import.

`GET /v1/projects/{p}/spans` returns spans as JSON with everything OTLP sent: ids, times in
nanoseconds, attributes (with `attribute_types` for the values JSON cannot say: bytes and
non-finite doubles, in their OTLP/JSON form), events, links, status, kind, resource, scope,
trace state, flags and dropped counts, plus what Ember derived at ingest (listed in
`derived_attributes`, and the `cost` and `exception` summaries). `otlp_span` turns such a span
back into an OTLP/JSON span without the derived part, so a server that ingests it derives it
again; `export_request` groups spans into an `ExportTraceServiceRequest` by resource and scope,
the body `POST /v1/traces` takes with `Content-Type: application/json`. `otlp_logs` does the
same for the log records Ember attached to a span (an `ExportLogsServiceRequest` for
`POST /v1/logs`), and `IdMinter` gives the spans and records of such requests new ids.

JSON keeps the attribute types apart by itself: `true` is a bool, `3` an int, `3.0` a double,
a list an array (with each item's own type), an object a kvlist, `null` an empty value.

Errors are `ValueError`s whose text names the field (`context.trace_id`, `events[2].name`, ...);
the reader adds where in the file the span was.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

# OTLP's enums by the names Ember's span JSON uses.
SPAN_KINDS = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4,
              "CONSUMER": 5}
STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}

_HEX = re.compile(r"[0-9a-fA-F]*")


# ------------------------------------------------------------------------- values


def any_value(value: Any, where: str) -> dict[str, Any]:
    """The OTLP/JSON AnyValue of a JSON-native attribute value."""
    # bool before int: in Python a bool is an int.
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if value is None:
        return {}
    if isinstance(value, list):
        return {"arrayValue": {"values": [
            any_value(item, f"{where}[{i}]") for i, item in enumerate(value)
        ]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [
            {"key": str(k), "value": any_value(v, f"{where}.{k}")} for k, v in value.items()
        ]}}
    raise ValueError(f"{where}: {type(value).__name__} is not an attribute value")


def key_values(
    attributes: Any, types: Any, where: str, skip: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """OTLP/JSON KeyValues of an attribute map; a key in `types` is sent in the OTLP/JSON form
    recorded there (the original bytes or non-finite double), the others from their value."""
    if attributes is None:
        return []
    _expect(attributes, dict, where)
    types = {} if types is None else types
    _expect(types, dict, f"{where} types")
    skipped = set(skip)
    out = []
    for key, value in attributes.items():
        if key in skipped:
            continue
        typed = types.get(key)
        if typed is not None:
            _expect(typed, dict, f"{where} types.{key}")
            out.append({"key": key, "value": typed})
        else:
            out.append({"key": key, "value": any_value(value, f"{where}.{key}")})
    return out


# -------------------------------------------------------------------------- spans


def otlp_span(span: Mapping[str, Any]) -> dict[str, Any]:
    """One span of Ember's span JSON as an OTLP/JSON span, without the attributes Ember derived.

    Raises ValueError naming the field that is missing or wrong."""
    _expect(span, dict, "the span")
    context = span.get("context")
    if not isinstance(context, dict):
        raise ValueError(f"context must be an object with trace_id and span_id, got {context!r}")
    out: dict[str, Any] = {
        "traceId": hex_id(context.get("trace_id"), 16, "context.trace_id"),
        "spanId": hex_id(context.get("span_id"), 8, "context.span_id"),
        "name": _required(span, "name", str),
        "kind": _enum(span.get("otel_kind", "UNSPECIFIED"), SPAN_KINDS, "otel_kind"),
        "startTimeUnixNano": str(_required(span, "start_time_unix_nano", int)),
        "endTimeUnixNano": str(_required(span, "end_time_unix_nano", int)),
        "attributes": key_values(
            span.get("attributes"), span.get("attribute_types"), "attributes",
            skip=_list_of_str(span.get("derived_attributes"), "derived_attributes"),
        ),
        "status": {
            "code": _enum(span.get("status_code", "UNSET"), STATUS_CODES, "status_code"),
            "message": _optional(span, "status_message", str, ""),
        },
    }
    if span.get("parent_id") is not None:
        out["parentSpanId"] = hex_id(span["parent_id"], 8, "parent_id")
    if span.get("trace_state"):
        out["traceState"] = _optional(span, "trace_state", str, "")
    if span.get("flags"):
        out["flags"] = _optional(span, "flags", int, 0)
    for name, field in (("dropped_attributes_count", "droppedAttributesCount"),
                        ("dropped_events_count", "droppedEventsCount"),
                        ("dropped_links_count", "droppedLinksCount")):
        if span.get(name):
            out[field] = _optional(span, name, int, 0)
    events = span.get("events") or []
    _expect(events, list, "events")
    if events:
        out["events"] = [_event(event, f"events[{i}]") for i, event in enumerate(events)]
    links = span.get("links") or []
    _expect(links, list, "links")
    if links:
        out["links"] = [_link(link, f"links[{i}]") for i, link in enumerate(links)]
    return out


def _event(event: Any, where: str) -> dict[str, Any]:
    _expect(event, dict, where)
    out: dict[str, Any] = {
        "timeUnixNano": str(_required(event, "time_unix_nano", int, where)),
        "name": _required(event, "name", str, where),
        "attributes": key_values(
            event.get("attributes"), event.get("attribute_types"), f"{where}.attributes"
        ),
    }
    if event.get("dropped_attributes_count"):
        out["droppedAttributesCount"] = _optional(event, "dropped_attributes_count", int, 0)
    return out


def _link(link: Any, where: str) -> dict[str, Any]:
    _expect(link, dict, where)
    out: dict[str, Any] = {
        "traceId": hex_id(link.get("trace_id"), 16, f"{where}.trace_id"),
        "spanId": hex_id(link.get("span_id"), 8, f"{where}.span_id"),
        "attributes": key_values(
            link.get("attributes"), link.get("attribute_types"), f"{where}.attributes"
        ),
    }
    if link.get("trace_state"):
        out["traceState"] = _optional(link, "trace_state", str, "")
    if link.get("flags"):
        out["flags"] = _optional(link, "flags", int, 0)
    if link.get("dropped_attributes_count"):
        out["droppedAttributesCount"] = _optional(link, "dropped_attributes_count", int, 0)
    return out


def origin(span: Mapping[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """(OTLP/JSON resource, its schema URL, scope, its schema URL) of a span."""
    resource = span.get("resource") or {}
    _expect(resource, dict, "resource")
    scope = span.get("scope") or {}
    _expect(scope, dict, "scope")
    otlp_resource: dict[str, Any] = {"attributes": key_values(
        resource.get("attributes"), resource.get("attribute_types"), "resource.attributes"
    )}
    if resource.get("dropped_attributes_count"):
        otlp_resource["droppedAttributesCount"] = _optional(
            resource, "dropped_attributes_count", int, 0, "resource"
        )
    otlp_scope: dict[str, Any] = {
        "name": _optional(scope, "name", str, "", "scope"),
        "version": _optional(scope, "version", str, "", "scope"),
        "attributes": key_values(
            scope.get("attributes"), scope.get("attribute_types"), "scope.attributes"
        ),
    }
    if scope.get("dropped_attributes_count"):
        otlp_scope["droppedAttributesCount"] = _optional(
            scope, "dropped_attributes_count", int, 0, "scope"
        )
    return (
        otlp_resource, _optional(resource, "schema_url", str, "", "resource"),
        otlp_scope, _optional(scope, "schema_url", str, "", "scope"),
    )


# A span converted: (resource, resource schema URL, scope, scope schema URL, OTLP/JSON span).
Converted = tuple[dict[str, Any], str, dict[str, Any], str, dict[str, Any]]


def convert(span: Mapping[str, Any]) -> Converted:
    """One span of Ember's span JSON with its resource and scope, in OTLP/JSON."""
    _expect(span, dict, "the span")
    return (*origin(span), otlp_span(span))


# Each signal's OTLP/JSON request fields: the resource list, the scope list, the item list.
SIGNALS = {
    "spans": ("resourceSpans", "scopeSpans", "spans"),
    "logs": ("resourceLogs", "scopeLogs", "logRecords"),
}
_SNAKE = {
    "resourceSpans": "resource_spans", "scopeSpans": "scope_spans",
    "resourceLogs": "resource_logs", "scopeLogs": "scope_logs", "logRecords": "log_records",
    "spans": "spans",
}


def build_request(converted: Iterable[Converted], signal: str = "spans") -> dict[str, Any]:
    """An OTLP/JSON ExportTraceServiceRequest (or, for "logs", ExportLogsServiceRequest) of
    converted items, grouped by resource and scope in the order they first appear."""
    resources_field, scopes_field, items_field = SIGNALS[signal]
    groups: dict[str, tuple[dict[str, Any], str, dict[str, dict[str, Any]]]] = {}
    for resource, resource_url, scope, scope_url, item in converted:
        resource_key = json.dumps([resource, resource_url], sort_keys=True)
        group = groups.get(resource_key)
        if group is None:
            group = groups[resource_key] = (resource, resource_url, {})
        scope_key = json.dumps([scope, scope_url], sort_keys=True)
        scope_group = group[2].get(scope_key)
        if scope_group is None:
            scope_group = group[2][scope_key] = {"scope": scope, items_field: []}
            if scope_url:
                scope_group["schemaUrl"] = scope_url
        scope_group[items_field].append(item)
    resource_items = []
    for resource, resource_url, scopes in groups.values():
        entry: dict[str, Any] = {"resource": resource, scopes_field: list(scopes.values())}
        if resource_url:
            entry["schemaUrl"] = resource_url
        resource_items.append(entry)
    return {resources_field: resource_items}


def export_request(spans: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """An OTLP/JSON ExportTraceServiceRequest of spans in Ember's span JSON."""
    return build_request(convert(span) for span in spans)


def signal_of(request: Any) -> str:
    """"spans" or "logs": which export request this OTLP/JSON document is (ValueError if
    neither)."""
    if isinstance(request, dict):
        for signal, (resources_field, _, _) in SIGNALS.items():
            if resources_field in request or _SNAKE[resources_field] in request:
                return signal
    raise ValueError(
        "not an ExportTraceServiceRequest (no resourceSpans list) nor an "
        "ExportLogsServiceRequest (no resourceLogs list)"
    )


def request_items(request: Any, signal: str | None = None) -> list[dict[str, Any]]:
    """The spans (or log records) of an OTLP/JSON export request, camelCase or snake_case.

    Raises ValueError when it is not one."""
    signal = signal or signal_of(request)
    resources_field, scopes_field, items_field = SIGNALS[signal]
    _expect(request, dict, "the request")
    resource_items = _first(request, resources_field, _SNAKE[resources_field])
    _expect(resource_items, list, resources_field)
    items: list[dict[str, Any]] = []
    for r, resource_item in enumerate(resource_items):
        _expect(resource_item, dict, f"{resources_field}[{r}]")
        scope_items = _first(resource_item, scopes_field, _SNAKE[scopes_field]) or []
        for s, scope_item in enumerate(scope_items):
            where = f"{resources_field}[{r}].{scopes_field}[{s}]"
            _expect(scope_item, dict, where)
            for n, item in enumerate(_first(scope_item, items_field, _SNAKE[items_field]) or []):
                _expect(item, dict, f"{where}.{items_field}[{n}]")
                items.append(item)
    return items


# -------------------------------------------------------------------------- logs


def otlp_logs(span: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The log records Ember attached to a span (its `logs`, as `GET /v1/traces/{id}` shows
    them), as OTLP/JSON LogRecords tied to the span. Their own resource and scope are not
    kept by Ember: the caller sends them with the span's."""
    logs = span.get("logs") or []
    _expect(logs, list, "logs")
    context = span["context"]
    return [
        _log(log, context["trace_id"], context["span_id"], f"logs[{i}]")
        for i, log in enumerate(logs)
    ]


def _log(log: Any, trace_id: str, span_id: str, where: str) -> dict[str, Any]:
    _expect(log, dict, where)
    attributes = log.get("attributes") or {}
    types = dict(log.get("attribute_types") or {})
    body_type = types.pop("(body)", None)  # the body's OTLP/JSON form, when JSON can't say it
    out: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "timeUnixNano": str(_required(log, "time_unix_nano", int, where)),
        "attributes": key_values(attributes, types, f"{where}.attributes"),
    }
    name = _optional(log, "name", str, "", where)
    # Older SDKs name the event in an `event.name` attribute, which is sent back as it was.
    if name and (not isinstance(attributes, dict) or attributes.get("event.name") != name):
        out["eventName"] = name
    if body_type is not None:
        _expect(body_type, dict, f"{where}.attribute_types.(body)")
        out["body"] = body_type
    elif log.get("body") is not None:
        out["body"] = any_value(log["body"], f"{where}.body")
    for key, field, kind in (
        ("observed_time_unix_nano", "observedTimeUnixNano", int),
        ("severity_number", "severityNumber", int),
        ("severity_text", "severityText", str),
        ("dropped_attributes_count", "droppedAttributesCount", int),
        ("flags", "flags", int),
    ):
        if log.get(key):
            value = _required(log, key, kind, where)
            out[field] = str(value) if field == "observedTimeUnixNano" else value
    return out


# -------------------------------------------------------------------------- new ids


class IdMinter:
    """Consistent random new ids: each trace id gets one new trace id, and each (trace id,
    span id) one new span id, so parents and links that point inside the data still do.

    A link to a span that is not in the data gets new ids too (the same ones wherever it
    appears), because the data cannot say whether it will come later in the file."""

    def __init__(self) -> None:
        self._traces: dict[str, str] = {}
        self._spans: dict[tuple[str, str], str] = {}

    def trace(self, trace_id: str) -> str:
        key = trace_id.lower()
        new = self._traces.get(key)
        if new is None:
            new = self._traces[key] = secrets.token_hex(16)
        return new

    def span(self, trace_id: str, span_id: str) -> str:
        key = (trace_id.lower(), span_id.lower())
        new = self._spans.get(key)
        if new is None:
            new = self._spans[key] = secrets.token_hex(8)
        return new

    def remint(self, request: dict[str, Any], apply: bool = True) -> None:
        """Give every span (or log record) of an OTLP/JSON request (hex ids) its new ids, in
        place. With `apply=False` nothing changes: it only checks that every id is hex of the
        right size. Raises ValueError naming a bad id."""
        signal = signal_of(request)
        for n, span in enumerate(request_items(request, signal)):
            where = f"{'span' if signal == 'spans' else 'log record'} {n}"
            trace = hex_id(_first(span, "traceId", "trace_id"), 16, f"{where} traceId")
            new: dict[tuple[str, str], str] = {
                ("traceId", "trace_id"): self.trace(trace),
                ("spanId", "span_id"): self._span(
                    trace, _first(span, "spanId", "span_id"), f"{where} spanId"
                ),
            }
            parent = _first(span, "parentSpanId", "parent_span_id")
            if parent:
                new["parentSpanId", "parent_span_id"] = self._span(
                    trace, parent, f"{where} parentSpanId"
                )
            for k, link in enumerate(span.get("links") or []):
                link_where = f"{where} links[{k}]"
                _expect(link, dict, link_where)
                link_trace = hex_id(
                    _first(link, "traceId", "trace_id"), 16, f"{link_where}.traceId"
                )
                link_span = self._span(
                    link_trace, _first(link, "spanId", "span_id"), f"{link_where}.spanId"
                )
                if apply:
                    _set(link, ("traceId", "trace_id"), self.trace(link_trace))
                    _set(link, ("spanId", "span_id"), link_span)
            if apply:
                for names, value in new.items():
                    _set(span, names, value)

    def _span(self, trace_id: str, span_id: Any, where: str) -> str:
        return self.span(trace_id, hex_id(span_id, 8, where))


# ------------------------------------------------------------------------- checks


def hex_id(value: Any, size: int, where: str) -> str:
    """A lowercase hex id of `size` bytes, or ValueError naming `where`."""
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX.fullmatch(value):
        raise ValueError(f"{where} must be {2 * size} hex characters, got {value!r}")
    return value.lower()


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        names = {dict: "an object", list: "a list", str: "a string", int: "an integer"}
        raise ValueError(f"{where} must be {names.get(kind, kind.__name__)}, got {value!r:.80}")


def _required(obj: Mapping[str, Any], name: str, kind: type, where: str = "") -> Any:
    field = f"{where}.{name}" if where else name
    if name not in obj or obj[name] is None:
        raise ValueError(f"{field} is missing")
    value = obj[name]
    if kind is int and isinstance(value, bool):
        raise ValueError(f"{field} must be an integer, got {value!r}")
    _expect(value, kind, field)
    return value


def _optional(obj: Mapping[str, Any], name: str, kind: type, default: Any, where: str = "") -> Any:
    if obj.get(name) is None:
        return default
    return _required(obj, name, kind, where)


def _enum(value: Any, names: Mapping[str, int], where: str) -> int:
    if isinstance(value, str) and value.upper() in names:
        return names[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"{where} must be one of {', '.join(names)}, got {value!r}")


def _list_of_str(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    _expect(value, list, where)
    for item in value:
        _expect(item, str, f"{where} item")
    return list(value)


def _first(obj: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _set(obj: dict[str, Any], names: tuple[str, str], value: str) -> None:
    """Set the field under whichever spelling (camelCase or snake_case) it already has."""
    obj[names[1] if names[1] in obj and names[0] not in obj else names[0]] = value
