"""OpenLLMetry (Traceloop) spans, generations A and B, in the OpenInference view (SEMCONV 4, 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ember.semconv.view import View, openinference_view


def view(attributes: dict[str, Any], events: list[dict[str, Any]] | None = None) -> View:
    return openinference_view(attributes, "openai.chat", events or [])


GENERATION_A_CHAT: dict[str, Any] = {
    "gen_ai.system": "openai",
    "llm.request.type": "chat",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.request.temperature": 0.2,
    "llm.is_streaming": False,
    "llm.user": "end-user-1",
    "gen_ai.openai.api_base": "https://api.openai.com/v1/",
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.response.0.id": "gen-0",
    "gen_ai.prompt.0.role": "system",
    "gen_ai.prompt.0.content": "You are terse.",
    "gen_ai.prompt.1.role": "user",
    "gen_ai.prompt.1.content": "Weather in Paris?",
    "gen_ai.prompt.2.role": "assistant",
    "gen_ai.prompt.2.tool_calls.0.id": "call_1",
    "gen_ai.prompt.2.tool_calls.0.name": "get_weather",
    "gen_ai.prompt.2.tool_calls.0.arguments": '{"city": "Paris"}',
    "gen_ai.prompt.3.role": "tool",
    "gen_ai.prompt.3.content": "rainy",
    "gen_ai.prompt.3.tool_call_id": "call_1",
    "gen_ai.prompt.prompt_filter_results": "[]",
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.finish_reason": "tool_calls",
    "gen_ai.completion.0.tool_calls.0.id": "call_2",
    "gen_ai.completion.0.tool_calls.0.name": "get_time",
    "gen_ai.completion.0.tool_calls.0.arguments": '{"tz": "CET"}',
    "gen_ai.completion.0.tool_calls.1.id": "call_3",
    "gen_ai.completion.0.tool_calls.1.name": "get_date",
    "gen_ai.completion.0.tool_calls.1.arguments": "{}",
    "gen_ai.usage.prompt_tokens": 40,
    "gen_ai.usage.completion_tokens": 12,
    "llm.usage.total_tokens": 52,
    "gen_ai.usage.cache_read_input_tokens": 8,
    "llm.usage.reasoning_tokens": 3,
    "llm.request.functions.0.name": "get_weather",
    "llm.request.functions.0.description": "Weather for a city",
    "llm.request.functions.0.parameters": '{"type": "object", "properties": {}}',
    "llm.request.functions.1.name": "get_time",
    "llm.request.functions.1.input_schema": '{"type": "object"}',
    "traceloop.workflow.name": "assistant",
    "traceloop.association.properties.session_id": "sess-1",
    "traceloop.association.properties.customer_id": "cust-9",
}


def test_generation_a_chat_with_tool_calls() -> None:
    result = view(GENERATION_A_CHAT)
    d = result.derived
    assert result.dialect == "openllmetry"
    assert result.span_kind == "LLM"
    assert d["openinference.span.kind"] == "LLM"
    assert d["llm.model_name"] == "gpt-4o-2024-08-06"
    assert (d["llm.provider"], d["llm.system"]) == ("openai", "openai")
    assert d["llm.token_count.prompt"] == 40
    assert d["llm.token_count.completion"] == 12
    assert d["llm.token_count.total"] == 52  # llm.usage.total_tokens, not computed
    assert d["llm.token_count.prompt_details.cache_read"] == 8
    assert d["llm.token_count.completion_details.reasoning"] == 3
    assert d["llm.finish_reason"] == "tool_calls"
    assert d["session.id"] == "sess-1"
    assert d["user.id"] == "end-user-1"
    assert json.loads(d["metadata"]) == {
        "traceloop.workflow.name": "assistant", "session_id": "sess-1", "customer_id": "cust-9"}
    assert json.loads(d["llm.invocation_parameters"]) == {
        "model": "gpt-4o", "temperature": 0.2, "stream": False}
    assert {k: v for k, v in d.items() if k.startswith("llm.input_messages.")} == {
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "You are terse.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": "Weather in Paris?",
        "llm.input_messages.2.message.role": "assistant",
        "llm.input_messages.2.message.tool_calls.0.tool_call.id": "call_1",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "get_weather",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments":
            '{"city": "Paris"}',
        "llm.input_messages.3.message.role": "tool",
        "llm.input_messages.3.message.content": "rainy",
        "llm.input_messages.3.message.tool_call_id": "call_1",
    }
    out = "llm.output_messages.0.message."
    assert d[out + "role"] == "assistant"
    assert d[out + "finish_reason"] == "tool_calls"
    assert d[out + "tool_calls.0.tool_call.function.name"] == "get_time"
    assert d[out + "tool_calls.1.tool_call.id"] == "call_3"
    assert d[out + "tool_calls.1.tool_call.function.arguments"] == "{}"
    tools = [json.loads(d[f"llm.tools.{i}.tool.json_schema"]) for i in range(2)]
    assert tools == [
        {"type": "function", "function": {"name": "get_weather",
                                          "description": "Weather for a city",
                                          "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
    ]
    assert "input.value" not in d
    assert result.unmapped == ()


def test_buckets_sort_numerically_and_tolerate_gaps() -> None:
    attributes: dict[str, Any] = {"llm.request.type": "chat"}
    for n in (0, 2, 10, 9):
        attributes[f"gen_ai.prompt.{n}.role"] = "user"
        attributes[f"gen_ai.prompt.{n}.content"] = f"m{n}"
    d = view(attributes).derived
    assert [d[f"llm.input_messages.{i}.message.content"] for i in range(4)] == [
        "m0", "m2", "m9", "m10"]


def test_multimodal_content_list_and_legacy_user_key() -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "https://img/x.png"}}]
    d = view({
        "llm.request.type": "chat",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": json.dumps(parts),
        "gen_ai.prompt.1.user": "haystack style",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "A cat.",
        "gen_ai.completion.0.reasoning": "Looks furry.",
        "gen_ai.completion.1.role": "assistant",
        "gen_ai.completion.1.refusal": "I can't.",
    }).derived
    base = "llm.input_messages.0.message.contents."
    assert d[base + "0.message_content.text"] == "What is this?"
    assert d[base + "1.message_content.type"] == "image"
    assert d[base + "1.message_content.image.image.url"] == "https://img/x.png"
    assert d["llm.input_messages.1.message.role"] == "user"
    assert d["llm.input_messages.1.message.content"] == "haystack style"
    out = "llm.output_messages.0.message.contents."
    assert (d[out + "0.message_content.type"], d[out + "0.message_content.text"]) == (
        "reasoning", "Looks furry.")
    assert d[out + "1.message_content.text"] == "A cat."
    assert d["llm.output_messages.1.message.contents.0.message_content.type"] == "refusal"


def test_content_that_only_looks_like_json_stays_text() -> None:
    d = view({"llm.request.type": "chat", "gen_ai.prompt.0.role": "user",
              "gen_ai.prompt.0.content": "[citation needed"}).derived
    assert d["llm.input_messages.0.message.content"] == "[citation needed"


def test_completion_api_uses_prompts_and_choices() -> None:
    d = view({"llm.request.type": "completion", "gen_ai.request.model": "davinci-002",
              "gen_ai.prompt.0.content": "Once upon", "gen_ai.completion.0.content": " a time",
              "gen_ai.system": "OpenAI"}).derived
    assert d["llm.prompts.0.prompt.text"] == "Once upon"
    assert d["llm.choices.0.completion.text"] == " a time"
    assert not [k for k in d if "_messages." in k]
    assert d["llm.system"] == "openai"


def test_embedding_generation_a() -> None:
    result = view({"llm.request.type": "embedding", "gen_ai.system": "Cohere",
                   "gen_ai.request.model": "embed-english-v3.0",
                   "gen_ai.prompt.0.content": "first", "gen_ai.prompt.1.content": "second",
                   "gen_ai.usage.prompt_tokens": 4})
    d = result.derived
    assert result.span_kind == "EMBEDDING"
    assert d["embedding.embeddings.0.embedding.text"] == "first"
    assert d["embedding.embeddings.1.embedding.text"] == "second"
    assert d["embedding.model_name"] == "embed-english-v3.0"
    assert d["llm.token_count.total"] == 4
    assert not [k for k in d if "_messages." in k]


def test_rerank_generation_a() -> None:
    result = view({
        "llm.request.type": "rerank", "gen_ai.system": "Cohere",
        "gen_ai.request.model": "rerank-english-v3.0",
        "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "Paris is in France",
        "gen_ai.prompt.1.role": "system", "gen_ai.prompt.1.content": "Berlin is in Germany",
        "gen_ai.prompt.2.role": "user", "gen_ai.prompt.2.content": "Where is Paris?",
        "gen_ai.completion.0.content": "Doc 0, Score: 0.98\nParis is in France",
        "gen_ai.completion.1.content": "Doc 1, Score: 0.01\nBerlin is in Germany",
    })
    d = result.derived
    assert result.span_kind == "RERANKER"
    assert d["reranker.query"] == "Where is Paris?"
    assert d["reranker.model_name"] == "rerank-english-v3.0"
    assert d["reranker.input_documents.1.document.content"] == "Berlin is in Germany"
    assert d["reranker.output_documents.0.document.id"] == "0"
    assert d["reranker.output_documents.0.document.score"] == 0.98
    assert d["reranker.output_documents.1.document.content"] == "Berlin is in Germany"
    assert "llm.model_name" not in d


@pytest.mark.parametrize(
    ("traceloop_kind", "kind", "name_key"),
    [
        ("workflow", "CHAIN", None),
        ("task", "CHAIN", None),
        ("agent", "AGENT", "agent.name"),
        ("tool", "TOOL", "tool.name"),
        ("llm", "LLM", None),
        ("unknown", "UNKNOWN", None),
    ],
)
def test_traceloop_span_kinds(traceloop_kind: str, kind: str, name_key: str | None) -> None:
    result = view({"traceloop.span.kind": traceloop_kind, "traceloop.entity.name": "joker",
                   "traceloop.entity.path": "outer", "traceloop.workflow.name": "jokes"})
    assert result.span_kind == kind
    assert result.dialect == "openllmetry"
    if name_key:
        assert result.derived[name_key] == "joker"
    assert "agent.name" not in result.derived or kind == "AGENT"
    assert json.loads(result.derived["metadata"]) == {
        "traceloop.workflow.name": "jokes", "traceloop.entity.path": "outer"}


@pytest.mark.parametrize(
    ("entity_input", "entity_output", "expected_input", "expected_output"),
    [
        # decorator envelope with a single argument -> that argument
        (json.dumps({"args": ["tell me a joke"], "kwargs": {}}), json.dumps("A joke."),
         ("tell me a joke", "text/plain"), ("A joke.", "text/plain")),
        # several arguments -> the whole envelope, as sent
        (json.dumps({"args": [1, 2], "kwargs": {"x": 3}}), json.dumps({"sum": 6}),
         ('{"args": [1, 2], "kwargs": {"x": 3}}', "application/json"),
         ('{"sum": 6}', "application/json")),
        # LangChain chain envelope
        (json.dumps({"inputs": {"question": "q"}, "tags": [], "metadata": {}, "kwargs": {}}),
         json.dumps({"outputs": {"answer": "a"}, "kwargs": {}}),
         ('{"question":"q"}', "application/json"), ('{"answer":"a"}', "application/json")),
        # LangChain tool envelope: inputs when set, else input_str; tool output
        (json.dumps({"input_str": "Paris", "tags": [], "metadata": {}, "inputs": None,
                     "kwargs": {}}),
         json.dumps({"output": "rainy", "kwargs": {}}),
         ("Paris", "text/plain"), ("rainy", "text/plain")),
        # truncated JSON is kept raw as text
        ('{"args": ["a very long', '{"outputs": ',
         ('{"args": ["a very long', "text/plain"), ('{"outputs": ', "text/plain")),
    ],
)
def test_entity_input_output(
    entity_input: str, entity_output: str,
    expected_input: tuple[str, str], expected_output: tuple[str, str],
) -> None:
    result = view({"traceloop.span.kind": "task", "traceloop.entity.name": "step",
                   "traceloop.entity.input": entity_input,
                   "traceloop.entity.output": entity_output})
    d = result.derived
    assert (d["input.value"], d["input.mime_type"]) == expected_input
    assert (d["output.value"], d["output.mime_type"]) == expected_output


def test_truncated_entity_io_is_noted() -> None:
    result = view({"traceloop.span.kind": "workflow", "traceloop.entity.input": '{"args": ['})
    notes = [e.note for e in result.report if e.target == "input.value"]
    assert notes == ["invalid JSON kept as text"]


def test_langchain_tool_span_arguments_envelope() -> None:
    """LangChain puts the whole callback envelope into gen_ai.tool.call.arguments (5.7 #7)."""
    envelope = {"input_str": "{'city': 'Paris'}", "tags": [], "metadata": {},
                "inputs": {"city": "Paris"}, "kwargs": {}}
    result = view({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                   "traceloop.span.kind": "tool",
                   "gen_ai.tool.call.arguments": json.dumps(envelope)})
    assert result.derived["input.value"] == '{"city":"Paris"}'
    assert result.derived["tool.name"] == "get_weather"
    assert result.dialect == "openllmetry"


def test_langchain_retriever_span() -> None:
    output = {"documents": [
        {"page_content": "Sessions group traces.", "metadata": {"source": "doc-06"}},
        {"page_content": "Paris is in France.", "metadata": {"source": "doc-08"}, "id": "d8"},
    ], "count": 2}
    result = view({
        "gen_ai.operation.name": "vector_db_retrieve", "gen_ai.provider.name": "langchain",
        "traceloop.entity.input": json.dumps({"query": "sessions?", "tags": [], "metadata": {},
                                              "kwargs": {}}),
        "traceloop.entity.output": json.dumps(output),
    })
    d = result.derived
    assert result.span_kind == "RETRIEVER"
    assert d["input.value"] == "sessions?"
    assert d["retrieval.documents.0.document.content"] == "Sessions group traces."
    assert json.loads(d["retrieval.documents.0.document.metadata"]) == {"source": "doc-06"}
    assert d["retrieval.documents.1.document.id"] == "d8"
    assert "llm.provider" not in d


def test_vector_db_span_with_result_events() -> None:
    events = [
        {"name": "db.query.embeddings", "attributes": {"db.query.embeddings.vector": "[0.1]"}},
        {"name": "db.query.result", "attributes": {
            "db.query.result.id": "a", "db.query.result.score": 0.9,
            "db.query.result.distance": 0.1, "db.query.result.document": "doc a",
            "db.query.result.metadata": '{"k": 1}'}},
        {"name": "db.query.result", "attributes": {
            "db.query.result.id": "b", "db.query.result.document": "doc b"}},
    ]
    result = view({"db.system": "chroma", "db.operation": "query",
                   "db.vector.query.top_k": 2}, events)
    d = result.derived
    assert result.span_kind == "RETRIEVER"
    assert d["retrieval.documents.0.document.id"] == "a"
    assert d["retrieval.documents.0.document.score"] == 0.9
    assert d["retrieval.documents.0.document.metadata"] == '{"k": 1}'
    assert d["retrieval.documents.1.document.content"] == "doc b"


def test_generation_b_chat() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
    output = [{"role": "assistant", "parts": [{"type": "refusal", "content": "No."}],
               "finish_reason": "content_filter"}]
    result = view({
        "gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-3-5-haiku", "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": json.dumps(output), "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2, "gen_ai.usage.total_tokens": 13,
        "gen_ai.usage.cache_creation.input_tokens": 4, "gen_ai.is_streaming": True,
        "gen_ai.response.finish_reason": "end_turn",
        "gen_ai.tool.definitions": json.dumps([{"type": "function", "name": "f"}]),
    })
    d = result.derived
    assert result.dialect == "openllmetry"
    assert d["llm.input_messages.0.message.content"] == "Hi"
    assert d["llm.output_messages.0.message.contents.0.message_content.type"] == "refusal"
    assert d["llm.token_count.total"] == 13  # the producer's total wins over the computed one
    assert d["llm.token_count.prompt_details.cache_write"] == 4
    assert d["llm.finish_reason"] == "content_filter"  # output messages before custom keys
    assert json.loads(d["llm.invocation_parameters"])["stream"] is True
    assert json.loads(d["llm.tools.0.tool.json_schema"])["function"]["name"] == "f"


def test_managed_prompt() -> None:
    d = view({"llm.request.type": "chat", "traceloop.prompt.managed": "True",
              "traceloop.prompt.key": "joke", "traceloop.prompt.version": "2",
              "traceloop.prompt.template": "Tell a joke about {topic}",
              "traceloop.prompt.template_variables.topic": "spans"}).derived
    assert d["prompt.vendor"] == "traceloop"
    assert d["prompt.id"] == "joke"
    assert d["llm.prompt_template.version"] == "2"
    assert d["llm.prompt_template.template"] == "Tell a joke about {topic}"
    assert json.loads(d["llm.prompt_template.variables"]) == {"topic": "spans"}


def test_association_user_beats_request_user() -> None:
    d = view({"llm.request.type": "chat", "traceloop.association.properties.user_id": "u-42",
              "gen_ai.user": "openai-user", "gen_ai.conversation.id": "thread-1",
              "traceloop.association.properties.session_id": "s-1"}).derived
    assert d["user.id"] == "u-42"
    assert d["session.id"] == "s-1"
