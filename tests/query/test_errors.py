"""ember.query.parse_filter: every refusal says why and where, and suggests a fix when it can."""

from __future__ import annotations

from pathlib import Path

import pytest

from ember.errors import BadRequest
from ember.query import FilterError, parse_filter
from ember.query.ast import Target
from ember.query.parse import MAX_LENGTH


def refusal(text: str, target: Target = "span") -> FilterError:
    with pytest.raises(FilterError) as caught:
        parse_filter(text, target)
    return caught.value


def where(error: FilterError) -> str:
    assert error.text is not None
    return error.text[error.start : error.end]


SPAN_FIELDS = (
    "span fields: span_id, trace_id, parent_id, name, span_kind, status_code, status_message, "
    "start_time, end_time, latency_ms, prompt_tokens, completion_tokens, total_tokens, cost, "
    "model_name, provider, session_id, user_id"
)
EMPTY_HINT = "e.g. span_kind == 'LLM'; send no filter to match everything"

# (filter, exact message, the text the error points at)
MESSAGES: list[tuple[str, str, str]] = [
    # The issue's own examples.
    (
        "llm.modle_name == 'x'",
        "unknown field 'llm.modle_name' at 1:1-15; did you mean 'llm.model_name'? "
        "(attributes['llm.modle_name'] reaches a custom attribute with exactly this name)",
        "llm.modle_name",
    ),
    ("latency_ms > 'abc'", "latency_ms is a number; 'abc' is text at 1:14-19", "'abc'"),
    (
        "span_kind == 'LMM'",
        "span_kind is one of LLM, CHAIN, RETRIEVER, RERANKER, EMBEDDING, TOOL, AGENT, GUARDRAIL, "
        "EVALUATOR, PROMPT, UNKNOWN at 1:14-19; did you mean 'LLM'?",
        "'LMM'",
    ),
    ("status_code == 'FAIL'", "status_code is one of UNSET, OK, ERROR at 1:16-22", "'FAIL'"),
    (
        "status_code == 'EROR'",
        "status_code is one of UNSET, OK, ERROR at 1:16-22; did you mean 'ERROR'?",
        "'EROR'",
    ),
    # Typos get the closest name.
    (
        "lantency_ms > 1",
        "unknown field 'lantency_ms' at 1:1-12; did you mean 'latency_ms'?",
        "lantency_ms",
    ),
    (
        "Span_Kind == 'LLM'",
        "unknown field 'Span_Kind' at 1:1-10; did you mean 'span_kind'?",
        "Span_Kind",
    ),
    (
        "a.b == 1 and input.valeu == 'x'",
        "unknown field 'input.valeu' at 1:14-25; did you mean 'input.value'? "
        "(attributes['input.valeu'] reaches a custom attribute with exactly this name)",
        "input.valeu",
    ),
    (
        "lmm.model_name == 'x'",
        "unknown field 'lmm.model_name' at 1:1-15; did you mean 'llm.model_name'? "
        "(attributes['lmm.model_name'] reaches a custom attribute with exactly this name)",
        "lmm.model_name",
    ),
    (
        "foo == 1",
        "unknown field 'foo' at 1:1-4; for an attribute with this exact name, "
        "write attributes['foo']",
        "foo",
    ),
    ("now == 1", "unknown field 'now' at 1:1-4; now is a function: write now()", "now"),
    (
        "metdata['x'] == 1",
        "unknown name 'metdata' before brackets at 1:1-8; did you mean 'metadata'?",
        "metdata",
    ),
    (
        "annotations['c'].lable == 'x'",
        "an annotation has .label, .score and .explanation at 1:18-23; did you mean '.label'?",
        "lable",
    ),
    # Fields that belong to another target.
    (
        "span_count > 3",
        "'span_count' is a trace field, not a span field at 1:1-11; " + SPAN_FIELDS,
        "span_count",
    ),
    (
        "trace_count > 3",
        "'trace_count' is a session field, not a span field at 1:1-12; " + SPAN_FIELDS,
        "trace_count",
    ),
    (
        "'x' in first_input",
        "'first_input' is a session field, not a span field at 1:8-19; " + SPAN_FIELDS,
        "first_input",
    ),
    (
        "cumulative_token_count.total > 5",
        "'cumulative_token_count.total' is not supported at 1:1-29; Ember keeps no per-span "
        "cumulative token counts; filter traces on total_tokens instead",
        "cumulative_token_count.total",
    ),
    (
        "llm.input_messages == 'x'",
        "'llm.input_messages' is a list, stored element by element at 1:1-19; name one element's "
        "key, e.g. attributes['llm.input_messages.0.message.content']",
        "llm.input_messages",
    ),
    (
        "retrieval.documents.document.content == 'x'",
        "'retrieval.documents.document.content' is a list, stored element by element at 1:1-37; "
        "name one element's key, e.g. attributes['retrieval.documents.0.document.content']",
        "retrieval.documents.document.content",
    ),
    (
        "llm.input_messages[0] == 1",
        "brackets only follow attributes, metadata or annotations at 1:1-22; for an exact "
        "attribute key, write attributes['llm.input_messages.0']",
        "llm.input_messages[0]",
    ),
    # Types.
    (
        "user.id == 42",
        "user.id is text; 42 is a number at 1:12-14; text goes in quotes: '42'",
        "42",
    ),
    ("total_tokens > True", "total_tokens is a number; True is True/False at 1:16-20", "True"),
    ("cost > '1'", "cost is a number (US dollars); '1' is text at 1:8-11", "'1'"),
    (
        "'x' in latency_ms",
        "'in' searches text; latency_ms is a number at 1:8-18",
        "latency_ms",
    ),
    (
        "'LL' in span_kind",
        "'in' searches text; span_kind is a span kind at 1:9-18; e.g. span_kind in [...]",
        "span_kind",
    ),
    (
        "1 in a.b",
        "'in' looks for text in a.b; 1 is a number at 1:1-2; to compare, write a.b == 1",
        "1",
    ),
    (
        "span_kind < 'LLM'",
        "span_kind is only compared with ==, !=, in and not in at 1:1-18",
        "span_kind < 'LLM'",
    ),
    ("a.b > True", "True and False are only compared with == and !=, not > at 1:7-11", "True"),
    ("a.b < None", "None cannot be compared with < at 1:7-11; e.g. a.b is None", "None"),
    (
        "a.b is 1",
        "'is' only compares with None at 1:1-9; use == and != to compare values",
        "a.b is 1",
    ),
    ("a.b == 1e999", "the number 1e999 is out of range at 1:8-13", "1e999"),
    (
        "a.b == 99999999999999999999",
        "the number 99999999999999999999 is out of range at 1:8-28",
        "99999999999999999999",
    ),
    ("a.b == -'x'", "'-' only goes before a number: '-'x'' at 1:8-12", "-'x'"),
    # Lists.
    ("a.b in []", "an empty list matches nothing at 1:8-10", "[]"),
    ("a.b in [1, 'x']", "the list mixes a number and text at 1:8-16", "[1, 'x']"),
    ("a.b in [None]", "None cannot be in a list at 1:9-13; add: or a.b is None", "None"),
    (
        "a.b in [x]",
        "x is a field name, not a value at 1:9-10; text goes in quotes: 'like this'",
        "x",
    ),
    (
        "a.b in 'xyz'",
        "a.b in 'xyz' would ask whether a.b is part of 'xyz' at 1:1-13; to search a.b, write 'xyz' "
        "in a.b; for a list of values, write a.b in ['xyz']",
        "a.b in 'xyz'",
    ),
    ("a.b in 5", "after 'field in' comes a list of values at 1:8-9; e.g. a.b in ['a', 'b']", "5"),
    (
        "a.b in a.c",
        "'in' between two fields is not supported at 1:1-11; write 'text' in field, or field in "
        "['a', 'b']",
        "a.b in a.c",
    ),
    # Shape.
    (
        "a.b == a.c",
        "a field is compared with a value, not with another field at 1:1-11",
        "a.b == a.c",
    ),
    ("1 < 2", "one side of a comparison must be a field at 1:1-6; e.g. latency_ms > 1000", "1 < 2"),
    (
        "'a' in 'abc'",
        "one side of 'in' must be a field at 1:1-13; e.g. 'refund' in input.value, or "
        "llm.model_name in ['gpt-4o', 'o3']",
        "'a' in 'abc'",
    ),
    (
        "a.b",
        "a.b alone is not a condition at 1:1-4; compare it, e.g. a.b == ... or a.b is not None",
        "a.b",
    ),
    (
        "span_kind == 'LLM' or 'TOOL'",
        "'TOOL' alone is not a condition at 1:23-29; compare a field with it, e.g. name == 'x', or "
        "list values: name in ['x', 'y']",
        "'TOOL'",
    ),
    (
        "annotations['c'] == 'x'",
        "annotations['c'] is an annotation; compare its .label or .score at 1:1-17; "
        "annotations['c'] is not None tests whether there is one",
        "annotations['c']",
    ),
    (
        "annotations[0].label == 'x'",
        "an annotation is named in quotes at 1:1-21; e.g. annotations['correctness'].label == "
        "'incorrect' or .score < 0.5",
        "annotations[0].label",
    ),
    (
        "attributes == 1",
        "attributes needs a key at 1:1-11; e.g. attributes['llm.model_name']",
        "attributes",
    ),
    (
        "attributes[x] == 1",
        "a key in brackets must be quoted text at 1:12-13; e.g. attributes['llm.model_name']",
        "x",
    ),
    ("attributes[1:2] == 1", "slices are not allowed: '1:2' at 1:12-15", "1:2"),
    # Syntax.
    ("a.b = 1", "syntax error: invalid syntax at 1:5-6; compare with ==", "="),
    (
        "a.b == ",
        "syntax error: invalid syntax at 1:6-7; the filter ends before the condition does",
        "=",
    ),
    ("a.b >= 1 =", "syntax error: invalid syntax at 1:10-11; compare with ==", "="),
    ("(a.b == 1", "syntax error: '(' was never closed at 1:1-2", "("),
    ("a.b == 'x", "syntax error: unterminated string literal (detected at line 1) at 1:8-9", "'"),
    # Time.
    (
        "start_time > 5",
        "a time is expected; 5 is a number at 1:14-15; compare it with an ISO 8601 time such as "
        "'2024-05-01T12:00:00Z' (UTC unless an offset is given) or with now() - hours(1)",
        "5",
    ),
    (
        "start_time > 'yesterday'",
        "'yesterday' is not a time at 1:14-25; compare it with an ISO 8601 time such as "
        "'2024-05-01T12:00:00Z' (UTC unless an offset is given) or with now() - hours(1)",
        "'yesterday'",
    ),
    (
        "start_time > '2300-01-01'",
        "'2300-01-01' is out of range (years 1678 to 2262) at 1:14-26",
        "'2300-01-01'",
    ),
    (
        "start_time > hours(1)",
        "hours(1) is a duration, not a time at 1:14-22; e.g. now() - hours(1)",
        "hours(1)",
    ),
    (
        "start_time > now() - now()",
        "'now() - now()': only a duration can be added to or subtracted from a time at 1:14-27; "
        "e.g. now() - hours(1)",
        "now() - now()",
    ),
    (
        "start_time in ['2024-05-01']",
        "start_time is a time; 'in' does not apply at 1:15-29; compare with < and >, e.g. "
        "start_time > now() - hours(1)",
        "['2024-05-01']",
    ),
    ("start_time > now(1)", "now() takes no arguments at 1:18-19", "1"),
    (
        "start_time > now() - hours()",
        "hours() takes one number, e.g. hours(5) at 1:22-29",
        "hours()",
    ),
    ("start_time > now() - hours('1')", "hours() takes a number; '1' is text at 1:28-31", "'1'"),
    ("start_time > now() - days(1e300)", "days(1e300) is out of range at 1:22-33", "days(1e300)"),
    (
        "name == now()",
        "name is text; now() is a time at 1:9-14; times go with start_time and end_time, "
        "durations with latency_ms",
        "now()",
    ),
    (
        "latency_ms > now()",
        "now() is a time, latency_ms a duration at 1:14-19; compare latency_ms with milliseconds "
        "or with seconds(2)",
        "now()",
    ),
    (
        "now() - hours(1)",
        "arithmetic is only allowed on times (now() - hours(1)): 'now() - hours(1)' at 1:1-17",
        "now() - hours(1)",
    ),
    (
        "now()",
        "now() is a value, not a condition at 1:1-6; e.g. start_time > now() - hours(1)",
        "now()",
    ),
]


@pytest.mark.parametrize(("text", "message", "fragment"), MESSAGES)
def test_refusal_message_and_range(text: str, message: str, fragment: str) -> None:
    error = refusal(text)
    assert error.message == message
    assert where(error) == fragment


TARGET_MESSAGES: list[tuple[Target, str, str, str]] = [
    (
        "trace",
        "parent_id is None",
        "'parent_id' is a span field, not a trace field at 1:1-10; a trace filter tests spans "
        "inside any(...), e.g. any(parent_id ...)",
        "parent_id",
    ),
    (
        "trace",
        "status_code == 'ERROR'",
        "'status_code' is a span field, not a trace field at 1:1-12; a trace filter tests spans "
        "inside any(...), e.g. any(status_code ...)",
        "status_code",
    ),
    (
        "trace",
        "llm.modle_name == 'x'",
        "unknown field 'llm.modle_name' at 1:1-15; did you mean 'llm.model_name'? "
        "(attributes['llm.modle_name'] reaches a custom attribute with exactly this name)",
        "llm.modle_name",
    ),
    ("trace", "any(any(a.b == 1))", "any(...) cannot be nested at 1:5-18", "any(a.b == 1)"),
    (
        "trace",
        "any(a.b == 1, a.c == 2)",
        "any(...) takes one span condition at 1:1-24; e.g. any(span_kind == 'TOOL' and "
        "status_code == 'ERROR')",
        "any(a.b == 1, a.c == 2)",
    ),
    (
        "trace",
        "any(span_count > 1)",
        "'span_count' is a trace field, not a span field at 1:5-15; " + SPAN_FIELDS,
        "span_count",
    ),
    (
        "span",
        "any(a.b == 1)",
        "any(...) is only for trace filters, not span filters at 1:1-14; it asks whether any span "
        "of a trace matches the condition inside",
        "any(a.b == 1)",
    ),
    (
        "session",
        "any(a.b == 1)",
        "any(...) is only for trace filters, not session filters at 1:1-14; it asks whether any "
        "span of a trace matches the condition inside",
        "any(a.b == 1)",
    ),
    (
        "session",
        "llm.model_name == 'x'",
        "session filters have no attributes at 1:1-15; session fields: session_id, user_id, "
        "trace_count, error_count, start_time, end_time, latency_ms, prompt_tokens, "
        "completion_tokens, total_tokens, cost, first_input, last_output",
        "llm.model_name",
    ),
    (
        "session",
        "attributes['x'] == 1",
        "session filters have no attributes at 1:1-16; session fields: session_id, user_id, "
        "trace_count, error_count, start_time, end_time, latency_ms, prompt_tokens, "
        "completion_tokens, total_tokens, cost, first_input, last_output",
        "attributes['x']",
    ),
    (
        "session",
        "metadata['x'] == 1",
        "session filters have no attributes at 1:1-14; session fields: session_id, user_id, "
        "trace_count, error_count, start_time, end_time, latency_ms, prompt_tokens, "
        "completion_tokens, total_tokens, cost, first_input, last_output",
        "metadata['x']",
    ),
    (
        "session",
        "trace_cout > 1",
        "unknown field 'trace_cout' at 1:1-11; did you mean 'trace_count'?",
        "trace_cout",
    ),
    (
        "session",
        "span_count > 1",
        "'span_count' is a trace field, not a session field at 1:1-11; session fields: "
        "session_id, user_id, trace_count, error_count, start_time, end_time, latency_ms, "
        "prompt_tokens, completion_tokens, total_tokens, cost, first_input, last_output",
        "span_count",
    ),
    (
        "session",
        "span_kind == 'LLM'",
        "'span_kind' is a span and trace field, not a session field at 1:1-10; session fields: "
        "session_id, user_id, trace_count, error_count, start_time, end_time, latency_ms, "
        "prompt_tokens, completion_tokens, total_tokens, cost, first_input, last_output",
        "span_kind",
    ),
]


@pytest.mark.parametrize(("target", "text", "message", "fragment"), TARGET_MESSAGES)
def test_fields_belong_to_their_target(
    target: Target, text: str, message: str, fragment: str
) -> None:
    error = refusal(text, target)
    assert error.message == message
    assert where(error) == fragment


INJECTIONS = [
    "__import__('os').system('touch /tmp/pwned')",
    "__import__('os')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__ == 1",
    "open('x')",
    "open('/etc/passwd').read()",
    "eval('1')",
    "exec('import os')",
    "getattr(x, 'y') == 1",
    "globals()",
    "lambda: 1",
    "(lambda: 1)() == 1",
    "[x for x in y]",
    "any(x for x in y)",
    "{x: 1 for x in y}",
    "f'{x}' == 1",
    "(x := 1)",
    "[*x]",
    "x.y == 1 if z else 2",
    "await x",
    "input.value.lower() == 'x'",
    "'x' in input.value.lower()",
    "len(input.value) > 3",
    "latency_ms + 1 > 2",
    "-latency_ms < 2",
    "latency_ms > 2 ** 10",
    "name == 'a' + 'b'",
    "name == 'a' * 3",
    "breakpoint()",
    "'; DROP TABLE spans; --' == name",
    'name == "\'); DROP TABLE spans; --"',
    'attributes["\') OR 1=1 --"] == 1',
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_looking_filters_are_refused(text: str) -> None:
    for target in ("span", "trace", "session"):
        try:
            tree = parse_filter(text, target)  # type: ignore[arg-type]
        except FilterError:
            continue
        # Only data survives: SQL-looking text is a value (or a key), never syntax.
        assert "DROP" in repr(tree) or "OR 1=1" in repr(tree), (text, tree)


def test_nothing_is_evaluated(tmp_path: Path) -> None:
    # Each of these would leave a file behind if any part of it ran.
    marker = tmp_path / "ran"
    attempts = [
        f"open({str(marker)!r}, 'w')",
        f"open({str(marker)!r}, 'w').write('x') == 1",
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"any(open({str(marker)!r}, 'w'))",
        f"[open({str(marker)!r}, 'w') for _ in 'x']",
        f"a.b == (lambda: open({str(marker)!r}, 'w'))()",
        f"a.b in [open({str(marker)!r}, 'w')]",
        f"start_time > now() - hours(open({str(marker)!r}, 'w'))",
        f"metadata[open({str(marker)!r}, 'w')] == 1",
    ]
    for text in attempts:
        for target in ("span", "trace", "session"):
            with pytest.raises(FilterError):
                parse_filter(text, target)  # type: ignore[arg-type]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "__import__('os')",
            "'__import__' is not allowed: names starting with '__' are never looked up at 1:1-11",
        ),
        (
            "().__class__",
            "'__class__' is not allowed: names starting with '__' are never looked up at 1:4-13",
        ),
        (
            "open('x')",
            "function calls are not allowed: open() at 1:1-10; allowed: any(...) in trace filters, "
            "and now(), milliseconds(n), seconds(n), minutes(n), hours(n), days(n), weeks(n)",
        ),
        ("lambda: 1", "lambda is not allowed: 'lambda: 1' at 1:1-10"),
        ("[x for x in y]", "comprehensions are not allowed: '[x for x in y]' at 1:1-15"),
        ("f'{x}' == 1", "f-strings are not allowed: 'f'{x}'' at 1:1-7"),
        ("(x := 1)", "':=' is not allowed: 'x := 1' at 1:2-8"),
        ("[*x]", "a list is only allowed after 'in': '[*x]' at 1:1-5"),
        (
            "input.value.lower() == 'x'",
            "method calls are not allowed: 'input.value.lower()' at 1:1-20; to search text, "
            "write 'text' in field",
        ),
        (
            "latency_ms + 1 > 2",
            "arithmetic is only allowed on times (now() - hours(1)): 'latency_ms + 1' at 1:1-15",
        ),
        ("-latency_ms < 2", "'-latency_ms': '-' and 'not' do not apply to fields at 1:1-12"),
        ("a.b == {1: 2}", "dicts are not allowed: '{1: 2}' at 1:8-14"),
        ("a.b == b'x'", "this kind of constant is not allowed: 'b'x'' at 1:8-12"),
        ("a.b == ~1", "this operator is not allowed: '~1' at 1:8-10"),
    ],
)
def test_forbidden_constructs_are_named(text: str, message: str) -> None:
    assert refusal(text).message == message


def test_limits() -> None:
    too_long = "a.b == 1 and " * 800 + "a.b == 1"
    error = refusal(too_long)
    assert error.message.startswith(f"the filter is too long ({len(too_long)} characters; at most")
    assert (error.start, error.end) == (MAX_LENGTH, len(too_long))
    assert parse_filter(" " * (MAX_LENGTH - 8) + "a.b == 1") is not None

    deep = "not " * 40 + "a.b == 1"
    assert refusal(deep).reason == "the filter is nested too deeply (at most 32 levels)"
    parens = "(" * 40 + "a.b == 1" + ")" * 40  # parentheses alone add no depth
    assert parse_filter(parens) == parse_filter("a.b == 1")
    assert "nested too deeply" in refusal("a.b == " + "-" * 40 + "1").reason
    assert "too long" in refusal("a" + ".a" * 40 + " == 1").reason
    huge_list = "a.b in [" + ", ".join(["1"] * 1001) + "]"
    assert refusal(huge_list).reason == "the list has 1001 values; at most 1000 are allowed"


@pytest.mark.parametrize(
    "text",
    [
        "(" * 4999 + "x" + ")" * 4999,
        "not " * 2400 + "x == 1",
        "-" * 9000 + "1",
        "a" + ".a" * 4900 + " == 1",
        "[" * 3000 + "]" * 3000,
        "x" + "[0]" * 3000,
        "x" + "()" * 4000,
        "1+" * 4000 + "1",
        "start_time > now()" + " - hours(1)" * 700,
    ],
)
def test_pathological_nesting_is_a_filter_error(text: str) -> None:
    assert len(text) <= MAX_LENGTH
    error = refusal(text)
    assert 0 <= error.start <= error.end <= len(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "the filter is empty at 1:1-1; " + EMPTY_HINT,
        ),
        (
            "  \n ",
            "the filter is empty at 1:1-2:2; " + EMPTY_HINT,
        ),
        ("a.b == '\x00'", "the filter contains a NUL character at 1:9-10"),
        ("\u2028", "syntax error: invalid non-printable character U+2028 at 1:1-2"),
        ("a.b == '\ud800'", "the filter is not valid Unicode at 1:9-10"),
        # Python warns about both ('\d', 1and); the warnings must not escape.
        (
            "'\\d' in name or 1and 2",
            "1 alone is not a condition at 1:17-18; compare a field with it, e.g. name == 'x', "
            "or list values: name in ['x', 'y']",
        ),
    ],
)
@pytest.mark.filterwarnings("error")
def test_empty_and_odd_characters(text: str, message: str) -> None:
    assert refusal(text).message == message


def test_positions_on_later_lines_count_characters() -> None:
    error = refusal("(a.b ==\n 1 and\n llm.modle_name == 2)")
    assert error.message.startswith("unknown field 'llm.modle_name' at 3:2-16;")
    error = refusal("(a.b ==\r\n 1 and\r\n llm.modle_name == 2)")
    assert error.message.startswith("unknown field 'llm.modle_name' at 3:2-16;")
    error = refusal("'日本' in input.value and lantency_ms > 1")
    assert error.message.startswith("unknown field 'lantency_ms' at 1:25-36;")
    assert where(error) == "lantency_ms"
    error = refusal("  'é' == lantency_ms")
    assert where(error) == "lantency_ms"


def test_filter_error_is_a_bad_request_with_a_position() -> None:
    error = refusal("llm.modle_name == 'x'")
    assert isinstance(error, BadRequest)
    assert error.status == 400
    assert error.code == "bad_filter"
    assert error.reason == "unknown field 'llm.modle_name'"
    assert error.hint is not None and error.hint.startswith("did you mean 'llm.model_name'?")
    assert error.fragment == "llm.modle_name"
    assert error.envelope() == {
        "error": {
            "status": 400,
            "code": "bad_filter",
            "message": error.message,
            "position": {"start": 0, "end": 14},
        }
    }


def test_filter_error_without_text() -> None:
    error = FilterError("bad", 2, 5)
    assert error.message == "bad at 1:3-6"
    assert error.fragment is None


def test_unknown_target_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown filter target"):
        parse_filter("a.b == 1", "spans")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "acme.team == 'x'",  # a custom namespace
        "acme.model_name == 'x'",  # close to a known name, but not in an OpenInference namespace
        "llm.request.type == 'chat'",  # OpenLLMetry's key in the llm namespace, no near miss
        "llm.is_streaming == True",
        "user.email == 'a@b.c'",
        "session.name == 'x'",
        "attributes['llm.modle_name'] == 'x'",  # the escape hatch for an exact key
        "attributes['tools.name'] == 'x'",
    ],
)
def test_custom_attributes_are_accepted(text: str) -> None:
    assert parse_filter(text) is not None


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("llm.model == 'x'", "llm.model_name"),
        ("tools.name == 'x'", "tool.name"),
        ("llm.token_count.totl > 1", "llm.token_count.total"),
        (
            "llm.token_count.prompt_detail.cache_read > 1",
            "llm.token_count.prompt_details.cache_read",
        ),
        ("output.valu == 'x'", "output.value"),
        ("session.ids == 'x'", "session.id"),
        ("openinference.span.knd == 'LLM'", "openinference.span.kind"),
        ("embedding.model == 'x'", "embedding.model_name"),
        ("llm.input_message == 'x'", "llm.input_messages"),
        ("latency == 1", "latency_ms"),
        ("span_kinds == 'LLM'", "span_kind"),
        ("statuscode == 'OK'", "status_code"),
        ("context.spanid == 'x'", "context.span_id"),
    ],
)
def test_typos_get_a_suggestion(text: str, suggestion: str) -> None:
    error = refusal(text)
    assert error.hint is not None
    assert error.hint.startswith(f"did you mean {suggestion!r}?"), error.message
