"""Messages in every dialect to OpenInference messages (SEMCONV 5.5).

OTel GenAI ChatMessage/OutputMessage parts, OpenAI-shaped messages (first-draft GenAI events,
OpenLLMetry content lists), OpenLLMetry generation-A indexed buckets and the legacy per-message
span events. Pure and total: malformed input gives an empty list or `None`, never an exception.

A converted message is a dict of keys relative to `llm.input_messages.{i}.` (e.g.
"message.role"), except that "message.contents" and "message.tool_calls" hold lists of dicts
with keys relative to their own item; `flatten_messages` writes the flat OpenInference keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ember.model import token_count
from ember.semconv import rules as R
from ember.semconv.convert import INVALID, as_list, buckets, dumps, loads, text

Message = dict[str, Any]

# --- message parts ---------------------------------------------------------------------------

_TEXT_TYPES = frozenset({"text", "input_text", "output_text"})
_REASONING_TYPES = frozenset({"reasoning", "thinking"})


def _content_item(kind: str, body: str) -> dict[str, Any]:
    return {"message_content.type": kind, "message_content.text": body}


def _media_item(modality: str, url: str, mime: str | None) -> dict[str, Any]:
    if modality == "image":
        return {"message_content.type": "image", "message_content.image.image.url": url}
    item: dict[str, Any] = {"message_content.type": "audio", "message_content.audio.audio.url": url}
    if mime:
        item["message_content.audio.audio.mime_type"] = mime
    return item


class _MessageParts:
    """Collects one source message's parts into contents, tool calls and tool results."""

    __slots__ = ("contents", "results", "tool_calls")

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.results: list[Message] = []

    def add(self, part: Any) -> None:
        if isinstance(part, str):
            self.contents.append(_content_item("text", part))
            return
        if not isinstance(part, Mapping):
            if part is not None:
                self.contents.append(_content_item("text", dumps(part)))
            return
        kind = part.get("type")
        kind = kind if isinstance(kind, str) else ""
        if kind in _TEXT_TYPES:
            body = part.get("content", part.get("text"))
            if body is not None:
                self.contents.append(_content_item("text", dumps(body)))
        elif kind in _REASONING_TYPES:
            body = part.get("content", part.get("text", part.get("thinking")))
            if body is not None:
                self.contents.append(_content_item("reasoning", dumps(body)))
        elif kind == "tool_call":
            self.add_tool_call(part.get("id"), part.get("name"), part.get("arguments"))
        elif kind == "tool_call_response":
            response = part["response"] if "response" in part else part.get("result")
            result: Message = {"message.role": "tool"}
            call_id = text(part.get("id"))
            if call_id:
                result["message.tool_call_id"] = call_id
            if response is not None:
                result["message.content"] = dumps(response)
            self.results.append(result)
        elif kind in ("blob", "uri"):
            self._media(part, kind)
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            if isinstance(url, str):
                self.contents.append(_media_item("image", url, None))
            else:
                self.contents.append(_content_item(kind, dumps(dict(part))))
        elif kind == "refusal":
            body = part.get("refusal", part.get("content"))
            self.contents.append(_content_item("refusal", dumps(body) if body else ""))
        else:  # file, server tool calls, compaction, generic and unknown parts: kept as JSON
            self.contents.append(_content_item(kind or "generic", dumps(dict(part))))

    def _media(self, part: Mapping[str, Any], kind: str) -> None:
        modality = part.get("modality")
        mime = text(part.get("mime_type"))
        if kind == "uri":
            url = text(part.get("uri"))
        else:
            data = text(part.get("content"))
            default = f"{modality}/*" if isinstance(modality, str) else "application/octet-stream"
            url = f"data:{mime or default};base64,{data}" if data else None
        if url and modality in ("image", "audio"):
            self.contents.append(_media_item(modality, url, mime))
        else:
            label = modality if isinstance(modality, str) and modality else kind
            self.contents.append(_content_item(label, dumps(dict(part))))

    def add_tool_call(self, call_id: Any, name: Any, arguments: Any) -> None:
        call: dict[str, Any] = {}
        if text(call_id):
            call["tool_call.id"] = text(call_id)
        if text(name):
            call["tool_call.function.name"] = text(name)
        if arguments is not None:
            call["tool_call.function.arguments"] = dumps(arguments)
        if call:
            self.tool_calls.append(call)

    def add_openai_tool_calls(self, calls: Any) -> None:
        if isinstance(calls, str):
            calls = loads(calls)
        if not isinstance(calls, list):
            return
        for call in calls:
            if not isinstance(call, Mapping):
                continue
            function = call.get("function")
            if isinstance(function, Mapping):
                self.add_tool_call(call.get("id"), function.get("name"), function.get("arguments"))
            else:
                self.add_tool_call(call.get("id"), call.get("name"), call.get("arguments"))


def convert_message(source: Any, default_role: str | None = None) -> list[Message]:
    """One OTel GenAI ChatMessage/OutputMessage, or OpenAI-shaped message, to OI messages.

    Tool results (`tool_call_response` parts) become one `tool` message each, after the message
    holding the other parts (SEMCONV 5.5).
    """
    if isinstance(source, str):
        source = {"role": default_role, "content": source}
    if not isinstance(source, Mapping):
        return []
    parts = _MessageParts()
    raw_parts = source.get("parts")
    if isinstance(raw_parts, list):
        for part in raw_parts:
            parts.add(part)
    content = source.get("content")
    if isinstance(content, list):
        for part in content:
            parts.add(part)
    elif content is not None:
        parts.add(content if isinstance(content, str) else dumps(content))
    parts.add_openai_tool_calls(source.get("tool_calls"))

    message: Message = {}
    role = text(source.get("role")) or default_role
    if role:
        message["message.role"] = role
    name = text(source.get("name"))
    if name:
        message["message.name"] = name
    call_id = text(source.get("tool_call_id"))
    if call_id:
        message["message.tool_call_id"] = call_id
    finish = text(source.get("finish_reason"))
    if finish:
        message["message.finish_reason"] = finish
    contents = parts.contents
    if len(contents) == 1 and contents[0]["message_content.type"] == "text":
        message["message.content"] = contents[0]["message_content.text"]
    elif contents:
        message["message.contents"] = contents
    if parts.tool_calls:
        message["message.tool_calls"] = parts.tool_calls
    keep = bool(contents or parts.tool_calls or not parts.results)
    return ([message] if keep else []) + parts.results


def convert_messages(value: Any, default_role: str | None = None) -> list[Message] | None:
    """A `gen_ai.input.messages`-like attribute to OI messages; None if it does not parse."""
    items = as_list(value)
    if items is None:
        return None
    out: list[Message] = []
    for item in items:
        out.extend(convert_message(item, default_role))
    return out


def system_message(value: Any) -> Message | None:
    """`gen_ai.system_instructions` (parts array, JSON or plain text) as one system message."""
    parsed = loads(value)
    if parsed is INVALID:
        parsed = value  # plain text instructions
    if isinstance(parsed, str):
        return {"message.role": "system", "message.content": parsed} if parsed else None
    if isinstance(parsed, Mapping):
        parsed = [parsed]
    if not isinstance(parsed, list) or not parsed:
        return None
    texts = [part_text(part) for part in parsed]
    if all(t is not None for t in texts):
        return {"message.role": "system", "message.content": "\n".join(t or "" for t in texts)}
    converted = convert_message({"role": "system", "parts": parsed})
    return converted[0] if converted else None


def part_text(part: Any) -> str | None:
    if isinstance(part, str):
        return part
    if isinstance(part, Mapping) and part.get("type", "text") in _TEXT_TYPES:
        body = part.get("content", part.get("text"))
        return body if isinstance(body, str) else None
    return None


_NESTED_LISTS = frozenset({"message.contents", "message.tool_calls"})


def flatten_messages(prefix: str, messages: Sequence[Message], out: dict[str, Any]) -> None:
    for i, message in enumerate(messages):
        base = f"{prefix}.{i}."
        for key, value in message.items():
            if key in _NESTED_LISTS:
                for j, item in enumerate(value):
                    item_base = f"{base}{key}.{j}."
                    for item_key, item_value in item.items():
                        out[item_base + item_key] = item_value
            else:
                out[base + key] = value


def bucket_message(fields: Mapping[str, Any], default_role: str | None) -> list[Message]:
    """One `gen_ai.prompt.<n>.*` / `gen_ai.completion.<n>.*` bucket to OI messages."""
    parts: list[Any] = []
    reasoning = fields.get("reasoning")
    if reasoning:
        parts.append({"type": "reasoning", "content": reasoning})
    role = fields.get("role")
    content = fields.get("content")
    if content is None and fields.get("user") is not None:
        content = fields["user"]
        role = role or "user"
    if isinstance(content, str) and content.lstrip().startswith("["):
        parsed = loads(content)
        if isinstance(parsed, list) and all(isinstance(p, Mapping) for p in parsed):
            parts.extend(parsed)
        else:
            parts.append({"type": "text", "content": content})
    elif content is not None:
        parts.append({"type": "text", "content": content})
    refusal = fields.get("refusal")
    if refusal:
        parts.append({"type": "refusal", "refusal": refusal})
    calls = []
    if len(fields) > 2:  # role, content and perhaps nothing else: skip the tool-call scan
        call_keys = [key for key in fields if key.startswith("tool_calls.")]
        calls = [
            {"id": call.get("id"), "name": call.get("name"), "arguments": call.get("arguments")}
            for call in buckets(fields, call_keys, "tool_calls.")
        ]
    source: dict[str, Any] = {
        "role": role,
        "parts": parts,
        "tool_calls": calls,
        "tool_call_id": fields.get("tool_call_id"),
        "finish_reason": fields.get("finish_reason"),
    }
    return convert_message(source, default_role)


# --- legacy GenAI message events (SEMCONV 3.6) -----------------------------------------------


def event_body(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The body of a legacy message event given as a span event: an explicit `body` (object or
    JSON text) or `gen_ai.event.content`, else the event attributes themselves."""
    attributes = event.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    for body in (event.get("body"), attributes.get("body"), attributes.get("gen_ai.event.content")):
        parsed = loads(body)
        if isinstance(parsed, Mapping):
            return parsed
    return attributes


def choice_message(body: Mapping[str, Any]) -> list[Message]:
    message = body.get("message")
    message = loads(message) if isinstance(message, str) else message
    inner = message if isinstance(message, Mapping) else {}
    source = {
        "role": inner.get("role") or "assistant",
        "content": inner.get("content"),
        "tool_calls": inner.get("tool_calls") or body.get("tool_calls"),
        "finish_reason": body.get("finish_reason"),
    }
    return convert_message(source)


def event_messages(
    events: Sequence[Mapping[str, Any]],
) -> tuple[list[Message], list[Message], tuple[str, ...]]:
    """Input and output messages from legacy GenAI span events, and the events' names."""
    inputs: list[Message] = []
    choices: list[tuple[int, list[Message]]] = []
    names: list[str] = []
    for event in events:
        name = event.get("name")
        if not isinstance(name, str):
            continue
        if name in R.LEGACY_MESSAGE_EVENTS:
            body = event_body(event)
            role = R.LEGACY_MESSAGE_EVENTS[name]
            if role:
                source = dict(body)
                if role == "tool" and "tool_call_id" not in source:
                    source["tool_call_id"] = body.get("id")
                inputs.extend(convert_message(source, role))
            else:
                index = token_count(body.get("index"))
                choices.append((len(choices) if index is None else index, choice_message(body)))
        elif name in R.LEGACY_CONTENT_EVENTS:
            key, direction = R.LEGACY_CONTENT_EVENTS[name]
            attributes = event.get("attributes")
            value = attributes.get(key) if isinstance(attributes, Mapping) else None
            role = "user" if direction == "input" else "assistant"
            converted = convert_messages(value, role) or []
            if direction == "input":
                inputs.extend(converted)
            else:
                choices.append((len(choices), converted))
        else:
            continue
        names.append(f"event:{name}")
    choices.sort(key=lambda item: item[0])
    outputs = [message for _, messages in choices for message in messages]
    return inputs, outputs, tuple(dict.fromkeys(names))
