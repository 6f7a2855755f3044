"""The fake OpenAI server, read by the real openai SDK (no instrumentation): the other tests'
exact expectations rest on it answering deterministically and in OpenAI's shapes."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from tests.fakes.openai_server import FAIL_500_MODEL, FAIL_MODEL, FakeOpenAI, embed


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-fake", max_retries=0)


def test_stream_and_plain_replies_agree(client: openai.OpenAI, fake_openai: FakeOpenAI) -> None:
    """The same request answers the same text and usage streamed or not, and the usage is the
    recorded one, with the dated model and a fifth of the prompt cached."""
    question: Any = [{"role": "user", "content": "Same again?"}]
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=question)
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=question, stream=True,
        stream_options={"include_usage": True},
    ))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert plain.choices[0].message.content == streamed == "You said: Same again?"
    assert plain.model == chunks[0].model == "gpt-4o-mini-2024-07-18"
    assert chunks[-1].choices == []
    assert chunks[-1].usage == plain.usage
    assert plain.usage is not None
    assert plain.usage.prompt_tokens_details is not None
    cached = plain.usage.prompt_tokens_details.cached_tokens
    assert cached == plain.usage.prompt_tokens // 5 > 0
    plain_call, stream_call = fake_openai.chat_calls()
    assert plain.usage.model_dump(exclude_none=True) == plain_call.usage
    assert stream_call.stream


def test_tool_call_then_answer(client: openai.OpenAI) -> None:
    """With tools, the reply calls the first tool (streamed or not); after a tool result, the
    reply quotes it; reasoning models report reasoning tokens."""
    tools: Any = [{"type": "function", "function": {
        "name": "lookup", "parameters": {"type": "object", "properties": {
            "term": {"type": "string"}, "limit": {"type": "integer"}}}}}]
    asked = client.chat.completions.create(
        model="o3-mini", tools=tools, messages=[{"role": "user", "content": "Find otters"}],
    )
    (call,) = asked.choices[0].message.tool_calls or []
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert asked.choices[0].finish_reason == "tool_calls"
    assert call.function.arguments == '{"term": "otters", "limit": 2}'
    assert asked.usage is not None
    assert asked.usage.completion_tokens_details is not None
    assert (asked.usage.completion_tokens_details.reasoning_tokens or 0) > 0

    chunks = list(client.chat.completions.create(
        model="o3-mini", tools=tools, stream=True,
        messages=[{"role": "user", "content": "Find otters"}],
    ))
    pieces = [tc.function.arguments for c in chunks if c.choices
              for tc in c.choices[0].delta.tool_calls or [] if tc.function]
    assert "".join(p or "" for p in pieces) == call.function.arguments

    history: Any = [
        {"role": "user", "content": "Find otters"},
        asked.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "2 otters"},
    ]
    answered = client.chat.completions.create(
        model="gpt-4o-mini", tools=tools, messages=history
    )
    assert answered.choices[0].message.content == "The tool answered: 2 otters"


def test_embeddings_in_both_encodings(client: openai.OpenAI) -> None:
    """Vectors are the bag-of-words `embed()` of each text, as floats or as base64 (which the
    SDK asks for by default and decodes)."""
    texts = ["blue sky", "green grass"]
    default = client.embeddings.create(model="text-embedding-3-small", input=texts)
    floats = client.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float"
    )
    for a, b, text in zip(default.data, floats.data, texts, strict=True):
        assert a.embedding == pytest.approx(embed(text), abs=1e-6)
        assert b.embedding == pytest.approx(embed(text))
    assert default.usage.prompt_tokens == default.usage.total_tokens == 4


def test_failures(client: openai.OpenAI) -> None:
    """`fail-model` is a 400 with an OpenAI error body, `fail-500-model` a 500."""
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=FAIL_MODEL, messages=[])
    assert bad.value.code == "model_not_found"
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model=FAIL_500_MODEL, input="x")
