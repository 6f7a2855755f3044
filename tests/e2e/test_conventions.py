"""Spans written in OTel GenAI and OpenLLMetry conventions, sent with the real OTel SDK, come back
with the OpenInference keys filled in beside the raw ones, and a mapping report."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from tests.conftest import EmberProcess

GENAI_CHAT: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 30,
    "gen_ai.input.messages": json.dumps(
        [
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        ]
    ),
    "gen_ai.output.messages": json.dumps(
        [
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "tool_call",
                        "id": "call_1",
                        "name": "get_weather",
                        "arguments": {"city": "Paris"},
                    }
                ],
                "finish_reason": "tool_call",
            }
        ]
    ),
    "acme.team": "search",
}

OPENLLMETRY_CHAT: dict[str, Any] = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.prompt.0.role": "user",
    "gen_ai.prompt.0.content": "Tell me a joke",
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.content": "Why did the span cross the road?",
    "gen_ai.completion.0.finish_reason": "stop",
    "llm.usage.total_tokens": 21,
    "gen_ai.usage.prompt_tokens": 9,
    "gen_ai.usage.completion_tokens": 12,
}


def _send(server: EmberProcess, project: str, spans: list[tuple[str, dict[str, Any]]]) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": project}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces"))
    )
    tracer = provider.get_tracer("conventions-test")
    for name, attributes in spans:
        with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
            pass
    provider.shutdown()


def test_otel_genai_span_gets_the_openinference_view(shared_server: EmberProcess) -> None:
    _send(shared_server, "conv-genai", [("chat gpt-4o", GENAI_CHAT)])
    (span,) = shared_server.spans("conv-genai")
    attributes = span["attributes"]
    for key, value in GENAI_CHAT.items():  # every raw key is still there, unchanged
        assert attributes[key] == value
    assert span["span_kind"] == "LLM"
    assert attributes["llm.model_name"] == "gpt-4o-2024-08-06"
    assert attributes["llm.token_count.prompt"] == 120
    assert attributes["llm.token_count.completion"] == 30
    assert attributes["llm.token_count.total"] == 150
    assert attributes["llm.input_messages.0.message.role"] == "system"
    assert attributes["llm.input_messages.1.message.content"] == "Weather in Paris?"
    tool_call = "llm.output_messages.0.message.tool_calls.0.tool_call"
    assert attributes[f"{tool_call}.function.name"] == "get_weather"
    assert json.loads(attributes[f"{tool_call}.function.arguments"]) == {"city": "Paris"}
    assert "llm.model_name" in span["derived_attributes"]
    assert "gen_ai.request.model" not in span["derived_attributes"]

    detail = shared_server.get(f"/v1/spans/{span['context']['span_id']}").json()["data"]
    report = detail["mapping_report"]
    assert report["dialect"] == "otel_genai"
    by_target = {entry["target"]: entry for entry in report["entries"]}
    assert "gen_ai.response.model" in by_target["llm.model_name"]["sources"]
    assert "acme.team" in report["unmapped"]

    # The promoted columns follow the view: filtering by kind finds the GenAI span.
    llm_only = shared_server.spans("conv-genai", span_kind="LLM")
    assert [s["context"]["span_id"] for s in llm_only] == [span["context"]["span_id"]]


def test_openllmetry_span_gets_the_openinference_view(shared_server: EmberProcess) -> None:
    _send(shared_server, "conv-openllmetry", [("openai.chat", OPENLLMETRY_CHAT)])
    (span,) = shared_server.spans("conv-openllmetry")
    attributes = span["attributes"]
    assert span["span_kind"] == "LLM"
    assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18"
    assert attributes["llm.token_count.total"] == 21
    assert attributes["llm.input_messages.0.message.content"] == "Tell me a joke"
    assert attributes["llm.output_messages.0.message.content"] == (
        "Why did the span cross the road?"
    )
    detail = shared_server.get(f"/v1/spans/{span['context']['span_id']}").json()["data"]
    assert detail["mapping_report"]["dialect"] == "openllmetry"


def test_native_openinference_keys_win(shared_server: EmberProcess) -> None:
    both = {
        **GENAI_CHAT,
        "openinference.span.kind": "LLM",
        "llm.model_name": "my-own-name",
        "llm.token_count.prompt": 7,
    }
    _send(shared_server, "conv-both", [("both", both)])
    (span,) = shared_server.spans("conv-both")
    assert span["attributes"]["llm.model_name"] == "my-own-name"
    assert span["attributes"]["llm.token_count.prompt"] == 7
    assert "llm.model_name" not in span.get("derived_attributes", [])


def test_plain_openinference_span_has_an_empty_report(shared_server: EmberProcess) -> None:
    _send(
        shared_server,
        "conv-plain",
        [("llm", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini"})],
    )
    (span,) = shared_server.spans("conv-plain")
    assert "derived_attributes" not in span
    detail = shared_server.get(f"/v1/spans/{span['context']['span_id']}").json()["data"]
    assert detail["mapping_report"] == {"dialect": "openinference", "entries": [], "unmapped": []}
    missing = shared_server.get("/v1/spans/00000000000000aa")
    assert missing.status_code == 404
    assert "no span with id" in missing.json()["error"]["message"]
