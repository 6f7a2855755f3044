"""What the span detail panel shows for one stored span (pure; templates/span_detail.html
draws it).

Every span gets its header (name, kind, status, timings, ids, the shareable link), the
exception, events, log records, the raw attributes (all of them, as stored), the mapping
report, resource and scope. Then by kind (spec/SEMCONV.md section 6): LLM spans the
conversation, model, parameters, tokens, cost, tools offered; RETRIEVER the query and ranked
documents; RERANKER documents before and after; EMBEDDING the texts (never the vectors);
TOOL its name, description, parameter schema, arguments and result; every other kind its
input and output. A prompt template with its variables is shown on any span that has one.

Values stay plain data here: templates escape text, and render markdown only through
ui/markdown.py. Long values are folded by the templates, not cut here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ember.model import OTEL_KIND_NAMES, STATUS_NAMES, StoredSpan
from ember.ui import oi

# Lists of numbers with a float at least this long are taken for vectors: never listed.
VECTOR_ITEMS = 8
_FIRST_TOKEN_EVENTS = ("first token stream event", "gen_ai.content.first_token")


@dataclass(frozen=True, slots=True)
class Shown:
    """A value as displayed: `text`, and whether it is pretty-printed JSON (shown as code) or
    prose (rendered as markdown when `markdown`)."""

    text: str
    json: bool = False
    markdown: bool = False


def shown(value: Any, markdown: bool = False, mime_type: Any = None) -> Shown | None:
    if value is None:
        return None
    if isinstance(value, str):
        is_json, parsed = oi.parse_json(value)
        if is_json:
            return Shown(oi.pretty_json(without_vectors(parsed)), json=True)
        # A JSON string scalar ("\"hello\"") declared as JSON reads better unquoted.
        if mime_type == "application/json" and value.startswith('"'):
            try:
                inner = orjson.loads(value)
                if isinstance(inner, str):
                    return Shown(inner, markdown=markdown)
            except orjson.JSONDecodeError:
                pass
        return Shown(value, markdown=markdown)
    if isinstance(value, bool | int | float):
        return Shown(str(value).lower() if isinstance(value, bool) else str(value))
    return Shown(oi.pretty_json(without_vectors(value)), json=True)


@dataclass(frozen=True, slots=True)
class AttributeRow:
    key: str
    value: Shown | None
    summary: str | None  # instead of `value`, for long numeric lists (vectors)
    derived: bool
    truncated_from: int | None
    wire_type: str | None


def _numbers(value: list[Any]) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)


def is_vector(value: Any, key: str = "") -> bool:
    """An embedding vector: any `embedding.vector`, else a list of numbers holding a float
    that is at least VECTOR_ITEMS long (token ids, lists of ints, stay shown)."""
    if not isinstance(value, list) or not value or not _numbers(value):
        return False
    return key.endswith("embedding.vector") or (
        len(value) >= VECTOR_ITEMS and any(isinstance(x, float) for x in value)
    )


def _vector_note(value: list[Any]) -> str:
    return f"{len(value):,} numbers (not shown)"


def without_vectors(value: Any) -> Any:
    """A JSON value with its vectors (raw embedding responses) replaced by a note."""
    if isinstance(value, dict):
        return {k: _vector_note(v) if is_vector(v, str(k)) else without_vectors(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_vector_note(v) if is_vector(v) else without_vectors(v) for v in value]
    return value


def attribute_rows(span: StoredSpan) -> list[AttributeRow]:
    rows: list[AttributeRow] = []
    for key in sorted(span.attributes):
        value = span.attributes[key]
        vector = is_vector(value, key)
        wire = span.attribute_types.get(key)
        rows.append(AttributeRow(
            key=key,
            value=None if vector else shown(value),
            summary=_vector_note(value) if vector else None,
            derived=key in span.derived,
            truncated_from=span.truncated.get(key),
            wire_type=next(iter(wire), None) if isinstance(wire, dict) else None,
        ))
    return rows


def _pairs(attributes: Mapping[str, Any]) -> list[tuple[str, Shown | None]]:
    return [(key, shown(attributes[key])) for key in sorted(attributes)]


def _events(span: StoredSpan) -> list[dict[str, Any]]:
    return [
        {
            "name": event.get("name", ""),
            "offset": int(event.get("time_unix_nano", span.start_time)) - span.start_time,
            "attributes": _pairs(event.get("attributes") or {}),
        }
        for event in span.events
    ]


def _exceptions(span: StoredSpan) -> list[dict[str, Any]]:
    out = []
    for event in span.events:
        if event.get("name") == "exception":
            attributes = event.get("attributes") or {}
            out.append({
                "type": oi.text_of(attributes.get("exception.type")),
                "message": oi.text_of(attributes.get("exception.message")),
                "stacktrace": oi.text_of(attributes.get("exception.stacktrace")),
            })
    return out


def _logs(span: StoredSpan) -> list[dict[str, Any]]:
    return [
        {
            "name": log.get("name") or "",
            "offset": int(log.get("time_unix_nano", span.start_time)) - span.start_time,
            "severity": log.get("severity_text") or "",
            "body": shown(log.get("body"), markdown=False),
            "attributes": _pairs(log.get("attributes") or {}),
        }
        for log in span.logs or []
    ]


def _first_token(span: StoredSpan) -> int | None:
    for event in span.events:
        if str(event.get("name", "")).lower() in _FIRST_TOKEN_EVENTS:
            return int(event.get("time_unix_nano", span.start_time)) - span.start_time
    return None


def _template(a: Mapping[str, Any]) -> dict[str, Any] | None:
    template = a.get("llm.prompt_template.template")
    variables = oi.json_object(a.get("llm.prompt_template.variables"))
    if template is None and variables is None:
        return None
    return {
        "template": oi.text_of(template),
        "variables": _pairs(variables or {}),
        "version": oi.text_of(a.get("llm.prompt_template.version")),
        "source": [(k, oi.text_of(a.get(k))) for k in ("prompt.vendor", "prompt.id", "prompt.url")
                   if a.get(k) is not None],
    }


def _io(a: Mapping[str, Any], markdown: bool) -> dict[str, Shown | None]:
    return {
        "input": shown(a.get("input.value"), markdown, a.get("input.mime_type")),
        "output": shown(a.get("output.value"), markdown, a.get("output.mime_type")),
    }


def _usage(attributes: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """`llm.token_count.*` or `llm.cost.*`: prompt, completion and total first, then the
    details (`prompt_details.cache_read`...) by name."""
    found = oi.prefixed(attributes, prefix)
    head: dict[str, Any] = {
        k: found.pop(k) for k in ("prompt", "completion", "total") if k in found
    }
    return {**head, **found}


def _llm(span: StoredSpan) -> dict[str, Any]:
    a = span.attributes
    model = oi.text_of(a.get("llm.model_name"))
    requested = oi.text_of(a.get("llm.request.model_name"))
    return {
        "input_messages": oi.messages(a, "llm.input_messages"),
        "output_messages": oi.messages(a, "llm.output_messages"),
        "prompts": [oi.text_of(b.get("prompt.text")) for b in oi.indexed(a, "llm.prompts")],
        "choices": [
            oi.text_of(b.get("completion.text")) for b in oi.indexed(a, "llm.choices")
        ],
        "model": model,
        "requested_model": requested if requested != model else None,
        "provider": oi.text_of(a.get("llm.provider")),
        "system": oi.text_of(a.get("llm.system")),
        "finish_reason": oi.text_of(a.get("llm.finish_reason")),
        "parameters": shown(a.get("llm.invocation_parameters")),
        "tools": oi.tool_definitions(a),
        "tokens": _usage(a, "llm.token_count."),
        "costs": _usage(a, "llm.cost."),
        "cost_summary": span.cost_summary,
        "first_token": _first_token(span),
        "raw": _io(a, markdown=False),
    }


def _retriever(span: StoredSpan) -> dict[str, Any]:
    a = span.attributes
    return {
        "query": shown(a.get("input.value"), mime_type=a.get("input.mime_type")),
        "documents": oi.documents(a, "retrieval.documents"),
    }


def _document_key(doc: oi.Document) -> tuple[str, str | None]:
    """Documents are matched across a rerank by id, else by content."""
    return ("id", doc.id) if doc.id is not None else ("content", doc.content)


def _reranker(span: StoredSpan) -> dict[str, Any]:
    a = span.attributes
    inputs = oi.documents(a, "reranker.input_documents")
    outputs = oi.documents(a, "reranker.output_documents")
    rank_before = {_document_key(d): d.rank for d in inputs}
    kept = {_document_key(d) for d in outputs}
    return {
        "query": shown(a.get("reranker.query") or a.get("input.value")),
        "model": oi.text_of(a.get("reranker.model_name")),
        "top_k": a.get("reranker.top_k"),
        "inputs": [(d, None if _document_key(d) in kept else "dropped") for d in inputs],
        "outputs": [
            (d, f"was #{before}" if (before := rank_before.get(_document_key(d))) else "new")
            for d in outputs
        ],
    }


def _embedding(span: StoredSpan) -> dict[str, Any]:
    a = span.attributes
    return {
        "model": oi.text_of(a.get("embedding.model_name")),
        "parameters": shown(a.get("embedding.invocation_parameters")),
        "texts": oi.embeddings(a),
        "tokens": _usage(a, "llm.token_count."),
        "costs": _usage(a, "llm.cost."),
        "cost_summary": span.cost_summary,
    }


def _tool(span: StoredSpan) -> dict[str, Any]:
    a = span.attributes
    return {
        "name": oi.text_of(a.get("tool.name")) or span.name,
        "description": oi.text_of(a.get("tool.description")),
        "parameters": shown(a.get("tool.parameters")),
        "call_id": oi.text_of(a.get("tool.id") or a.get("tool_call.id")),
        "arguments": shown(a.get("input.value"), mime_type=a.get("input.mime_type")),
        "result": shown(a.get("output.value"), True, a.get("output.mime_type")),
    }


# The section template and the view builder of each kind; other kinds show input and output.
KIND_SECTIONS = {
    "LLM": ("detail/llm.html", _llm),
    "RETRIEVER": ("detail/retriever.html", _retriever),
    "RERANKER": ("detail/reranker.html", _reranker),
    "EMBEDDING": ("detail/embedding.html", _embedding),
    "TOOL": ("detail/tool.html", _tool),
}


def span_detail(span: StoredSpan, share_url: str) -> dict[str, Any]:
    """The template context of templates/span_detail.html."""
    a = span.attributes
    section, build = KIND_SECTIONS.get(span.span_kind, ("detail/io.html", None))
    tags = a.get("tag.tags")
    return {
        "span": span,
        "kind": span.span_kind,
        "otel_kind": OTEL_KIND_NAMES.get(span.otel_kind, str(span.otel_kind)),
        "status": STATUS_NAMES.get(span.status_code, "UNSET"),
        "duration": span.end_time - span.start_time,
        "share_url": share_url,
        "label": oi.text_of(a.get("agent.name") or a.get("graph.node.name")),
        "section": section,
        "view": build(span) if build is not None else None,
        "io": _io(a, markdown=True),
        "template": _template(a),
        "session_id": oi.text_of(a.get("session.id")),
        "user_id": oi.text_of(a.get("user.id")),
        "tags": [str(t) for t in tags] if isinstance(tags, list) else (
            [str(tags)] if tags else []
        ),
        "metadata": _pairs(oi.json_object(a.get("metadata")) or {}),
        "exceptions": _exceptions(span),
        "events": _events(span),
        "logs": _logs(span),
        "attributes": attribute_rows(span),
        "mapping": span.mapping,
        "resource": _pairs(span.resource.get("attributes") or {}),
        "scope": span.scope,
        "links": [
            {"trace_id": link.get("trace_id"), "span_id": link.get("span_id"),
             "attributes": _pairs(link.get("attributes") or {})}
            for link in span.links
        ],
    }
