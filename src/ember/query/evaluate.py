"""Evaluate a filter tree on one row in Python, with the same three-valued logic as the SQL.

The store compiles what SQL can answer exactly and hands the rest (conditions on attribute
values that may sit in the compressed payload: long text, list members) to this module, row by
row. `ast.py` states the semantics; this is their reference implementation, and the store's
SQL must agree with it on every row (tests/query/test_filters_sql.py checks both).

Results are `True`, `False` or `None` (unknown); a row matches only on `True`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

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
    Now,
    Operand,
    Or,
    Timestamp,
)
from ember.query.fields import STATUS_CODES

PICO_PER_USD = 10**12
NS_PER_MS = 1_000_000


class Missing:
    """The value of a field the row does not have (distinct from any stored value)."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


class RowView(Protocol):
    """What the evaluator reads of a row. Column values are as stored (times in ns, cost in
    pico-dollars, status as its integer, and `latency_ms` as end - start in ns, which
    `stored_constant` matches)."""

    def column(self, name: str) -> Any: ...

    def attributes(self) -> Mapping[str, Any]: ...

    def annotations(self, name: str) -> Sequence[Mapping[str, Any]]: ...

    def spans(self) -> Iterable[RowView]:
        """The trace's spans (trace rows only, for `any(...)`)."""
        ...


@dataclass(frozen=True, slots=True)
class Evaluator:
    """Evaluates trees at one moment: `now_ns` is what `now()` means for the whole query."""

    now_ns: int

    def matches(self, condition: Condition, row: RowView) -> bool:
        return self.evaluate(condition, row) is True

    def evaluate(self, node: Condition, row: RowView) -> bool | None:
        if isinstance(node, And):
            return _kleene_and(self.evaluate(item, row) for item in node.items)
        if isinstance(node, Or):
            return _kleene_or(self.evaluate(item, row) for item in node.items)
        if isinstance(node, Not):
            inner = self.evaluate(node.item, row)
            return None if inner is None else not inner
        if isinstance(node, Exists):
            return any(self.evaluate(node.condition, span) is True for span in row.spans())
        if node.field.kind == "annotation":
            return self._annotation(node, row)
        return self._leaf(node, self.value(node.field, row))

    def value(self, field: Field, row: RowView) -> Any:
        """The field's value in the row's stored units, or MISSING."""
        if field.kind == "column":
            stored = row.column(field.name)
            return MISSING if stored is None else stored
        if field.kind == "attribute":
            return row.attributes().get(field.name, MISSING)
        return metadata_value(row.attributes(), field.name, field.path)

    def operand(self, field: Field, operand: Operand) -> Any:
        """A filter constant in the stored units of `field`."""
        if isinstance(operand, Timestamp):
            return operand.ns
        if isinstance(operand, Now):
            return self.now_ns + operand.offset_ns
        return stored_constant(field, operand.value)

    def _leaf(self, node: Condition, actual: Any) -> bool | None:
        if isinstance(node, IsNone):
            present = actual is not MISSING
            return present if node.negated else not present
        if actual is MISSING:
            return None
        if isinstance(node, Compare):
            return compare(node.op, actual, self.operand(node.field, node.value))
        if isinstance(node, Contains):
            found = contains(actual, str(node.value.value))
            return None if found is None else found != node.negated
        if isinstance(node, InList):
            results = [
                compare("==", actual, self.operand(node.field, v)) for v in node.values
            ]
            found = _kleene_or(results)
            return None if found is None else found != node.negated
        raise TypeError(f"not a leaf condition: {node!r}")

    def _annotation(self, node: Condition, row: RowView) -> bool:
        assert not isinstance(node, And | Or | Not | Exists)
        field = node.field
        found = row.annotations(field.name)
        if isinstance(node, IsNone) and field.member is None:
            return bool(found) == node.negated
        member = field.member or "label"
        return any(
            self._leaf(node, MISSING if a.get(member) is None else a[member]) is True
            for a in found
        )


def stored_constant(field: Field, value: str | int | float | bool) -> Any:
    """A constant converted to how the field's column stores it."""
    if field.type == "usd" and isinstance(value, int | float):
        return round(value * PICO_PER_USD)
    if field.type == "status" and isinstance(value, str):
        return STATUS_CODES[value]
    if field.kind == "column" and field.name == "latency_ms" and isinstance(value, int | float):
        return value * NS_PER_MS
    return value


def metadata_value(attributes: Mapping[str, Any], name: str, path: Sequence[str]) -> Any:
    """`metadata[name][path...]` of OpenInference's `metadata` attribute (JSON text)."""
    raw = attributes.get("metadata", MISSING)
    if isinstance(raw, str):
        try:
            current: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return MISSING
    else:
        return MISSING
    for key in (name, *path):
        if not isinstance(current, dict) or key not in current:
            return MISSING
        current = current[key]
    return MISSING if current is None else current


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def compare(op: str, actual: Any, expected: Any) -> bool | None:
    """`actual op expected`; unknown when the stored value is not of the constant's kind (a
    number is never compared with text, nor a bool with a number)."""
    kind = _kind(expected)
    if kind is None or _kind(actual) != kind:
        return None
    return _COMPARE[op](actual, expected)


def contains(actual: Any, needle: str) -> bool | None:
    """Case-insensitive substring of text; of any text member of a list; unknown otherwise."""
    lowered = needle.lower()
    if isinstance(actual, str):
        return lowered in actual.lower()
    if isinstance(actual, list):
        texts = [item for item in actual if isinstance(item, str)]
        if not texts:
            return None
        return any(lowered in text.lower() for text in texts)
    return None


def _kleene_and(values: Iterable[bool | None]) -> bool | None:
    unknown = False
    for value in values:
        if value is False:
            return False
        if value is None:
            unknown = True
    return None if unknown else True


def _kleene_or(values: Iterable[bool | None]) -> bool | None:
    unknown = False
    for value in values:
        if value is True:
            return True
        if value is None:
            unknown = True
    return None if unknown else False
