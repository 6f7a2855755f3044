"""OTel GenAI spans (attribute form, JSON/structured messages, events) in the OpenInference view.

Cases follow the examples of spec/SEMCONV.md sections 3 and 5.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ember.ingest.normalize import Normalizer
from ember.semconv.view import MappingEntry, View, openinference_view
from tests.helpers import key_value

# SEMCONV 3.5 example input messages.
EXAMPLE_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
    {"role": "user", "parts": [
        {"type": "text", "content": "Weather in Paris?"},
        {"type": "uri", "modality": "image", "uri": "https://x/y.png"},
    ]},
    {"role": "assistant", "parts": [
        {"type": "tool_call", "id": "call_1", "name": "get_weather",
         "arguments": {"city": "Paris"}},
    ]},
    {"role": "tool", "parts": [
        {"type": "tool_call_response", "id": "call_1", "response": "rainy, 14C"},
    ]},
]
OUTPUT = [{"role": "assistant", "parts": [{"type": "text", "content": "Rainy, 14C."}],
           "finish_reason": "stop"}]

CHAT: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.request.temperature": 0.1,
    "gen_ai.request.max_tokens": 256,
    "gen_ai.request.stop_sequences": ["\n\n"],
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.finish_reasons": ["stop"],
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 18,
    "gen_ai.usage.cache_read.input_tokens": 64,
    "gen_ai.conversation.id": "conv-9",
    "server.address": "api.openai.com",
    "server.port": 443,
    "gen_ai.input.messages": json.dumps(EXAMPLE_MESSAGES),
    "gen_ai.output.messages": json.dumps(OUTPUT),
}


def view(attributes: dict[str, Any], events: list[dict[str, Any]] | None = None) -> View:
    return openinference_view(attributes, "span", events or [])


def sources(result: View, target: str) -> tuple[str, ...]:
    found = [entry for entry in result.report if entry.target == target]
    assert found, f"no report entry for {target}: {result.report}"
    return found[0].sources


def test_chat_span_attribute_and_json_message_form() -> None:
    result = view(CHAT)
    d = result.derived
    assert result.dialect == "otel_genai"
    assert result.span_kind == "LLM"
    assert d["openinference.span.kind"] == "LLM"
    assert d["llm.model_name"] == "gpt-4o-2024-08-06"
    assert d["llm.request.model_name"] == "gpt-4o"
    assert d["llm.response.model_name"] == "gpt-4o-2024-08-06"
    assert (d["llm.provider"], d["llm.system"]) == ("openai", "openai")
    assert d["llm.token_count.prompt"] == 120
    assert d["llm.token_count.completion"] == 18
    assert d["llm.token_count.total"] == 138  # OTel has no total: computed
    assert d["llm.token_count.prompt_details.cache_read"] == 64
    assert d["llm.finish_reason"] == "stop"
    assert d["session.id"] == "conv-9"
    assert json.loads(d["llm.invocation_parameters"]) == {
        "model": "gpt-4o", "temperature": 0.1, "max_tokens": 256, "stop": ["\n\n"],
    }
    expected_messages = {
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "You are terse.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.contents.0.message_content.type": "text",
        "llm.input_messages.1.message.contents.0.message_content.text": "Weather in Paris?",
        "llm.input_messages.1.message.contents.1.message_content.type": "image",
        "llm.input_messages.1.message.contents.1.message_content.image.image.url":
            "https://x/y.png",
        "llm.input_messages.2.message.role": "assistant",
        "llm.input_messages.2.message.tool_calls.0.tool_call.id": "call_1",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "get_weather",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments":
            '{"city":"Paris"}',
        "llm.input_messages.3.message.role": "tool",
        "llm.input_messages.3.message.tool_call_id": "call_1",
        "llm.input_messages.3.message.content": "rainy, 14C",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "Rainy, 14C.",
        "llm.output_messages.0.message.finish_reason": "stop",
    }
    assert {k: v for k, v in d.items() if "_messages." in k} == expected_messages
    assert d["input.value"] == CHAT["gen_ai.input.messages"]
    assert d["input.mime_type"] == "application/json"
    assert d["output.value"] == CHAT["gen_ai.output.messages"]
    assert sources(result, "llm.input_messages") == ("gen_ai.input.messages",)
    assert sources(result, "llm.model_name") == ("gen_ai.response.model",)
    assert sources(result, "llm.token_count.total") == (
        "llm.token_count.prompt", "llm.token_count.completion",
    )
    # known keys without an OI slot are understood, not "unmapped"
    assert result.unmapped == ()
    assert not set(d) & set(CHAT)


def test_structured_messages_equal_json_messages() -> None:
    """Messages may arrive as a real array-of-kvlist AnyValue instead of a JSON string."""
    structured = {**CHAT, "gen_ai.input.messages": EXAMPLE_MESSAGES,
                  "gen_ai.output.messages": OUTPUT}
    as_json = view(CHAT).derived
    as_structured = view(structured).derived
    message_keys = [k for k in as_json if "_messages." in k]
    assert message_keys
    assert {k: as_structured[k] for k in message_keys} == {k: as_json[k] for k in message_keys}
    assert json.loads(as_structured["input.value"]) == EXAMPLE_MESSAGES


def test_structured_messages_through_otlp_decoding() -> None:
    """The same structured value (array of kvlists) after a real protobuf round trip."""
    attributes = {**CHAT, "gen_ai.input.messages": EXAMPLE_MESSAGES}
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(
        trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)), name="chat gpt-4o")
    span.attributes.extend(key_value(key, value) for key, value in attributes.items())
    request = ExportTraceServiceRequest.FromString(request.SerializeToString())
    record = Normalizer(4 * 1024 * 1024, 32).normalize(request).spans[0]
    assert isinstance(record.attributes["gen_ai.input.messages"], list)
    result = openinference_view(record.attributes, record.name, record.events)
    assert result.derived["llm.input_messages.2.message.tool_calls.0.tool_call.function.name"] \
        == "get_weather"
    assert result.derived["llm.input_messages.3.message.content"] == "rainy, 14C"


@pytest.mark.parametrize(
    ("instructions", "history", "expected_first", "count"),
    [
        # separate system instructions become message 0
        ([{"type": "text", "content": "Be brief."}],
         [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
         "Be brief.", 2),
        # several text parts are joined
        ([{"type": "text", "content": "A"}, {"type": "text", "content": "B"}],
         [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
         "A\nB", 2),
        # not duplicated when the history already starts with the same system message
        ([{"type": "text", "content": "Be brief."}],
         [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
          {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
         "Be brief.", 2),
        # plain-text instructions (not JSON) are accepted
        ("Be brief.", [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
         "Be brief.", 2),
        # instructions alone (fetch_response / create_agent style)
        ([{"type": "text", "content": "Only me."}], None, "Only me.", 1),
    ],
)
def test_system_instructions(
    instructions: Any, history: Any, expected_first: str, count: int
) -> None:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system_instructions":
            instructions if isinstance(instructions, str) else json.dumps(instructions),
    }
    if history is not None:
        attributes["gen_ai.input.messages"] = json.dumps(history)
    d = view(attributes).derived
    assert d["llm.input_messages.0.message.role"] == "system"
    assert d["llm.input_messages.0.message.content"] == expected_first
    roles = [k for k in d if k.endswith(".message.role") and k.startswith("llm.input_")]
    assert len(roles) == count


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"type": "function", "name": "get_weather", "description": "Weather",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
         {"type": "function", "function": {
             "name": "get_weather", "description": "Weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}),
        # already in the OpenAI shape: unchanged
        ({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
         {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}),
        # input_schema / inputSchema accepted as parameters
        ({"name": "g", "input_schema": {"type": "object"}},
         {"type": "function", "function": {"name": "g", "parameters": {"type": "object"}}}),
        ({"type": "function", "name": "h", "inputSchema": {"type": "object"}},
         {"type": "function", "function": {"name": "h", "parameters": {"type": "object"}}}),
        # non-function tools kept verbatim
        ({"type": "web_search", "name": "search"}, {"type": "web_search", "name": "search"}),
    ],
)
def test_tool_definitions(definition: dict[str, Any], expected: dict[str, Any]) -> None:
    for value in (json.dumps([definition]), [definition]):
        d = view({"gen_ai.operation.name": "chat", "gen_ai.tool.definitions": value}).derived
        assert json.loads(d["llm.tools.0.tool.json_schema"]) == expected


def test_parts_without_an_openinference_slot() -> None:
    parts = [
        {"type": "reasoning", "content": "thinking..."},
        {"type": "text", "content": "answer"},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBOR"},
        {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "content": "UklG"},
        {"type": "file", "modality": "document", "file_id": "file-1"},
        {"type": "server_tool_call", "id": "s1", "name": "web_search",
         "server_tool_call": {"type": "web_search"}},
        {"type": "mystery", "x": 1},
    ]
    d = view({"gen_ai.operation.name": "chat",
              "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": parts}])}
             ).derived
    base = "llm.output_messages.0.message.contents"
    types = [d[f"{base}.{j}.message_content.type"] for j in range(7)]
    assert types == ["reasoning", "text", "image", "audio", "file", "server_tool_call", "mystery"]
    assert d[f"{base}.0.message_content.text"] == "thinking..."
    assert d[f"{base}.2.message_content.image.image.url"] == "data:image/png;base64,iVBOR"
    assert d[f"{base}.3.message_content.audio.audio.url"] == "data:audio/wav;base64,UklG"
    assert d[f"{base}.3.message_content.audio.audio.mime_type"] == "audio/wav"
    assert json.loads(d[f"{base}.4.message_content.text"])["file_id"] == "file-1"
    assert "llm.output_messages.0.message.content" not in d


def test_tool_call_response_with_result_key_and_object_payload() -> None:
    history = [{"role": "tool", "parts": [
        {"type": "tool_call_response", "id": "a", "result": {"t": 14}},
        {"type": "tool_call_response", "id": "b", "response": "ok"},
    ]}]
    d = view({"gen_ai.operation.name": "chat",
              "gen_ai.input.messages": json.dumps(history)}).derived
    assert d["llm.input_messages.0.message.tool_call_id"] == "a"
    assert d["llm.input_messages.0.message.content"] == '{"t":14}'
    assert d["llm.input_messages.1.message.tool_call_id"] == "b"
    assert d["llm.input_messages.1.message.content"] == "ok"


LEGACY_EVENTS: list[dict[str, Any]] = [
    {"name": "gen_ai.system.message", "attributes": {
        "gen_ai.system": "openai", "content": "You are terse."}},
    {"name": "gen_ai.user.message", "attributes": {
        "gen_ai.system": "openai", "content": "Weather in Paris?"}},
    {"name": "gen_ai.assistant.message", "attributes": {
        "gen_ai.system": "openai",
        "body": json.dumps({"tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]})}},
    {"name": "gen_ai.tool.message", "attributes": {
        "gen_ai.system": "openai", "content": "rainy", "id": "call_1"}},
    {"name": "gen_ai.choice", "body": {
        "index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Rainy."}}},
]


def test_legacy_message_events() -> None:
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.system": "openai",
                  "gen_ai.request.model": "gpt-4o"}
    result = view(attributes, LEGACY_EVENTS)
    d = result.derived
    assert [d[f"llm.input_messages.{i}.message.role"] for i in range(4)] == [
        "system", "user", "assistant", "tool"]
    assert d["llm.input_messages.1.message.content"] == "Weather in Paris?"
    assert d["llm.input_messages.2.message.tool_calls.0.tool_call.function.name"] == \
        "get_weather"
    assert d["llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments"] == \
        '{"city": "Paris"}'
    assert d["llm.input_messages.3.message.tool_call_id"] == "call_1"
    assert d["llm.output_messages.0.message.content"] == "Rainy."
    assert d["llm.finish_reason"] == "stop"
    assert "event:gen_ai.user.message" in sources(result, "llm.input_messages")
    assert (d["llm.provider"], d["llm.system"]) == ("openai", "openai")


def test_first_draft_content_events() -> None:
    events = [
        {"name": "gen_ai.content.prompt", "attributes": {
            "gen_ai.prompt": json.dumps([{"role": "user", "content": "Hi"}])}},
        {"name": "gen_ai.content.completion", "attributes": {
            "gen_ai.completion": json.dumps([{"role": "assistant", "content": "Hello"}])}},
    ]
    d = view({"gen_ai.request.model": "gpt-4o"}, events).derived
    assert d["llm.input_messages.0.message.content"] == "Hi"
    assert d["llm.output_messages.0.message.content"] == "Hello"


def test_legacy_events_alone_make_an_llm_span() -> None:
    result = view({"gen_ai.system": "openai"}, LEGACY_EVENTS[1:2])
    assert result.span_kind == "LLM"
    assert result.derived["llm.input_messages.0.message.content"] == "Weather in Paris?"
    assert ("event:gen_ai.user.message",) in [e.sources for e in result.report
                                              if e.target == "openinference.span.kind"]


def test_attributes_beat_legacy_events() -> None:
    attributes = {"gen_ai.operation.name": "chat",
                  "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
                      {"type": "text", "content": "from attribute"}]}])}
    d = view(attributes, LEGACY_EVENTS).derived
    assert d["llm.input_messages.0.message.content"] == "from attribute"
    assert "llm.input_messages.1.message.role" not in d


@pytest.mark.parametrize(
    ("operation", "extra", "kind"),
    [
        ("chat", {}, "LLM"),
        ("text_completion", {}, "LLM"),
        ("generate_content", {}, "LLM"),
        ("fetch_response", {}, "LLM"),
        ("embeddings", {}, "EMBEDDING"),
        ("retrieval", {}, "RETRIEVER"),
        ("search_memory", {}, "RETRIEVER"),
        ("execute_tool", {}, "TOOL"),
        ("invoke_agent", {}, "AGENT"),
        ("create_agent", {}, "AGENT"),
        ("plan", {}, "AGENT"),
        ("invoke_workflow", {}, "CHAIN"),
        ("handle_conversation_turn", {}, "CHAIN"),
        ("create_memory", {}, "CHAIN"),
        ("Chat", {}, "LLM"),  # case-insensitive
        ("my_custom_op", {}, "UNKNOWN"),
        ("my_custom_op", {"gen_ai.request.model": "m"}, "LLM"),  # falls through to rule 21
        ("execute_task", {}, "CHAIN"),
        ("execute_task", {"gen_ai.tool.name": "t"}, "TOOL"),
    ],
)
def test_span_kind_from_operation(operation: str, extra: dict[str, Any], kind: str) -> None:
    result = view({"gen_ai.operation.name": operation, **extra})
    assert result.span_kind == kind
    if kind == "UNKNOWN":
        assert "openinference.span.kind" not in result.derived
    else:
        assert result.derived["openinference.span.kind"] == kind


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        ({"gen_ai.tool.name": "search"}, "TOOL"),
        ({"mcp.method.name": "tools/call"}, "TOOL"),
        ({"gen_ai.usage.input_tokens": 3}, "LLM"),
        ({"gen_ai.agent.name": "planner"}, "UNKNOWN"),  # context, not identity
        ({"gen_ai.conversation.id": "c"}, "UNKNOWN"),
    ],
)
def test_span_kind_fallback_rules(attributes: dict[str, Any], kind: str) -> None:
    assert view(attributes).span_kind == kind


def test_agent_span_usage_is_not_copied() -> None:
    attributes = {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Planner",
        "gen_ai.agent.id": "asst_1", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 900, "gen_ai.usage.output_tokens": 80,
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
            {"type": "text", "content": "Plan a trip"}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
            {"type": "text", "content": "Done"}]}]),
    }
    result = view(attributes)
    d = result.derived
    assert result.span_kind == "AGENT"
    assert d["agent.name"] == "Planner"
    assert not [k for k in d if k.startswith("llm.token_count")]
    assert not [k for k in d if k.startswith("llm.input_messages")]  # agent: input.value only
    assert json.loads(d["input.value"])[0]["role"] == "user"
    assert d["llm.model_name"] == "gpt-4o"
    assert json.loads(d["metadata"]) == {"gen_ai.agent.id": "asst_1"}
    assert result.unmapped == ()


def test_tool_span() -> None:
    attributes = {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.description": "Weather", "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.arguments": '{"city": "Paris"}',
        "gen_ai.tool.call.result": '{"t": 14}',
    }
    d = view(attributes).derived
    assert d["tool.name"] == "get_weather"
    assert d["tool.description"] == "Weather"
    assert d["tool.id"] == "call_1"
    assert d["input.value"] == '{"city": "Paris"}'
    assert d["input.mime_type"] == "application/json"
    assert d["output.value"] == '{"t": 14}'
    assert "tool.parameters" not in d  # arguments are not a schema (5.7 #6)


def test_retrieval_span() -> None:
    documents = [{"id": "d1", "score": 0.9, "content": "Paris is...", "metadata": {"p": 1}},
                 {"id": 7, "score": None}]
    attributes = {
        "gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "kb-1",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.retrieval.query.text": "capital of France",
        "gen_ai.retrieval.documents": json.dumps(documents), "gen_ai.retrieval.top_k": 2,
    }
    d = view(attributes).derived
    assert d["input.value"] == "capital of France"
    assert d["input.mime_type"] == "text/plain"
    assert d["retrieval.documents.0.document.id"] == "d1"
    assert d["retrieval.documents.0.document.score"] == 0.9
    assert d["retrieval.documents.0.document.content"] == "Paris is..."
    assert json.loads(d["retrieval.documents.0.document.metadata"]) == {"p": 1}
    assert d["retrieval.documents.1.document.id"] == 7
    assert "retrieval.documents.1.document.score" not in d
    assert "llm.model_name" not in d
    assert json.loads(d["metadata"]) == {"gen_ai.data_source.id": "kb-1"}


def test_memory_search_span() -> None:
    records = [{"content": {"fact": "likes tea"}, "id": "m1", "score": 0.5}]
    d = view({"gen_ai.operation.name": "search_memory", "gen_ai.memory.query.text": "tea?",
              "gen_ai.memory.records": records}).derived
    assert d["input.value"] == "tea?"
    assert d["retrieval.documents.0.document.content"] == '{"fact":"likes tea"}'


def test_embedding_span() -> None:
    attributes = {
        "gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.request.encoding_formats": ["float"],
        "gen_ai.embeddings.dimension.count": 512, "gen_ai.usage.input_tokens": 9,
    }
    d = view(attributes).derived
    assert d["embedding.model_name"] == "text-embedding-3-small"
    assert "llm.model_name" not in d
    assert "llm.provider" not in d and "llm.system" not in d  # OI: not on EMBEDDING spans
    assert json.loads(d["embedding.invocation_parameters"]) == {
        "model": "text-embedding-3-small", "encoding_format": "float", "dimensions": 512}
    assert d["llm.token_count.prompt"] == 9
    assert d["llm.token_count.total"] == 9


@pytest.mark.parametrize(
    ("provider", "model", "expected"),
    [
        ("openai", "gpt-4o", ("openai", "openai")),
        ("azure.ai.openai", "gpt-4o", ("azure", "openai")),
        ("az.ai.openai", "gpt-4o", ("azure", "openai")),
        ("Azure", "gpt-4o", ("azure", "openai")),
        ("azure.ai.inference", "mistral-large", ("azure", "mistralai")),
        ("azure.ai.inference", "phi-4", ("azure", None)),
        ("anthropic", "claude-3-5", ("anthropic", "anthropic")),
        ("Anthropic", "claude-3-5", ("anthropic", "anthropic")),
        ("aws.bedrock", "anthropic.claude-3-haiku", ("aws", "anthropic")),
        ("aws.bedrock", "us.anthropic.claude-3-haiku", ("aws", "anthropic")),
        ("aws.bedrock", "amazon.titan-text", ("aws", "amazon")),
        ("aws.bedrock", "meta.llama3", ("aws", "meta")),
        ("gcp.vertex_ai", "gemini-1.5-pro", ("google", "vertexai")),
        ("gcp.vertex_ai", "claude-3-5-sonnet", ("google", "anthropic")),
        ("gcp.gemini", "gemini-2.0", ("google", "vertexai")),
        ("gcp.gen_ai", "gemini-2.0", ("google", "vertexai")),
        ("mistral_ai", "mistral-large", ("mistralai", "mistralai")),
        ("x_ai", "grok-2", ("xai", "xai")),
        ("groq", "llama-3.1-70b", ("groq", None)),
        ("groq", "mixtral-8x7b", ("groq", "mistralai")),
        ("moonshot_ai", "kimi", ("moonshot", "moonshot_ai")),
        ("together_ai", "meta-llama", ("together", None)),
        ("ibm.watsonx.ai", "granite", ("ibm.watsonx.ai", "ibm.watsonx.ai")),
        ("openrouter", "gpt-4o", ("openrouter", "openai")),
        ("hugging_face", "zephyr", ("hugging_face", "hugging_face")),
        ("langchain", "gpt-4o", (None, None)),  # a framework, not a provider
    ],
)
def test_provider_table(provider: str, model: str, expected: tuple[str | None, str | None]
                        ) -> None:
    d = view({"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
              "gen_ai.request.model": model}).derived
    assert (d.get("llm.provider"), d.get("llm.system")) == expected


def test_provider_name_beats_deprecated_system_and_host() -> None:
    d = view({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
              "gen_ai.system": "openai", "server.address": "api.openai.com"}).derived
    assert d["llm.provider"] == "anthropic"


@pytest.mark.parametrize(
    ("host", "provider"),
    [("api.openai.com", "openai"), ("my.openai.azure.com", "azure"),
     ("https://api.groq.com/openai/v1", "groq"), ("bedrock-runtime.us-east-1.amazonaws.com", "aws"),
     ("localhost", None), ("notapi.openai.com.evil", None)],
)
def test_provider_from_host(host: str, provider: str | None) -> None:
    d = view({"gen_ai.operation.name": "chat", "server.address": host,
              "gen_ai.request.model": "gpt-4o"}).derived
    assert d.get("llm.provider") == provider
    assert d.get("llm.system") == ("openai" if provider else None)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"gen_ai.usage.prompt_tokens": 5, "gen_ai.usage.completion_tokens": 2},
         {"llm.token_count.prompt": 5, "llm.token_count.completion": 2,
          "llm.token_count.total": 7}),
        ({"gen_ai.usage.input_tokens": 5, "gen_ai.usage.prompt_tokens": 99},
         {"llm.token_count.prompt": 5, "llm.token_count.total": 5}),
        ({"gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": 3.0},
         {"llm.token_count.prompt": 12, "llm.token_count.completion": 3,
          "llm.token_count.total": 15}),
        ({"gen_ai.usage.cache_write.input_tokens": 4,
          "gen_ai.usage.cache_creation.input_tokens": 9},
         {"llm.token_count.prompt_details.cache_write": 4}),
        ({"gen_ai.usage.cache_creation.input_tokens": 9},
         {"llm.token_count.prompt_details.cache_write": 9}),
        ({"gen_ai.usage.reasoning.output_tokens": 30, "gen_ai.usage.audio.input_tokens": 2,
          "gen_ai.usage.audio.output_tokens": 1},
         {"llm.token_count.completion_details.reasoning": 30,
          "llm.token_count.prompt_details.audio": 2,
          "llm.token_count.completion_details.audio": 1}),
        ({"gen_ai.usage.cost.amount": 0.25, "gen_ai.usage.cost.currency": "USD"},
         {"llm.cost.total": 0.25}),
        ({"gen_ai.usage.cost.amount": 0.25, "gen_ai.usage.cost.currency": "EUR"}, {}),
        ({"gen_ai.usage.input_tokens": "lots"}, {}),
    ],
)
def test_usage(attributes: dict[str, Any], expected: dict[str, Any]) -> None:
    d = view({"gen_ai.operation.name": "chat", **attributes}).derived
    assert {k: v for k, v in d.items() if k.startswith("llm.token_count") or "cost" in k} == \
        expected


def test_cache_tokens_larger_than_prompt_are_flagged_not_subtracted() -> None:
    result = view({"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10,
                   "gen_ai.usage.cache_read.input_tokens": 500})
    assert result.derived["llm.token_count.prompt"] == 10
    flagged = [e for e in result.report if e.rule == "usage_cache"]
    assert flagged and "exclude cache" in flagged[0].note


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"gen_ai.response.finish_reasons": ["length", "stop"]}, "length"),
        ({"gen_ai.response.finish_reasons": []}, None),
        ({"gen_ai.response.finish_reasons": '["max_tokens"]'}, "max_tokens"),
        ({"gen_ai.response.finish_reasons": "STOP"}, "STOP"),
        ({"gen_ai.output.messages": [{"role": "assistant", "parts": [],
                                      "finish_reason": "tool_call"}]}, "tool_call"),
        ({"gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.output.messages": [{"role": "assistant", "finish_reason": "length"}]}, "stop"),
    ],
)
def test_finish_reason(attributes: dict[str, Any], expected: str | None) -> None:
    d = view({"gen_ai.operation.name": "chat", **attributes}).derived
    assert d.get("llm.finish_reason") == expected


def test_prompt_template_and_variables() -> None:
    d = view({"gen_ai.operation.name": "chat", "gen_ai.prompt.name": "greeting",
              "gen_ai.prompt.version": "3", "gen_ai.prompt.variable.user_name": "Alice"}).derived
    assert d["prompt.id"] == "greeting"
    assert d["llm.prompt_template.version"] == "3"
    assert json.loads(d["llm.prompt_template.variables"]) == {"user_name": "Alice"}


def test_unknown_genai_keys_are_unmapped() -> None:
    result = view({"gen_ai.operation.name": "chat", "gen_ai.request.logit_bias": "x",
                   "myapp.tenant": "acme", "http.request.method": "POST"})
    assert result.unmapped == ("gen_ai.request.logit_bias", "myapp.tenant")


def test_report_entries_are_plain_values() -> None:
    result = view(CHAT)
    for entry in result.report:
        assert isinstance(entry, MappingEntry)
        assert entry.sources and all(isinstance(source, str) for source in entry.sources)
    targets = {entry.target for entry in result.report}
    for key in result.derived:
        assert any(key == t or key.startswith(t + ".") for t in targets), key
