"""Ember's filter language: a Python-like boolean expression over spans, traces or sessions.

It is compatible with Arize Phoenix's span filters. This docstring is the reference (docs/query.md
is generated from it).

Examples
--------
Span filters::

    span_kind == 'LLM' and llm.token_count.total > 4000
    'refund' in input.value                       # case-insensitive substring
    llm.model_name in ['gpt-4o', 'o3'] and status_code == 'ERROR'
    latency_ms > 2000 and start_time > now() - hours(1)
    metadata['tier'] == 'gold' and attributes['acme.team'] != 'infra'
    annotations['correctness'].label == 'incorrect' or annotations['correctness'].score < 0.5
    parent_id is None                             # root spans
    1000 < latency_ms <= seconds(5)               # chained; a duration in ms

Trace filters (roll-ups of the trace, its root span's attributes, and ``any`` over its spans)::

    span_count > 50 and error_count > 0
    cost > 0.10 and 'refund' in input
    any(span_kind == 'TOOL' and status_code == 'ERROR')

Session filters::

    trace_count >= 3 and total_tokens > 10000 and 'cancel' in first_input

Grammar
-------
::

    filter     := condition
    condition  := condition 'or' condition | condition 'and' condition | 'not' condition
                | '(' condition ')' | comparison | 'any' '(' condition ')'   # any: traces only
    comparison := operand (op operand)+          # chained: a < x < b means a < x and x < b
    op         := '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'is' | 'is not'
    operand    := field | value | list | time
    field      := name ('.' name)*               # a column, an alias or a dotted attribute key
                | 'attributes' '[' 'key' ']'     # an attribute by its exact key
                | 'metadata' '[' 'key' ']' ('[' 'key' ']')*
                | 'annotations' '[' 'name' ']' ('.label' | '.score' | '.explanation')
    value      := 'text' | "text" | number | True | False | None
    list       := '[' value (',' value)* ']'    # or ( ... ) or { ... }
    time       := 'ISO 8601 text' | now() | time ('+' | '-') duration
    duration   := milliseconds(n) | seconds(n) | minutes(n) | hours(n) | days(n) | weeks(n)
                | duration ('+' | '-') duration

Precedence is Python's: ``not`` binds tighter than ``and``, which binds tighter than ``or``. A
filter spanning several lines must be in parentheses, as in Python.

Each comparison has a field on one side and a value on the other: ``1000 < latency_ms`` is
fine, ``prompt_tokens > completion_tokens`` (two fields) and ``1 < 2`` (two values) are not.

Meaning
-------
- ``==``, ``!=``, ``<``, ... on text are exact and case-sensitive; on numbers numeric.
- ``'text' in field`` / ``not in``: the field's text contains ``text``, ignoring case.
- ``field in [v1, v2]`` / ``not in``: exact membership (one to 1,000 values of one kind).
- ``field is None`` / ``is not None``: the field is missing / present (``== None`` works too).
- Missing values (Phoenix's and SQL's rule): a condition on a missing attribute or an empty
  column is neither true nor false, and a row matches only when the whole filter is true. So
  ``x != 'a'``, ``x not in [...]`` and ``not x == 'a'`` do *not* match rows without ``x``; write
  ``x is None or x != 'a'`` to include them.
- Attributes whose type is not known are compared by the value's type: with a number they are
  compared as numbers (values that are not numbers do not match), with text as text.
- ``span_kind`` takes LLM, CHAIN, RETRIEVER, RERANKER, EMBEDDING, TOOL, AGENT, GUARDRAIL,
  EVALUATOR, PROMPT or UNKNOWN, in any case; a kind spelled almost like one of them (``'LMM'``)
  is refused with a suggestion, any other (``'AUDIO'``, kept verbatim by ingest) is accepted.
  ``status_code`` takes 'OK', 'ERROR' or 'UNSET' in any case (or 1, 2, 0), nothing else.
- Ids (span_id, trace_id, parent_id) are compared in lower case, as stored.
- Units: ``latency_ms`` in milliseconds (a duration helper works too: ``latency_ms >
  seconds(2)``); ``cost`` and ``llm.cost.total`` in US dollars (``cost > 0.01``); times are
  ISO 8601 text (UTC unless it carries an offset: ``'2024-05-01'``, ``'2024-05-01T12:00:00Z'``,
  ``'2024-05-01T14:00:00+02:00'``) or ``now()`` plus or minus durations, evaluated when the
  query runs. Numbers are never taken as times.
- Annotations: ``annotations['name'].label`` / ``.score`` / ``.explanation``; a condition on
  them holds when some annotation with that name on the span (trace, session) satisfies it.
  ``annotations['name'] is not None``: the row has such an annotation. ``evals[...]`` is an
  older Phoenix spelling of the same.
- Metadata: ``metadata['k']`` (or ``metadata.k``) reads key ``k`` of the OpenInference
  ``metadata`` JSON; ``metadata['a']['b']`` a nested key.
- In a trace filter, attributes and metadata are the root span's; ``any(...)`` holds when at
  least one span of the trace satisfies the span condition inside it.

Fields
------
Span filters:
  span_id (context.span_id), trace_id (context.trace_id), parent_id, name, span_kind
  (openinference.span.kind), status_code, status_message, start_time, end_time, latency_ms,
  prompt_tokens (llm.token_count.prompt), completion_tokens (llm.token_count.completion),
  total_tokens (llm.token_count.total), cost (llm.cost.total), model_name (llm.model_name;
  embedding.model_name on embedding spans), provider (llm.provider, else llm.system),
  session_id (session.id), user_id (user.id); input and output (input.value, output.value);
  any attribute by its dotted key (tool.name, llm.system, acme.team) or attributes['key'].
Trace filters:
  trace_id, root_span_id, root_name (name), root_span_kind (span_kind), span_count,
  error_count, start_time, end_time, latency_ms, prompt_tokens, completion_tokens,
  total_tokens and cost (of the trace's LLM spans; llm.token_count.* and llm.cost.total
  name them too), input_preview (input), output_preview (output), session_id (session.id),
  user_id (user.id); the root span's attributes and metadata; any(<span condition>).
Session filters:
  session_id (session.id), user_id (user.id), trace_count (traces), error_count, start_time,
  end_time, latency_ms, prompt_tokens, completion_tokens, total_tokens, cost, first_input
  (input), last_output (output). Sessions have no attributes.
All three: annotations['name'].label / .score / .explanation.

Names Ember does not know are custom attributes (``acme.team``), except a near miss of a known
name in an OpenInference namespace (``llm.modle_name``), which is refused with "did you mean
'llm.model_name'?"; ``attributes['llm.modle_name']`` reaches an attribute of exactly that name.
A name without a dot must be a known field (``attributes['foo']`` for an attribute ``foo``).
OpenInference lists (``llm.input_messages``) are stored element by element: name an element,
``attributes['llm.input_messages.0.message.content']``.

Errors and safety
-----------------
The text is parsed with Python's ``ast`` module and only the constructs above are accepted:
names are matched as strings against the catalogue, constants are read from the syntax tree,
and nothing is evaluated, imported or called. Function calls (other than ``any`` and the time
helpers), lambdas, comprehensions, f-strings, ``:=``, ``*``, arithmetic outside time
expressions, and names starting with ``__`` are refused. Filters longer than 10,000 characters
or nested more than 32 levels deep are refused. Every refusal is a `FilterError` (HTTP 400)
saying why and where (``line:column-endcolumn``, 1-based, end exclusive), with a suggestion
when there is one::

    unknown field 'llm.modle_name' at 1:1-15; did you mean 'llm.model_name'? ...
    latency_ms is a number; 'abc' is text at 1:14-19
"""

from __future__ import annotations

import ast
import threading
import warnings

from ember.query.ast import (
    TARGETS,
    And,
    Compare,
    CompareOp,
    Condition,
    Contains,
    Exists,
    Field,
    InList,
    IsNone,
    Loc,
    Not,
    Or,
    Target,
    Value,
)
from ember.query.errors import FilterError, Source
from ember.query.resolve import TIME_HELPERS, is_field_expr, resolve
from ember.query.values import (
    MAX_DEPTH,
    call_error,
    check_value_side,
    is_none,
    list_values,
    needle,
    operand,
)

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "FilterError", "parse_filter"]

MAX_LENGTH = 10_000
_WHITESPACE = " \t\f\r\n"
# fmt: off
_OPS: dict[type[ast.cmpop], CompareOp] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}
# `1000 < latency_ms` is `latency_ms > 1000`: the field always ends up on the left.
_FLIPPED: dict[CompareOp, CompareOp] = {
    "==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=",
}
# fmt: on


def parse_filter(text: str, target: Target = "span") -> Condition:
    """The tree of the filter `text` for `target` ("span", "trace" or "session").

    Never evaluates anything; raises `FilterError` (a `BadRequest`) for any text it does not
    accept, and no other exception for any string. An empty filter is an error: callers treat
    "no filter" before calling this. See the module docstring for the language.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown filter target {target!r}; expected one of {TARGETS}")
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"the filter is too long ({len(text)} characters; at most {MAX_LENGTH})",
            MAX_LENGTH,
            len(text),
        )
    lead = len(text) - len(text.lstrip(_WHITESPACE))
    if lead == len(text):
        raise FilterError(
            "the filter is empty",
            0,
            len(text),
            text=text,
            hint="e.g. span_kind == 'LLM'; send no filter to match everything",
        )
    src = Source(text, lead)
    if "\0" in text:
        at = text.index("\0")
        raise src.error(Loc(at, at + 1), "the filter contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. from JSON's "\ud800"
        raise src.error(Loc(error.start, error.end), "the filter is not valid Unicode") from None
    try:
        tree = _parse_quietly(text[lead:])
    except SyntaxError as error:
        loc = src.syntax_loc(error)
        before, after = text[loc.start - 1 : loc.start], text[loc.end : loc.end + 1]
        hint = None
        if not error.offset:
            hint = "the filter ends before the condition does"
        elif text[loc.start : loc.end] == "=" and before not in "=!<>" and after != "=":
            hint = "compare with =="
        raise src.error(loc, f"syntax error: {error.msg}", hint) from None
    except (RecursionError, MemoryError):
        # Python's own parser gives up on very deep nesting before our limit applies.
        reason = f"the filter is nested too deeply (at most {MAX_DEPTH} levels)"
        raise src.error(Loc(lead, len(text)), reason) from None
    return _Parser(src).condition(tree.body, target, 0, in_any=False)


_WARNINGS_LOCK = threading.Lock()


def _parse_quietly(body: str) -> ast.Expression:
    # The parser warns about user text (invalid escapes, `1and`); those warnings would land in
    # the server's log. catch_warnings swaps process-wide state, hence the lock.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(body, mode="eval")


class _Parser:
    def __init__(self, src: Source) -> None:
        self.src = src

    def condition(self, node: ast.expr, target: Target, depth: int, in_any: bool) -> Condition:
        src = self.src
        if depth > MAX_DEPTH:
            raise src.error(node, f"the filter is nested too deeply (at most {MAX_DEPTH} levels)")
        if isinstance(node, ast.BoolOp):
            kind = And if isinstance(node.op, ast.And) else Or
            items: list[Condition] = []
            for value in node.values:
                item = self.condition(value, target, depth + 1, in_any)
                # (a and b) and c means a and b and c: one flat list is simpler to compile.
                items.extend(item.items if isinstance(item, kind) else (item,))
            return kind(tuple(items), loc=src.loc(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.condition(node.operand, target, depth + 1, in_any)
            return Not(inner, loc=src.loc(node))
        if isinstance(node, ast.Compare):
            return self.compare(node, target, depth)
        if isinstance(node, ast.Call):
            return self.call(node, target, depth, in_any)
        if isinstance(node, ast.Constant):
            raise src.error(
                node,
                f"{src.fragment(node)} alone is not a condition",
                "compare a field with it, e.g. name == 'x', or list values: name in ['x', 'y']",
            )
        if is_field_expr(node):
            resolve(src, node, target)  # an unknown name is the better message
            name = src.fragment(node)
            raise src.error(
                node,
                f"{name} alone is not a condition",
                f"compare it, e.g. {name} == ... or {name} is not None",
            )
        raise src.not_allowed(node)

    def call(self, node: ast.Call, target: Target, depth: int, in_any: bool) -> Condition:
        src = self.src
        if not isinstance(node.func, ast.Name) or node.func.id != "any":
            if isinstance(node.func, ast.Name) and node.func.id in TIME_HELPERS:
                raise src.error(
                    node,
                    f"{src.fragment(node)} is a value, not a condition",
                    "e.g. start_time > now() - hours(1)",
                )
            raise call_error(src, node)
        if in_any:
            raise src.error(node, "any(...) cannot be nested")
        if target != "trace":
            raise src.error(
                node,
                f"any(...) is only for trace filters, not {target} filters",
                "it asks whether any span of a trace matches the condition inside",
            )
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise src.error(
                node,
                "any(...) takes one span condition",
                "e.g. any(span_kind == 'TOOL' and status_code == 'ERROR')",
            )
        inner = self.condition(node.args[0], "span", depth + 1, in_any=True)
        return Exists(inner, loc=src.loc(node))

    def compare(self, node: ast.Compare, target: Target, depth: int) -> Condition:
        operands = [node.left, *node.comparators]
        parts: list[Condition] = []
        for index, op in enumerate(node.ops):
            left, right = operands[index], operands[index + 1]
            loc = Loc(self.src.loc(left).start, self.src.loc(right).end)
            parts.append(self.pair(left, op, right, target, depth, loc))
        if len(parts) == 1:
            return parts[0]
        return And(tuple(parts), loc=self.src.loc(node))

    def pair(
        self,
        left: ast.expr,
        op: ast.cmpop,
        right: ast.expr,
        target: Target,
        depth: int,
        loc: Loc,
    ) -> Condition:
        src = self.src
        left_is_field, right_is_field = is_field_expr(left), is_field_expr(right)
        if isinstance(op, ast.In | ast.NotIn):
            return self.membership(left, right, isinstance(op, ast.NotIn), target, loc)
        if isinstance(op, ast.Is | ast.IsNot):
            negated = isinstance(op, ast.IsNot)
            if left_is_field and is_none(right):
                return IsNone(resolve(src, left, target), negated, loc=loc)
            if right_is_field and is_none(left):
                return IsNone(resolve(src, right, target), negated, loc=loc)
            raise src.error(loc, "'is' only compares with None", "use == and != to compare values")
        if left_is_field and right_is_field:
            raise src.error(loc, "a field is compared with a value, not with another field")
        if not left_is_field and not right_is_field:
            check_value_side(src, left)
            check_value_side(src, right)
            raise src.error(
                loc, "one side of a comparison must be a field", "e.g. latency_ms > 1000"
            )
        symbol = _OPS[type(op)]
        if right_is_field:
            left, right, symbol = right, left, _FLIPPED[symbol]
        field = self.valued(resolve(src, left, target))
        if is_none(right):
            if symbol not in ("==", "!="):
                raise src.error(
                    right,
                    f"None cannot be compared with {symbol}",
                    f"e.g. {src.fragment(left)} is None",
                )
            return IsNone(field, symbol == "!=", loc=loc)
        if symbol not in ("==", "!=") and field.type in ("span_kind", "status"):
            name = src.fragment(left)
            raise src.error(loc, f"{name} is only compared with ==, !=, in and not in")
        value = operand(src, right, field, depth)
        if (
            symbol not in ("==", "!=")
            and isinstance(value, Value)
            and isinstance(value.value, bool)
        ):
            raise src.error(right, f"True and False are only compared with == and !=, not {symbol}")
        return Compare(symbol, field, value, loc=loc)

    def membership(
        self, left: ast.expr, right: ast.expr, negated: bool, target: Target, loc: Loc
    ) -> Condition:
        src = self.src
        if is_field_expr(left) and is_field_expr(right):
            raise src.error(
                loc,
                "'in' between two fields is not supported",
                "write 'text' in field, or field in ['a', 'b']",
            )
        if is_field_expr(right):
            check_value_side(src, left)
            field = self.valued(resolve(src, right, target))
            return Contains(field, needle(src, left, field), negated, loc=loc)
        if not is_field_expr(left):
            check_value_side(src, left)
            check_value_side(src, right)
            raise src.error(
                loc,
                "one side of 'in' must be a field",
                "e.g. 'refund' in input.value, or llm.model_name in ['gpt-4o', 'o3']",
            )
        field = self.valued(resolve(src, left, target))
        name = src.fragment(left)
        if isinstance(right, ast.List | ast.Tuple | ast.Set):
            return InList(field, list_values(src, right, field), negated, loc=loc)
        if isinstance(right, ast.Constant) and isinstance(right.value, str):
            text = src.fragment(right)
            raise src.error(
                loc,
                f"{name} in {text} would ask whether {name} is part of {text}",
                f"to search {name}, write {text} in {name}; for a list of values, "
                f"write {name} in [{text}]",
            )
        hint = f"e.g. {name} in ['a', 'b']"
        raise src.error(right, "after 'field in' comes a list of values", hint)

    def valued(self, field: Field) -> Field:
        """`field`, unless it is a bare annotation (only `is None` applies to those)."""
        if field.kind == "annotation" and field.member is None:
            name = self.src.fragment(field.loc)
            raise self.src.error(
                field.loc,
                f"{name} is an annotation; compare its .label or .score",
                f"{name} is not None tests whether there is one",
            )
        return field
