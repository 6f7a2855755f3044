"""opentelemetry-instrumentation-openai-v2 (the OTel contrib GenAI instrumentation) on the real
openai SDK, against the fake OpenAI server, exporting to a real `ember serve`.

With content capture on, this instrumentation keeps message content off the span: it sends it
as an OTLP log record (event `gen_ai.client.inference.operation.details`, with
`gen_ai.input.messages` / `gen_ai.output.messages` attributes) carrying the span's trace and
span ids, exported here by the OTel SDK's LoggerProvider and OTLPLogExporter (http/protobuf) to
`POST /v1/logs`. Ember is expected to put those messages on the span's OpenInference view.

Version note: openai-v2 2.4b0 takes its content mode from opentelemetry-util-genai, which
accepts NO_CONTENT, SPAN_ONLY, EVENT_ONLY or SPAN_AND_EVENT and reads `true` as NO_CONTENT, so
the tests ask for EVENT_ONLY (content in log records only).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from tests.fakes.openai_server import FakeOpenAI
from tests.instrumented.support import (
    Telemetry,
    assert_cost,
    assert_trace_cost,
    assert_trace_tokens,
    messages,
    span_id,
    trace_id,
    trace_json,
)

CONTENT_MODE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def _instrumentor() -> Any:
    return OpenAIInstrumentor()  # type: ignore[no-untyped-call]


def _instrument(telemetry: Telemetry, logger_provider: LoggerProvider | None) -> None:
    kwargs: dict[str, Any] = {"tracer_provider": telemetry.provider}
    if logger_provider is not None:
        kwargs["logger_provider"] = logger_provider
    _instrumentor().instrument(**kwargs)


@pytest.fixture
def client(telemetry: Telemetry, fake_openai: FakeOpenAI,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[openai.OpenAI]:
    """Spans only: content capture off, no logger provider."""
    monkeypatch.delenv(CONTENT_MODE, raising=False)
    _instrument(telemetry, None)
    try:
        yield openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-fake", max_retries=0)
    finally:
        _instrumentor().uninstrument()


@pytest.fixture
def logging_client(telemetry: Telemetry, fake_openai: FakeOpenAI,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[openai.OpenAI]:
    """Content capture on, as log records exported to the server's `/v1/logs`."""
    monkeypatch.setenv(CONTENT_MODE, "EVENT_ONLY")
    logger_provider = LoggerProvider(
        resource=Resource.create({"openinference.project.name": telemetry.project})
    )
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{telemetry.server.url}/v1/logs"))
    )
    _instrument(telemetry, logger_provider)
    try:
        yield openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-fake", max_retries=0)
    finally:
        _instrumentor().uninstrument()
        logger_provider.shutdown()


def _span_detail(telemetry: Telemetry, span: dict[str, Any], key: str,
                 timeout: float = 10.0) -> dict[str, Any]:
    """The span's full payload, polled until its attributes have `key` (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        response = telemetry.server.get(f"/v1/spans/{span_id(span)}",
                                        trace_id=trace_id(span))
        assert response.status_code == 200, response.text
        detail: dict[str, Any] = response.json()["data"]
        if key in detail["attributes"] or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def test_chat_span(client: openai.OpenAI, telemetry: Telemetry,
                   fake_openai: FakeOpenAI) -> None:
    """The GenAI chat span alone: kind LLM from `gen_ai.operation.name`, the dated response
    model, prompt/completion tokens from `gen_ai.usage.*` and their total, and the trace
    roll-up."""
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is a span?"}],
        max_tokens=64,
    )
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    attributes = span["attributes"]

    assert span["name"] == "chat gpt-4o-mini"
    assert span["otel_kind"] == "CLIENT"
    assert span["span_kind"] == "LLM"
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["llm.model_name"] == "gpt-4o-mini-2024-07-18"
    assert attributes["llm.provider"] == "openai"
    assert attributes["llm.token_count.prompt"] == call.usage["prompt_tokens"]
    assert attributes["llm.token_count.completion"] == call.usage["completion_tokens"]
    assert attributes["llm.token_count.total"] == call.usage["total_tokens"]
    assert "gen_ai.input.messages" not in attributes  # no content on the span
    assert_trace_tokens(telemetry.server, trace_id(span), [call.usage])


def test_messages_from_log_records(logging_client: openai.OpenAI, telemetry: Telemetry,
                                   fake_openai: FakeOpenAI) -> None:
    """Pending /v1/logs: the messages the instrumentation sent as a log record tied to the span
    end up on the span's OpenInference view (input and output messages)."""
    logging_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer in one line."},
            {"role": "user", "content": "Where do log records go?"},
        ],
    )
    (span,) = telemetry.stored()
    (call,) = fake_openai.chat_calls()
    assert "gen_ai.input.messages" not in span["attributes"]  # the content is in the log only

    detail = _span_detail(telemetry, span, "llm.output_messages.0.message.content")
    attributes = detail["attributes"]
    assert attributes.get("llm.input_messages.0.message.role") == "system", attributes
    assert attributes.get("llm.input_messages.0.message.content") == "Answer in one line."
    assert attributes.get("llm.input_messages.1.message.role") == "user"
    assert attributes.get("llm.input_messages.1.message.content") == "Where do log records go?"
    assert attributes.get("llm.output_messages.0.message.role") == "assistant"
    assert attributes.get("llm.output_messages.0.message.content") == (
        "You said: Where do log records go?"
    )
    assert [m["role"] for m in messages(attributes, "input")] == ["system", "user"]
    assert len(messages(attributes, "output")) == 1
    # Still the same span with the same counts.
    assert detail["span_kind"] == "LLM"
    assert attributes["llm.token_count.total"] == call.usage["total_tokens"]


def test_streamed_messages_from_log_records(logging_client: openai.OpenAI,
                                            telemetry: Telemetry) -> None:
    """Pending /v1/logs: a streamed reply's log record gives the span its assembled output."""
    stream = logging_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Stream the news"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    (span,) = telemetry.stored()
    detail = _span_detail(telemetry, span, "llm.output_messages.0.message.content")
    attributes = detail["attributes"]
    assert attributes.get("llm.input_messages.0.message.content") == "Stream the news", attributes
    assert attributes.get("llm.output_messages.0.message.content") == text


def test_cost(client: openai.OpenAI, telemetry: Telemetry) -> None:
    """Cost (pending): the span's derived token counts price it, and the trace's cost is the
    span's."""
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What will this cost?"}]
    )
    (span,) = telemetry.stored()
    assert_cost(span["attributes"])
    assert_trace_cost(trace_json(telemetry.server, trace_id(span)), [span["attributes"]])
