"""OTLP/gRPC: TraceService/Export on its own port, served by grpc.aio in the server's event loop."""

from __future__ import annotations

from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from ember.errors import EmberError, PayloadTooLarge, Unavailable
from ember.ingest import otlp
from ember.ingest.http import PROJECT_HEADER
from ember.ingest.service import IngestService


def _status_for(error: EmberError) -> grpc.StatusCode:
    if isinstance(error, Unavailable):
        # OTel exporters retry UNAVAILABLE with backoff.
        return grpc.StatusCode.UNAVAILABLE
    if isinstance(error, PayloadTooLarge):
        return grpc.StatusCode.RESOURCE_EXHAUSTED
    return grpc.StatusCode.INVALID_ARGUMENT


SERVICE_NAME = "opentelemetry.proto.collector.trace.v1.TraceService"


class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, ingest: IngestService) -> None:
        self._ingest = ingest

    async def Export(
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        metadata = dict(context.invocation_metadata() or ())
        project = metadata.get(PROJECT_HEADER)
        try:
            self._ingest.admit()
            if isinstance(request, bytes):
                request = otlp.parse_protobuf(request)
            outcome = await self._ingest.export(request, project, "grpc")
        except EmberError as error:
            if not isinstance(error, Unavailable):
                self._ingest.metrics.requests_rejected.labels(error.code).inc()
            await context.abort(_status_for(error), error.message)
            raise AssertionError("unreachable") from error  # abort raises
        response = trace_service_pb2.ExportTraceServiceResponse()
        if outcome.rejected:
            response.partial_success.rejected_spans = outcome.rejected
            response.partial_success.error_message = outcome.message
        return response


def create_grpc_server(ingest: IngestService, host: str, port: int, max_bytes: int) -> Any:
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ]
    )
    # The request arrives as bytes and is decoded by the servicer: an undecodable body then
    # gets INVALID_ARGUMENT with a message saying what is wrong, not grpc's UNKNOWN.
    handler = grpc.method_handlers_generic_handler(
        SERVICE_NAME,
        {
            "Export": grpc.unary_unary_rpc_method_handler(
                TraceService(ingest).Export,
                request_deserializer=None,
                response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not bind the gRPC port {host}:{port}")
    return server
