"""The one table of ember-sdk's client-side settings.

Each setting has a name, the environment variables that may carry it (the first one set wins),
a default and a help text. `resolve()` applies the rule every Ember tool follows: an argument
beats the environment, which beats the default. Nothing else in ember_sdk reads `os.environ`.

The server's settings live in the server package (`ember.settings`); this table holds only what
an instrumented application or a client needs, so the SDK never imports the server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_HTTP_ENDPOINT = "http://127.0.0.1:6006"
DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"
HTTP_PROTOBUF = "http/protobuf"
GRPC = "grpc"
PROTOCOLS = (HTTP_PROTOBUF, GRPC)


@dataclass(frozen=True)
class ClientSetting:
    name: str
    env: tuple[str, ...]
    default: str | None
    help: str


SETTINGS: tuple[ClientSetting, ...] = (
    ClientSetting(
        "endpoint",
        ("EMBER_COLLECTOR_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
         "OTEL_EXPORTER_OTLP_ENDPOINT"),
        None,
        f"Where spans go. Ember's base URL ({DEFAULT_HTTP_ENDPOINT}; `/v1/traces` is added for "
        f"OTLP/HTTP) or, with gRPC, host and port ({DEFAULT_GRPC_ENDPOINT}). "
        "`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used exactly as given.",
    ),
    ClientSetting(
        "project_name", ("EMBER_PROJECT_NAME",), "default",
        "Project the spans belong to (the `openinference.project.name` resource attribute).",
    ),
    ClientSetting(
        "api_key", ("EMBER_API_KEY",), None,
        "API key, sent as `authorization: Bearer <key>` with every export.",
    ),
    ClientSetting(
        "protocol", ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"), None,
        f"`{HTTP_PROTOBUF}` or `{GRPC}`; unset, it is gRPC when the endpoint's port is 4317, "
        f"else {HTTP_PROTOBUF}.",
    ),
    ClientSetting(
        "headers", ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"), None,
        "Extra export headers, `key1=value1,key2=value2` (values URL-encoded).",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from: "argument", an environment variable's name,
    or "default"."""

    value: str | None
    source: str


def resolve(
    name: str, argument: str | None = None, environ: Mapping[str, str] | None = None
) -> Resolved:
    """The value of setting `name`: `argument` if not None, else the first of its environment
    variables that is set and not empty, else its default."""
    setting = _BY_NAME[name]
    if argument is not None:
        return Resolved(argument, "argument")
    env = os.environ if environ is None else environ
    for variable in setting.env:
        raw = env.get(variable)
        if raw is not None and raw.strip():
            return Resolved(raw.strip(), variable)
    return Resolved(setting.default, "default")


def settings_markdown() -> str:
    """The table docs/sdk.md shows (a test checks the page holds it)."""
    lines = [
        "| setting | environment variables (first set wins) | default | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        variables = ", ".join(f"`{v}`" for v in s.env)
        default = f"`{s.default}`" if s.default is not None else "(none)"
        lines.append(f"| `{s.name}` | {variables} | {default} | {s.help} |")
    return "\n".join(lines) + "\n"
