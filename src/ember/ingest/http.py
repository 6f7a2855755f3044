"""OTLP/HTTP: `POST /v1/traces` and `POST /v1/logs`, a thin layer over `IngestService`.

Responses follow the OTLP/HTTP spec: the Export*ServiceResponse (with partial_success when
items were rejected) on success, a google.rpc.Status on failure, each encoded like the request
(protobuf or JSON). 503 carries Retry-After.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.requests import Request
from starlette.responses import Response

from ember.errors import EmberError, PayloadTooLarge, Unavailable
from ember.ingest import otlp
from ember.ingest.service import ExportOutcome, IngestService

PROJECT_HEADER = "x-project-name"


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _wants_json(request: Request) -> bool:
    return otlp.bare_media_type(request.headers.get("content-type")) == otlp.JSON


def _encode(message: object, as_json: bool) -> Response:
    if as_json:
        body = json_format.MessageToJson(message, indent=None)  # type: ignore[arg-type]
        return Response(body, media_type=otlp.JSON)
    return Response(message.SerializeToString(), media_type=otlp.PROTOBUF)  # type: ignore[attr-defined]


def error_response(error: EmberError, as_json: bool) -> Response:
    status = status_pb2.Status(code=_grpc_code(error.status), message=error.message)
    response = _encode(status, as_json)
    response.status_code = error.status
    if isinstance(error, Unavailable):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def _grpc_code(http_status: int) -> int:
    # google.rpc.Code values: INVALID_ARGUMENT 3, RESOURCE_EXHAUSTED 8, UNAVAILABLE 14, INTERNAL 13
    return {400: 3, 413: 8, 415: 3, 503: 14}.get(http_status, 13)


async def export_traces(request: Request) -> Response:
    return await _export(request, otlp.TRACES)


async def export_logs(request: Request) -> Response:
    return await _export(request, otlp.LOGS)


async def _export(request: Request, signal: otlp.Signal) -> Response:
    service: IngestService = request.app.state.ingest
    limit: int = request.app.state.settings.max_request_bytes
    as_json = _wants_json(request)
    try:
        otlp.media_type(request.headers.get("content-type"))
        otlp.content_encoding(request.headers.get("content-encoding"))
        service.admit()
        body = await read_body(request, limit)
        export_request = otlp.decode_export_request(
            body,
            request.headers.get("content-type"),
            request.headers.get("content-encoding"),
            limit,
            signal,
        )
        if signal is otlp.LOGS:
            outcome = await service.export_logs(export_request, "http")
        else:
            outcome = await service.export(
                export_request, request.headers.get(PROJECT_HEADER), "http"
            )
    except EmberError as error:
        if not isinstance(error, Unavailable):
            service.metrics.requests_rejected.labels(error.code).inc()
        return error_response(error, as_json)
    return _encode(export_response(signal, outcome), as_json)


def export_response(signal: otlp.Signal, outcome: ExportOutcome) -> Any:
    """The Export*ServiceResponse, with partial_success when items were rejected."""
    if signal is otlp.LOGS:
        logs_response = ExportLogsServiceResponse()
        if outcome.rejected:
            logs_response.partial_success.rejected_log_records = outcome.rejected
            logs_response.partial_success.error_message = outcome.message
        return logs_response
    response = ExportTraceServiceResponse()
    if outcome.rejected:
        response.partial_success.rejected_spans = outcome.rejected
        response.partial_success.error_message = outcome.message
    return response
