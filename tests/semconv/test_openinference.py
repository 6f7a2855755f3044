"""Plain OpenInference spans, precedence of native keys, and tolerance of malformed input."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import pytest

from ember.semconv import rules
from ember.semconv.view import View, openinference_view

OI_LLM: dict[str, Any] = {
    "openinference.span.kind": "LLM",
    "llm.system": "openai",
    "llm.provider": "openai",
    "llm.model_name": "gpt-4o-2024-08-06",
    "llm.invocation_parameters": '{"temperature": 0.1, "tool_choice": "auto"}',
    "input.value": '{"model": "gpt-4o", "messages": []}',
    "input.mime_type": "application/json",
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "You are…",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.content": "Weather in Paris?",
    "llm.tools.0.tool.json_schema": '{"type":"function","function":{"name":"get_weather"}}',
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_1",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_weather",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"city":"P"}',
    "llm.token_count.prompt": 120,
    "llm.token_count.completion": 18,
    "llm.token_count.total": 138,
    "llm.token_count.prompt_details.cache_read": 64,
    "session.id": "s-42",
    "user.id": "u-7",
    "metadata": '{"tenant":"acme"}',
    "tag.tags": ["prod"],
}

# What an OpenInference producer with OPENINFERENCE_ENABLE_GENAI_SEMCONV also writes.
DUAL_WRITTEN: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 18,
    "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
        {"type": "text", "content": "Weather in Paris?"}]}]),
    "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
        {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {}}]}]),
    "gen_ai.tool.definitions": json.dumps([{"type": "function", "name": "get_weather"}]),
    "gen_ai.conversation.id": "other-session",
}


def view(attributes: dict[str, Any], events: Any = ()) -> View:
    return openinference_view(attributes, "ChatCompletion", events)


def no_errors(result: View) -> None:
    assert not [entry for entry in result.report if entry.rule == "error"], result.report


def test_plain_openinference_passes_through() -> None:
    result = view(OI_LLM)
    assert result == View(derived={}, report=(), unmapped=(), dialect="openinference",
                          span_kind="LLM")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.span_kind = "CHAIN"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw_kind", "expected"),
    [("LLM", "LLM"), ("llm", "LLM"), (" chain ", "CHAIN"), ("AUDIO", "AUDIO"),
     ("user", "USER"), ("", "UNKNOWN"), (None, "UNKNOWN"), (5, "UNKNOWN")],
)
def test_native_span_kind(raw_kind: Any, expected: str) -> None:
    for extra in ({}, {"gen_ai.system": "openai"}):  # fast and slow path agree
        result = view({"openinference.span.kind": raw_kind, **extra})
        assert result.span_kind == expected
        assert "openinference.span.kind" not in result.derived


def test_no_attributes_at_all() -> None:
    assert view({}) == View({}, (), (), "unknown", "UNKNOWN")


def test_non_string_keys_give_an_error_entry_not_an_exception() -> None:
    result = openinference_view({1: "x", "gen_ai.system": "openai"}, "s")  # type: ignore[dict-item]
    assert [entry.rule for entry in result.report] == ["error"]
    assert result.derived == {}


def test_unmapped_on_the_fast_path() -> None:
    result = view({"openinference.span.kind": "CHAIN", "myapp.step": 3, "http.method": "GET",
                   "service.name": "x", "input.value": "hi", "weird": True})
    assert result.unmapped == ("myapp.step", "weird")
    assert result.derived == {}


def test_native_keys_win_over_dual_written_genai_keys() -> None:
    result = view({**OI_LLM, **DUAL_WRITTEN})
    no_errors(result)
    assert result.dialect == "mixed"
    assert result.span_kind == "LLM"
    assert not set(result.derived) & set(OI_LLM)
    # nothing of what the native keys already say is derived a second time
    for prefix in ("llm.input_messages", "llm.output_messages", "llm.tools", "llm.model_name",
                   "llm.token_count", "session.id", "input.", "openinference.span.kind",
                   "llm.provider", "llm.system", "llm.invocation_parameters"):
        assert not [k for k in result.derived if k.startswith(prefix)], prefix
    assert result.derived == {
        "llm.request.model_name": "gpt-4o",
        "llm.response.model_name": "gpt-4o-2024-08-06",
        "output.value": DUAL_WRITTEN["gen_ai.output.messages"],
        "output.mime_type": "application/json",
    }


def test_partial_native_lists_are_completed_not_duplicated() -> None:
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "native",
        **DUAL_WRITTEN,
    }
    d = view(attributes).derived
    assert not [k for k in d if k.startswith("llm.input_messages")]
    assert d["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == \
        "get_weather"


def test_list_sent_as_one_json_root_key_counts_as_native() -> None:
    attributes = {"openinference.span.kind": "LLM",
                  "llm.input_messages": '[{"message.role": "user", "message.content": "hi"}]',
                  "gen_ai.input.messages": DUAL_WRITTEN["gen_ai.input.messages"]}
    assert not [k for k in view(attributes).derived if k.startswith("llm.input_messages")]


def test_native_input_value_blocks_derived_mime_type() -> None:
    d = view({"openinference.span.kind": "TOOL", "input.value": "x",
              "gen_ai.tool.call.arguments": '{"a": 1}', "gen_ai.tool.call.result": "ok"}).derived
    assert "input.value" not in d and "input.mime_type" not in d
    assert (d["output.value"], d["output.mime_type"]) == ("ok", "text/plain")


def test_native_kind_beats_operation_name() -> None:
    result = view({"openinference.span.kind": "AGENT", "gen_ai.operation.name": "chat",
                   "gen_ai.usage.input_tokens": 5})
    assert result.span_kind == "AGENT"
    assert "llm.token_count.prompt" not in result.derived  # aggregate usage on agents


BROKEN_VALUES: list[Any] = [
    '[{"role": "user", "parts": [{"type": "text", "content": "cut he',
    '{"args": ["x"]…[truncated by Ember]',
    "{'role': 'user'}",  # Python repr, not JSON
    "",
    "null",
    "42",
    '"just a string"',
    '{"parts": 5}',
    '[1, "x", null, {"role": 5, "parts": "no"}, {"parts": [null, 3, {"type": 7}]}]',
    '[{"type": "blob", "modality": 5}, {"type": "uri"}, {"type": "tool_call"}]',
    '[{"type": "tool_call_response"}, {"type": "image_url", "image_url": 3}]',
    "NaN",
    '[{"score": "high", "id": [1], "metadata": NaN}]',
    {"role": "user"},
    [None, 1, "s", [], {}],
    3.5,
    True,
    None,
]
STRUCTURED_SOURCES = [
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
    "gen_ai.tool.definitions", "llm.request.tools", "gen_ai.retrieval.documents",
    "gen_ai.memory.records", "traceloop.entity.input", "traceloop.entity.output",
    "gen_ai.task.output", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
    "gen_ai.request.structured_output_schema", "gen_ai.response.finish_reasons",
    "gen_ai.usage.input_tokens", "gen_ai.provider.name", "server.address",
    "gen_ai.prompt.0.content", "gen_ai.completion.0.content", "gen_ai.prompt.0.tool_calls.0.id",
    "llm.request.functions.0.parameters", "gen_ai.completion.0.finish_reason",
]
OPERATIONS = ["chat", "embeddings", "retrieval", "execute_tool", "invoke_agent", "rerank"]


@pytest.mark.parametrize("source", STRUCTURED_SOURCES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_malformed_values_never_raise(source: str, operation: str) -> None:
    for value in BROKEN_VALUES:
        attributes = {"gen_ai.operation.name": operation, "llm.request.type": operation,
                      "db.system": "chroma", "db.vector.query.top_k": 1, source: value}
        result = view(attributes)
        no_errors(result)
        assert not set(result.derived) & set(attributes)
        for key, derived in result.derived.items():
            assert isinstance(derived, str | int | float | bool), (key, derived)


def test_truncated_messages_keep_raw_text_and_say_so() -> None:
    raw = '[{"role": "user", "parts": [{"type": "text", "content": "cut he'
    result = view({"gen_ai.operation.name": "chat", "gen_ai.input.messages": raw})
    assert (result.derived["input.value"], result.derived["input.mime_type"]) == (
        raw, "text/plain")
    notes = {entry.target: entry.note for entry in result.report}
    assert notes["llm.input_messages"] == "not a JSON array; kept raw"
    assert not [k for k in result.derived if k.startswith("llm.input_messages.")]


@pytest.mark.parametrize(
    "events",
    [
        [None, 3, "x", {"name": None}, {"name": 5, "attributes": []}],
        [{"name": "gen_ai.user.message", "attributes": None}],
        [{"name": "gen_ai.user.message", "body": "not json"}],
        [{"name": "gen_ai.choice", "attributes": {"index": "first", "message": "{oops"}}],
        [{"name": "gen_ai.choice", "body": {"message": [1, 2], "tool_calls": "x"}}],
        [{"name": "gen_ai.content.prompt", "attributes": {"gen_ai.prompt": "[{"}}],
        [{"name": "db.query.result", "attributes": "nope"}],
        [{"name": "db.search.result", "attributes": {"db.search.result.score": "high"}}],
    ],
)
def test_malformed_events_never_raise(events: list[Any]) -> None:
    for attributes in ({"gen_ai.operation.name": "chat"}, {"db.system": "qdrant"},
                       {"openinference.span.kind": "LLM"}):
        no_errors(view(attributes, events))


def test_random_values_for_every_rule_source() -> None:
    """Every key the tables name, with values of every shape, in random combinations."""
    keys: set[str] = set(STRUCTURED_SOURCES)
    for rename in rules.RENAMES:
        keys.update(s for s in rename.sources if "[" not in s)
    for _, sources in rules.INVOCATION_PARAMETERS + rules.EMBEDDING_PARAMETERS:
        keys.update(sources)
    for io in rules.INPUT_SOURCES + rules.OUTPUT_SOURCES:
        keys.add(io.source)
    keys.update(rules.METADATA_KEYS)
    ordered = sorted(keys)
    chooser = random.Random(20260901)
    kinds = [*rules.KIND_BY_OPERATION, "execute_task", "unknown_op"]
    for _ in range(300):
        attributes: dict[str, Any] = {
            key: chooser.choice(BROKEN_VALUES) for key in chooser.sample(ordered, 12)
        }
        attributes["gen_ai.operation.name"] = chooser.choice(kinds)
        if chooser.random() < 0.3:
            attributes["traceloop.span.kind"] = chooser.choice(
                [*rules.KIND_BY_TRACELOOP_KIND, None])
        result = view(attributes)
        no_errors(result)
        assert not set(result.derived) & set(attributes)
