"""Value helpers and structured conversions behind `ember.semconv.view` (not messages).

JSON and scalar coercion, OpenLLMetry indexed buckets, tool definitions, documents, OpenLLMetry
input/output envelopes and the provider/system inference of SEMCONV 5.4. All functions are pure
and total: malformed input gives `None`, `INVALID` or an empty list, never an exception.
Messages are in `ember.semconv.messages`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from ember.model import token_count
from ember.semconv import rules as R

# --- scalar helpers --------------------------------------------------------------------------


class _Invalid:
    """Marks a string that should hold JSON but does not parse (truncated, Python repr...)."""

    __slots__ = ()


INVALID: Any = _Invalid()


def loads(value: Any) -> Any:
    """A JSON attribute's value: strings are parsed (INVALID if they don't), others returned."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        pass
    if "NaN" in value or "Infinity" in value:  # Python's json.dumps writes these; orjson refuses
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            pass
    return INVALID


def dumps(value: Any) -> str:
    """Compact JSON text (UTF-8 kept as is); a string is returned unchanged."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, default=str)


def text(value: Any) -> str | None:
    """A non-empty string: strings as sent, numbers stringified, bools as true/false."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_list(value: Any) -> list[Any] | None:
    """A JSON array attribute (string or structured); a lone object counts as one element."""
    parsed = loads(value)
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, dict):
        return [parsed]
    return None


# --- OpenLLMetry generation-A indexed buckets ------------------------------------------------


def buckets(
    attributes: Mapping[str, Any], keys: Iterable[str], prefix: str
) -> list[dict[str, Any]]:
    """`<prefix><n>.<rest>` keys grouped by numeric n (sorted numerically); others skipped."""
    grouped: dict[int, dict[str, Any]] = {}
    start = len(prefix)
    for key in keys:
        head, dot, rest = key[start:].partition(".")
        if dot and head.isdigit():
            grouped.setdefault(int(head), {})[rest] = attributes[key]
    return [grouped[n] for n in sorted(grouped)]


def bucket_text(fields: Mapping[str, Any]) -> str | None:
    value = fields.get("content", fields.get("user"))
    return None if value is None else dumps(value)


_RERANK_RESULT = re.compile(r"^Doc (\d+), Score: ([-+0-9.eE]+)\n?(.*)$", re.DOTALL)


def rerank_result(content: Any) -> dict[str, Any]:
    """Cohere rerank completion `Doc <n>, Score: <s>\\n<text>` as a document (SEMCONV 5.3.7)."""
    if not isinstance(content, str):
        return {"document.content": dumps(content)} if content is not None else {}
    match = _RERANK_RESULT.match(content)
    if match is None:
        return {"document.content": content}
    doc: dict[str, Any] = {"document.id": match.group(1)}
    score = number(match.group(2))
    if score is not None:
        doc["document.score"] = score
    if match.group(3):
        doc["document.content"] = match.group(3)
    return doc


# --- tool definitions (SEMCONV 5.6) ----------------------------------------------------------


def tool_schema(definition: Any) -> str | None:
    """A tool definition as the JSON text of `tool.json_schema` (OpenAI function shape)."""
    if isinstance(definition, str):
        parsed = loads(definition)
        if parsed is INVALID:
            return definition or None  # keep the raw text
        definition = parsed
    if not isinstance(definition, Mapping):
        return None
    kind = definition.get("type", "function")
    if isinstance(definition.get("function"), Mapping) or kind != "function":
        return dumps(dict(definition))
    if definition.get("name") is None:
        return dumps(dict(definition))
    function: dict[str, Any] = {"name": definition["name"]}
    if definition.get("description") is not None:
        function["description"] = definition["description"]
    for key in ("parameters", "input_schema", "inputSchema"):
        if definition.get(key) is not None:
            schema = loads(definition[key])
            function["parameters"] = definition[key] if schema is INVALID else schema
            break
    if definition.get("strict") is not None:
        function["strict"] = definition["strict"]
    return dumps({"type": "function", "function": function})


# --- documents -------------------------------------------------------------------------------


def document(source: Any) -> dict[str, Any]:
    """A retrieved document (GenAI, memory record or LangChain shape) as `document.*` keys."""
    if not isinstance(source, Mapping):
        return {"document.content": dumps(source)} if source is not None else {}
    doc: dict[str, Any] = {}
    doc_id = source.get("id")
    if isinstance(doc_id, str | int) and not isinstance(doc_id, bool):
        doc["document.id"] = doc_id
    content = source.get("content", source.get("page_content", source.get("text")))
    if content is not None:
        doc["document.content"] = dumps(content)
    score = number(source.get("score"))
    if score is not None:
        doc["document.score"] = score
    metadata = source.get("metadata")
    if metadata is not None:
        doc["document.metadata"] = dumps(metadata)
    return doc


def event_document(attributes: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """A `db.query.result` / `db.search.result` span event as a document."""
    return document(
        {
            "id": attributes.get(prefix + "id"),
            "score": attributes.get(prefix + "score"),
            "content": attributes.get(prefix + "document", attributes.get(prefix + "entity")),
            "metadata": attributes.get(prefix + "metadata"),
        }
    )


# --- OpenLLMetry envelopes (SEMCONV 5.3.1) ---------------------------------------------------

_LANGCHAIN_EXTRAS = frozenset({"tags", "metadata", "kwargs", "run_id", "parent_run_id"})
# (required key, key whose value is the payload, other allowed keys)
_INPUT_ENVELOPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("input_str", _LANGCHAIN_EXTRAS | {"input_str", "inputs"}),
    ("query", _LANGCHAIN_EXTRAS | {"query"}),
    ("inputs", _LANGCHAIN_EXTRAS | {"inputs"}),
)
_OUTPUT_ENVELOPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("outputs", frozenset({"outputs", "kwargs"})),
    ("output", frozenset({"output", "kwargs"})),
    ("documents", frozenset({"documents", "count"})),
)


def unwrap_envelope(parsed: Any, direction: str) -> Any:
    """The payload inside an already parsed OpenLLMetry decorator or LangChain envelope; the
    value itself when it is not an envelope."""
    if not isinstance(parsed, Mapping):
        return parsed
    keys = parsed.keys()
    if direction == "input":
        if "args" in parsed and keys <= {"args", "kwargs"}:
            args = parsed.get("args")
            if isinstance(args, list) and len(args) == 1 and not parsed.get("kwargs"):
                return args[0]
            return parsed
        for required, allowed in _INPUT_ENVELOPES:
            if required in parsed and keys <= allowed:
                if required == "input_str" and parsed.get("inputs") is not None:
                    return parsed["inputs"]
                return parsed[required]
        return parsed
    for required, allowed in _OUTPUT_ENVELOPES:
        if required in parsed and keys <= allowed:
            return parsed[required]
    return parsed


# --- provider and system (SEMCONV 5.4, 2.4) --------------------------------------------------


def system_for(how: str, raw: str, model: str | None) -> str | None:
    """`llm.system` for a PROVIDERS entry's system column (a value or one of the "=" rules)."""
    lowered = (model or "").lower()
    if how == R.RAW:
        return raw or None
    if how == R.VERTEX:
        return "anthropic" if lowered.startswith("claude") else "vertexai"
    if how == R.BEDROCK:
        head, _, rest = lowered.partition(".")
        for prefix, system in R.BEDROCK_MODEL_PREFIXES:
            if lowered.startswith(prefix) or (rest.startswith(prefix) and len(head) <= 7):
                return system
        return None
    if how in (R.INFER, R.INFER_OR_RAW):
        for prefix, system in R.MODEL_SYSTEM_PREFIXES:
            if lowered.startswith(prefix):
                return system
        return (raw or None) if how == R.INFER_OR_RAW else None
    return how


def host_provider(value: str) -> str | None:
    """`llm.provider` from a host name or URL, matched on a label boundary."""
    host = value.strip().lower()
    if "://" in host:
        try:
            host = urlsplit(host).hostname or ""
        except ValueError:
            return None
    else:
        host = host.split("/", 1)[0].rsplit(":", 1)[0]
    for suffix, provider in R.HOST_PROVIDERS:
        if host == suffix or host.endswith("." + suffix):
            return provider
    return None


# --- RENAMES value conversion ----------------------------------------------------------------


def coerce(value: Any, rule: R.Rename) -> Any:
    """A RENAMES source value converted as its rule says (None: not usable)."""
    if value is None:
        return None
    how = rule.coerce
    if how == "count":
        return token_count(value)
    if how == "first":
        if isinstance(value, str) and value.startswith("["):  # an array sent as JSON text
            parsed = loads(value)
            value = parsed if isinstance(parsed, list) else value
        if isinstance(value, list | tuple):
            return next((t for t in map(text, value) if t), None)
        return text(value)
    if how == "true_flag":
        return rule.constant if lower(value) == "true" else None
    return text(value)


# --- key families the mapper collects in one pass over the keys ------------------------------

IN_PROMPT, IN_COMPLETION, TOOL_INDEXED, VARIABLE, METADATA, OI_LIST, OTHER = range(7)
_LIST_HEADS = ("llm.", "retrieval.", "embedding.", "reranker.")


def scan_category(key: str) -> tuple[int, str]:
    """(category, detail): detail is the prefix, the stripped name or the OI list root."""
    for prefix in R.PROMPT_VARIABLE_PREFIXES:
        if key.startswith(prefix):
            return VARIABLE, key[len(prefix):]
    if key.startswith(R.PROMPT_PREFIX):
        return IN_PROMPT, ""
    if key.startswith(R.COMPLETION_PREFIX):
        return IN_COMPLETION, ""
    for prefix in R.INDEXED_TOOL_PREFIXES:
        if key.startswith(prefix):
            return TOOL_INDEXED, prefix
    for prefix in R.METADATA_PREFIXES:
        if key.startswith(prefix):
            return METADATA, key[len(prefix):]
    if key.startswith(_LIST_HEADS):
        for root in R.OI_LISTS:
            if key.startswith(root) and (len(key) == len(root) or key[len(root)] == "."):
                return OI_LIST, root
    return OTHER, ""


def lower(value: Any) -> str:
    """A value as stripped lower-case text ("" when absent)."""
    found = text(value)
    return found.strip().lower() if found else ""
