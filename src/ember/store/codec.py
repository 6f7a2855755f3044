"""How a span's attributes, events and links are laid out in the `attributes` and `payload` columns.

`split_attributes` keeps small values in queryable JSON text and moves large ones (long strings,
long arrays, kvlists) into the payload, which is zstd-compressed JSON. `join_payload` puts them
back together: the result is exactly the attribute map that was stored.

Compressor objects are not thread-safe, so each thread gets its own.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import zstandard

SMALL_TEXT_CHARS = 256
SMALL_ARRAY_ITEMS = 32
PAYLOAD_FORMAT = 1
ZSTD_LEVEL = 3

_local = threading.local()


def _compressor() -> Any:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return compressor


def _decompressor() -> Any:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def _is_small(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= SMALL_TEXT_CHARS
    if isinstance(value, list):
        return len(value) <= SMALL_ARRAY_ITEMS and all(
            not isinstance(item, (str, list, dict)) or (
                isinstance(item, str) and len(item) <= SMALL_TEXT_CHARS
            )
            for item in value
        )
    return not isinstance(value, dict)


def split_attributes(attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    small: dict[str, Any] = {}
    large: dict[str, Any] = {}
    for key, value in attributes.items():
        if _is_small(value):
            small[key] = value
        else:
            large[key] = value
    return small, large


def encode_payload(
    large: dict[str, Any],
    attribute_types: dict[str, Any],
    truncated: dict[str, int],
    events: list[dict[str, Any]],
    links: list[dict[str, Any]],
    extra: dict[str, Any],
) -> bytes:
    document: dict[str, Any] = {"v": PAYLOAD_FORMAT}
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
    return bytes(_compressor().compress(orjson.dumps(document)))


def decode_payload(blob: bytes) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(_decompressor().decompress(blob))
    return document


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes | None) -> Any:
    if text is None:
        return None
    return orjson.loads(text)
