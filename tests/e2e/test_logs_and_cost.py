"""OTLP logs (GenAI message events) and cost, end to end against a real `ember serve`.

The real OpenTelemetry SDK exports a GenAI chat span and its message events as log records,
over OTLP/HTTP and OTLP/gRPC, in either order; the span read back carries the messages.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
    OTLPLogExporter as GrpcLogExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import (
    OTLPLogExporter as HttpLogExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from tests.conftest import EmberProcess
from tests.helpers import (
    export_response,
    make_log,
    make_logs_request,
    make_span,
    post,
    project_request,
    span_id,
    trace_id,
)

PROTOBUF = "application/x-protobuf"
CHAT_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 200,
}
EXPECTED_COST = (1000 * 0.15 + 200 * 0.60) / 1e6  # gpt-4o-mini list prices per million


class Exporters:
    """A TracerProvider and LoggerProvider exporting synchronously to one server."""

    def __init__(self, server: EmberProcess, transport: str, project: str) -> None:
        resource = Resource.create({"openinference.project.name": project})
        if transport == "http":
            spans: Any = HttpSpanExporter(endpoint=f"{server.url}/v1/traces")
            logs: Any = HttpLogExporter(endpoint=f"{server.url}/v1/logs")
        else:
            spans = GrpcSpanExporter(endpoint=server.grpc_endpoint, insecure=True)
            logs = GrpcLogExporter(endpoint=server.grpc_endpoint, insecure=True)
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()


@pytest.fixture(params=["http", "grpc"])
def exporters(
    request: pytest.FixtureRequest, shared_server: EmberProcess
) -> Iterator[Callable[[str], Exporters]]:
    made: list[Exporters] = []

    def make(project: str) -> Exporters:
        made.append(Exporters(shared_server, request.param, f"{project}-{request.param}"))
        return made[-1]

    yield make
    for item in made:
        item.shutdown()


def _emit_messages(exporters: Exporters, trace: int, span: int, question: str) -> None:
    logger = exporters.logger_provider.get_logger("openai-v2-like")
    events: list[tuple[str, dict[str, Any]]] = [
        ("gen_ai.system.message", {"content": "You answer in one line."}),
        ("gen_ai.user.message", {"content": question}),
        ("gen_ai.choice", {"index": 0, "finish_reason": "stop",
                           "message": {"role": "assistant", "content": "Paris."}}),
    ]
    for offset, (name, body) in enumerate(events):
        logger.emit(LogRecord(
            timestamp=time.time_ns() + offset, trace_id=trace, span_id=span, event_name=name,
            body=body, attributes={"gen_ai.system": "openai"},
        ))


def _wait_for_messages(server: EmberProcess, span: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        response = server.get(f"/v1/spans/{span}")
        if response.status_code == 200:
            detail: dict[str, Any] = response.json()["data"]
            if "llm.output_messages.0.message.content" in detail["attributes"]:
                return detail
        assert time.monotonic() < deadline, f"span {span} never got its messages"
        time.sleep(0.05)


@pytest.mark.parametrize("logs_first", [False, True], ids=["span-first", "logs-first"])
def test_message_events_sent_as_logs_attach_to_their_span(
    shared_server: EmberProcess, exporters: Callable[[str], Exporters], logs_first: bool
) -> None:
    sdk = exporters(f"genai-logs-{logs_first}")
    tracer = sdk.tracer_provider.get_tracer("openai-v2-like")
    span = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=CHAT_ATTRIBUTES)
    context = span.get_span_context()
    if logs_first:
        _emit_messages(sdk, context.trace_id, context.span_id, "Capital of France?")
        span.end()
    else:
        span.end()
        _emit_messages(sdk, context.trace_id, context.span_id, "Capital of France?")

    detail = _wait_for_messages(shared_server, f"{context.span_id:016x}")
    attributes = detail["attributes"]
    assert detail["span_kind"] == "LLM"
    assert [attributes[f"llm.input_messages.{i}.message.role"] for i in range(2)] == [
        "system", "user"
    ]
    assert attributes["llm.input_messages.1.message.content"] == "Capital of France?"
    assert attributes["llm.output_messages.0.message.content"] == "Paris."
    assert [log["name"] for log in detail["logs"]] == [
        "gen_ai.system.message", "gen_ai.user.message", "gen_ai.choice"
    ]
    assert detail["logs"][2]["body"]["message"]["content"] == "Paris."
    assert detail["cost"]["total"] == pytest.approx(EXPECTED_COST)
    assert detail["cost"]["priced_as"] == "gpt-4o-mini"

    trace = shared_server.get(f"/v1/traces/{context.trace_id:032x}").json()["data"]
    assert trace["root_span"]["input_preview"] == "Capital of France?"
    assert trace["root_span"]["output_preview"] == "Paris."
    assert trace["cost"] == {"total": pytest.approx(EXPECTED_COST), "unpriced_spans": 0}
    assert trace["token_count"] == {"prompt": 1000, "completion": 200, "total": 1200}


def test_logs_as_otlp_json_and_records_without_a_span(shared_server: EmberProcess) -> None:
    trace, span = trace_id(), span_id()
    request = make_logs_request([
        make_log(trace, span, "gen_ai.user.message", {"content": "hello"}),
        make_log(b"", b"", "app.log", "a plain application log line"),
    ])
    body = json_format.MessageToJson(request)
    # OTLP/JSON ids are hex, not protobuf-JSON base64.
    document = json.loads(body)
    record = document["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    record["traceId"], record["spanId"] = trace.hex(), span.hex()
    response = httpx.post(
        f"{shared_server.url}/v1/logs", content=json.dumps(document),
        headers={"content-type": "application/json"}, timeout=10,
    )
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedLogRecords"] == "1"
    assert "log record 1 of scope 0 of resource 0" in partial["errorMessage"]
    assert "tied to a span" in partial["errorMessage"]

    export_response(post(shared_server.url, project_request("logs-json", [make_span(
        trace, span, name="llm", attributes={"gen_ai.operation.name": "chat"}
    )])))
    detail = _wait_for_messages_in(
        shared_server, span.hex(), "llm.input_messages.0.message.content"
    )
    assert detail["attributes"]["llm.input_messages.0.message.content"] == "hello"


def _wait_for_messages_in(server: EmberProcess, span: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        response = server.get(f"/v1/spans/{span}")
        if response.status_code == 200 and key in response.json()["data"]["attributes"]:
            return dict(response.json()["data"])
        assert time.monotonic() < deadline, f"span {span} never got {key}"
        time.sleep(0.05)


def test_bad_logs_bodies_are_refused_with_a_reason(shared_server: EmberProcess) -> None:
    garbage = httpx.post(
        f"{shared_server.url}/v1/logs", content=b"\xff\xfe not protobuf",
        headers={"content-type": PROTOBUF}, timeout=10,
    )
    assert garbage.status_code == 400
    assert "ExportLogsServiceRequest" in garbage.text
    wrong_type = httpx.post(
        f"{shared_server.url}/v1/logs", content=b"{}", headers={"content-type": "text/plain"},
        timeout=10,
    )
    assert wrong_type.status_code == 415


def test_a_log_request_with_no_span_records_gets_partial_success(
    shared_server: EmberProcess,
) -> None:
    request = make_logs_request([make_log(b"", b"", "x", "y") for _ in range(3)])
    response = httpx.post(
        f"{shared_server.url}/v1/logs", content=request.SerializeToString(),
        headers={"content-type": PROTOBUF}, timeout=10,
    )
    assert response.status_code == 200
    answer = ExportLogsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_log_records == 3


def test_a_prices_file_adds_and_overrides_models(
    server_factory: Callable[..., EmberProcess], tmp_path: Path
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[[provider]]\nname = "acme"\nsource = "our contract"\nread_on = "2026-11-01"\n\n'
        '[[provider.model]]\nname = "acme-large"\nprompt = 2.0\ncompletion = 8.0\n\n'
        '[[provider.model]]\nname = "gpt-4o-mini"\nprompt = 1.0\ncompletion = 1.0\n'
    )
    server = server_factory(env={"EMBER_PRICES_FILE": str(prices)})
    trace, root = trace_id(), span_id()
    spans = [
        make_span(trace, root, name="agent", attributes={"openinference.span.kind": "AGENT"}),
    ]
    for model in ("acme-large-2026-10-01", "gpt-4o-mini", "unknown-model"):
        spans.append(make_span(trace, span_id(), root, name=model, attributes={
            "openinference.span.kind": "LLM", "llm.model_name": model,
            "llm.token_count.prompt": 1_000_000, "llm.token_count.completion": 1_000_000,
        }))
    export_response(post(server.url, project_request("priced", spans)))
    got = server.get(f"/v1/traces/{trace.hex()}").json()["data"]
    costs = {s["name"]: s["cost"] for s in got["spans"]}
    assert costs["agent"] is None
    assert costs["acme-large-2026-10-01"]["total"] == pytest.approx(10.0)
    assert costs["acme-large-2026-10-01"]["prices_read_on"] == "2026-11-01"
    assert costs["gpt-4o-mini"]["total"] == pytest.approx(2.0)
    assert costs["unknown-model"]["total"] is None
    assert "no price for model 'unknown-model'" in costs["unknown-model"]["note"]
    assert got["cost"] == {"total": pytest.approx(12.0), "unpriced_spans": 1}


def test_a_bad_prices_file_stops_the_server_with_a_reason(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[provider]]\nname = "acme"\n')
    result = subprocess.run(
        [sys.executable, "-m", "ember", "serve", "--working-dir", str(tmp_path),
         "--prices-file", str(prices)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert str(prices) in result.stderr
    assert "source must be a non-empty string" in result.stderr
