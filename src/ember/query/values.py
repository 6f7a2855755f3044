"""The value side of a condition: constants checked against the field's type, lists, and time
expressions (`'2024-05-01T12:00:00Z'`, `now() - hours(1)`, `seconds(2)` against latency_ms).

Nothing is evaluated by Python: constants come from `ast.Constant`, and the few time helpers
are recognized by name and computed here with integer arithmetic.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import math
from dataclasses import dataclass
from typing import Literal

from ember.query import fields as F
from ember.query.ast import Field, Now, Timestamp, Value
from ember.query.errors import FilterError, Source
from ember.query.resolve import TIME_HELPERS, dunder, is_field_expr

MAX_DEPTH = 32
MAX_LIST = 1_000
INT64_MAX = 2**63 - 1
TIME_UNITS_NS: dict[str, int] = {
    "milliseconds": 1_000_000,
    "seconds": 1_000_000_000,
    "minutes": 60 * 1_000_000_000,
    "hours": 3_600 * 1_000_000_000,
    "days": 86_400 * 1_000_000_000,
    "weeks": 7 * 86_400 * 1_000_000_000,
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TIME_HINT = (
    "compare it with an ISO 8601 time such as '2024-05-01T12:00:00Z' (UTC unless an offset is "
    "given) or with now() - hours(1)"
)
_HELPERS_HINT = "allowed: any(...) in trace filters, and now(), " + ", ".join(
    f"{name}(n)" for name in TIME_UNITS_NS
)
Constant = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class _Time:
    kind: Literal["now", "timestamp", "duration"]
    ns: int


def _what(value: Constant) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True/False"
    return "text" if isinstance(value, str) else "a number"


def is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def constant(src: Source, node: ast.expr, depth: int = 0) -> Constant:
    """A literal: str, int, float, bool or None; `-` before a number is allowed."""
    if depth > MAX_DEPTH:
        raise src.error(node, "the value is nested too deeply")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int):
            if abs(value) > INT64_MAX:
                raise src.error(node, f"the number {src.fragment(node)} is out of range")
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise src.error(node, f"the number {src.fragment(node)} is out of range")
            return value
        raise src.not_allowed(node)  # bytes, complex, Ellipsis
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = constant(src, node.operand, depth + 1)
        if isinstance(inner, bool) or not isinstance(inner, int | float):
            raise src.error(node, f"'-' only goes before a number: '{src.fragment(node)}'")
        return -inner if isinstance(node.op, ast.USub) else inner
    if is_field_expr(node):
        raise src.error(
            node,
            f"{src.fragment(node)} is a field name, not a value",
            "text goes in quotes: 'like this'",
        )
    raise src.not_allowed(node)


def call_error(src: Source, node: ast.Call) -> FilterError:
    """Why a call other than any() and the time helpers is refused."""
    func = node.func
    if isinstance(func, ast.Attribute | ast.Name):
        name = func.attr if isinstance(func, ast.Attribute) else func.id
        if name.startswith("__"):
            return src.error(func, dunder(name))
    if not isinstance(func, ast.Name):
        return src.error(
            node,
            f"method calls are not allowed: '{src.fragment(node)}'",
            "to search text, write 'text' in field",
        )
    return src.error(node, f"function calls are not allowed: {func.id}()", _HELPERS_HINT)


def check_value_side(src: Source, node: ast.expr) -> None:
    """Refuse, by name, what can be neither a field nor a value (calls, lambdas, ...)."""
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in TIME_HELPERS):
            raise call_error(src, node)
    elif not isinstance(node, ast.Constant | ast.UnaryOp | ast.BinOp | ast.List | ast.Tuple):
        raise src.not_allowed(node)
    elif isinstance(node, ast.UnaryOp | ast.BinOp) and any(
        is_field_expr(inner) for inner in ast.walk(node)
    ):
        # `latency_ms + 1 > 2`, `-latency_ms < 5`: say what is wrong, not "no field".
        if isinstance(node, ast.UnaryOp):
            reason = f"'{src.fragment(node)}': '-' and 'not' do not apply to fields"
            raise src.error(node, reason)
        raise src.not_allowed(node)


def operand(src: Source, node: ast.expr, field: Field, depth: int) -> Value | Timestamp | Now:
    """The value `field` is compared with, checked against its type (see ast.py's contract)."""
    if field.type == "time":
        return _time_point(src, node, depth)
    if _is_time_expr(node):
        if field.kind == "column" and field.name == "latency_ms":
            span = time_expr(src, node, depth)
            if span.kind != "duration":
                raise src.error(
                    node,
                    f"{src.fragment(node)} is a time, latency_ms a duration",
                    "compare latency_ms with milliseconds or with seconds(2)",
                )
            return Value(span.ns / 1e6, loc=src.loc(node))
        raise src.error(
            node,
            f"{src.fragment(field.loc)} is {F.describe(field.type)}; "
            f"{src.fragment(node)} is a time",
            "times go with start_time and end_time, durations with latency_ms",
        )
    value = constant(src, node, depth)
    if value is None:
        raise src.error(
            node,
            "None only goes with 'is None', 'is not None', '==' or '!='",
            f"e.g. {src.fragment(field.loc)} is None",
        )
    return Value(check(src, node, field, value), loc=src.loc(node))


def check(
    src: Source, node: ast.expr, field: Field, value: str | int | float | bool
) -> str | int | float | bool:
    """`value`, normalized for `field` (upper-case kinds and statuses, lower-case ids), or a
    FilterError saying why it cannot be compared with `field`."""
    name, kind = src.fragment(field.loc), field.type
    mismatch = f"{name} is {F.describe(kind)}; {src.fragment(node)} is {_what(value)}"
    if kind in ("text", "id"):
        if not isinstance(value, str):
            raise src.error(node, mismatch, f"text goes in quotes: '{value}'")
        return value.lower() if kind == "id" else value
    if kind in ("int", "float", "usd"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise src.error(node, mismatch)
        return value
    if kind == "span_kind":
        return _enum(src, node, name, value, F.SPAN_KINDS, open_ended=True)
    if kind == "status":
        if isinstance(value, int) and not isinstance(value, bool):
            codes = {code: label for label, code in F.STATUS_CODES.items()}
            value = codes.get(value, str(value))
        return _enum(src, node, name, value, tuple(F.STATUS_CODES), open_ended=False)
    return value  # "any": the value's own type says how to compare


def _enum(
    src: Source,
    node: ast.expr,
    name: str,
    value: Constant,
    allowed: tuple[str, ...],
    open_ended: bool,
) -> str:
    listed = f"{name} is one of {', '.join(allowed)}"
    if not isinstance(value, str):
        raise src.error(node, listed)
    upper = value.upper()
    if upper in allowed:
        return upper
    close = difflib.get_close_matches(upper, allowed, n=1, cutoff=0.6)
    # Ingest keeps a kind it does not know verbatim (AUDIO), so such a kind can be filtered
    # on; one spelled almost like a known kind is a typo.
    if open_ended and not close and upper.strip():
        return upper
    raise src.error(node, listed, f"did you mean {close[0]!r}?" if close else None)


def list_values(
    src: Source, node: ast.List | ast.Tuple | ast.Set, field: Field
) -> tuple[Value, ...]:
    """The values of `field in [...]`: not empty, at most MAX_LIST, one kind of value."""
    name = src.fragment(field.loc)
    if field.type == "time":
        raise src.error(
            node,
            f"{name} is a time; 'in' does not apply",
            f"compare with < and >, e.g. {name} > now() - hours(1)",
        )
    if not node.elts:
        raise src.error(node, "an empty list matches nothing")
    if len(node.elts) > MAX_LIST:
        reason = f"the list has {len(node.elts)} values; at most {MAX_LIST} are allowed"
        raise src.error(node, reason)
    values: list[Value] = []
    for element in node.elts:
        if is_none(element):
            raise src.error(element, "None cannot be in a list", f"add: or {name} is None")
        value = operand(src, element, field, 1)
        assert isinstance(value, Value)  # times were refused above
        values.append(value)
    kinds = {_what(value.value) for value in values}
    if len(kinds) > 1:
        raise src.error(node, f"the list mixes {' and '.join(sorted(kinds))}")
    return tuple(values)


def needle(src: Source, node: ast.expr, field: Field) -> Value:
    """The text of `'text' in field`; the field must hold text."""
    name = src.fragment(field.loc)
    if field.type not in ("text", "id", "any"):
        hint = f"e.g. {name} in [...]" if field.type in ("span_kind", "status") else None
        reason = f"'in' searches text; {name} is {F.describe(field.type)}"
        raise src.error(field.loc, reason, hint)
    value = constant(src, node, 0)
    if not isinstance(value, str):
        reason = f"'in' looks for text in {name}; {src.fragment(node)} is {_what(value)}"
        raise src.error(node, reason, f"to compare, write {name} == {src.fragment(node)}")
    return Value(value, loc=src.loc(node))


# --- time ---------------------------------------------------------------------------------------


def _is_time_expr(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in TIME_HELPERS
    return isinstance(node, ast.BinOp)


def _time_point(src: Source, node: ast.expr, depth: int) -> Timestamp | Now:
    point = time_expr(src, node, depth)
    if point.kind == "duration":
        raise src.error(
            node,
            f"{src.fragment(node)} is a duration, not a time",
            f"e.g. now() - {src.fragment(node)}",
        )
    if point.kind == "now":
        return Now(point.ns, loc=src.loc(node))
    return Timestamp(point.ns, loc=src.loc(node))


def time_expr(src: Source, node: ast.expr, depth: int) -> _Time:
    """A time (`now()`, an ISO string), a duration (`hours(1)`), or a sum/difference of them."""
    if depth > MAX_DEPTH:
        raise src.error(node, "the time expression is nested too deeply")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _Time("timestamp", _iso(src, node, node.value))
    if isinstance(node, ast.Call):
        return _helper(src, node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left = time_expr(src, node.left, depth + 1)
        right = time_expr(src, node.right, depth + 1)
        sign = 1 if isinstance(node.op, ast.Add) else -1
        if right.kind == "duration":
            total = _Time(left.kind, left.ns + sign * right.ns)
        elif left.kind == "duration" and sign == 1:
            total = _Time(right.kind, left.ns + right.ns)
        else:
            raise src.error(
                node,
                f"'{src.fragment(node)}': only a duration can be added to or "
                "subtracted from a time",
                "e.g. now() - hours(1)",
            )
        if abs(total.ns) > INT64_MAX:
            raise src.error(node, f"{src.fragment(node)} is out of range")
        return total
    if isinstance(node, ast.Constant | ast.UnaryOp):
        raise src.error(
            node,
            f"a time is expected; {src.fragment(node)} is {_what(constant(src, node, depth))}",
            _TIME_HINT,
        )
    if is_field_expr(node):
        raise src.error(
            node, f"{src.fragment(node)} is a field; a time is compared with a value", _TIME_HINT
        )
    raise src.not_allowed(node, _TIME_HINT)


def _helper(src: Source, node: ast.Call) -> _Time:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in TIME_HELPERS:
        raise src.not_allowed(
            node, "the time helpers are now(), " + ", ".join(f"{unit}(n)" for unit in TIME_UNITS_NS)
        )
    if node.keywords:
        raise src.error(node.keywords[0].value, f"{name}() takes no keyword arguments")
    if name == "now":
        if node.args:
            raise src.error(node.args[0], "now() takes no arguments")
        return _Time("now", 0)
    if len(node.args) != 1:
        raise src.error(node, f"{name}() takes one number, e.g. {name}(5)")
    count = constant(src, node.args[0])
    if isinstance(count, bool) or not isinstance(count, int | float):
        raise src.error(
            node.args[0], f"{name}() takes a number; {src.fragment(node.args[0])} is {_what(count)}"
        )
    product = count * TIME_UNITS_NS[name]
    if not math.isfinite(product) or abs(product) > INT64_MAX:
        raise src.error(node, f"{src.fragment(node)} is out of range")
    return _Time("duration", round(product))


def _iso(src: Source, node: ast.expr, text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError):
        raise src.error(node, f"{src.fragment(node)} is not a time", _TIME_HINT) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    ns = (moment - _EPOCH) // dt.timedelta(microseconds=1) * 1000
    if abs(ns) > INT64_MAX:
        raise src.error(node, f"{src.fragment(node)} is out of range (years 1678 to 2262)")
    return ns
