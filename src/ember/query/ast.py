"""The filter tree: what a parsed filter means, independent of any database.

`ember.query.parse.parse_filter` builds it; the store compiles it to SQL. Nodes are frozen,
slotted dataclasses; every node carries `loc`, the character range of the filter text it came
from, which is *not* part of equality or hashing: two trees are equal when they mean the same.

Shape (normalized by the parser, so a compiler need not handle variants):

- A condition is one of `Compare`, `Contains`, `InList`, `IsNone`, `And`, `Or`, `Not`, `Exists`.
- A comparison always has the field on the left: `1000 < latency_ms` arrives as
  `Compare(">", latency_ms, Value(1000))`; a chained `a < x < b` arrives as an `And` of two
  comparisons. Nested `and`s (and nested `or`s) are flattened into one `And` (`Or`).
- `x == None` arrives as `IsNone(x)`, `x != None` as `IsNone(x, negated=True)`.
- A field is never compared with another field, and a value never with a value.

Values, by the field's `type` (the parser checks them; a compiler may rely on it):

- `text`, `id`: `Value(str)`; `id` values are lower-case hex, as stored.
- `int`, `float`: `Value(int | float)` (never `bool`). `latency_ms` is in milliseconds.
- `usd`: `Value(int | float)` in US dollars; the column holds pico-dollars (1e-12 USD), so a
  compiler multiplies by 1e12 (and should round) before comparing.
- `time`: `Timestamp(ns)` (unix nanoseconds, UTC) or `Now(offset_ns)` (the time the query runs,
  plus a signed offset). `Now` is kept relative so a saved filter stays relative.
- `span_kind`: `Value(str)`, upper-case (`"LLM"`); `status`: `Value("UNSET" | "OK" | "ERROR")`,
  see `ember.query.fields.STATUS_CODES` for the stored integers.
- `any` (attributes whose type is not known, and metadata): `Value(str | int | float | bool)`.
  The value's Python type says how to compare: a number compares numerically (a stored value
  that is not a number does not match), a string compares as text, a bool as a bool.

Semantics, which every compiler must keep (they are SQL's three-valued logic, as in Phoenix):

- A condition on a missing value (an absent attribute, a NULL column) is *unknown*, and a row
  matches only when the whole filter is *true*. So `x == v`, `x != v`, `x < v`,
  `x in [...]`, `x not in [...]`, `'t' in x` and `'t' not in x` all fail when `x` is missing,
  and so does `not (x == v)`. `and`/`or` follow Kleene logic (`unknown or true` is true).
  Only `IsNone` tests for absence: `x is None or x != v` includes rows without `x`.
- `Contains` is a case-insensitive substring test on the field's text (Phoenix's `in` on text);
  `Compare` on text is exact and case-sensitive; `InList` is exact membership.
- `Field(kind="annotation")` conditions are existential: true when at least one annotation with
  that name on the row satisfies the condition (a row without such an annotation gives false,
  not unknown, so `not` of it is true). `IsNone` on `annotations['x']` (no member) tests
  whether the row has an annotation named `x` at all.
- `Exists(scope="spans")`, only in trace filters, is true when at least one span of the trace
  satisfies its condition; the fields inside it are span fields.
- In a trace filter, attribute and metadata fields are those of the trace's root span.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import typing
from collections.abc import Iterator
from dataclasses import dataclass

Target = typing.Literal["span", "trace", "session"]
TARGETS: tuple[Target, ...] = ("span", "trace", "session")
ValueType = typing.Literal[
    "text", "id", "int", "float", "usd", "time", "span_kind", "status", "any"
]
FieldKind = typing.Literal["column", "attribute", "metadata", "annotation"]
CompareOp = typing.Literal["==", "!=", "<", "<=", ">", ">="]
AnnotationMember = typing.Literal["label", "score", "explanation"]
Scope = typing.Literal["spans"]


@dataclass(frozen=True, slots=True)
class Loc:
    """Characters `start` (inclusive) to `end` (exclusive) of the filter text, 0-based."""

    start: int
    end: int


NOWHERE = Loc(0, 0)


class Node:
    """Base of every node. Subclasses carry `loc` (keyword-only, ignored by ==)."""

    __slots__ = ()
    loc: Loc


@dataclass(frozen=True, slots=True)
class Field(Node):
    """A value of the row being filtered.

    - `column`: `name` is a catalogue column (`ember.query.fields`), e.g. `latency_ms`.
    - `attribute`: `name` is the flat dotted attribute key, e.g. `input.value`.
    - `metadata`: `name` is the top-level key in the span's `metadata` JSON and `path` the
      nested keys below it (`metadata['a']['b']` is name `a`, path `('b',)`).
    - `annotation`: `name` is the annotation name and `member` which of its values is meant;
      `member` is None only inside `IsNone` (does the row have such an annotation at all).
    """

    kind: FieldKind
    name: str
    type: ValueType
    path: tuple[str, ...] = ()
    member: AnnotationMember | None = None
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Value(Node):
    """A constant from the filter text, already checked against the field it is compared with."""

    value: str | int | float | bool
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Timestamp(Node):
    """An absolute time in unix nanoseconds (from an ISO 8601 string, UTC unless it says)."""

    ns: int
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Now(Node):
    """The time the query runs, plus `offset_ns` (negative for the past)."""

    offset_ns: int = 0
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """`field op value`; false (unknown) when the field is missing."""

    op: CompareOp
    field: Field
    value: Value | Timestamp | Now
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Contains(Node):
    """`'text' in field`: the field's text contains `value` (a str), ignoring case."""

    field: Field
    value: Value
    negated: bool = False
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class InList(Node):
    """`field in [v1, v2, ...]`: exact membership; `values` is never empty."""

    field: Field
    values: tuple[Value, ...]
    negated: bool = False
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class IsNone(Node):
    """`field is None` (missing), or with `negated`, `field is not None` (present)."""

    field: Field
    negated: bool = False
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class And(Node):
    """All of `items` (at least two)."""

    items: tuple[Condition, ...]
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Any of `items` (at least two)."""

    items: tuple[Condition, ...]
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Not(Node):
    """The negation of `item` (unknown stays unknown)."""

    item: Condition
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Exists(Node):
    """Trace filters only: at least one of the trace's spans satisfies `condition`."""

    condition: Condition
    scope: Scope = "spans"
    loc: Loc = dataclasses.field(default=NOWHERE, compare=False, repr=False, kw_only=True)


Operand = Value | Timestamp | Now
Condition = Compare | Contains | InList | IsNone | And | Or | Not | Exists


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, left to right (no recursion)."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        children: tuple[Node, ...]
        if isinstance(current, And | Or):
            children = current.items
        elif isinstance(current, Not):
            children = (current.item,)
        elif isinstance(current, Exists):
            children = (current.condition,)
        elif isinstance(current, Compare | Contains):
            children = (current.field, current.value)
        elif isinstance(current, InList):
            children = (current.field, *current.values)
        elif isinstance(current, IsNone):
            children = (current.field,)
        else:
            children = ()
        stack.extend(reversed(children))


# --- rendering back to filter text ------------------------------------------------------------

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def render(node: Node) -> str:
    """Filter text meaning the same as `node`; `parse_filter(render(tree), target) == tree` for
    any tree the parser made (timestamps are rendered to the microsecond, which ISO strings
    carry). Used for logs, saved filters and the docs' examples."""
    if isinstance(node, Field):
        return _render_field(node)
    if isinstance(node, Value):
        return repr(node.value)
    if isinstance(node, Timestamp):
        moment = _EPOCH + _dt.timedelta(microseconds=node.ns // 1000)
        return repr(moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    if isinstance(node, Now):
        if node.offset_ns == 0:
            return "now()"
        sign = "-" if node.offset_ns < 0 else "+"
        return f"now() {sign} seconds({_seconds(abs(node.offset_ns))})"
    if isinstance(node, Compare):
        return f"{render(node.field)} {node.op} {render(node.value)}"
    if isinstance(node, Contains):
        op = "not in" if node.negated else "in"
        return f"{render(node.value)} {op} {render(node.field)}"
    if isinstance(node, InList):
        op = "not in" if node.negated else "in"
        return f"{render(node.field)} {op} [{', '.join(render(v) for v in node.values)}]"
    if isinstance(node, IsNone):
        return f"{render(node.field)} is {'not ' if node.negated else ''}None"
    if isinstance(node, And | Or):
        joiner = " and " if isinstance(node, And) else " or "
        return joiner.join(_grouped(item) for item in node.items)
    if isinstance(node, Not):
        return f"not {_grouped(node.item)}"
    if isinstance(node, Exists):
        return f"any({render(node.condition)})"
    raise TypeError(f"not a filter node: {node!r}")


def _grouped(node: Condition) -> str:
    # Parentheses around compound items keep precedence obvious to a reader, not just correct.
    text = render(node)
    return f"({text})" if isinstance(node, And | Or | Not) else text


def _seconds(ns: int) -> str:
    whole, rest = divmod(ns, 1_000_000_000)
    return str(whole) if rest == 0 else repr(ns / 1e9)


def _render_field(node: Field) -> str:
    if node.kind == "column":
        return node.name
    if node.kind == "attribute":
        return f"attributes[{node.name!r}]"
    if node.kind == "metadata":
        return "metadata" + "".join(f"[{key!r}]" for key in (node.name, *node.path))
    member = f".{node.member}" if node.member else ""
    return f"annotations[{node.name!r}]{member}"
