"""An agent run written in the OTel GenAI conventions with the plain OTel SDK (what agent
frameworks emit): `invoke_agent` over `chat`, `execute_tool`, `chat`. The agent span carries the
run's total usage, as the conventions allow; Ember must count the LLM spans' tokens only.

tests/e2e/test_conventions.py covers single GenAI and OpenLLMetry spans; this adds the tree.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.trace import SpanKind

from tests.instrumented.support import (
    Telemetry,
    assert_cost,
    assert_trace_cost,
    indexed,
    messages,
    one,
    trace_id,
    trace_json,
    tree,
)

ASK = {"input": 120, "output": 18, "cached": 40}
ANSWER = {"input": 165, "output": 24, "cached": 100}


def _chat(usage: dict[str, int], output: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": usage["input"],
        "gen_ai.usage.output_tokens": usage["output"],
        "gen_ai.usage.cache_read.input_tokens": usage["cached"],
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
        ),
        "gen_ai.output.messages": json.dumps(output),
    }


def _run_agent(telemetry: Telemetry) -> None:
    tracer = telemetry.provider.get_tracer("acme.agents", "1.0.0")
    agent_attributes: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "openai",
        "gen_ai.agent.name": "weather-agent",
        "gen_ai.agent.id": "agent-42",
        "gen_ai.conversation.id": "conv-genai-1",
        "gen_ai.request.model": "gpt-4o-mini",
        # the run's totals, which are the two chat calls' sums
        "gen_ai.usage.input_tokens": ASK["input"] + ANSWER["input"],
        "gen_ai.usage.output_tokens": ASK["output"] + ANSWER["output"],
    }
    with tracer.start_as_current_span(
        "invoke_agent weather-agent", kind=SpanKind.INTERNAL, attributes=agent_attributes
    ):
        tool_call = {"type": "tool_call", "id": "call_1", "name": "get_weather",
                     "arguments": {"city": "Paris"}}
        with tracer.start_as_current_span(
            "chat gpt-4o-mini", kind=SpanKind.CLIENT,
            attributes=_chat(ASK, [{"role": "assistant", "parts": [tool_call],
                                    "finish_reason": "tool_call"}]),
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool get_weather",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_weather",
                "gen_ai.tool.call.id": "call_1",
                "gen_ai.tool.description": "The current weather in a city.",
                "gen_ai.tool.call.arguments": json.dumps({"city": "Paris"}),
                "gen_ai.tool.call.result": "Sunny, 21C",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat gpt-4o-mini", kind=SpanKind.CLIENT,
            attributes=_chat(ANSWER, [{"role": "assistant", "parts": [
                {"type": "text", "content": "It is sunny, 21C in Paris."}
            ], "finish_reason": "stop"}]),
        ):
            pass


def test_agent_tree_counts_llm_tokens_only(telemetry: Telemetry) -> None:
    """The tree comes back as AGENT -> LLM, TOOL, LLM with names, tool and model mapped; the
    agent's run totals stay raw (not copied to its token counts), so the trace's total is the
    two chat calls' sum, not twice it; the conversation id is the trace's session."""
    _run_agent(telemetry)
    spans = telemetry.stored()
    assert tree(spans) == (
        "invoke_agent weather-agent", "AGENT", (
            ("chat gpt-4o-mini", "LLM", ()),
            ("execute_tool get_weather", "TOOL", ()),
            ("chat gpt-4o-mini", "LLM", ()),
        ),
    )
    agent = one(spans, "invoke_agent weather-agent")["attributes"]
    assert agent["agent.name"] == "weather-agent"
    assert agent["gen_ai.usage.input_tokens"] == 285  # raw key kept
    assert "llm.token_count.prompt" not in agent
    assert "llm.token_count.total" not in agent
    assert agent["session.id"] == "conv-genai-1"

    tool = one(spans, "execute_tool get_weather")["attributes"]
    assert tool["tool.name"] == "get_weather"
    assert tool["tool.id"] == "call_1"
    assert tool["tool.description"] == "The current weather in a city."

    asking, answering = sorted(
        (s for s in spans if s["span_kind"] == "LLM"), key=lambda s: s["start_time_unix_nano"]
    )
    for span, usage in ((asking, ASK), (answering, ANSWER)):
        attributes = span["attributes"]
        assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18"
        assert attributes["llm.token_count.prompt"] == usage["input"]
        assert attributes["llm.token_count.completion"] == usage["output"]
        assert attributes["llm.token_count.total"] == usage["input"] + usage["output"]
        assert attributes["llm.token_count.prompt_details.cache_read"] == usage["cached"]
        assert messages(attributes, "input") == [{"role": "user", "content": "Weather in Paris?"}]
    (call,) = indexed(asking["attributes"], "llm.output_messages.0.message.tool_calls")
    assert call["tool_call.function.name"] == "get_weather"
    assert call["tool_call.id"] == "call_1"
    assert messages(answering["attributes"], "output")[0]["content"] == (
        "It is sunny, 21C in Paris."
    )

    trace = trace_json(telemetry.server, trace_id(spans[0]))
    assert trace["token_count"] == {
        "prompt": ASK["input"] + ANSWER["input"],
        "completion": ASK["output"] + ANSWER["output"],
        "total": ASK["input"] + ANSWER["input"] + ASK["output"] + ANSWER["output"],
    }
    assert trace["root_span"]["span_kind"] == "AGENT"
    assert trace["session_id"] == "conv-genai-1"
    session = telemetry.server.get(
        f"/v1/projects/{telemetry.project}/sessions/conv-genai-1"
    ).json()["data"]
    assert session["trace_count"] == 1
    assert session["token_count"] == trace["token_count"]


def test_cost(telemetry: Telemetry) -> None:
    """Cost (pending): each chat span is priced from its tokens (cache reads at the cache
    rate); the agent span is not priced again; the trace's cost is the chats' sum."""
    _run_agent(telemetry)
    spans = telemetry.stored()
    chats = [s["attributes"] for s in spans if s["span_kind"] == "LLM"]
    assert len(chats) == 2
    for attributes in chats:
        assert_cost(attributes)
    agent = one(spans, "invoke_agent weather-agent")["attributes"]
    assert "llm.cost.total" not in agent
    assert_trace_cost(trace_json(telemetry.server, trace_id(spans[0])), chats)
