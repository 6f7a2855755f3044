"""`FilterError`, and the mapping from Python's `ast` positions to characters of the filter.

Positions everywhere in `ember.query` are 0-based character offsets into the text the user
wrote (`Loc(start, end)`, end exclusive). Messages show them as `line:column` with 1-based
columns and an exclusive end column, so a caret line can be drawn under `start..end`.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ember.errors import BadRequest
from ember.query.ast import Loc

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the three the Python tokenizer knows
_FRAGMENT_CHARS = 60


class FilterError(BadRequest):
    """A filter that cannot be used: `reason` says why, `start`/`end` (character offsets,
    end exclusive) say where, `hint` (optional) what to write instead. `message` is the whole
    sentence: "unknown field 'llm.modle_name' at 1:1-15; did you mean 'llm.model_name'?"."""

    code = "bad_filter"

    def __init__(
        self, reason: str, start: int, end: int, *, text: str | None = None, hint: str | None = None
    ) -> None:
        self.reason = reason
        self.start = start
        self.end = end
        self.hint = hint
        self.text = text
        self.fragment = text[start:end] if text is not None else None
        message = f"{reason} at {location(text or '', start, end)}"
        super().__init__(f"{message}; {hint}" if hint else message)

    def envelope(self) -> dict[str, Any]:
        body = super().envelope()
        body["error"]["position"] = {"start": self.start, "end": self.end}
        return body


def location(text: str, start: int, end: int) -> str:
    """`line:col-endcol`, or `line:col-endline:endcol` across lines (1-based, end exclusive)."""
    line, column = _line_col(text, start)
    end_line, end_column = _line_col(text, max(end, start))
    if end_line == line:
        return f"{line}:{column}-{end_column}"
    return f"{line}:{column}-{end_line}:{end_column}"


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    breaks = list(_LINE_BREAK.finditer(before))
    if not breaks:
        return 1, offset + 1
    return len(breaks) + 1, offset - breaks[-1].end() + 1


class Source:
    """The filter text, and where `ast.parse` was given it from (`lead` characters of leading
    whitespace were skipped, since Python rejects an indented expression)."""

    def __init__(self, text: str, lead: int) -> None:
        self.text = text
        self.lead = lead
        body = text[lead:]
        self.ascii = body.isascii()
        # Offsets (into `text`) where each line of `body` starts, for ast's (line, column).
        self.line_starts = [lead, *(lead + m.end() for m in _LINE_BREAK.finditer(body))]

    def _offset(self, line: int | None, column: int | None, utf8: bool) -> int:
        if line is None or column is None:
            return self.lead
        line = min(max(line, 1), len(self.line_starts))
        begin = self.line_starts[line - 1]
        if utf8 and not self.ascii:
            # ast's columns count UTF-8 bytes; the user counts characters.
            line_text = self.text[begin:].encode("utf-8")[: max(column, 0)]
            column = len(line_text.decode("utf-8", errors="ignore"))
        return min(begin + max(column, 0), len(self.text))

    def loc(self, node: ast.AST) -> Loc:
        start = self._offset(getattr(node, "lineno", None), getattr(node, "col_offset", None), True)
        end = self._offset(
            getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None), True
        )
        return Loc(start, max(end, start))

    def syntax_loc(self, error: SyntaxError) -> Loc:
        """Where a SyntaxError points (its offsets are 1-based characters), at least one char."""
        if error.lineno is None:
            return Loc(self.lead, len(self.text))
        if not error.offset:
            # Python gives no column when the text ends too early (`a ==`): point at its end.
            end = len(self.text.rstrip())
            return Loc(max(end - 1, self.lead), end)
        start = self._offset(error.lineno, (error.offset or 1) - 1, False)
        end = start
        if error.end_lineno is not None and error.end_offset is not None and error.end_offset > 0:
            end = self._offset(error.end_lineno, error.end_offset - 1, False)
        end = max(end, min(start + 1, len(self.text)))
        return Loc(min(start, len(self.text)), end)

    def fragment(self, where: Loc | ast.AST) -> str:
        """The text at `where`, shortened for messages."""
        loc = where if isinstance(where, Loc) else self.loc(where)
        text = self.text[loc.start : loc.end]
        return text if len(text) <= _FRAGMENT_CHARS else text[: _FRAGMENT_CHARS - 1] + "…"

    def error(self, where: Loc | ast.AST, reason: str, hint: str | None = None) -> FilterError:
        """The FilterError for `where` (callers `raise` it, so the flow stays visible)."""
        loc = where if isinstance(where, Loc) else self.loc(where)
        return FilterError(reason, loc.start, loc.end, text=self.text, hint=hint)

    def not_allowed(self, node: ast.AST, hint: str | None = None) -> FilterError:
        """The error refusing a Python construct the language does not have, naming it."""
        what = _FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed here")
        return self.error(node, f"{what}: '{self.fragment(node)}'", hint)


_COMPREHENSION = "comprehensions are not allowed"
_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: _COMPREHENSION,
    ast.SetComp: _COMPREHENSION,
    ast.DictComp: _COMPREHENSION,
    ast.GeneratorExp: _COMPREHENSION,
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.IfExp: "'... if ... else ...' is not allowed",
    ast.Dict: "dicts are not allowed",
    ast.List: "a list is only allowed after 'in'",
    ast.Tuple: "a list is only allowed after 'in'",
    ast.Set: "a list is only allowed after 'in'",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Slice: "slices are not allowed",
    ast.BinOp: "arithmetic is only allowed on times (now() - hours(1))",
    ast.UnaryOp: "this operator is not allowed",
    ast.Call: "function calls are not allowed",
    ast.Compare: "a comparison is not a value",
    ast.BoolOp: "'and' / 'or' join conditions, not values",
    ast.Constant: "this kind of constant is not allowed",
    ast.Attribute: "'.' only follows a field name",
    ast.Subscript: "brackets only follow attributes, metadata or annotations",
}
