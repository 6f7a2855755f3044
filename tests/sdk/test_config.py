"""register()'s settings: an argument beats the environment, which beats the default; the
exporter URL for each protocol; headers and the API key; clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from ember_sdk.config import ExportConfig, resolve_export_config
from ember_sdk.settings import resolve, settings_markdown

ROOT = Path(__file__).resolve().parents[2]


def config(environ: dict[str, str] | None = None, **arguments: object) -> ExportConfig:
    return resolve_export_config(environ=environ or {}, **arguments)  # type: ignore[arg-type]


def test_defaults() -> None:
    assert config() == ExportConfig("default", "http/protobuf",
                                    "http://127.0.0.1:6006/v1/traces", {})
    assert config(protocol="grpc") == ExportConfig("default", "grpc", "http://127.0.0.1:4317",
                                                   {})


def test_an_argument_beats_the_environment_which_beats_the_default() -> None:
    env = {"EMBER_PROJECT_NAME": "from-env", "EMBER_COLLECTOR_ENDPOINT": "http://env:7000",
           "EMBER_API_KEY": "env-key"}
    assert config(env).project_name == "from-env"
    assert config(env, project_name="from-arg").project_name == "from-arg"
    assert config(env).endpoint == "http://env:7000/v1/traces"
    assert config(env, endpoint="http://arg:8000").endpoint == "http://arg:8000/v1/traces"
    assert config(env).headers == {"authorization": "Bearer env-key"}
    assert config(env, api_key="arg-key").headers == {"authorization": "Bearer arg-key"}


def test_ember_variables_beat_the_standard_otel_ones() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}
    assert config(env).endpoint == "http://otel:4318/v1/traces"
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://traces:4318/custom/path"
    assert config(env).endpoint == "http://traces:4318/custom/path", "used exactly as given"
    env["EMBER_COLLECTOR_ENDPOINT"] = "http://ember:6006/"
    assert config(env).endpoint == "http://ember:6006/v1/traces"
    assert resolve("endpoint", None, env).source == "EMBER_COLLECTOR_ENDPOINT"
    assert resolve("endpoint", None, {"EMBER_COLLECTOR_ENDPOINT": "  "}).source == "default"


def test_protocol_from_the_environment_or_the_port() -> None:
    assert config({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}).endpoint == "http://127.0.0.1:4317"
    traces_first = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}
    assert config(traces_first).protocol == "http/protobuf"
    assert config(endpoint="http://collector:4317").protocol == "grpc"
    assert config(endpoint="collector:4317").endpoint == "http://collector:4317"
    assert config(endpoint="http://collector:4317/v1/traces", protocol="grpc").endpoint == (
        "http://collector:4317"
    ), "gRPC has no path"
    assert config(endpoint="https://ember.example.com/base").endpoint == (
        "https://ember.example.com/base/v1/traces"
    )
    assert config(endpoint="https://ember.example.com/v1/traces").endpoint == (
        "https://ember.example.com/v1/traces"
    )


def test_headers_merge_environment_arguments_and_key() -> None:
    env = {"OTEL_EXPORTER_OTLP_HEADERS": "X-Team=search,x-note=a%20b",
           "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-only=traces"}
    assert config(env).headers == {"x-only": "traces"}, "the traces variable wins"
    del env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"]
    assert config(env, headers={"X-Team": "ads", "x-extra": "1"}, api_key="k").headers == {
        "x-team": "ads", "x-note": "a b", "x-extra": "1", "authorization": "Bearer k",
    }


def test_bad_values_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"protocol='http/json': Ember's SDK exports with one "
                                         r"of http/protobuf, grpc"):
        config(protocol="http/json")
    with pytest.raises(ValueError, match=r"OTEL_EXPORTER_OTLP_PROTOCOL='thrift'"):
        config({"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"})
    with pytest.raises(ValueError, match=r"endpoint='ftp://x': expected a URL like"):
        config(endpoint="ftp://x")
    with pytest.raises(ValueError, match=r"EMBER_COLLECTOR_ENDPOINT='http://x:port'"):
        config({"EMBER_COLLECTOR_ENDPOINT": "http://x:port"})


def test_docs_show_the_settings_table() -> None:
    """docs/sdk.md holds the table generated from ember_sdk.settings (copy
    `python -c "from ember_sdk.settings import settings_markdown as m; print(m())"` into it)."""
    page = (ROOT / "docs" / "sdk.md").read_text()
    begin, end = "<!-- ember_sdk.settings table: begin -->\n", "<!-- ember_sdk.settings table: end"
    assert page[page.index(begin) + len(begin): page.index(end)] == settings_markdown()
