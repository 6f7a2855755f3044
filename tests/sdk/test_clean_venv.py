"""ember-sdk in a clean virtual environment holding only it: the server's packages are absent,
and an application traced with it reaches a real `ember serve` over OTLP/HTTP and gRPC, span by
span or in batches; with Ember stopped, the application keeps running and the SDK logs once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EmberProcess, free_port
from tests.sdk.conftest import Venv, clean_env, project_name
from tests.sdk.support import by_name, parent_name, wait_for_spans

pytestmark = pytest.mark.venv
APPS = Path(__file__).parent / "apps"


def test_the_light_sdk_installs_without_the_server(sdk_venv: Venv) -> None:
    """The venv has ember_sdk and its OpenTelemetry stack, and none of the server's packages;
    importing ember_sdk alone does not import OpenTelemetry's SDK (names load on first use)."""
    script = """
import importlib.util, json, sys
import ember_sdk
found = {name: importlib.util.find_spec(name) is not None for name in
         ["ember", "fastapi", "sqlalchemy", "uvicorn", "alembic", "psycopg", "openai",
          "opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http",
          "opentelemetry.exporter.otlp.proto.grpc", "openinference.instrumentation", "httpx"]}
print(json.dumps({"found": found, "sdk_loaded": "opentelemetry.sdk" in sys.modules,
                  "file": ember_sdk.__file__, "all": sorted(ember_sdk.__all__)}))
"""
    result = sdk_venv.run(script)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["found"] == {
        "ember": False, "fastapi": False, "sqlalchemy": False, "uvicorn": False,
        "alembic": False, "psycopg": False, "openai": False,
        "opentelemetry.sdk": True, "opentelemetry.exporter.otlp.proto.http": True,
        "opentelemetry.exporter.otlp.proto.grpc": True, "openinference.instrumentation": True,
        "httpx": True,
    }
    assert out["file"].startswith(str(sdk_venv.path)), "ember_sdk must come from the venv"
    assert out["sdk_loaded"] is False
    assert {"register", "using_session", "using_user", "using_metadata", "using_tags",
            "using_prompt_template", "using_attributes", "suppress_tracing", "chain", "agent",
            "tool", "llm", "retriever"} <= set(out["all"])


def test_the_helpers_are_openinference_own(sdk_venv: Venv) -> None:
    """Re-exported, not rewritten: the context managers are openinference-instrumentation's
    objects, and the decorators are methods of an OpenInference OITracer."""
    script = """
import ember_sdk, openinference.instrumentation as oi
names = ["using_session", "using_user", "using_metadata", "using_tags",
         "using_prompt_template", "using_attributes", "suppress_tracing"]
assert all(getattr(ember_sdk, n) is getattr(oi, n) for n in names), names
for d in ["chain", "agent", "tool", "llm", "retriever"]:
    method = getattr(ember_sdk, d)
    assert isinstance(method.__self__, oi.OITracer), d
    assert method.__func__ is getattr(oi.OITracer, d), d
print("ok")
"""
    result = sdk_venv.run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("protocol", "batch"), [("http/protobuf", True), ("http/protobuf", False), ("grpc", True)]
)
def test_an_app_traced_with_the_sdk_is_stored(
    sdk_venv: Venv, sdk_server: EmberProcess, request: pytest.FixtureRequest,
    protocol: str, batch: bool,
) -> None:
    project = project_name(request)
    endpoint = sdk_server.url if protocol != "grpc" else f"http://{sdk_server.grpc_endpoint}"
    kwargs: dict[str, Any] = {
        "project_name": project, "endpoint": endpoint, "protocol": protocol, "batch": batch,
        "api_key": "key-123", "headers": {"x-team": "search"},
    }
    result = sdk_venv.run(APPS / "traced_app.py", json.dumps(kwargs))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Ember: tracing project '{project}' to "
        f"{endpoint + '/v1/traces' if protocol != 'grpc' else endpoint} "
        f"({protocol}, {'in batches' if batch else 'span by span'}).",
        "answer to what is ember document about what is ember 5",
        "done",
    ]
    assert "Traceback" not in result.stderr and "ember_sdk" not in result.stderr

    spans = wait_for_spans(sdk_server, project, 7)
    named = by_name(spans)
    assert set(named) == {"planner", "pipeline", "lookup", "calculator", "generate",
                          "templated", "manual"}, "the suppressed span must not be stored"
    assert {name: (s["span_kind"], parent_name(spans, s)) for name, s in named.items()} == {
        "planner": ("AGENT", None),
        "pipeline": ("CHAIN", "planner"),
        "lookup": ("RETRIEVER", "pipeline"),
        "calculator": ("TOOL", "pipeline"),
        "generate": ("LLM", "pipeline"),
        "templated": ("CHAIN", None),
        "manual": ("CHAIN", "templated"),
    }
    for span in spans:
        assert span["project_name"] == project
        assert span["resource"]["attributes"]["openinference.project.name"] == project
        # The decorators set OK; a span started by hand has no status unless it is given one.
        assert span["status_code"] == ("UNSET" if span["name"] == "manual" else "OK")
    for name in ("planner", "pipeline", "lookup", "calculator", "generate"):
        attributes = named[name]["attributes"]
        assert attributes["session.id"] == "session-1", name
        assert attributes["user.id"] == "user-1", name
        assert json.loads(attributes["metadata"]) == {"tier": "gold"}, name
        assert list(attributes["tag.tags"]) == ["sdk-test"], name
    calculator = named["calculator"]["attributes"]
    assert calculator["tool.name"] == "calculator"
    assert calculator["tool.description"] == "Adds the numbers in an expression like '2+3'."
    assert calculator["output.value"] == "5"
    assert json.loads(named["lookup"]["attributes"]["output.value"]) == [
        "document about what is ember"
    ]
    assert named["planner"]["attributes"]["input.value"] == "what is ember"
    templated = named["templated"]["attributes"]
    assert templated["llm.prompt_template.template"] == "Hello {name}"
    assert templated["llm.prompt_template.version"] == "v2"
    assert json.loads(templated["llm.prompt_template.variables"]) == {"name": "Ada"}
    assert "session.id" not in templated
    assert named["manual"]["attributes"]["output.value"] == "manual output"


def test_environment_variables_configure_register(
    sdk_venv: Venv, sdk_server: EmberProcess, request: pytest.FixtureRequest
) -> None:
    """register() with no arguments: the project and endpoint come from EMBER_PROJECT_NAME and
    EMBER_COLLECTOR_ENDPOINT; the protocol from OTEL_EXPORTER_OTLP_PROTOCOL."""
    project = project_name(request)
    env = clean_env(
        EMBER_PROJECT_NAME=project,
        EMBER_COLLECTOR_ENDPOINT=f"http://{sdk_server.grpc_endpoint}",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    script = """
from ember_sdk import register
provider = register()
with provider.get_tracer("env").start_as_current_span("from-env"):
    pass
"""
    result = sdk_venv.run(script, env=env)
    assert result.returncode == 0, result.stderr
    assert f"to http://{sdk_server.grpc_endpoint} (grpc, in batches)" in result.stdout
    (span,) = wait_for_spans(sdk_server, project, 1)
    assert span["name"] == "from-env"


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("batch", [False, True])
def test_a_stopped_server_leaves_the_app_running_and_logs_once(
    sdk_venv: Venv, tmp_path: Path, batch: bool
) -> None:
    """Ember is not running: every export fails, the app finishes, and the SDK says so once
    (not once per export, and none of the OTLP exporter's own errors). When Ember starts, the
    next export goes through, which is said once more, and those spans are stored."""
    server = EmberProcess(tmp_path / "ember")  # its ports are chosen; not started yet
    process = subprocess.Popen(
        [str(sdk_venv.python), str(APPS / "down_app.py"), server.url, "1" if batch else "0",
         "5"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline().startswith("Ember: tracing project 'sdk-down-app'")
        assert process.stdout.readline() == "phase one done\n"
        server.start()
        process.stdin.write("go\n")
        process.stdin.flush()
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        if server.proc is not None:
            server.stop()
    assert process.returncode == 0, stderr
    assert stdout == "phase two done\n"
    assert _warnings(stderr) == [
        f"Could not export spans to Ember at {server.url}/v1/traces (nothing accepts "
        "connections there); spans are dropped until it answers again. The application keeps "
        "running (is `ember serve` running?).",
        f"Exporting spans to Ember at {server.url}/v1/traces again; 5 spans were dropped "
        "meanwhile.",
    ]


def test_register_against_nothing_at_all_exits_cleanly(sdk_venv: Venv) -> None:
    """A batch app whose Ember never comes: its spans go at exit, fail once, and the process
    still exits 0 with the one warning."""
    port = free_port()
    script = f"""
from ember_sdk import register
provider = register(project_name="nobody-home", endpoint="http://127.0.0.1:{port}")
tracer = provider.get_tracer("t")
for i in range(50):
    with tracer.start_as_current_span(f"s{{i}}"):
        pass
print("app finished")
"""
    result = sdk_venv.run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "app finished"
    assert len(_warnings(result.stderr)) == 1, result.stderr
    assert "Could not export spans to Ember" in result.stderr


def test_auto_instrument_skips_an_instrumentor_whose_library_is_absent(
    sdk_venv: Venv, tmp_path: Path
) -> None:
    """openinference-instrumentation-openai is installed (beside the venv, on PYTHONPATH) but
    `openai` is not: auto_instrument finds its entry point, skips it quietly, and the app
    runs."""
    overlay = tmp_path / "overlay"
    result = subprocess.run(
        [str(sdk_venv.python), "-m", "pip", "install", "--quiet", "--no-input", "--no-deps",
         "--target", str(overlay), "openinference-instrumentation-openai",
         "opentelemetry-instrumentation", "packaging"],
        capture_output=True, text=True, timeout=300, check=False, env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    script = f"""
import importlib.util, logging
from importlib.metadata import entry_points
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")
print(sorted(p.name for p in entry_points(group="openinference_instrumentor")))
from ember_sdk import register
register(project_name="no-openai", endpoint="http://127.0.0.1:{free_port()}",
         auto_instrument=True)
print(importlib.util.find_spec("openai") is None)
"""
    result = sdk_venv.run(script, env=clean_env(PYTHONPATH=str(overlay)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['openai']",
        "Ember: tracing project 'no-openai' to "
        f"{result.stdout.split(' to ')[1].split(' ')[0]} (http/protobuf, in batches).",
        "Ember: auto-instrumented: none.",
        "True",
    ]
    assert "DEBUG ember_sdk not instrumenting openai: " in result.stderr
    assert "ERROR" not in result.stderr and "WARNING" not in result.stderr
