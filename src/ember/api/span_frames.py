"""Span queries (Phoenix's `SpanQuery`): spans projected into table rows.

A query selects columns by key, and may explode one list (a row per retrieved document or per
message, with its position) or concatenate one list's values into text; `rename` renames
output columns and `index` names the index column(s). Keys are span fields (`context.span_id`,
`name`, `latency_ms`, ...) or attribute keys; a list attribute is read as the list of its
members (`retrieval.documents` is a list of {"document.content": ..., ...}), as Phoenix stores
it nested while OTLP sends it flattened.

Frames leave as Arrow IPC or as the table-schema JSON pandas reads (`orient="table"`), which is
what Phoenix's client parses; columns are prefixed with "_" there, as Phoenix does.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ember.errors import BadRequest
from ember.model import STATUS_NAMES, StoredSpan, iso_time

_MEMBER = re.compile(r"^(?P<list>.+?)\.(?P<index>\d+)\.(?P<rest>.+)$")
# Phoenix names the position column of these lists after their members.
_POSITION_PREFIX = {
    "retrieval.documents": "document_",
    "reranker.input_documents": "document_",
    "reranker.output_documents": "document_",
    "llm.input_messages": "message_",
    "llm.output_messages": "message_",
}
SPAN_ID = "context.span_id"
TRACE_ID = "context.trace_id"
_ALIASES = {"span_id": SPAN_ID, "trace_id": TRACE_ID}


@dataclass(frozen=True, slots=True)
class SpanQuery:
    select: Mapping[str, str] | None = None  # output column -> key
    filter: str | None = None
    explode: Explode | None = None
    concat: Concat | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    index: str = SPAN_ID


@dataclass(frozen=True, slots=True)
class Explode:
    key: str
    kwargs: Mapping[str, str] = field(default_factory=dict)  # output column -> member key
    primary_index_key: str = SPAN_ID


@dataclass(frozen=True, slots=True)
class Concat:
    key: str
    kwargs: Mapping[str, str] = field(default_factory=dict)
    separator: str = "\n\n"


def parse_query(body: Mapping[str, Any]) -> SpanQuery:
    """A query from its JSON (Phoenix's `SpanQuery.to_dict()`); BadRequest naming the field."""
    if not isinstance(body, Mapping):
        raise BadRequest("each query must be an object")
    select = body.get("select")
    selected: dict[str, str] | None = None
    if select is not None:
        if not isinstance(select, Mapping):
            raise BadRequest("select must map column names to {\"key\": ...}")
        selected = {str(name): _key(spec, f"select.{name}") for name, spec in select.items()}
    condition = body.get("filter")
    text = None
    if condition is not None:
        text = condition.get("condition") if isinstance(condition, Mapping) else None
        if not isinstance(text, str):
            raise BadRequest("filter must be {\"condition\": \"<filter text>\"}")
    explode = body.get("explode")
    concat = body.get("concat")
    rename = body.get("rename") or {}
    if not isinstance(rename, Mapping):
        raise BadRequest("rename must map column names to new names")
    index = body.get("index")
    return SpanQuery(
        select=selected,
        filter=text or None,
        explode=None if explode is None else Explode(
            key=_key(explode, "explode"),
            kwargs=_kwargs(explode, "explode"),
            primary_index_key=_alias(str(explode.get("primary_index_key") or SPAN_ID)),
        ),
        concat=None if concat is None else Concat(
            key=_key(concat, "concat"),
            kwargs=_kwargs(concat, "concat"),
            separator=str(concat.get("separator", "\n\n")),
        ),
        rename={str(k): str(v) for k, v in rename.items()},
        index=SPAN_ID if index is None else _key(index, "index"),
    )


def _key(spec: Any, where: str) -> str:
    key = spec.get("key") if isinstance(spec, Mapping) else None
    if not isinstance(key, str) or not key:
        raise BadRequest(f"{where} needs a non-empty \"key\"")
    return _alias(key)


def _alias(key: str) -> str:
    return _ALIASES.get(key, key)


def _kwargs(spec: Mapping[str, Any], where: str) -> dict[str, str]:
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping) or not all(isinstance(v, str) for v in kwargs.values()):
        raise BadRequest(f"{where}.kwargs must map column names to keys")
    return {str(k): v for k, v in kwargs.items()}


# --- reading a span's values ---------------------------------------------------------------


def nested_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Flat attributes with list members gathered: `a.0.b` and `a.1.b` become `a` = [{b}, {b}]
    (members in index order, gaps dropped)."""
    out: dict[str, Any] = {}
    members: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in attributes.items():
        match = _MEMBER.match(key)
        if match is None:
            out[key] = value
            continue
        members.setdefault(match["list"], {}).setdefault(int(match["index"]), {})[
            match["rest"]
        ] = value
    for name, by_index in members.items():
        if name not in out:
            out[name] = [by_index[i] for i in sorted(by_index)]
    return out


# A span's own fields by the keys queries name them with (the rest are attributes).
_SPAN_FIELDS: dict[str, Callable[[StoredSpan], Any]] = {
    SPAN_ID: lambda span: span.span_id,
    TRACE_ID: lambda span: span.trace_id,
    "parent_id": lambda span: span.parent_id,
    "name": lambda span: span.name,
    "span_kind": lambda span: span.span_kind,
    "status_code": lambda span: STATUS_NAMES.get(span.status_code, "UNSET"),
    "status_message": lambda span: span.status_message,
    "start_time": lambda span: iso_time(span.start_time),
    "end_time": lambda span: iso_time(span.end_time),
    "latency_ms": lambda span: (span.end_time - span.start_time) / 1e6,
    "events": lambda span: span.events,
}
# Phoenix's default frame starts with these, then `attributes.<key>` for every key.
_DEFAULT_FIELDS = (
    SPAN_ID, TRACE_ID, "parent_id", "name", "span_kind", "status_code", "status_message",
    "start_time", "end_time", "events",
)


def span_value(span: StoredSpan, nested: Mapping[str, Any], key: str) -> Any:
    """The value of `key` for this span: a span field, else an attribute (None if absent)."""
    read = _SPAN_FIELDS.get(key)
    if read is not None:
        return read(span)
    if key.startswith("attributes."):
        key = key[len("attributes."):]
    return nested.get(key)


def default_columns(nested: Sequence[Mapping[str, Any]]) -> list[str]:
    """Phoenix's default frame over spans with these (nested) attribute maps."""
    keys = {f"attributes.{key}" for attributes in nested for key in attributes}
    return [*_DEFAULT_FIELDS, *sorted(keys)]


@dataclass(frozen=True, slots=True)
class Frame:
    columns: list[str]
    rows: list[dict[str, Any]]
    index: list[str]


def frame(query: SpanQuery, spans: Sequence[StoredSpan]) -> Frame:
    """The query's rows over `spans` (already filtered, in listing order)."""
    selected = dict(query.select) if query.select is not None else None
    index = [query.index]
    rows: list[dict[str, Any]] = []
    attribute_maps = [nested_attributes(span.attributes) for span in spans]
    if query.explode is not None:
        explode = query.explode
        position = _POSITION_PREFIX.get(explode.key, "") + "position"
        index = [explode.primary_index_key, position]
        for span, nested in zip(spans, attribute_maps, strict=True):
            members = nested.get(explode.key)
            if not isinstance(members, list):
                continue
            base = {name: span_value(span, nested, key) for name, key in (selected or {}).items()}
            for at, item in enumerate(members):
                member = item if isinstance(item, Mapping) else {explode.key: item}
                row = {
                    explode.primary_index_key: span_value(
                        span, nested, explode.primary_index_key
                    ),
                    position: at,
                    **base,
                }
                if explode.kwargs:
                    row.update({name: member.get(k) for name, k in explode.kwargs.items()})
                else:
                    row.update(member)
                rows.append(row)
    else:
        columns = (
            selected if selected is not None
            else {name: name for name in default_columns(attribute_maps)}
        )
        for span, nested in zip(spans, attribute_maps, strict=True):
            row = {query.index: span_value(span, nested, query.index)}
            row.update({name: span_value(span, nested, key) for name, key in columns.items()})
            if query.concat is not None:
                row.update(_concatenated(query.concat, nested))
            rows.append(row)
    rename = query.rename
    rows = [{rename.get(k, k): v for k, v in row.items()} for row in rows]
    index = [rename.get(name, name) for name in index]
    columns_seen: dict[str, None] = {}
    for row in rows:
        columns_seen.update(dict.fromkeys(row))
    if not rows:
        columns_seen.update(dict.fromkeys(index))
    return Frame([c for c in columns_seen if c not in index], rows, index)


def _concatenated(concat: Concat, nested: Mapping[str, Any]) -> dict[str, Any]:
    members = nested.get(concat.key)
    kwargs = concat.kwargs or {concat.key: ""}
    if not isinstance(members, list):
        return dict.fromkeys(kwargs)
    out: dict[str, Any] = {}
    for name, member_key in kwargs.items():
        texts = [
            str(m.get(member_key) if member_key else m) if isinstance(m, Mapping) else str(m)
            for m in members
            if not isinstance(m, Mapping) or not member_key or m.get(member_key) is not None
        ]
        out[name] = concat.separator.join(texts)
    return out


# --- encodings -----------------------------------------------------------------------------


def _json_type(values: Sequence[Any]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if kinds == {bool} and len(present) == len(values):
        return {"type": "boolean"}
    if kinds and kinds <= {int} and len(present) == len(values):
        return {"type": "integer"}
    if kinds and kinds <= {int, float}:
        return {"type": "number"}
    if kinds == {str}:
        return {"type": "string"}
    return {"type": "any"}


def to_table_json(result: Frame) -> bytes:
    """pandas' `orient="table"` JSON, with Phoenix's "_" prefix on every column name."""
    names = [*result.index, *result.columns]
    fields = []
    for name in names:
        values = [row.get(name) for row in result.rows]
        spec = {"name": f"_{name}", **_json_type(values)}
        if name in ("start_time", "end_time") and spec["type"] == "string":
            spec = {"name": f"_{name}", "type": "datetime", "tz": "UTC"}
        fields.append(spec)
    data = [{f"_{name}": row.get(name) for name in names} for row in result.rows]
    table = {
        "schema": {
            "fields": fields,
            "primaryKey": [f"_{name}" for name in result.index],
            "pandas_version": "1.4.0",
        },
        "data": data,
    }
    return orjson.dumps(table, option=orjson.OPT_NON_STR_KEYS, default=str)


def to_arrow(result: Frame) -> bytes:
    """An Arrow IPC stream; the index columns first, named in the schema's metadata. A column
    whose values Arrow cannot hold in one type travels as JSON text."""
    import pyarrow as pa  # type: ignore[import-untyped]

    names = [*result.index, *result.columns]
    arrays = []
    for name in names:
        values = [row.get(name) for row in result.rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            arrays.append(pa.array([
                None if v is None else orjson.dumps(v, default=str).decode() for v in values
            ]))
    schema_metadata = {b"ember.index": orjson.dumps(result.index)}
    table = pa.Table.from_arrays(arrays, names=names).replace_schema_metadata(schema_metadata)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()
