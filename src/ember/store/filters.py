"""Compile a filter tree (`ember.query.ast`) into SQL over the store's tables.

A span's attribute values live in two places (store/codec.py): short scalars in the queryable
`attributes` JSON column, long text and list members in the compressed payload. SQL can answer
exactly every condition on columns, annotations and the short values, but not one that a long
value could satisfy (`'refund' in input.value`, `x != 'a'` when `x` may be a long text). So a
filter compiles into a `Plan`:

- `where`: SQL that every matching row satisfies; it is the exact filter when `residual` is None;
- `residual`: the part of the tree SQL could not decide; the caller evaluates it in Python on
  each row `where` let through (`ember.query.evaluate`), reading the whole attribute map.

For a condition left to Python, `where` still narrows the rows: such a condition on key `k` can
only hold where the short value satisfies it in SQL, or where `k` is not among the short values
(so it may be long). Semantics are those `ember.query.ast` states; every value is a bound
parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from ember.model import BULKY_TEXT_CHARS, LIST_ITEM_KEY
from ember.query.ast import (
    And,
    Compare,
    Condition,
    Contains,
    Exists,
    Field,
    InList,
    IsNone,
    Not,
    Or,
    Target,
    Value,
)
from ember.query.evaluate import Evaluator
from ember.store import schema
from ember.store.jsonsql import JsonKind, JsonReader
from ember.store.schema import sessions, spans, traces

TRUE: ColumnElement[bool] = sa.true()


@dataclass(frozen=True, slots=True)
class Plan:
    where: ColumnElement[bool]
    residual: Condition | None
    # How an index finds the rows `where` keeps, if one does: "column" for a top-level
    # equality on an indexed column; "containment" for PostgreSQL's GIN index of the short
    # attributes. Listings use it to skip or shorten their window walk (store/listings.py).
    index: Literal["column", "containment"] | None = None


# Columns an index starts with (alone or after the project id), per target (schema.py).
_INDEXED_COLUMNS: dict[Target, frozenset[str]] = {
    "span": frozenset({"span_id", "trace_id", "user_id"}),
    "trace": frozenset({"trace_id"}),
    "session": frozenset({"session_id"}),
}


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One node: `exact` SQL when SQL decides it, else `superset` (None: no narrowing)."""

    exact: ColumnElement[bool] | None
    superset: ColumnElement[bool] | None = None

    @property
    def narrowing(self) -> ColumnElement[bool] | None:
        return self.exact if self.exact is not None else self.superset


@dataclass(frozen=True, slots=True)
class RowSource:
    """What the fields of one target read from: its column expressions, the JSON text of its
    attributes (None for sessions), and how annotations point at its rows."""

    target: Target
    columns: Mapping[str, ColumnElement[Any]]
    attributes: ColumnElement[Any] | None
    annotation_kind: str
    annotation_target: ColumnElement[Any]


def span_source(table: Any = spans, trace_id: ColumnElement[Any] | None = None) -> RowSource:
    """`trace_id` is the trace id expression (a correlated read of `traces` by default)."""
    trace_id_expr = (
        trace_id
        if trace_id is not None
        else sa.select(traces.c.trace_id)
        .where(traces.c.id == table.c.trace_rowid)
        .scalar_subquery()
    )
    columns: dict[str, ColumnElement[Any]] = {
        name: table.c[name]
        for name in (
            "span_id", "parent_id", "name", "span_kind", "status_code", "status_message",
            "start_time", "end_time", "prompt_tokens", "completion_tokens", "total_tokens",
            "cost", "model_name", "provider", "session_id", "user_id",
        )
    }
    columns["trace_id"] = trace_id_expr
    columns["latency_ms"] = table.c.end_time - table.c.start_time
    return RowSource("span", columns, table.c.attributes, "span", table.c.span_id)


def trace_source() -> RowSource:
    root = spans.alias("root_span")
    root_attributes = (
        sa.select(root.c.attributes)
        .where(root.c.trace_rowid == traces.c.id, root.c.span_id == traces.c.root_span_id)
        .scalar_subquery()
    )
    columns: dict[str, ColumnElement[Any]] = {
        name: traces.c[name]
        for name in (
            "trace_id", "root_span_id", "root_name", "root_span_kind", "span_count",
            "error_count", "start_time", "end_time", "prompt_tokens", "completion_tokens",
            "total_tokens", "cost", "input_preview", "output_preview", "session_id", "user_id",
        )
    }
    columns["latency_ms"] = traces.c.end_time - traces.c.start_time
    return RowSource("trace", columns, root_attributes, "trace", traces.c.trace_id)


def session_source() -> RowSource:
    columns: dict[str, ColumnElement[Any]] = {
        name: sessions.c[name]
        for name in (
            "session_id", "user_id", "trace_count", "error_count", "start_time", "end_time",
            "prompt_tokens", "completion_tokens", "total_tokens", "cost", "first_input",
            "last_output",
        )
    }
    columns["latency_ms"] = sessions.c.end_time - sessions.c.start_time
    return RowSource("session", columns, None, "session", sessions.c.session_id)


SOURCES: dict[Target, Callable[[], RowSource]] = {
    "span": span_source,
    "trace": trace_source,
    "session": session_source,
}


def compile_filter(
    tree: Condition,
    target: Target,
    dialect_name: str,
    now_ns: int,
    source: RowSource | None = None,
) -> Plan:
    """The plan of `tree` over the target's table (`spans`, `traces` or `sessions`), or over
    `source` when the query reads the target's fields from elsewhere (a join)."""
    compiler = _Compiler(JsonReader(dialect_name), Evaluator(now_ns))
    source = source or SOURCES[target]()
    items = tree.items if isinstance(tree, And) else (tree,)
    where: list[ColumnElement[bool]] = []
    residual: list[Condition] = []
    index: Literal["column", "containment"] | None = None
    for item in items:
        compiled = compiler.condition(item, source)
        if compiled.narrowing is not None:
            where.append(compiled.narrowing)
        hint = compiler.index_hint(item, source)
        if hint is not None:
            where.append(hint)
        if _finds_by_index(item, target):
            index = "column"
        elif hint is not None and index is None:
            index = "containment"
        if compiled.exact is None:
            residual.append(item)
    rest: Condition | None
    if not residual:
        rest = None
    elif len(residual) == 1:
        rest = residual[0]
    else:
        rest = And(tuple(residual))
    return Plan(sa.and_(TRUE, *where) if where else TRUE, rest, index)


def _finds_by_index(node: Condition, target: Target) -> bool:
    """`column == v` or `column in [...]` on a column an index starts with."""
    if isinstance(node, Compare):
        found = node.op == "=="
    elif isinstance(node, InList):
        found = not node.negated
    else:
        return False
    return found and node.field.kind == "column" and node.field.name in _INDEXED_COLUMNS[target]


class _Compiler:
    def __init__(self, json: JsonReader, evaluator: Evaluator) -> None:
        self.json = json
        self.evaluator = evaluator

    def condition(self, node: Condition, source: RowSource) -> _Compiled:
        if isinstance(node, And | Or):
            parts = [self.condition(item, source) for item in node.items]
            join = sa.and_ if isinstance(node, And) else sa.or_
            exact = [p.exact for p in parts if p.exact is not None]
            if len(exact) == len(parts):
                return _Compiled(join(*exact))
            narrowing = [p.narrowing for p in parts if p.narrowing is not None]
            if isinstance(node, And):
                return _Compiled(None, sa.and_(*narrowing) if narrowing else None)
            if len(narrowing) < len(parts):
                return _Compiled(None)
            return _Compiled(None, sa.or_(*narrowing))
        if isinstance(node, Not):
            inner = self.condition(node.item, source)
            # NOT of a superset narrows nothing.
            return _Compiled(None if inner.exact is None else sa.not_(inner.exact))
        if isinstance(node, Exists):
            return self._exists(node, source)
        field = node.field
        if field.kind == "column":
            return _Compiled(self._column_leaf(node, source.columns[field.name]))
        if field.kind == "annotation":
            return _Compiled(self._annotation_leaf(node, source))
        return self._attribute_leaf(node, source)

    # --- columns -------------------------------------------------------------------------

    def _constant(self, field: Field, value: Any) -> Any:
        return self.evaluator.operand(field, value)

    def _column_leaf(self, node: Condition, column: ColumnElement[Any]) -> ColumnElement[bool]:
        if isinstance(node, IsNone):
            return column.is_not(None) if node.negated else column.is_(None)
        if isinstance(node, Compare):
            return _OPERATORS[node.op](column, self._constant(node.field, node.value))
        if isinstance(node, Contains):
            found = self._contains(column, str(node.value.value))
            return sa.not_(found) if node.negated else found
        if isinstance(node, InList):
            values = [self._constant(node.field, v) for v in node.values]
            return column.not_in(values) if node.negated else column.in_(values)
        raise TypeError(f"not a leaf: {node!r}")

    def _contains(self, column: ColumnElement[Any], needle: str) -> ColumnElement[bool]:
        """Case-insensitive substring; NULL when the column is NULL. (SQLite's lower() folds
        ASCII letters only; Python and PostgreSQL fold every letter.)"""
        position = sa.func.strpos if self.json.postgres else sa.func.instr
        return position(sa.func.lower(column), needle.lower()) > 0

    # --- attributes and metadata ---------------------------------------------------------

    def _attribute_leaf(self, node: Condition, source: RowSource) -> _Compiled:
        assert not isinstance(node, And | Or | Not | Exists)
        field = node.field
        if source.attributes is None:
            raise TypeError(f"{source.target} rows have no attributes")
        if field.kind == "metadata":
            holder: tuple[str, ...] = ("metadata",)
            document = self.json.parse(self.json.text(source.attributes, holder))
            keys: tuple[str, ...] = (field.name, *field.path)
        else:
            holder = (field.name,)
            document = source.attributes
            keys = holder
        if LIST_ITEM_KEY(holder[0]) or not self.json.can_read(keys):
            return _Compiled(None)  # only ever in the payload, or not addressable in SQL
        sql = self._json_leaf(node, document, keys)
        if field.kind == "attribute" and _short_values_decide(node):
            return _Compiled(sql)
        # The holder may be a long value kept in the payload: rows without it among the
        # short values must go to Python.
        unsure = sa.not_(self.json.present(source.attributes, holder))
        if isinstance(node, Contains):
            # `in` also looks into lists, which SQL reads as no text: Python decides those.
            unsure = sa.or_(unsure, self.json.text(document, keys).is_(None))
        return _Compiled(None, sa.or_(sql, unsure))

    def index_hint(self, node: Condition, source: RowSource) -> ColumnElement[bool] | None:
        """On PostgreSQL, a top-level `k == v` or `k in [...]` on a short attribute written
        again as JSON containment, which the GIN index of migration 0008 serves, so a rare value
        is found without reading every span. It holds on exactly the rows where the condition
        is true (jsonb compares numbers by value) but is false, not unknown, where the key is
        missing, so it may only be AND-ed at the top of a WHERE clause, never under a NOT."""
        if not self.json.postgres or source.target != "span" or source.attributes is None:
            return None
        if not isinstance(node, Compare | InList) or node.field.kind != "attribute":
            return None
        if not _short_values_decide(node) or LIST_ITEM_KEY(node.field.name):
            return None
        if isinstance(node, Compare):
            if node.op != "==" or not isinstance(node.value, Value):
                return None
            values = [node.value.value]
        else:
            values = [v.value for v in node.values]
        document = sa.cast(source.attributes, JSONB)
        return sa.or_(
            *(
                document.op("@>")(
                    sa.cast(sa.literal(orjson.dumps({node.field.name: v}).decode()), JSONB)
                )
                for v in values
            )
        )

    def _json_leaf(
        self, node: Condition, document: ColumnElement[Any], keys: tuple[str, ...]
    ) -> ColumnElement[bool]:
        if isinstance(node, IsNone):
            present = self.json.present(document, keys)
            return present if node.negated else sa.not_(present)
        if isinstance(node, Contains):
            found = self._contains(self.json.text(document, keys), str(node.value.value))
            return sa.not_(found) if node.negated else found
        if isinstance(node, Compare):
            value = node.value
            assert isinstance(value, Value), "attributes compare with plain values"
            kind = _json_kind(value.value)
            return _OPERATORS[node.op](
                self.json.read(document, keys, kind), value.value
            )
        if isinstance(node, InList):
            by_kind: dict[JsonKind, list[Any]] = {}
            for v in node.values:
                by_kind.setdefault(_json_kind(v.value), []).append(v.value)
            members = [
                self.json.read(document, keys, kind).in_(values)
                for kind, values in by_kind.items()
            ]
            found = sa.or_(*members) if len(members) > 1 else members[0]
            if not node.negated:
                return found
            # `x not in [...]` is unknown when x is missing or of none of the listed kinds.
            known = sa.or_(
                *(self.json.read(document, keys, kind).is_not(None) for kind in by_kind)
            )
            return sa.case((known, sa.not_(found)), else_=None)
        raise TypeError(f"not a leaf: {node!r}")

    # --- annotations and any(...) --------------------------------------------------------

    def _annotation_leaf(self, node: Condition, source: RowSource) -> ColumnElement[bool]:
        assert not isinstance(node, And | Or | Not | Exists)
        annotations = schema.annotation_table
        field = node.field
        matching = sa.select(annotations.c.id).where(
            annotations.c.target_kind == source.annotation_kind,
            annotations.c.target_id == source.annotation_target,
            annotations.c.name == field.name,
        )
        if isinstance(node, IsNone) and field.member is None:
            exists = matching.exists()
            return exists if node.negated else sa.not_(exists)
        column = annotations.c[field.member or "label"]
        condition = self._column_leaf(node, column)
        return matching.where(condition).exists()

    def _exists(self, node: Exists, source: RowSource) -> _Compiled:
        member = spans.alias("member_span")
        inner_source = span_source(member, trace_id=source.columns["trace_id"])
        inner = self.condition(node.condition, inner_source)
        correlated = sa.select(member.c.id).where(member.c.trace_rowid == traces.c.id)
        if inner.exact is not None:
            return _Compiled(correlated.where(inner.exact).exists())
        if inner.superset is None:
            return _Compiled(None, correlated.exists())
        return _Compiled(None, correlated.where(inner.superset).exists())


def _short_values_decide(node: Condition) -> bool:
    """Whether a condition on an attribute is decided by the short values alone: a long value
    (a text over BULKY_TEXT_CHARS, a list, a map) can never make it true."""
    if isinstance(node, Compare):
        value = node.value
        if not isinstance(value, Value):
            return False
        if isinstance(value.value, str):
            return node.op == "==" and len(value.value) <= BULKY_TEXT_CHARS
        return True  # numbers and bools never equal a long text, list or map
    if isinstance(node, InList):
        return not node.negated and all(
            not isinstance(v.value, str) or len(v.value) <= BULKY_TEXT_CHARS
            for v in node.values
        )
    return False


def _json_kind(value: Any) -> JsonKind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text"




_OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
