"""OpenLLMetry's opentelemetry-instrumentation-openai on the real openai SDK, against the fake
OpenAI server, exporting to a real `ember serve`: its `gen_ai.*` spans come back with the
OpenInference view (kind, model, token counts, messages, tools) derived beside the raw keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.instrumentation.openai import OpenAIInstrumentor

from tests.fakes.openai_server import FakeOpenAI
from tests.instrumented.support import (
    Telemetry,
    assert_cost,
    assert_tokens,
    assert_trace_cost,
    assert_trace_tokens,
    indexed,
    messages,
    span_id,
    strip_wrappers,
    trace_id,
    trace_json,
)

# OpenLLMetry declares a pydantic model the deprecated way: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Support for class-based `config` is deprecated")

# Where OpenLLMetry wraps the openai SDK (and leaves its wrappers after uninstrument()).
OPENAI_RESOURCE_MODULES = (
    "openai.resources.chat.completions",
    "openai.resources.completions",
    "openai.resources.embeddings",
    "openai.resources.images",
    "openai.resources.responses",
    "openai.resources.beta.assistants",
    "openai.resources.beta.chat.completions",
    "openai.resources.beta.threads.runs",
    "openai.resources.beta.threads.messages",
    "openai.resources.beta.realtime.realtime",
)

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
def client(telemetry: Telemetry, fake_openai: FakeOpenAI,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[openai.OpenAI]:
    """An openai client on the fake server, instrumented by OpenLLMetry with content on."""
    monkeypatch.setenv("TRACELOOP_TRACE_CONTENT", "true")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.provider)
    try:
        yield openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-fake", max_retries=0)
    finally:
        instrumentor.uninstrument()
        strip_wrappers(*OPENAI_RESOURCE_MODULES)


def test_chat(client: openai.OpenAI, telemetry: Telemetry, fake_openai: FakeOpenAI) -> None:
    """A chat call: Ember derives kind LLM, the dated model, every token count (cache read and
    reasoning included) and both message lists from OpenLLMetry's keys, keeps the raw keys,
    and says in the mapping report where each derived key came from."""
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer in one line."},
            {"role": "user", "content": "What is OpenLLMetry?"},
        ],
    )
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    attributes = span["attributes"]

    assert span["parent_id"] is None
    assert span["name"] == "openai.chat"
    assert span["otel_kind"] == "CLIENT"
    assert span["span_kind"] == "LLM"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"  # raw keys kept
    assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18"
    assert attributes["llm.provider"] == "openai"
    assert_tokens(attributes, call.usage)
    assert attributes["llm.token_count.completion_details.reasoning"] == 0
    assert messages(attributes, "input") == [
        {"role": "system", "content": "Answer in one line."},
        {"role": "user", "content": "What is OpenLLMetry?"},
    ]
    assert messages(attributes, "output") == [{
        "role": "assistant", "content": "You said: What is OpenLLMetry?", "finish_reason": "stop"
    }]
    for key in ("llm.model_name", "llm.token_count.prompt", "openinference.span.kind"):
        assert key in span["derived_attributes"]

    detail = telemetry.server.get(f"/v1/spans/{span_id(span)}").json()["data"]
    sources = {e["target"]: e["sources"] for e in detail["mapping_report"]["entries"]}
    assert sources["llm.model_name"] == ["gen_ai.response.model"]
    assert sources["llm.token_count.prompt"] == ["gen_ai.usage.input_tokens"]
    assert "gen_ai.input.messages" in sources["llm.input_messages"]
    assert_trace_tokens(telemetry.server, trace_id(span), [call.usage])


def test_streaming(client: openai.OpenAI, telemetry: Telemetry,
                   fake_openai: FakeOpenAI) -> None:
    """A streamed call with `include_usage`: the span carries the usage chunk's counts and the
    assembled reply as the output message."""
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Stream a haiku about spans"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    attributes = span["attributes"]

    assert call.stream
    assert span["span_kind"] == "LLM"
    assert span["status_code"] == "OK"
    assert attributes["gen_ai.is_streaming"] is True
    assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18"
    assert_tokens(attributes, call.usage)
    assert [m["content"] for m in messages(attributes, "output")] == [text]
    assert_trace_tokens(telemetry.server, trace_id(span), [call.usage])


def test_tool_call(client: openai.OpenAI, telemetry: Telemetry,
                   fake_openai: FakeOpenAI) -> None:
    """A call offering a tool: the output message's tool call (name, id, arguments) and the
    tool definition are mapped from `gen_ai.output.messages` and `gen_ai.tool.definitions`."""
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the weather in Lyon?"}],
        tools=[WEATHER_TOOL],
    )
    (span,) = telemetry.stored()
    attributes = span["attributes"]
    (call,) = response.choices[0].message.tool_calls or []

    (tool_call,) = indexed(attributes, "llm.output_messages.0.message.tool_calls")
    assert tool_call["tool_call.id"] == call.id
    assert tool_call["tool_call.function.name"] == "get_weather"
    assert json.loads(tool_call["tool_call.function.arguments"]) == {"city": "Lyon"}
    (tool,) = indexed(attributes, "llm.tools")
    schema = json.loads(tool["tool.json_schema"])
    assert "get_weather" in json.dumps(schema)
    assert_tokens(attributes, fake_openai.chat_calls()[0].usage)


def test_cost(client: openai.OpenAI, telemetry: Telemetry) -> None:
    """Cost (pending): the span, whose tokens Ember derived from `gen_ai.usage.*`, gets
    `llm.cost.*` from them, and the trace's cost is the span's."""
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "How much does a long question like this cost?"}],
    )
    (span,) = telemetry.stored()
    assert span["attributes"]["llm.token_count.prompt_details.cache_read"] > 0
    assert_cost(span["attributes"])
    assert_trace_cost(trace_json(telemetry.server, trace_id(span)), [span["attributes"]])
