"""OTLP AnyValue and KeyValue lists to JSON-native Python values, within configured limits.

This is the hottest code on the write path, so it is written for speed: one dispatch on the set
field per value, no intermediate objects.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from typing import Any

from ember.model import BULKY_TEXT_CHARS, LIST_ITEM_KEY, Attributes, is_bulky

TRUNCATED_MARKER = "…[truncated by Ember]"
DEPTH_MARKER = "…[nested too deep: cut by Ember]"


class AttributeConverter:
    """Converts KeyValue lists; records what JSON can't say and what limits cut.

    `types[key]` receives the OTLP/JSON form of a value holding bytes or a non-finite double;
    `truncated[key]` receives the original size of a value cut to `max_value_bytes` or
    `max_depth`.
    """

    __slots__ = ("_char_threshold", "max_depth", "max_value_bytes")

    def __init__(self, max_value_bytes: int, max_depth: int) -> None:
        self.max_value_bytes = max_value_bytes
        self.max_depth = max_depth
        # A str of n characters is at most 4n UTF-8 bytes: below this, no need to encode it.
        self._char_threshold = max_value_bytes // 4

    def convert(
        self,
        key_values: Iterable[Any],
        types: dict[str, Any],
        truncated: dict[str, int],
        bulky: list[str] | None = None,
    ) -> Attributes:
        """The attributes as a dict; when `bulky` is given, the keys of bulky values (see
        `ember.model.is_bulky`) are appended to it in the same pass."""
        out: Attributes = {}
        threshold = self._char_threshold
        for kv in key_values:
            key = kv.key
            value = kv.value
            which = value.WhichOneof("value")
            if which == "string_value":
                text = value.string_value
                if len(text) > threshold:
                    text = self._cut_text(key, text, truncated)
                out[key] = text
                if bulky is not None and (len(text) > BULKY_TEXT_CHARS or LIST_ITEM_KEY(key)):
                    bulky.append(key)
                continue
            if which == "int_value":
                out[key] = value.int_value
            elif which == "double_value":
                number = value.double_value
                if math.isfinite(number):
                    out[key] = number
                else:
                    out[key] = _nonfinite_text(number)
                    types[key] = {"doubleValue": out[key]}
            elif which == "bool_value":
                out[key] = value.bool_value
            elif which is None:
                out[key] = None
            else:
                special: list[bool] = [False]
                nested = out[key] = self._nested(key, value, 1, special, truncated)
                if special[0]:
                    types[key] = self.otlp_json_value(value)
                if bulky is not None and is_bulky(key, nested):
                    bulky.append(key)
                continue
            if bulky is not None and LIST_ITEM_KEY(key):
                bulky.append(key)
        return out

    def convert_value(
        self, key: str, value: Any, types: dict[str, Any], truncated: dict[str, int]
    ) -> Any:
        """One AnyValue (a log record's body), recorded under `key` in `types`/`truncated`."""
        special: list[bool] = [False]
        out = self._nested(key, value, 1, special, truncated)
        if special[0]:
            types[key] = self.otlp_json_value(value)
        return out

    def _cut_text(self, key: str, text: str, truncated: dict[str, int]) -> str:
        encoded = text.encode("utf-8", "surrogatepass")
        if len(encoded) <= self.max_value_bytes:
            return text
        truncated[key] = len(encoded)
        return self._cut(encoded)

    def _cut(self, encoded: bytes) -> str:
        return encoded[: self.max_value_bytes].decode("utf-8", "ignore") + TRUNCATED_MARKER

    def _nested(
        self, key: str, value: Any, depth: int, special: list[bool], truncated: dict[str, int]
    ) -> Any:
        which = value.WhichOneof("value")
        if which == "string_value":
            text = value.string_value
            if len(text) > self._char_threshold:
                return self._cut_text(key, text, truncated)
            return text
        if which == "int_value":
            return value.int_value
        if which == "double_value":
            number = value.double_value
            if math.isfinite(number):
                return number
            special[0] = True
            return _nonfinite_text(number)
        if which == "bool_value":
            return value.bool_value
        if which == "bytes_value":
            special[0] = True
            raw = value.bytes_value
            if len(raw) > self.max_value_bytes:
                truncated[key] = len(raw)
                raw = raw[: self.max_value_bytes]
            return base64.b64encode(raw).decode("ascii")
        if which is None:
            return None
        if depth > self.max_depth:
            truncated[key] = truncated.get(key, 0) or depth
            return DEPTH_MARKER
        if which == "array_value":
            return [
                self._nested(key, item, depth + 1, special, truncated)
                for item in value.array_value.values
            ]
        # kvlist_value
        return {
            kv.key: self._nested(key, kv.value, depth + 1, special, truncated)
            for kv in value.kvlist_value.values
        }

    def otlp_json_value(self, value: Any, depth: int = 1) -> dict[str, Any]:
        """The OTLP/JSON encoding of an AnyValue as stored: within the same limits as `convert`
        (used only for the rare values JSON can't say: bytes and non-finite doubles)."""
        which = value.WhichOneof("value")
        if which == "string_value":
            text = value.string_value
            if len(text) > self._char_threshold:
                encoded = text.encode("utf-8", "surrogatepass")
                if len(encoded) > self.max_value_bytes:
                    text = self._cut(encoded)
            return {"stringValue": text}
        if which == "int_value":
            return {"intValue": str(value.int_value)}
        if which == "double_value":
            number = value.double_value
            return {"doubleValue": number if math.isfinite(number) else _nonfinite_text(number)}
        if which == "bool_value":
            return {"boolValue": value.bool_value}
        if which == "bytes_value":
            raw = value.bytes_value[: self.max_value_bytes]
            return {"bytesValue": base64.b64encode(raw).decode("ascii")}
        if which is None:
            return {}
        if depth > self.max_depth:
            return {"stringValue": DEPTH_MARKER}
        if which == "array_value":
            return {
                "arrayValue": {
                    "values": [
                        self.otlp_json_value(v, depth + 1) for v in value.array_value.values
                    ]
                }
            }
        return {
            "kvlistValue": {
                "values": [
                    {"key": kv.key, "value": self.otlp_json_value(kv.value, depth + 1)}
                    for kv in value.kvlist_value.values
                ]
            }
        }


def _nonfinite_text(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"
