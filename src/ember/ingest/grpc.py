"""OTLP/gRPC: TraceService/Export and LogsService/Export on their own port, served by grpc.aio in
the server's event loop."""

from __future__ import annotations

from typing import Any

import grpc

from ember.errors import EmberError, PayloadTooLarge, Unavailable
from ember.ingest import otlp
from ember.ingest.http import PROJECT_HEADER, export_response
from ember.ingest.service import IngestService


def _status_for(error: EmberError) -> grpc.StatusCode:
    if isinstance(error, Unavailable):
        # OTel exporters retry UNAVAILABLE with backoff.
        return grpc.StatusCode.UNAVAILABLE
    if isinstance(error, PayloadTooLarge):
        return grpc.StatusCode.RESOURCE_EXHAUSTED
    return grpc.StatusCode.INVALID_ARGUMENT


SERVICE_NAME = "opentelemetry.proto.collector.trace.v1.TraceService"
LOGS_SERVICE_NAME = "opentelemetry.proto.collector.logs.v1.LogsService"


class OtlpExport:
    """The Export method of TraceService or LogsService (by `signal`)."""

    def __init__(self, ingest: IngestService, signal: otlp.Signal) -> None:
        self._ingest = ingest
        self._signal = signal

    async def export(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        metadata = dict(context.invocation_metadata() or ())
        try:
            self._ingest.admit()
            if isinstance(request, bytes):
                request = otlp.parse_protobuf(request, self._signal)
            if self._signal is otlp.LOGS:
                outcome = await self._ingest.export_logs(request, "grpc")
            else:
                outcome = await self._ingest.export(request, metadata.get(PROJECT_HEADER), "grpc")
        except EmberError as error:
            if not isinstance(error, Unavailable):
                self._ingest.metrics.requests_rejected.labels(error.code).inc()
            await context.abort(_status_for(error), error.message)
            raise AssertionError("unreachable") from error  # abort raises
        return export_response(self._signal, outcome)


def create_grpc_server(ingest: IngestService, host: str, port: int, max_bytes: int) -> Any:
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ]
    )
    # Requests arrive as bytes and are decoded by the servicer: an undecodable body then gets
    # INVALID_ARGUMENT with a message saying what is wrong, not grpc's UNKNOWN.
    for service, signal in ((SERVICE_NAME, otlp.TRACES), (LOGS_SERVICE_NAME, otlp.LOGS)):
        handler = grpc.method_handlers_generic_handler(
            service,
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    OtlpExport(ingest, signal).export,  # a coroutine function, as grpc.aio needs
                    request_deserializer=None,
                    response_serializer=_serialize,
                )
            },
        )
        server.add_generic_rpc_handlers((handler,))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind the gRPC port {host}:{port}")
    return server


def _serialize(response: Any) -> bytes:
    return bytes(response.SerializeToString())
