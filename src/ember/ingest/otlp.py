"""Pure decoding of OTLP request bodies: content encodings, protobuf and OTLP/JSON.

Every failure is an `EmberError` with a message that says what is wrong: 415 for a media type or
encoding we do not speak, 413 for a body that is (or inflates to) more than the limit, 400 for
bytes that do not decode.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ember.errors import DecodeError, PayloadTooLarge, UnsupportedMediaType

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MEDIA_TYPES = (PROTOBUF, JSON)
ENCODINGS = ("identity", "gzip", "deflate")
# The protobuf runtime's nesting limit (messages within messages); deeper bodies are refused.
# It is not raised: the decoder recurses on the C stack, and a few hundred KB of nesting past
# the limit would crash the process.
PROTOBUF_MAX_DEPTH = 100


@dataclass(frozen=True)
class Signal:
    """What differs between the OTLP signals Ember accepts: the request message and the JSON
    field names leading to the items that carry ids."""

    request: type[Any]
    resources: tuple[str, str]
    scopes: tuple[str, str]
    items: tuple[str, str]
    item_word: str

    @property
    def request_name(self) -> str:
        return str(self.request.DESCRIPTOR.name)


TRACES = Signal(
    ExportTraceServiceRequest, ("resourceSpans", "resource_spans"),
    ("scopeSpans", "scope_spans"), ("spans", "spans"), "span",
)
LOGS = Signal(
    ExportLogsServiceRequest, ("resourceLogs", "resource_logs"),
    ("scopeLogs", "scope_logs"), ("logRecords", "log_records"), "log record",
)


def bare_media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, or 415 if we do not accept it."""
    bare = bare_media_type(content_type)
    if bare not in MEDIA_TYPES:
        shown = bare or "(none)"
        raise UnsupportedMediaType(
            f"Content-Type {shown} is not supported; send {PROTOBUF} or {JSON}"
        )
    return bare


def content_encoding(header: str | None) -> str:
    encoding = (header or "identity").strip().lower() or "identity"
    if encoding not in ENCODINGS:
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding} is not supported; send gzip, deflate or none"
        )
    return encoding


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Inflate a gzip or deflate body, refusing to produce more than `limit` bytes."""
    if encoding == "identity":
        return body
    if encoding == "gzip":
        wbits = zlib.MAX_WBITS | 16
    elif _has_zlib_header(body):
        wbits = zlib.MAX_WBITS
    else:  # HTTP "deflate" is the zlib format, but some clients send raw deflate.
        wbits = -zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        if wbits != zlib.MAX_WBITS:
            raise DecodeError(f"could not {encoding}-decode the body: {exc}") from exc
        # Raw deflate whose first two bytes happen to look like a zlib header.
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise DecodeError(f"could not {encoding}-decode the body: {exc}") from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the {encoding} body inflates to more than {limit} bytes")
    if not inflater.eof:
        raise DecodeError(f"could not {encoding}-decode the body: it is truncated")
    return data


def _has_zlib_header(body: bytes) -> bool:
    """RFC 1950: compression method 8 and a header checksum that is a multiple of 31."""
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def parse_protobuf(data: bytes, signal: Signal = TRACES) -> Any:
    request = signal.request()
    try:
        request.ParseFromString(data)
    except ProtobufDecodeError as exc:
        if "MaxDepth" in str(exc):
            raise DecodeError(
                f"the body is not a valid protobuf {signal.request_name}: its messages are "
                f"nested more than {PROTOBUF_MAX_DEPTH} deep (deeply nested array or kvlist "
                "attribute values?)"
            ) from exc
        raise DecodeError(
            f"the body is not a valid protobuf {signal.request_name} ({exc})"
        ) from exc
    return request


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_ID_FIELDS = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8,
              "parentSpanId": 8, "parent_span_id": 8}


def parse_json(data: bytes, signal: Signal = TRACES) -> Any:
    """Parse OTLP/JSON: hex ids (base64 tolerated), camelCase or snake_case names, enums as ints."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise DecodeError(f"the body must be a JSON object with a {signal.resources[0]} list")
    _rewrite_ids(document, signal)
    request = signal.request()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        if isinstance(exc, RecursionError) or "too deep" in str(exc):
            raise DecodeError(
                f"invalid OTLP/JSON: its messages are nested more than {PROTOBUF_MAX_DEPTH} deep "
                "(deeply nested array or kvlist attribute values?)"
            ) from exc
        raise DecodeError(f"invalid OTLP/JSON: {exc}") from exc
    return request


def _rewrite_ids(document: dict[str, Any], signal: Signal) -> None:
    """OTLP/JSON ids are hex, protobuf's JSON mapping wants base64: convert them in place."""
    for r, resource_items in enumerate(_list(document, *signal.resources)):
        for s, scope_items in enumerate(_list(resource_items, *signal.scopes)):
            for n, item in enumerate(_list(scope_items, *signal.items)):
                where = f"{signal.item_word} {n} of scope {s} of resource {r}"
                if not isinstance(item, dict):
                    continue
                _rewrite_id_fields(item, where)
                for k, link in enumerate(_list(item, "links")):
                    if isinstance(link, dict):
                        _rewrite_id_fields(link, f"link {k} of {where}")


def _list(container: Any, *names: str) -> list[Any]:
    if not isinstance(container, dict):
        return []
    for name in names:
        value = container.get(name)
        if isinstance(value, list):
            return value
    return []


def _rewrite_id_fields(obj: dict[str, Any], where: str) -> None:
    for key, size in _ID_FIELDS.items():
        value = obj.get(key)
        if not isinstance(value, str) or value == "":
            continue
        obj[key] = base64.b64encode(_id_bytes(value, size, f"{where}: {key}")).decode()


def _id_bytes(text: str, size: int, where: str) -> bytes:
    """The bytes of a hex (or base64) id. An id of the wrong length is returned as decoded, so
    the normalizer rejects that span alone with a message naming it; text that is neither hex
    nor base64 makes the whole body undecodable."""
    hex_bytes = bytes.fromhex(text) if _HEX.fullmatch(text) else None
    if hex_bytes is not None and len(hex_bytes) == size:
        return hex_bytes
    try:
        raw: bytes | None = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is not None and len(raw) == size:
        return raw
    if hex_bytes is not None:
        return hex_bytes
    if raw is not None:
        return raw
    raise DecodeError(f"{where} must be {2 * size} hex characters, got {text!r}")


def decode_export_request(
    body: bytes,
    content_type: str | None,
    encoding_header: str | None,
    limit: int,
    signal: Signal = TRACES,
) -> Any:
    """Decode an OTLP/HTTP export body (traces by default) into the protobuf request."""
    kind = media_type(content_type)
    encoding = content_encoding(encoding_header)
    if not body:
        raise DecodeError(f"the request body is empty; send an {signal.request_name}")
    data = decompress(body, encoding, limit)
    if kind == PROTOBUF:
        return parse_protobuf(data, signal)
    return parse_json(data, signal)
