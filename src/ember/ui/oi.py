"""Reading OpenInference's flat attributes back into the objects they flatten (pure).

Stored spans carry the OpenInference view of whatever convention they were sent in (ingest
derives it), as flat dotted keys: `llm.input_messages.0.message.role`. These helpers rebuild
the lists the trace view shows, following spec/SEMCONV.md 2.2: indices sorted numerically,
gaps tolerated, and a whole list sent as one JSON string in the root key accepted too
(flattened keys win when both exist). JSON-string attributes are parsed leniently: text that
does not parse stays text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ember.ui.urls import is_data_image, is_web_link

REDACTED = "__REDACTED__"

Bucket = dict[str, Any]


def parse_json(value: Any) -> tuple[bool, Any]:
    """(True, parsed) for a string holding a JSON object or array, else (False, value)."""
    if isinstance(value, str):
        head = value.lstrip()[:1]
        if head in ("{", "["):
            try:
                return True, orjson.loads(value)
            except orjson.JSONDecodeError:
                return False, value
    return False, value


def pretty_json(value: Any) -> str:
    return orjson.dumps(
        value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    ).decode()


def _flatten(value: Any, prefix: str, out: Bucket) -> None:
    """Nested JSON objects as flat dotted keys (lists of objects stay whole)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value


def indexed(attributes: Mapping[str, Any], prefix: str) -> list[Bucket]:
    """The items of the list `prefix`: `prefix.N.rest` keys grouped by N (numeric order), each
    item keyed by `rest`; else the root key's list (a JSON string or a list of objects)."""
    start = prefix + "."
    buckets: dict[int, Bucket] = {}
    for key, value in attributes.items():
        if key.startswith(start):
            index, _, rest = key[len(start):].partition(".")
            if rest and index.isdigit():
                buckets.setdefault(int(index), {})[rest] = value
    if buckets:
        return [buckets[i] for i in sorted(buckets)]
    _, whole = parse_json(attributes.get(prefix))
    if not isinstance(whole, list):
        return []
    items: list[Bucket] = []
    for item in whole:
        if isinstance(item, dict):
            flat: Bucket = {}
            _flatten(item, "", flat)
            items.append(flat)
    return items


def text_of(value: Any) -> str | None:
    """An attribute value as display text (None when absent)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return pretty_json(value)


@dataclass(frozen=True, slots=True)
class Image:
    """How to show an image reference: `data` (inline, raster data URL), `link` (http(s),
    shown as a link, never loaded), `redacted`, or `other` (storage URIs: text only)."""

    url: str
    how: str


def image(url: Any) -> Image | None:
    if not isinstance(url, str) or not url:
        return None
    if url == REDACTED:
        return Image(url, "redacted")
    if is_data_image(url):
        return Image(url, "data")
    if is_web_link(url):
        return Image(url, "link")
    return Image(url, "other")


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str | None
    name: str | None
    arguments: str | None
    arguments_json: bool


def tool_call(bucket: Bucket, prefix: str = "tool_call.") -> ToolCall:
    is_json, parsed = parse_json(bucket.get(f"{prefix}function.arguments"))
    return ToolCall(
        id=text_of(bucket.get(f"{prefix}id")),
        name=text_of(bucket.get(f"{prefix}function.name")),
        arguments=pretty_json(parsed) if is_json else text_of(parsed),
        arguments_json=is_json,
    )


@dataclass(frozen=True, slots=True)
class ContentItem:
    type: str
    text: str | None = None
    image: Image | None = None
    tool_call: ToolCall | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def content_item(bucket: Bucket) -> ContentItem:
    kind = str(bucket.get("message_content.type") or "text")
    known = {"message_content.type", "message_content.text", "message_content.image.image.url"}
    call = None
    if any(key.startswith("tool_call.") for key in bucket):
        call = tool_call(bucket)
    return ContentItem(
        type=kind,
        text=text_of(bucket.get("message_content.text")),
        image=image(bucket.get("message_content.image.image.url")),
        tool_call=call,
        extra={
            k: v for k, v in bucket.items() if k not in known and not k.startswith("tool_call.")
        },
    )


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str | None
    contents: list[ContentItem]
    tool_calls: list[ToolCall]
    name: str | None
    tool_call_id: str | None
    finish_reason: str | None


def messages(attributes: Mapping[str, Any], prefix: str) -> list[Message]:
    """`llm.input_messages` or `llm.output_messages` as messages."""
    out: list[Message] = []
    for bucket in indexed(attributes, prefix):
        contents = [content_item(b) for b in indexed(bucket, "message.contents")]
        content = text_of(bucket.get("message.content"))
        # Producers may send the text twice (content and one text item): show it once.
        if content is not None and [c.text for c in contents if c.type == "text"] == [content]:
            contents = [c for c in contents if c.type != "text"]
        calls = [tool_call(b) for b in indexed(bucket, "message.tool_calls")]
        legacy_name = bucket.get("message.function_call_name")
        if legacy_name is not None:
            calls.append(tool_call({
                "tool_call.function.name": legacy_name,
                "tool_call.function.arguments": bucket.get("message.function_call_arguments_json"),
            }))
        out.append(Message(
            role=str(bucket.get("message.role") or "unknown"),
            content=content,
            contents=contents,
            tool_calls=calls,
            name=text_of(bucket.get("message.name")),
            tool_call_id=text_of(bucket.get("message.tool_call_id")),
            finish_reason=text_of(bucket.get("message.finish_reason")),
        ))
    return out


@dataclass(frozen=True, slots=True)
class Document:
    rank: int
    id: str | None
    score: float | None
    content: str | None
    metadata: str | None


def documents(attributes: Mapping[str, Any], prefix: str) -> list[Document]:
    """Documents of `retrieval.documents` / `reranker.*_documents`, in producer order."""
    out: list[Document] = []
    for rank, bucket in enumerate(indexed(attributes, prefix), start=1):
        score = bucket.get("document.score")
        is_json, metadata = parse_json(bucket.get("document.metadata"))
        out.append(Document(
            rank=rank,
            id=text_of(bucket.get("document.id")),
            score=float(score) if isinstance(score, int | float) else None,
            content=text_of(bucket.get("document.content")),
            metadata=pretty_json(metadata) if is_json else text_of(metadata),
        ))
    return out


@dataclass(frozen=True, slots=True)
class EmbeddingItem:
    index: int
    text: str | None
    dimensions: int | None
    vector_note: str | None  # when the vector is not a list (redacted, absent)


def embeddings(attributes: Mapping[str, Any]) -> list[EmbeddingItem]:
    """Texts of `embedding.embeddings` with their vectors' sizes, never their values."""
    out: list[EmbeddingItem] = []
    for index, bucket in enumerate(indexed(attributes, "embedding.embeddings")):
        vector = bucket.get("embedding.vector")
        out.append(EmbeddingItem(
            index=index,
            text=text_of(bucket.get("embedding.text")),
            dimensions=len(vector) if isinstance(vector, list) else None,
            vector_note=None if isinstance(vector, list) else (
                "hidden by the producer" if vector == REDACTED
                else "not captured" if vector is None else "not a list of numbers"
            ),
        ))
    return out


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    name: str | None
    description: str | None
    schema: str | None


def tool_definitions(attributes: Mapping[str, Any]) -> list[ToolDefinition]:
    """`llm.tools.N.tool.json_schema` (OpenAI format, or a bare function) as tools."""
    out: list[ToolDefinition] = []
    for bucket in indexed(attributes, "llm.tools"):
        is_json, schema = parse_json(bucket.get("tool.json_schema"))
        function = schema.get("function", schema) if is_json and isinstance(schema, dict) else {}
        if not isinstance(function, dict):
            function = {}
        out.append(ToolDefinition(
            name=text_of(function.get("name") or bucket.get("tool.name")),
            description=text_of(function.get("description") or bucket.get("tool.description")),
            schema=pretty_json(schema) if is_json else text_of(schema),
        ))
    return out


def json_object(value: Any) -> dict[str, Any] | None:
    """A JSON-object attribute (`metadata`, `llm.prompt_template.variables`) as a dict."""
    if isinstance(value, dict):
        return value
    is_json, parsed = parse_json(value)
    return parsed if is_json and isinstance(parsed, dict) else None


def prefixed(attributes: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The keys under `prefix` with it removed, sorted: `llm.token_count.` -> prompt, ..."""
    return {
        key[len(prefix):]: attributes[key]
        for key in sorted(attributes) if key.startswith(prefix)
    }
