"""How a span's attributes, events and links are laid out in the `attributes` and `payload` columns.

Short scalar attribute values (numbers, flags, names, ids, short strings) stay in queryable JSON
text; bulky ones (`ember.model.is_bulky`: long text, long lists, maps, flattened list members)
go into the payload. Merging the two gives back exactly the attribute map that was stored.

The payload is one format byte followed by a zstd frame of JSON. Format 1 compresses with a
fixed raw-content dictionary of the keys and fragments LLM spans repeat, so even a small
payload compresses well. The dictionary of a format must never change: a new dictionary is a
new format byte, and old formats stay readable.

Compressor objects are not thread-safe, so each thread gets its own.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import zstandard

PAYLOAD_FORMAT = 1
ZSTD_LEVEL = 3

_FORMAT_1_FRAGMENTS = (
    '{"v":1,"a":{"input.value":"', '"output.value":"', '"input.mime_type":"application/json"',
    '"output.mime_type":"application/json"', '"llm.invocation_parameters":"{\\"model\\": \\"',
    '"llm.input_messages.0.message.role":"system","llm.input_messages.0.message.content":"',
    '"llm.input_messages.1.message.role":"user","llm.input_messages.1.message.content":"',
    '"llm.output_messages.0.message.role":"assistant",',
    '"llm.output_messages.0.message.content":"',
    '"llm.output_messages.0.message.tool_calls.0.tool_call.function.name":"',
    '"llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments":"{\\"',
    '"llm.tools.0.tool.json_schema":"{\\"type\\": \\"function\\", \\"function\\": {',
    '"retrieval.documents.0.document.content":"', '"retrieval.documents.0.document.id":"',
    '"retrieval.documents.0.document.metadata":"{\\"source\\": \\"',
    '"retrieval.documents.0.document.score":', '"embedding.embeddings.0.embedding.text":"',
    '"metadata":"{\\"', '"tool.parameters":"{\\"', '"tool.description":"',
    '"llm.prompt_template.template":"', '"llm.prompt_template.variables":"{\\"',
    '{\\"messages\\": [{\\"role\\": \\"system\\", \\"content\\": \\"',
    '{\\"role\\": \\"user\\", \\"content\\": \\"',
    '{\\"id\\": \\"chatcmpl-', '\\"object\\": \\"chat.completion\\", \\"created\\": ',
    '\\"choices\\": [{\\"index\\": 0, \\"message\\": {\\"role\\": \\"assistant\\"',
    '\\"finish_reason\\": \\"stop\\"', '\\"usage\\": {\\"prompt_tokens\\": ',
    '\\"completion_tokens\\": ', '\\"total_tokens\\": ',
    '"e":[{"name":"exception","time_unix_nano":', '"attributes":{"exception.type":"',
    '"exception.message":"', '"exception.stacktrace":"Traceback (most recent call last):\\n',
    '  File \\"/', '", line ', ', in ', '"exception.escaped":"False"',
    '"l":[{"trace_id":"', '"span_id":"', '"trace_state":"', '"o":{"dropped_attributes_count":',
)
_DICTIONARIES = {
    1: zstandard.ZstdCompressionDict(
        "".join(_FORMAT_1_FRAGMENTS).encode(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
    ),
}

_local = threading.local()


def _compressor() -> Any:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL, dict_data=_DICTIONARIES[PAYLOAD_FORMAT], write_content_size=True
        )
    return compressor


def _decompressor(payload_format: int) -> Any:
    cache: dict[int, Any] | None = getattr(_local, "decompressors", None)
    if cache is None:
        cache = _local.decompressors = {}
    decompressor = cache.get(payload_format)
    if decompressor is None:
        dictionary = _DICTIONARIES.get(payload_format)
        if dictionary is None:
            raise ValueError(f"payload format {payload_format} is unknown to this Ember version")
        decompressor = cache[payload_format] = zstandard.ZstdDecompressor(dict_data=dictionary)
    return decompressor


def encode_payload(
    large: dict[str, Any],
    attribute_types: dict[str, Any],
    truncated: dict[str, int],
    events: list[dict[str, Any]],
    links: list[dict[str, Any]],
    extra: dict[str, Any],
) -> bytes:
    document: dict[str, Any] = {}
    if large:
        document["a"] = large
    if attribute_types:
        document["t"] = attribute_types
    if truncated:
        document["x"] = truncated
    if events:
        document["e"] = events
    if links:
        document["l"] = links
    if extra:
        document["o"] = extra
    return encode_document(document)


def encode_document(document: dict[str, Any]) -> bytes:
    """Any JSON document in the payload format (`decode_payload` reads it back)."""
    return _FORMAT_BYTE + bytes(_compressor().compress(orjson.dumps(document)))


_FORMAT_BYTE = bytes([PAYLOAD_FORMAT])


def decode_payload(blob: bytes) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(_decompressor(blob[0]).decompress(blob[1:]))
    return document


def join_attributes(attributes_json: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A span's whole attribute map: the queryable column and the payload's bulky values."""
    attributes: dict[str, Any] = orjson.loads(attributes_json)
    attributes.update(payload.get("a", {}))
    return attributes


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes | None) -> Any:
    if text is None:
        return None
    return orjson.loads(text)
