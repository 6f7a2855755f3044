"""openinference-instrumentation-openai on the real openai SDK, against the fake OpenAI server,
exporting through the OTel SDK to a real `ember serve`: what Ember stores and rolls up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall
from openinference.instrumentation import OITracer, TraceConfig
from openinference.instrumentation.openai import OpenAIInstrumentor

from tests.fakes.openai_server import FAIL_MODEL, FakeOpenAI, embed
from tests.instrumented.support import (
    Telemetry,
    assert_cost,
    assert_tokens,
    assert_trace_cost,
    assert_trace_tokens,
    by_name,
    indexed,
    messages,
    one,
    span_id,
    trace_id,
    trace_json,
    tree,
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
def client(telemetry: Telemetry, fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    """An openai client on the fake server, instrumented for this test only."""
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.provider)
    try:
        yield openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-fake", max_retries=0)
    finally:
        instrumentor.uninstrument()


def test_chat_completion(client: openai.OpenAI, telemetry: Telemetry,
                         fake_openai: FakeOpenAI) -> None:
    """A plain chat call is one root LLM span with the dated model, the exact token counts,
    both input messages and the output message, and the trace rolls its tokens up."""
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer in one line."},
            {"role": "user", "content": "What is OpenTelemetry?"},
        ],
        temperature=0.2,
    )
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    attributes = span["attributes"]

    assert span["parent_id"] is None
    assert span["span_kind"] == "LLM"
    assert span["status_code"] == "OK"
    assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18" == response.model
    assert attributes["llm.system"] == "openai"
    assert_tokens(attributes, call.usage)
    assert messages(attributes, "input") == [
        {"role": "system", "content": "Answer in one line."},
        {"role": "user", "content": "What is OpenTelemetry?"},
    ]
    assert messages(attributes, "output") == [
        {"role": "assistant", "content": "You said: What is OpenTelemetry?"}
    ]
    assert json.loads(attributes["llm.invocation_parameters"])["temperature"] == 0.2

    trace = assert_trace_tokens(telemetry.server, trace_id(span), [call.usage])
    assert trace["span_count"] == 1
    assert trace["error_count"] == 0
    assert trace["root_span"]["span_id"] == span_id(span)
    assert trace["root_span"]["span_kind"] == "LLM"
    assert trace["project_name"] == telemetry.project


def test_streaming_with_usage(client: openai.OpenAI, telemetry: Telemetry,
                              fake_openai: FakeOpenAI) -> None:
    """A streamed call with `include_usage` stores the assembled reply and the usage chunk's
    counts on its LLM span, with the first-token event."""
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Stream a haiku about logs"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    attributes = span["attributes"]

    assert call.stream
    assert text == "You said: Stream a haiku about logs"
    assert span["span_kind"] == "LLM"
    assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18"
    assert_tokens(attributes, call.usage)
    assert messages(attributes, "output") == [{"role": "assistant", "content": text}]
    assert [event["name"] for event in span["events"]] == ["First Token Stream Event"]
    assert_trace_tokens(telemetry.server, trace_id(span), [call.usage])


def test_tool_call_round_trip(client: openai.OpenAI, telemetry: Telemetry,
                              fake_openai: FakeOpenAI) -> None:
    """An agent turn: the model asks for a tool, the tool runs, the model answers from its
    result. Ember keeps the tree (agent -> LLM, TOOL, LLM), the tool call and the tool message,
    and the trace adds up both LLM calls' tokens."""
    tracer = OITracer(telemetry.provider.get_tracer("weather-agent"), config=TraceConfig())
    question = "What is the weather in Paris?"
    with tracer.start_as_current_span("weather_agent", openinference_span_kind="agent") as agent:
        agent.set_input(question)
        history: list[Any] = [{"role": "user", "content": question}]
        first = client.chat.completions.create(
            model="gpt-4o-mini", messages=history, tools=[WEATHER_TOOL]
        )
        (call,) = first.choices[0].message.tool_calls or []
        assert isinstance(call, ChatCompletionMessageFunctionToolCall)
        history.append(first.choices[0].message.model_dump(exclude_none=True))
        with tracer.start_as_current_span("get_weather", openinference_span_kind="tool") as tool:
            arguments = json.loads(call.function.arguments)
            tool.set_tool(name="get_weather", parameters=arguments)
            tool.set_input(call.function.arguments)
            result = f"Sunny, 21C in {arguments['city']}"
            tool.set_output(result)
        history.append({"role": "tool", "tool_call_id": call.id, "content": result})
        second = client.chat.completions.create(
            model="gpt-4o-mini", messages=history, tools=[WEATHER_TOOL]
        )
        agent.set_output(second.choices[0].message.content)

    spans = telemetry.stored()
    assert tree(spans) == (
        "weather_agent", "AGENT", (
            ("ChatCompletion", "LLM", ()),
            ("get_weather", "TOOL", ()),
            ("ChatCompletion", "LLM", ()),
        ),
    )
    asking, answering = by_name(spans, "ChatCompletion")
    calls = fake_openai.chat_calls()
    assert len(calls) == 2
    assert_tokens(asking["attributes"], calls[0].usage)
    assert_tokens(answering["attributes"], calls[1].usage)

    tool_calls = indexed(asking["attributes"], "llm.output_messages.0.message.tool_calls")
    assert tool_calls == [{
        "tool_call.id": call.id,
        "tool_call.function.name": "get_weather",
        "tool_call.function.arguments": '{"city": "Paris"}',
    }]
    assert asking["attributes"]["llm.finish_reason"] == "tool_calls"
    (schema,) = indexed(asking["attributes"], "llm.tools")
    assert json.loads(schema["tool.json_schema"])["function"]["name"] == "get_weather"

    history_seen = messages(answering["attributes"], "input")
    assert [m["role"] for m in history_seen] == ["user", "assistant", "tool"]
    assert history_seen[2]["content"] == "Sunny, 21C in Paris"
    assert history_seen[2]["tool_call_id"] == call.id
    assert history_seen[1]["tool_calls.0.tool_call.function.name"] == "get_weather"
    assert messages(answering["attributes"], "output") == [
        {"role": "assistant", "content": "The tool answered: Sunny, 21C in Paris"}
    ]

    tool_span = one(spans, "get_weather")
    assert tool_span["attributes"]["tool.name"] == "get_weather"
    assert json.loads(tool_span["attributes"]["tool.parameters"]) == {"city": "Paris"}

    trace = assert_trace_tokens(
        telemetry.server, trace_id(asking), [calls[0].usage, calls[1].usage]
    )
    assert trace["span_count"] == 4
    assert trace["root_span"]["name"] == "weather_agent"
    assert trace["root_span"]["span_kind"] == "AGENT"
    assert trace["root_span"]["input_preview"] == question


def test_embeddings(client: openai.OpenAI, telemetry: Telemetry,
                    fake_openai: FakeOpenAI) -> None:
    """An embeddings call is an EMBEDDING span with the model, each text and its vector; its
    tokens stay on the span and out of the trace total, which counts LLM spans only."""
    tracer = OITracer(telemetry.provider.get_tracer("indexer"), config=TraceConfig())
    texts = ["The sky is blue.", "Otters hold hands while sleeping."]
    with tracer.start_as_current_span("index_and_ask", openinference_span_kind="chain"):
        result = client.embeddings.create(model="text-embedding-3-small", input=texts)
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Indexed?"}]
        )
    spans = telemetry.stored()
    assert tree(spans) == (
        "index_and_ask", "CHAIN", (
            ("CreateEmbeddings", "EMBEDDING", ()),
            ("ChatCompletion", "LLM", ()),
        ),
    )
    span = one(spans, "CreateEmbeddings")
    attributes = span["attributes"]
    (embedding_call,) = fake_openai.embedding_calls()
    (chat_call,) = fake_openai.chat_calls()

    assert attributes["embedding.model_name"] == "text-embedding-3-small"
    assert attributes["llm.token_count.prompt"] == embedding_call.usage["prompt_tokens"]
    stored = indexed(attributes, "embedding.embeddings")
    assert [item["embedding.text"] for item in stored] == texts
    for item, text, returned in zip(stored, texts, result.data, strict=True):
        assert item["embedding.vector"] == pytest.approx(embed(text), abs=1e-6)
        assert item["embedding.vector"] == pytest.approx(returned.embedding)
        assert len(item["embedding.vector"]) == 16

    # The embedding's tokens are on its span but the trace total is the chat call's alone.
    assert_trace_tokens(telemetry.server, trace_id(span), [chat_call.usage])


def test_failing_call(client: openai.OpenAI, telemetry: Telemetry,
                      fake_openai: FakeOpenAI) -> None:
    """A call the server rejects is an ERROR span with the exception event; the trace counts
    one error and no tokens."""
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model=FAIL_MODEL, messages=[{"role": "user", "content": "Hello?"}]
        )
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    assert call.status == 400

    assert span["span_kind"] == "LLM"
    assert span["status_code"] == "ERROR"
    assert "fail-model" in span["status_message"]
    (event,) = span["events"]
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "openai.BadRequestError"
    assert "does not exist" in event["attributes"]["exception.message"]
    assert "Traceback" in event["attributes"]["exception.stacktrace"]
    assert messages(span["attributes"], "input") == [{"role": "user", "content": "Hello?"}]
    assert "llm.token_count.total" not in span["attributes"]

    trace = trace_json(telemetry.server, trace_id(span))
    assert trace["error_count"] == 1
    assert trace["token_count"] == {"prompt": 0, "completion": 0, "total": 0}

    errors = telemetry.server.spans(telemetry.project, status_code="ERROR")
    assert [span_id(s) for s in errors] == [span_id(span)]


def test_cost(client: openai.OpenAI, telemetry: Telemetry) -> None:
    """Cost (pending): the chat span and the embedding span get `llm.cost.*` from their token
    counts at the price table's rates, and the trace's cost is their sum."""
    tracer = OITracer(telemetry.provider.get_tracer("costed"), config=TraceConfig())
    with tracer.start_as_current_span("costed", openinference_span_kind="chain"):
        client.embeddings.create(model="text-embedding-3-small", input="What does it cost?")
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "You are a careful accountant who explains."},
                {"role": "user", "content": "What does a token cost, roughly, today?"},
            ],
        )
    spans = telemetry.stored()
    chat = one(spans, "ChatCompletion")["attributes"]
    embedding = one(spans, "CreateEmbeddings")["attributes"]
    assert chat["llm.token_count.prompt_details.cache_read"] > 0  # the cache rate applies
    assert_cost(chat)
    assert_cost(embedding)
    trace = trace_json(telemetry.server, trace_id(spans[0]))
    assert_trace_cost(trace, [chat, embedding])
