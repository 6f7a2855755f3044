"""Fuzzing parse_filter with fixed seeds: any string gives a tree or a FilterError, never another
exception; generated valid filters parse, render back to themselves and point at their text."""

from __future__ import annotations

import random

import pytest

from ember.query import FilterError, parse_filter
from ember.query.ast import (
    TARGETS,
    And,
    Compare,
    Contains,
    Exists,
    Field,
    InList,
    IsNone,
    Node,
    Not,
    Or,
    Target,
    render,
    walk,
)
from ember.query.fields import COLUMNS, OPENINFERENCE_KEYS, SPAN_KINDS

SOUP = [
    "span_kind",
    "llm.model_name",
    "latency_ms",
    "input.value",
    "'LLM'",
    "'x'",
    "1",
    "-2.5",
    "None",
    "True",
    "==",
    "!=",
    "<",
    ">=",
    "in",
    "not",
    "and",
    "or",
    "is",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "'",
    '"',
    "metadata",
    "attributes",
    "annotations",
    "['k']",
    ".label",
    ".score",
    "any",
    "any(",
    "now()",
    "-",
    "+",
    "hours(1)",
    "seconds(",
    "start_time",
    "'2024-05-01'",
    "lambda",
    ":",
    "for",
    "x",
    "__class__",
    "*",
    "**",
    "{",
    "}",
    "f'",
    "=",
    ":=",
    "\\",
    "\n",
    "\t",
    " ",
    "é",
    "日本",
    "\x00",
    "#",
    "@",
    "~",
    "1e999",
    "99999999999999999999999",
    "evals",
    "metadata.tier",
    "span_count",
    "trace_count",
    "0x10",
    "b'x'",
    "1j",
    "...",
    "if",
    "else",
    "status_code",
    "'ERROR'",
    "parent_id",
    "days(1e300)",
    "minutes(-5)",
    "cost",
    "await",
    "yield",
    "import",
    "os",
    "__import__",
    "open",
    "'%s'",
    "';--",
    "\r\n",
    "\u2028",
    "\ufeff",
]
# Warnings from Python's parser about user text must not escape (they would reach server logs).
pytestmark = pytest.mark.filterwarnings("error")

CHARS = "abcxyz_.()[]{}'\"=<>!019 -+*/,:;#@\\\t\n\rée日\x00\x7f"


def _outcome(text: str, target: Target) -> None:
    try:
        tree = parse_filter(text, target)
    except FilterError as error:
        assert 0 <= error.start <= error.end <= len(text), (text, error.start, error.end)
        assert error.message
        return
    _check_tree(text, tree, target)


def _check_tree(text: str, tree: Node, target: Target) -> None:
    for node in walk(tree):
        loc = node.loc
        assert 0 <= loc.start <= loc.end <= len(text), (text, node)
    again = parse_filter(render(tree), target)
    assert again == tree, (text, render(tree))


@pytest.mark.parametrize("seed", range(4))
def test_token_soup_gives_a_tree_or_a_filter_error(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1500):
        text = " ".join(rng.choice(SOUP) for _ in range(rng.randrange(1, 14)))
        _outcome(text, rng.choice(TARGETS))


@pytest.mark.parametrize("seed", range(4))
def test_random_characters_give_a_tree_or_a_filter_error(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(1500):
        text = "".join(rng.choice(CHARS) for _ in range(rng.randrange(0, 40)))
        if rng.random() < 0.1:
            text += "".join(chr(rng.randrange(0, 0x110000)) for _ in range(3)).replace("\ud800", "")
        _outcome(text, rng.choice(TARGETS))


# --- generated valid filters --------------------------------------------------------------------

_VALUES = {
    "text": ["'x'", "'refund'", '"it\'s"', "''", "'ü'"],
    "id": ["'ab12'", "'AB12'"],
    "int": ["0", "1", "4000", "-3"],
    "float": ["0.5", "2000", "-1.25"],
    "usd": ["0.01", "1", "0.000001"],
    "span_kind": [f"'{kind.lower()}'" for kind in SPAN_KINDS[:4]] + ["'LLM'"],
    "status": ["'OK'", "'error'", "2"],
    "any": ["'gold'", "3", "2.5", "True"],
    "time": [
        "now()",
        "now() - hours(1)",
        "now() - minutes(15) - seconds(3)",
        "'2024-05-01'",
        "'2024-05-01T12:00:00Z'",
        "'2024-05-01T12:00:00.123456+02:00'",
        "'2024-05-01' + days(2)",
    ],
}


def _field(rng: random.Random, target: Target) -> tuple[str, str]:
    """A field as a user writes it, and its type."""
    choice = rng.random()
    if target != "session" and choice < 0.25:
        key = rng.choice(sorted(OPENINFERENCE_KEYS))
        if rng.random() < 0.3:
            return f"attributes[{key!r}]", OPENINFERENCE_KEYS[key]
        return key, OPENINFERENCE_KEYS[key]
    if target != "session" and choice < 0.35:
        customs = ["acme.team", "attributes['x y']", "metadata['tier']", "metadata.a.b"]
        return rng.choice(customs), "any"
    if choice < 0.42:
        member, kind = rng.choice([("label", "text"), ("score", "float"), ("explanation", "text")])
        return f"annotations['c'].{member}", kind
    spec = rng.choice(COLUMNS[target])
    return rng.choice(spec.names), spec.type


def _comparison(rng: random.Random, target: Target) -> str:
    name, kind = _field(rng, target)
    form = rng.random()
    if form < 0.1:
        return f"{name} is {'not ' if rng.random() < 0.5 else ''}None"
    if form < 0.25 and kind in ("text", "id", "any"):
        return f"'re' {'not in' if rng.random() < 0.5 else 'in'} {name}"
    if form < 0.4 and kind != "time":
        values = _VALUES[kind]
        if kind == "any":  # one kind of value per list
            values = rng.choice([["'a'", "'b'"], ["1", "2.5"], ["True"]])
        picked = rng.sample(values, rng.randrange(1, len(values) + 1))
        return f"{name} {'not in' if rng.random() < 0.5 else 'in'} [{', '.join(picked)}]"
    ops = ["==", "!="] if kind in ("span_kind", "status") else ["==", "!=", "<", "<=", ">", ">="]
    if kind == "any":
        value = rng.choice(_VALUES["any"])
        if value == "True":
            ops = ["==", "!="]
    else:
        value = rng.choice(_VALUES[kind])
    op = rng.choice(ops)
    if rng.random() < 0.2:
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        return f"{value} {flipped} {name}"
    return f"{name} {op} {value}"


def _condition(rng: random.Random, target: Target, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        if target == "trace" and rng.random() < 0.2 and depth < 3:
            return f"any({_condition(rng, 'span', depth + 1)})"
        return _comparison(rng, target)
    if roll < 0.55:
        return f"not {_condition(rng, target, depth + 1)}"
    if roll < 0.65:
        return f"({_condition(rng, target, depth + 1)})"
    joiner = rng.choice([" and ", " or "])
    parts = [_condition(rng, target, depth + 1) for _ in range(rng.randrange(2, 4))]
    return joiner.join(f"({part})" if rng.random() < 0.5 else part for part in parts)


def _resolves_alone(text: str, field: Field, target: Target) -> None:
    """The text a Field points at names that same field."""
    fragment = text[field.loc.start : field.loc.end]
    tree = parse_filter(f"{fragment} is None", target)
    assert getattr(tree, "field", None) == field, (text, fragment)


def _fields(tree: Node, target: Target) -> list[tuple[Field, Target]]:
    """Each field of the tree with the target it belongs to (span fields inside any(...))."""
    found: list[tuple[Field, Target]] = []
    stack: list[tuple[Node, Target]] = [(tree, target)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, Exists):
            stack.append((node.condition, "span"))
        elif isinstance(node, And | Or):
            stack.extend((item, where) for item in node.items)
        elif isinstance(node, Not):
            stack.append((node.item, where))
        elif isinstance(node, Compare | Contains | InList | IsNone):
            found.append((node.field, where))
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_generated_filters_parse_and_round_trip(target: Target) -> None:
    rng = random.Random(TARGETS.index(target))
    for _ in range(700):
        text = _condition(rng, target)
        try:
            tree = parse_filter(text, target)
        except FilterError as error:  # pragma: no cover - a failure message worth reading
            pytest.fail(f"{text!r} was refused: {error.message}")
        _check_tree(text, tree, target)
        for field, where in _fields(tree, target):
            _resolves_alone(text, field, where)


@pytest.mark.parametrize("seed", range(3))
def test_mutated_valid_filters_give_a_tree_or_a_filter_error(seed: int) -> None:
    rng = random.Random(2000 + seed)
    for _ in range(1000):
        target = rng.choice(TARGETS)
        text = list(_condition(rng, target))
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(text) + 1)
            action = rng.random()
            if action < 0.4 and text:
                del text[min(at, len(text) - 1)]
            elif action < 0.7:
                text.insert(at, rng.choice(CHARS))
            else:
                text.insert(at, " " + rng.choice(SOUP) + " ")
        _outcome("".join(text), target)
