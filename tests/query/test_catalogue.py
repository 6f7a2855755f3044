"""The field catalogue (ember.query.fields) and the tree helpers (ember.query.ast)."""

from __future__ import annotations

import re

import pytest

from ember.query import fields as F
from ember.query import parse
from ember.query.ast import (
    TARGETS,
    And,
    Compare,
    Contains,
    Exists,
    Field,
    InList,
    IsNone,
    Not,
    Now,
    Or,
    Target,
    Timestamp,
    Value,
    render,
    walk,
)
from ember.query.resolve import TIME_HELPERS
from ember.semconv.promote import SPAN_KINDS as INGEST_SPAN_KINDS


def test_span_kinds_are_the_ones_ingest_knows() -> None:
    assert set(F.SPAN_KINDS) == set(INGEST_SPAN_KINDS)
    assert len(F.SPAN_KINDS) == len(set(F.SPAN_KINDS))


def test_status_codes_are_otlp_codes() -> None:
    assert F.STATUS_CODES == {"UNSET": 0, "OK": 1, "ERROR": 2}


@pytest.mark.parametrize("target", TARGETS)
def test_no_name_means_two_columns(target: Target) -> None:
    seen: dict[str, str] = {}
    for spec in F.COLUMNS[target]:
        for name in spec.names:
            assert seen.setdefault(name, spec.name) == spec.name, (name, seen[name], spec.name)
    for alias in F.ATTRIBUTE_ALIASES[target]:
        assert alias not in seen, alias


def test_column_attribute_keys_sit_in_openinference_namespaces() -> None:
    # So a near miss of one is caught as a typo rather than taken as a custom attribute.
    for spec in F.SPAN_COLUMNS:
        for key in spec.attribute_keys:
            assert key.split(".")[0] in F.NAMESPACES, key
    for key in F.KNOWN_ATTRIBUTES:
        assert key.split(".")[0] in F.NAMESPACES or "." not in key, key


def test_lookups() -> None:
    assert F.column("span", "llm.model_name") == F.column("span", "model_name")
    assert F.column("trace", "name") == F.column("trace", "root_name")
    assert F.column("session", "llm.model_name") is None
    assert F.column_for_key("span", "llm.token_count.total") == F.column("span", "total_tokens")
    assert F.column_for_key("span", "total_tokens") is None  # a column name is not an attribute key
    assert F.attribute_alias("span", "input") == "input.value"
    assert F.attribute_type("input.value") == "text"
    assert F.attribute_type("llm.model_name") == "text"
    assert F.attribute_type("acme.team") == "any"
    assert F.list_root("llm.input_messages") == "llm.input_messages"
    assert F.list_root("llm.input_messages.message.content") == "llm.input_messages"
    assert F.list_root("llm.input_messages.0.message.content") is None
    assert F.list_root("llm.model_name") is None
    assert F.has_attributes("span") and F.has_attributes("trace")
    assert not F.has_attributes("session")
    assert F.targets_with_column("span_count") == ("trace",)
    assert F.targets_with_column("latency_ms") == ("span", "trace", "session")
    assert F.targets_with_column("llm.model_name") == ()


def test_suggestions() -> None:
    assert F.suggest("span", "llm.modle_name") == "llm.model_name"
    assert F.suggest("span", "LATENCY_MS") == "latency_ms"
    assert F.suggest("span", "acme.team") is None
    assert F.suggest("session", "first_inptu") == "first_input"
    assert F.suggest("session", "input.valeu") is None  # sessions have no attributes
    assert F.in_namespace("llm.x") and F.in_namespace("lmm.x") and F.in_namespace("inptu.x")
    assert not F.in_namespace("acme.x")


def test_every_type_is_described() -> None:
    for kind in ("text", "id", "int", "float", "usd", "time", "span_kind", "status", "any"):
        assert F.describe(kind)  # type: ignore[arg-type]


def test_the_reference_names_every_field_and_helper() -> None:
    # The module docstring is the language reference: it must not fall behind the catalogue.
    doc = parse.__doc__
    assert doc is not None
    words = set(re.findall(r"[\w.]+", doc))
    for target in TARGETS:
        for spec in F.COLUMNS[target]:
            for name in spec.names:
                assert name in words, (target, name)
        for alias in F.ATTRIBUTE_ALIASES[target]:
            assert alias in words, alias
    for helper in TIME_HELPERS:
        assert f"{helper}(" in doc, helper
    for kind in F.SPAN_KINDS:
        assert kind in words, kind
    for example in re.findall(r"^    (\S.*?)(?:\s+#.*)?$", doc.split("Grammar")[0], re.M):
        target: Target = "span"
        if "span_count" in example or example.startswith("any(") or "cost > 0.10" in example:
            target = "trace"
        if "trace_count" in example:
            target = "session"
        parse.parse_filter(example, target)  # every example in the reference parses


# --- the tree --------------------------------------------------------------------------------

FIELD = Field("column", "latency_ms", "float")
OTHER = Field("attribute", "acme.team", "any")


def test_walk_visits_parents_first_left_to_right() -> None:
    tree = And(
        (
            Compare(">", FIELD, Value(1)),
            Not(Contains(OTHER, Value("x"))),
            Exists(InList(OTHER, (Value("a"), Value("b")))),
            Or((IsNone(FIELD), IsNone(OTHER, negated=True))),
        )
    )
    kinds = [type(node).__name__ for node in walk(tree)]
    assert kinds == [
        "And",
        "Compare", "Field", "Value",
        "Not", "Contains", "Field", "Value",
        "Exists", "InList", "Field", "Value", "Value",
        "Or", "IsNone", "Field", "IsNone", "Field",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("tree", "text"),
    [
        (Compare(">", FIELD, Value(1)), "latency_ms > 1"),
        (Compare("==", OTHER, Value("it's")), "attributes['acme.team'] == \"it's\""),
        (Contains(OTHER, Value("x"), negated=True), "'x' not in attributes['acme.team']"),
        (InList(OTHER, (Value(1), Value(2.5))), "attributes['acme.team'] in [1, 2.5]"),
        (IsNone(Field("metadata", "a", "any", path=("b",))), "metadata['a']['b'] is None"),
        (
            IsNone(Field("annotation", "c", "any"), negated=True),
            "annotations['c'] is not None",
        ),
        (
            Compare("<", Field("annotation", "c", "float", member="score"), Value(0.5)),
            "annotations['c'].score < 0.5",
        ),
        (Compare(">", FIELD, Now(0)), "latency_ms > now()"),
        (Compare(">", FIELD, Now(-90 * 10**9)), "latency_ms > now() - seconds(90)"),
        (Compare(">", FIELD, Now(1_500_000_000)), "latency_ms > now() + seconds(1.5)"),
        (Compare(">", FIELD, Timestamp(0)), "latency_ms > '1970-01-01T00:00:00.000000Z'"),
        (
            And((Or((IsNone(FIELD), IsNone(OTHER))), Not(Not(IsNone(FIELD))))),
            "(latency_ms is None or attributes['acme.team'] is None) and "
            "(not (not latency_ms is None))",
        ),
        (Exists(IsNone(FIELD)), "any(latency_ms is None)"),
    ],
)
def test_render(tree: Compare, text: str) -> None:
    assert render(tree) == text


def test_render_refuses_other_objects() -> None:
    with pytest.raises(TypeError):
        render(object())  # type: ignore[arg-type]


def test_nodes_are_slotted_and_frozen() -> None:
    node = IsNone(FIELD)
    assert not hasattr(node, "__dict__")
    with pytest.raises(AttributeError):
        node.negated = True  # type: ignore[misc]
