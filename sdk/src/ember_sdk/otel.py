"""register(): an OpenTelemetry TracerProvider that exports an application's spans to Ember."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Literal

from openinference.instrumentation import TracerProvider
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from ember_sdk.config import ExportConfig, resolve_export_config
from ember_sdk.exporter import GuardedExporter
from ember_sdk.instrument import auto_instrument as instrument_installed
from ember_sdk.settings import GRPC

log = logging.getLogger("ember_sdk")
PROJECT_ATTRIBUTE = "openinference.project.name"
Protocol = Literal["http/protobuf", "grpc"]


def register(
    project_name: str | None = None,
    endpoint: str | None = None,
    *,
    protocol: Protocol | None = None,
    batch: bool = True,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    auto_instrument: bool = False,
    set_global_tracer_provider: bool = True,
    verbose: bool = True,
) -> TracerProvider:
    """Trace this application into Ember.

    Builds an OpenInference `TracerProvider` (so `trace.get_tracer(__name__)` has the `chain`,
    `agent`, `tool`, `llm` and `retriever` decorators) whose resource names the project
    (`openinference.project.name`) and whose exporter sends OTLP to Ember.

    - project_name: else `EMBER_PROJECT_NAME`, else "default".
    - endpoint: Ember's URL, else `EMBER_COLLECTOR_ENDPOINT`, else the standard
      `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`, else
      http://127.0.0.1:6006 (OTLP/HTTP; `/v1/traces` is added) or http://127.0.0.1:4317 (gRPC).
    - protocol: "http/protobuf" or "grpc", else `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, else
      gRPC when the endpoint's port is 4317, else OTLP/HTTP.
    - batch: export in the background in batches (True) or each span as it ends (False).
    - api_key: else `EMBER_API_KEY`; sent as `authorization: Bearer <key>`.
    - headers: extra export headers, added to `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`.
    - auto_instrument: instrument every installed OpenInference instrumentor.
    - set_global_tracer_provider: make it OpenTelemetry's global provider (only the first one
      set in a process becomes global; a later call says so and returns its provider anyway).
    - verbose: print one line saying where spans go.

    Never raises because Ember is away: exports that fail are logged once and dropped while the
    application keeps running. Raises ValueError for a protocol or endpoint it cannot use.
    """
    config = resolve_export_config(project_name, endpoint, protocol, api_key, headers)
    provider = TracerProvider(resource=Resource.create({PROJECT_ATTRIBUTE: config.project_name}))
    exporter = GuardedExporter(_otlp_exporter(config), config.endpoint, config.host_port)
    processor: SpanProcessor = (
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    provider.add_span_processor(processor)

    is_global = False
    if set_global_tracer_provider:
        is_global = _set_global(provider)
    instrumented = instrument_installed(provider) if auto_instrument else []
    if verbose:
        _announce(config, batch, is_global, instrumented, auto_instrument)
    return provider


def _otlp_exporter(config: ExportConfig) -> SpanExporter:
    if config.protocol == GRPC:
        # Imported only when asked for: grpcio is slower to import than the HTTP exporter.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter(
            endpoint=config.endpoint,
            insecure=config.endpoint.startswith("http://"),
            headers=config.headers,
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(endpoint=config.endpoint, headers=config.headers)


def _set_global(provider: TracerProvider) -> bool:
    """Make `provider` global if no real provider is global yet (OpenTelemetry allows it once);
    say so plainly when one already is, rather than OpenTelemetry's generic warning."""
    current = trace.get_tracer_provider()
    if isinstance(current, trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
        return trace.get_tracer_provider() is provider
    log.warning(
        "A global TracerProvider is already set (register() was called before, or another "
        "tool set one); it stays global. The provider returned now exports to Ember only for "
        "code that is given it, e.g. provider.get_tracer(__name__)."
    )
    return False


def _announce(
    config: ExportConfig, batch: bool, is_global: bool, instrumented: list[str], auto: bool
) -> None:
    mode = "in batches" if batch else "span by span"
    lines = [
        f"Ember: tracing project {config.project_name!r} to {config.endpoint} "
        f"({config.protocol}, {mode}{'' if is_global else ', not global'})."
    ]
    if auto:
        names = ", ".join(instrumented) if instrumented else "none"
        lines.append(f"Ember: auto-instrumented: {names}.")
    print("\n".join(lines), file=sys.stdout, flush=True)
