"""ember.query.parse_filter: every accepted form, to its exact tree."""

from __future__ import annotations

import pytest

from ember.query import parse_filter
from ember.query.ast import (
    And,
    Compare,
    Condition,
    Contains,
    Exists,
    Field,
    InList,
    IsNone,
    Loc,
    Not,
    Now,
    Or,
    Target,
    Timestamp,
    Value,
    ValueType,
)

SECOND = 1_000_000_000
MAY_1_2024 = 1_714_521_600 * SECOND  # 2024-05-01T00:00:00Z


def col(name: str, type_: ValueType) -> Field:
    return Field("column", name, type_)


def attr(key: str, type_: ValueType = "any") -> Field:
    return Field("attribute", key, type_)


def meta(name: str, *path: str) -> Field:
    return Field("metadata", name, "any", path=path)


def note(name: str, member: str | None = None) -> Field:
    types: dict[str | None, ValueType] = {"label": "text", "score": "float", "explanation": "text"}
    return Field("annotation", name, types.get(member, "any"), member=member)  # type: ignore[arg-type]


def V(value: str | int | float | bool) -> Value:
    return Value(value)


KIND = col("span_kind", "span_kind")
LATENCY = col("latency_ms", "float")
MODEL = col("model_name", "text")
INPUT = attr("input.value", "text")
STATUS = col("status_code", "status")
START = col("start_time", "time")

SPAN_CASES: list[tuple[str, Condition]] = [
    # Phoenix's span filters, as its docs write them.
    ("span_kind == 'LLM'", Compare("==", KIND, V("LLM"))),
    ("status_code == 'ERROR'", Compare("==", STATUS, V("ERROR"))),
    ("'refund' in input.value", Contains(INPUT, V("refund"))),
    ("'refund' not in input.value", Contains(INPUT, V("refund"), negated=True)),
    ("llm.model_name in ['gpt-4o', 'o3']", InList(MODEL, (V("gpt-4o"), V("o3")))),
    ("llm.model_name not in ('gpt-4o',)", InList(MODEL, (V("gpt-4o"),), negated=True)),
    ("parent_id is None", IsNone(col("parent_id", "id"))),
    ("parent_id is not None", IsNone(col("parent_id", "id"), negated=True)),
    ("metadata['tier'] == 'gold'", Compare("==", meta("tier"), V("gold"))),
    ("attributes['llm.model_name'] == 'o3'", Compare("==", MODEL, V("o3"))),
    ("llm.token_count.total > 1000", Compare(">", col("total_tokens", "int"), V(1000))),
    ("latency_ms > 2000", Compare(">", LATENCY, V(2000))),
    (
        "annotations['correctness'].label == 'incorrect'",
        Compare("==", note("correctness", "label"), V("incorrect")),
    ),
    ("annotations['correctness'].score < 0.5", Compare("<", note("correctness", "score"), V(0.5))),
    ("evals['hallucination'].label == 'x'", Compare("==", note("hallucination", "label"), V("x"))),
    (
        "'vague' in annotations['q'].explanation",
        Contains(note("q", "explanation"), V("vague")),
    ),
    ("annotations['q'] is not None", IsNone(note("q"), negated=True)),
    # Columns and their aliases.
    ("span_id == 'ABCDEF0123456789'", Compare("==", col("span_id", "id"), V("abcdef0123456789"))),
    ("context.span_id == 'ab'", Compare("==", col("span_id", "id"), V("ab"))),
    ("context.trace_id == 'ab'", Compare("==", col("trace_id", "id"), V("ab"))),
    ("name == 'ChatOpenAI'", Compare("==", col("name", "text"), V("ChatOpenAI"))),
    ("status_message != ''", Compare("!=", col("status_message", "text"), V(""))),
    ("openinference.span.kind == 'tool'", Compare("==", KIND, V("TOOL"))),
    ("llm.token_count.prompt >= 10", Compare(">=", col("prompt_tokens", "int"), V(10))),
    ("llm.token_count.completion <= 10", Compare("<=", col("completion_tokens", "int"), V(10))),
    ("total_tokens == 0", Compare("==", col("total_tokens", "int"), V(0))),
    ("cost > 0.01", Compare(">", col("cost", "usd"), V(0.01))),
    ("llm.cost.total > 1", Compare(">", col("cost", "usd"), V(1))),
    ("llm.provider == 'openai'", Compare("==", col("provider", "text"), V("openai"))),
    ("provider == 'openai'", Compare("==", col("provider", "text"), V("openai"))),
    ("session.id == 's1'", Compare("==", col("session_id", "text"), V("s1"))),
    ("user.id == 'u1'", Compare("==", col("user_id", "text"), V("u1"))),
    ("'x' in input", Contains(INPUT, V("x"))),
    ("'x' in output", Contains(attr("output.value", "text"), V("x"))),
    # Known and custom attributes.
    ("tool.name == 'search'", Compare("==", attr("tool.name", "text"), V("search"))),
    ("llm.system == 'openai'", Compare("==", attr("llm.system", "text"), V("openai"))),
    ("reranker.top_k > 3", Compare(">", attr("reranker.top_k", "int"), V(3))),
    ("acme.team == 'infra'", Compare("==", attr("acme.team"), V("infra"))),
    ("acme.retries > 2", Compare(">", attr("acme.retries"), V(2))),
    ("acme.flag == True", Compare("==", attr("acme.flag"), V(True))),
    ("acme.ratio <= -0.5", Compare("<=", attr("acme.ratio"), V(-0.5))),
    ("llm.usage.total_tokens > 1", Compare(">", attr("llm.usage.total_tokens"), V(1))),
    ("attributes['anything'] == 1", Compare("==", attr("anything"), V(1))),
    ("attributes['llm.modle_name'] == 1", Compare("==", attr("llm.modle_name"), V(1))),
    ("attributes['a']['b'] == 1", Compare("==", attr("a.b"), V(1))),
    (
        "attributes['llm.input_messages'][0]['message.content'] == 'hi'",
        Compare("==", attr("llm.input_messages.0.message.content"), V("hi")),
    ),
    (
        "'hi' in attributes['llm.input_messages.0.message.content']",
        Contains(attr("llm.input_messages.0.message.content"), V("hi")),
    ),
    ("'gold' in metadata", Contains(attr("metadata", "text"), V("gold"))),
    ("metadata['a']['b'] == 2", Compare("==", meta("a", "b"), V(2))),
    ("metadata.tier == 'gold'", Compare("==", meta("tier"), V("gold"))),
    ("metadata['tier'] in ['gold', 'silver']", InList(meta("tier"), (V("gold"), V("silver")))),
    ("acme.x in {1, 2}", InList(attr("acme.x"), (V(1), V(2)))),
    # Values: case of kinds and statuses, status numbers, None as a comparand.
    ("span_kind == 'llm'", Compare("==", KIND, V("LLM"))),
    ("span_kind != 'Retriever'", Compare("!=", KIND, V("RETRIEVER"))),
    ("span_kind == 'AUDIO'", Compare("==", KIND, V("AUDIO"))),
    ("span_kind in ['llm', 'TOOL']", InList(KIND, (V("LLM"), V("TOOL")))),
    ("status_code == 'ok'", Compare("==", STATUS, V("OK"))),
    ("status_code == 2", Compare("==", STATUS, V("ERROR"))),
    ("status_code in [0, 'OK']", InList(STATUS, (V("UNSET"), V("OK")))),
    ("parent_id == None", IsNone(col("parent_id", "id"))),
    ("parent_id != None", IsNone(col("parent_id", "id"), negated=True)),
    ("None is parent_id", IsNone(col("parent_id", "id"))),
    ('name == "double"', Compare("==", col("name", "text"), V("double"))),
    # The field may be on either side; it always ends up on the left.
    ("1000 < latency_ms", Compare(">", LATENCY, V(1000))),
    ("1000 <= latency_ms", Compare(">=", LATENCY, V(1000))),
    ("1000 > latency_ms", Compare("<", LATENCY, V(1000))),
    ("'LLM' == span_kind", Compare("==", KIND, V("LLM"))),
    ("'x' != name", Compare("!=", col("name", "text"), V("x"))),
    # Chained comparisons.
    (
        "1000 < latency_ms < 2000",
        And((Compare(">", LATENCY, V(1000)), Compare("<", LATENCY, V(2000)))),
    ),
    (
        "0 <= acme.x <= 1 < acme.y",
        And(
            (
                Compare(">=", attr("acme.x"), V(0)),
                Compare("<=", attr("acme.x"), V(1)),
                Compare(">", attr("acme.y"), V(1)),
            )
        ),
    ),
    # Durations compare with latency in milliseconds.
    ("latency_ms > seconds(2)", Compare(">", LATENCY, V(2000.0))),
    ("latency_ms < minutes(1) + milliseconds(500)", Compare("<", LATENCY, V(60500.0))),
    ("latency_ms in [seconds(1), 5]", InList(LATENCY, (V(1000.0), V(5)))),
]

TIME_CASES: list[tuple[str, Compare]] = [
    ("start_time > now()", Compare(">", START, Now(0))),
    ("start_time > now() - minutes(15)", Compare(">", START, Now(-15 * 60 * SECOND))),
    ("start_time > now() - hours(2)", Compare(">", START, Now(-2 * 3600 * SECOND))),
    ("start_time > now() - days(1.5)", Compare(">", START, Now(-36 * 3600 * SECOND))),
    ("start_time > now() - weeks(1)", Compare(">", START, Now(-7 * 86400 * SECOND))),
    ("end_time < now() + seconds(30)", Compare("<", col("end_time", "time"), Now(30 * SECOND))),
    ("start_time > now() - hours(1) - minutes(30)", Compare(">", START, Now(-5400 * SECOND))),
    ("start_time > now() - (hours(1) + minutes(30))", Compare(">", START, Now(-5400 * SECOND))),
    ("start_time > now() - milliseconds(1)", Compare(">", START, Now(-1_000_000))),
    ("start_time > now() + hours(-1)", Compare(">", START, Now(-3600 * SECOND))),
    ("start_time >= '2024-05-01'", Compare(">=", START, Timestamp(MAY_1_2024))),
    ("start_time >= '2024-05-01T00:00:00'", Compare(">=", START, Timestamp(MAY_1_2024))),
    (
        "start_time >= '2024-05-01T12:00:00Z'",
        Compare(">=", START, Timestamp(MAY_1_2024 + 43200 * SECOND)),
    ),
    (
        "start_time >= '2024-05-01T14:00:00+02:00'",
        Compare(">=", START, Timestamp(MAY_1_2024 + 43200 * SECOND)),
    ),
    (
        "start_time >= '2024-05-01 00:00:00.000250'",
        Compare(">=", START, Timestamp(MAY_1_2024 + 250_000)),
    ),
    (
        "start_time >= '2024-05-01' + days(1)",
        Compare(">=", START, Timestamp(MAY_1_2024 + 86400 * SECOND)),
    ),
    (
        "start_time >= days(1) + '2024-05-01'",
        Compare(">=", START, Timestamp(MAY_1_2024 + 86400 * SECOND)),
    ),
    ("'2024-05-01' < start_time", Compare(">", START, Timestamp(MAY_1_2024))),
    ("now() - hours(1) < start_time", Compare(">", START, Now(-3600 * SECOND))),
    ("start_time == '1970-01-01T00:00:00Z'", Compare("==", START, Timestamp(0))),
]


@pytest.mark.parametrize(("text", "expected"), SPAN_CASES + TIME_CASES)
def test_span_filter_tree(text: str, expected: Condition) -> None:
    assert parse_filter(text) == expected


def test_target_defaults_to_span() -> None:
    assert parse_filter("latency_ms > 1") == parse_filter("latency_ms > 1", "span")


A = Compare("==", attr("a.b"), V(1))
B = Compare("==", attr("a.c"), V(2))
C = Compare("==", attr("a.d"), V(3))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b == 1 and a.c == 2 or a.d == 3", Or((And((A, B)), C))),
        ("a.b == 1 or a.c == 2 and a.d == 3", Or((A, And((B, C))))),
        ("(a.b == 1 or a.c == 2) and a.d == 3", And((Or((A, B)), C))),
        ("not a.b == 1 and a.c == 2", And((Not(A), B))),
        ("not (a.b == 1 and a.c == 2)", Not(And((A, B)))),
        ("not a.b == 1 or not a.c == 2", Or((Not(A), Not(B)))),
        ("not not a.b == 1", Not(Not(A))),
        # Nested ands (and ors) are one flat list.
        ("(a.b == 1 and a.c == 2) and a.d == 3", And((A, B, C))),
        ("a.b == 1 and (a.c == 2 and a.d == 3)", And((A, B, C))),
        ("a.b == 1 or (a.c == 2 or a.d == 3)", Or((A, B, C))),
        (
            "0 < a.b < 2 and a.c == 2",
            And((Compare(">", attr("a.b"), V(0)), Compare("<", attr("a.b"), V(2)), B)),
        ),
        ("((a.b == 1))", A),
        ("  a.b == 1  ", A),
        ("\n\ta.b == 1\n", A),
        ("(a.b == 1 and\n a.c == 2)", And((A, B))),
        ("(a.b == 1 and\r\n a.c == 2)", And((A, B))),
    ],
)
def test_precedence_and_layout(text: str, expected: Condition) -> None:
    assert parse_filter(text) == expected


TRACE_CASES: list[tuple[str, Condition]] = [
    ("span_count > 50", Compare(">", col("span_count", "int"), V(50))),
    ("error_count > 0", Compare(">", col("error_count", "int"), V(0))),
    ("total_tokens > 10", Compare(">", col("total_tokens", "int"), V(10))),
    ("llm.token_count.total > 10", Compare(">", col("total_tokens", "int"), V(10))),
    ("cost > 0.1", Compare(">", col("cost", "usd"), V(0.1))),
    ("latency_ms > 100", Compare(">", LATENCY, V(100))),
    ("name == 'agent'", Compare("==", col("root_name", "text"), V("agent"))),
    ("root_name == 'agent'", Compare("==", col("root_name", "text"), V("agent"))),
    ("span_kind == 'agent'", Compare("==", col("root_span_kind", "span_kind"), V("AGENT"))),
    ("'refund' in input", Contains(col("input_preview", "text"), V("refund"))),
    ("'sorry' in output", Contains(col("output_preview", "text"), V("sorry"))),
    ("session.id == 's'", Compare("==", col("session_id", "text"), V("s"))),
    ("user_id == 'u'", Compare("==", col("user_id", "text"), V("u"))),
    ("trace_id == 'AB'", Compare("==", col("trace_id", "id"), V("ab"))),
    ("root_span_id is None", IsNone(col("root_span_id", "id"))),
    # The root span's attributes and metadata.
    ("'refund' in input.value", Contains(INPUT, V("refund"))),
    ("llm.model_name == 'o3'", Compare("==", attr("llm.model_name", "text"), V("o3"))),
    ("acme.team == 'x'", Compare("==", attr("acme.team"), V("x"))),
    ("metadata['tier'] == 'gold'", Compare("==", meta("tier"), V("gold"))),
    ("annotations['ok'].label == 'yes'", Compare("==", note("ok", "label"), V("yes"))),
    ("start_time > now() - days(1)", Compare(">", START, Now(-86400 * SECOND))),
    # any(...) over the trace's spans: the fields inside are span fields.
    (
        "any(span_kind == 'TOOL' and status_code == 'ERROR')",
        Exists(And((Compare("==", KIND, V("TOOL")), Compare("==", STATUS, V("ERROR"))))),
    ),
    ("any(parent_id is not None)", Exists(IsNone(col("parent_id", "id"), negated=True))),
    ("any(llm.model_name == 'o3')", Exists(Compare("==", MODEL, V("o3")))),
    ("any('x' in input)", Exists(Contains(INPUT, V("x")))),
    (
        "span_count > 3 and not any(latency_ms > 1000)",
        And(
            (
                Compare(">", col("span_count", "int"), V(3)),
                Not(Exists(Compare(">", LATENCY, V(1000)))),
            )
        ),
    ),
    (
        "any(annotations['c'].label == 'bad') or error_count > 0",
        Or(
            (
                Exists(Compare("==", note("c", "label"), V("bad"))),
                Compare(">", col("error_count", "int"), V(0)),
            )
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), TRACE_CASES)
def test_trace_filter_tree(text: str, expected: Condition) -> None:
    assert parse_filter(text, "trace") == expected


SESSION_CASES: list[tuple[str, Condition]] = [
    ("trace_count >= 3", Compare(">=", col("trace_count", "int"), V(3))),
    ("traces >= 3", Compare(">=", col("trace_count", "int"), V(3))),
    ("error_count == 0", Compare("==", col("error_count", "int"), V(0))),
    ("total_tokens > 10000", Compare(">", col("total_tokens", "int"), V(10000))),
    ("llm.token_count.prompt > 1", Compare(">", col("prompt_tokens", "int"), V(1))),
    ("cost > 1.5", Compare(">", col("cost", "usd"), V(1.5))),
    ("'cancel' in first_input", Contains(col("first_input", "text"), V("cancel"))),
    ("'cancel' in input", Contains(col("first_input", "text"), V("cancel"))),
    ("'bye' in last_output", Contains(col("last_output", "text"), V("bye"))),
    ("'bye' in output", Contains(col("last_output", "text"), V("bye"))),
    ("session_id == 's'", Compare("==", col("session_id", "text"), V("s"))),
    ("session.id == 's'", Compare("==", col("session_id", "text"), V("s"))),
    ("user.id == 'u'", Compare("==", col("user_id", "text"), V("u"))),
    ("latency_ms > minutes(10)", Compare(">", LATENCY, V(600000.0))),
    ("end_time < now() - days(7)", Compare("<", col("end_time", "time"), Now(-7 * 86400 * SECOND))),
    ("annotations['csat'].score < 3", Compare("<", note("csat", "score"), V(3))),
]


@pytest.mark.parametrize(("text", "expected"), SESSION_CASES)
def test_session_filter_tree(text: str, expected: Condition) -> None:
    assert parse_filter(text, "session") == expected


# --- where each node came from -------------------------------------------------------------------


def _text_at(text: str, loc: Loc) -> str:
    return text[loc.start : loc.end]


def test_locations_of_a_chained_comparison() -> None:
    text = "1000 < latency_ms < 2000"
    tree = parse_filter(text)
    assert isinstance(tree, And)
    first, second = tree.items
    assert isinstance(first, Compare) and isinstance(second, Compare)
    assert _text_at(text, tree.loc) == text
    assert _text_at(text, first.loc) == "1000 < latency_ms"
    assert _text_at(text, second.loc) == "latency_ms < 2000"
    assert _text_at(text, first.field.loc) == "latency_ms"
    assert _text_at(text, first.value.loc) == "1000"


def test_locations_count_characters_not_bytes() -> None:
    text = "'日本' in input.value and metadata['é'] == 'ü'"
    tree = parse_filter(text)
    assert isinstance(tree, And)
    contains, compare = tree.items
    assert isinstance(contains, Contains) and isinstance(compare, Compare)
    assert _text_at(text, contains.value.loc) == "'日本'"
    assert _text_at(text, contains.field.loc) == "input.value"
    assert _text_at(text, compare.field.loc) == "metadata['é']"
    assert _text_at(text, compare.value.loc) == "'ü'"


def test_locations_on_later_lines_and_after_leading_space() -> None:
    text = "  (span_kind == 'LLM' and\n   latency_ms > 5)"
    tree = parse_filter(text)
    assert isinstance(tree, And)
    kind, latency = tree.items
    assert isinstance(kind, Compare) and isinstance(latency, Compare)
    assert _text_at(text, kind.loc) == "span_kind == 'LLM'"
    assert _text_at(text, latency.field.loc) == "latency_ms"


def test_locations_of_time_values() -> None:
    text = "start_time > now() - hours(1)"
    tree = parse_filter(text)
    assert isinstance(tree, Compare)
    assert _text_at(text, tree.value.loc) == "now() - hours(1)"


def test_locations_are_not_part_of_equality() -> None:
    assert parse_filter("latency_ms > 1") == parse_filter("   1 <   latency_ms")
    assert hash(parse_filter("a.b == 1")) == hash(Compare("==", attr("a.b"), V(1)))


def test_trees_are_frozen() -> None:
    tree = parse_filter("latency_ms > 1")
    with pytest.raises(AttributeError):
        tree.op = "<"  # type: ignore[misc]


@pytest.mark.parametrize("target", ["span", "trace", "session"])
def test_every_column_name_and_alias_is_accepted(target: Target) -> None:
    from ember.query.fields import COLUMNS

    for spec in COLUMNS[target]:
        for name in spec.names:
            value = {
                "time": "'2024-05-01'",
                "span_kind": "'LLM'",
                "status": "'OK'",
                "text": "'x'",
                "id": "'ab'",
            }.get(spec.type, "1")
            tree = parse_filter(f"{name} == {value}", target)
            assert isinstance(tree, Compare), name
            assert tree.field == Field("column", spec.name, spec.type), name
