"""Where and how register() exports: arguments and environment resolved into one ExportConfig.

Pure (no network, no OpenTelemetry objects), so the precedence rules are tested on their own:
an argument beats the environment, which beats the default (see ember_sdk.settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.util.re import parse_env_headers

from ember_sdk.settings import (
    DEFAULT_GRPC_ENDPOINT,
    DEFAULT_HTTP_ENDPOINT,
    GRPC,
    HTTP_PROTOBUF,
    PROTOCOLS,
    resolve,
)

TRACES_PATH = "/v1/traces"
GRPC_PORT = 4317


@dataclass(frozen=True)
class ExportConfig:
    """Everything the exporter needs.

    `endpoint` is the exporter's URL: for OTLP/HTTP the full traces URL (`.../v1/traces`), for
    gRPC `scheme://host:port`. `headers` have lowercase keys (gRPC metadata requires it).
    """

    project_name: str
    protocol: str
    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def host_port(self) -> tuple[str, int]:
        """Host and port the exporter connects to (for the reachability probe)."""
        parts = urlsplit(self.endpoint)
        default_port = 443 if parts.scheme == "https" else 80
        return parts.hostname or "127.0.0.1", parts.port or default_port


def resolve_export_config(
    project_name: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExportConfig:
    """Resolve register()'s arguments against the environment.

    Raises ValueError with a message naming the bad value when the protocol or endpoint cannot
    be used (a mistake in the app's code or environment, reported before anything is traced).
    """
    project = resolve("project_name", project_name, environ).value or "default"
    found_endpoint = resolve("endpoint", endpoint, environ)
    found_protocol = resolve("protocol", protocol, environ)

    chosen_protocol = found_protocol.value
    if chosen_protocol is None:
        port = _port_of(found_endpoint.value) if found_endpoint.value else None
        chosen_protocol = GRPC if port == GRPC_PORT else HTTP_PROTOBUF
    chosen_protocol = chosen_protocol.strip().lower()
    if chosen_protocol not in PROTOCOLS:
        where = "protocol" if found_protocol.source == "argument" else found_protocol.source
        raise ValueError(
            f"{where}={found_protocol.value!r}: Ember's SDK exports with one of "
            f"{', '.join(PROTOCOLS)}"
        )

    raw_endpoint = found_endpoint.value or (
        DEFAULT_GRPC_ENDPOINT if chosen_protocol == GRPC else DEFAULT_HTTP_ENDPOINT
    )
    as_given = found_endpoint.source == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    url = _exporter_url(raw_endpoint, chosen_protocol, as_given, found_endpoint.source)

    all_headers: dict[str, str] = {}
    env_headers = resolve("headers", None, environ).value
    if env_headers:
        all_headers.update(parse_env_headers(env_headers, liberal=True))
    for name, value in (headers or {}).items():
        all_headers[name.lower()] = value
    key = resolve("api_key", api_key, environ).value
    if key:
        all_headers["authorization"] = f"Bearer {key}"
    return ExportConfig(project, chosen_protocol, url, all_headers)


def _port_of(endpoint: str) -> int | None:
    try:
        return urlsplit(_with_scheme(endpoint)).port
    except ValueError:
        return None


def _with_scheme(endpoint: str) -> str:
    return endpoint if "://" in endpoint else f"http://{endpoint}"


def _exporter_url(endpoint: str, protocol: str, as_given: bool, source: str) -> str:
    where = "endpoint" if source in ("argument", "default") else source
    parts = urlsplit(_with_scheme(endpoint.strip()))
    try:
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError as exc:
        raise ValueError(f"{where}={endpoint!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{where}={endpoint!r}: expected a URL like {DEFAULT_HTTP_ENDPOINT}"
        )
    if protocol == GRPC:
        # gRPC has no path: host and port are all the exporter uses.
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    path = parts.path.rstrip("/")
    if not as_given and not path.endswith(TRACES_PATH):
        path += TRACES_PATH
    return urlunsplit((parts.scheme, parts.netloc, path or TRACES_PATH, parts.query, ""))
