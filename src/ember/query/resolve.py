"""Field expressions to `Field` nodes: `latency_ms`, `llm.model_name`, `attributes['k']`,
`metadata['k']['sub']`, `annotations['name'].label`.

Only `Name`, `Attribute` and `Subscript` nodes are read here (the parser checks that first);
nothing is ever looked up on a Python object: names are strings matched against the catalogue.
"""

from __future__ import annotations

import ast
import difflib
from typing import NamedTuple

from ember.query import fields as F
from ember.query.ast import AnnotationMember, Field, Loc, Target
from ember.query.errors import Source

MAX_SEGMENTS = 32
TIME_HELPERS = ("now", "milliseconds", "seconds", "minutes", "hours", "days", "weeks")
_MEMBERS: dict[str, AnnotationMember] = {
    "label": "label",
    "score": "score",
    "explanation": "explanation",
}
_BRACKETS = "brackets only follow attributes, metadata or annotations"


class _Segment(NamedTuple):
    key: str | int
    bracketed: bool
    node: ast.expr


def is_field_expr(node: ast.AST) -> bool:
    """Whether `node` has the shape of a field (the resolver then decides if it is one)."""
    return isinstance(node, ast.Name | ast.Attribute | ast.Subscript)


def resolve(src: Source, node: ast.expr, target: Target) -> Field:
    """The field `node` names in `target`, or a FilterError saying why it names none."""
    root, segments = _flatten(src, node)
    loc = src.loc(node)
    if root.id == "attributes":
        return _attribute(src, loc, segments, target)
    if root.id == "metadata" and segments:
        return _metadata(src, loc, segments, target)
    if root.id in ("annotations", "evals"):
        return _annotation(src, node, loc, segments)
    for index, segment in enumerate(segments):
        if not segment.bracketed:
            continue
        if index == 0:
            close = difflib.get_close_matches(root.id, F.SUBSCRIPT_ROOTS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else _BRACKETS
            raise src.error(root, f"unknown name {root.id!r} before brackets", hint)
        key = ".".join([root.id, *(str(s.key) for s in segments[: index + 1])])
        hint = f"for an exact attribute key, write attributes[{key!r}]"
        raise src.error(segment.node, _BRACKETS, hint)
    dotted = ".".join([root.id, *(str(segment.key) for segment in segments)])
    return resolve_name(src, loc, dotted, target)


def _flatten(src: Source, node: ast.expr) -> tuple[ast.Name, list[_Segment]]:
    # Iterative: a chain of thousands of `.a` must not exhaust the Python stack.
    segments: list[_Segment] = []
    current = node
    while not isinstance(current, ast.Name):
        if len(segments) >= MAX_SEGMENTS:
            raise src.error(node, f"the name is too long (more than {MAX_SEGMENTS} parts)")
        if isinstance(current, ast.Attribute):
            if current.attr.startswith("__"):
                raise src.error(attribute_name(src, current), dunder(current.attr))
            segments.append(_Segment(current.attr, False, current))
            current = current.value
        elif isinstance(current, ast.Subscript):
            segments.append(_Segment(_key(src, current.slice), True, current))
            current = current.value
        else:
            hint = "a field is a name, e.g. llm.model_name or metadata['k']"
            raise src.not_allowed(current, hint)
    if current.id.startswith("__"):
        raise src.error(current, dunder(current.id))
    segments.reverse()
    return current, segments


def attribute_name(src: Source, node: ast.Attribute) -> Loc:
    """Where the name after the dot is (the node itself spans the whole chain)."""
    loc = src.loc(node)
    if src.text[loc.start : loc.end].endswith(node.attr):
        return Loc(loc.end - len(node.attr), loc.end)
    return loc


def dunder(name: str) -> str:
    """Why a `__name` is refused (the message is shared with calls such as `__import__()`)."""
    return f"'{name}' is not allowed: names starting with '__' are never looked up"


def _key(src: Source, node: ast.expr) -> str | int:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, int) and not isinstance(node.value, bool) and node.value >= 0:
            return node.value  # attributes['llm.input_messages'][0]: an element index
    if isinstance(node, ast.Slice):
        raise src.not_allowed(node)
    hint = "e.g. attributes['llm.model_name']"
    raise src.error(node, "a key in brackets must be quoted text", hint)


def _attribute(src: Source, loc: Loc, segments: list[_Segment], target: Target) -> Field:
    if not segments:
        raise src.error(loc, "attributes needs a key", "e.g. attributes['llm.model_name']")
    _needs_attributes(src, loc, target)
    key = ".".join(str(segment.key) for segment in segments)
    spec = F.column_for_key(target, key)
    if spec is not None:
        return Field("column", spec.name, spec.type, loc=loc)
    return Field("attribute", key, F.attribute_type(key), loc=loc)


def _metadata(src: Source, loc: Loc, segments: list[_Segment], target: Target) -> Field:
    _needs_attributes(src, loc, target)
    keys = tuple(str(segment.key) for segment in segments)
    return Field("metadata", keys[0], "any", path=keys[1:], loc=loc)


def _annotation(src: Source, node: ast.expr, loc: Loc, segments: list[_Segment]) -> Field:
    usage = "e.g. annotations['correctness'].label == 'incorrect' or .score < 0.5"
    if not segments or not segments[0].bracketed or not isinstance(segments[0].key, str):
        raise src.error(node, "an annotation is named in quotes", usage)
    name = segments[0].key
    if len(segments) == 1:
        return Field("annotation", name, "any", loc=loc)
    member = segments[1]
    if len(segments) > 2 or member.bracketed or member.key not in F.ANNOTATION_MEMBERS:
        extra = segments[2] if len(segments) > 2 else member
        where: Loc | ast.AST = extra.node
        if isinstance(extra.node, ast.Attribute) and not extra.bracketed:
            where = attribute_name(src, extra.node)
        close = difflib.get_close_matches(str(member.key), F.ANNOTATION_MEMBERS, n=1)
        hint = f"did you mean '.{close[0]}'?" if close else usage
        raise src.error(where, "an annotation has .label, .score and .explanation", hint)
    key: AnnotationMember = _MEMBERS[str(member.key)]
    return Field("annotation", name, F.ANNOTATION_MEMBERS[key], member=key, loc=loc)


def _needs_attributes(src: Source, loc: Loc, target: Target) -> None:
    if not F.has_attributes(target):
        raise src.error(loc, "session filters have no attributes", _fields_hint(target))


def _fields_hint(target: Target) -> str:
    return f"{target} fields: " + ", ".join(spec.name for spec in F.COLUMNS[target])


def resolve_name(src: Source, loc: Loc, name: str, target: Target) -> Field:
    """A plain or dotted name: a column, an attribute alias, a known or a custom attribute."""
    spec = F.column(target, name)
    if spec is not None:
        return Field("column", spec.name, spec.type, loc=loc)
    alias = F.attribute_alias(target, name)
    if alias is not None:
        return Field("attribute", alias, F.attribute_type(alias), loc=loc)
    if name in F.UNSUPPORTED:
        raise src.error(loc, f"{name!r} is not supported", F.UNSUPPORTED[name])
    homes = F.targets_with_column(name)
    if homes:
        hint = _fields_hint(target)
        if target == "trace" and "span" in homes:
            hint = f"a trace filter tests spans inside any(...), e.g. any({name} ...)"
        reason = f"{name!r} is a {' and '.join(homes)} field, not a {target} field"
        raise src.error(loc, reason, hint)
    guess = F.suggest(target, name)
    if not F.has_attributes(target):
        if guess:
            raise src.error(loc, f"unknown field {name!r}", f"did you mean {guess!r}?")
        if "." in name or name in F.OPENINFERENCE_KEYS:
            raise src.error(loc, "session filters have no attributes", _fields_hint(target))
        raise src.error(loc, f"unknown field {name!r}", _fields_hint(target))
    root = F.list_root(name)
    if root is not None:
        raise src.error(
            loc,
            f"{name!r} is a list, stored element by element",
            f"name one element's key, e.g. attributes[{F.LIST_ATTRIBUTES[root]!r}]",
        )
    if name in F.OPENINFERENCE_KEYS:
        return Field("attribute", name, F.OPENINFERENCE_KEYS[name], loc=loc)
    if "." not in name:
        if name in TIME_HELPERS:
            hint = f"{name} is a function: write {name}()"
        elif guess:
            hint = f"did you mean {guess!r}?"
        else:
            hint = f"for an attribute with this exact name, write attributes[{name!r}]"
        raise src.error(loc, f"unknown field {name!r}", hint)
    if guess and F.in_namespace(name):
        raise src.error(
            loc,
            f"unknown field {name!r}",
            f"did you mean {guess!r}? (attributes[{name!r}] reaches a custom attribute "
            "with exactly this name)",
        )
    return Field("attribute", name, "any", loc=loc)
