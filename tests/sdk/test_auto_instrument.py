"""register(auto_instrument=True) in the project's environment, where the OpenInference
instrumentors for openai, LangChain and LlamaIndex are installed with their libraries: each is
found through its `openinference_instrumentor` entry point and instrumented with the new
provider, and the spans of real library calls (against the fake OpenAI server) reach Ember.

Runs in a subprocess: instrumenting patches the libraries for the whole process."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from ember.demo.openai_server import FakeOpenAI
from tests.conftest import EmberProcess
from tests.sdk.conftest import clean_env, project_name
from tests.sdk.support import parent_name, wait_for_spans

SCRIPT = """
import json, sys
from ember_sdk import register

project, endpoint, base_url = sys.argv[1:4]
provider = register(project_name=project, endpoint=endpoint, batch=False, auto_instrument=True)

from openinference.instrumentation.langchain import LangChainInstrumentor
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
from openinference.instrumentation.openai import OpenAIInstrumentor
print(json.dumps({cls.__name__: cls().is_instrumented_by_opentelemetry
                  for cls in (LangChainInstrumentor, LlamaIndexInstrumentor, OpenAIInstrumentor)}))

import openai
client = openai.OpenAI(base_url=base_url, api_key="sk-fake", max_retries=0)
client.chat.completions.create(model="gpt-4o-mini",
                               messages=[{"role": "user", "content": "plain openai"}])

from langchain_openai import ChatOpenAI
ChatOpenAI(model="gpt-4o-mini", base_url=base_url, api_key="sk-fake", max_retries=0).invoke(
    "through langchain")
"""


def test_auto_instrument_instruments_the_installed_instrumentors(
    sdk_server: EmberProcess, fake_llm: FakeOpenAI, request: pytest.FixtureRequest
) -> None:
    installed = sorted(p.name for p in entry_points(group="openinference_instrumentor"))
    assert {"openai", "langchain", "llama_index"} <= set(installed)
    project = project_name(request)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, project, sdk_server.url, fake_llm.base_url],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == f"Ember: auto-instrumented: {', '.join(installed)}."
    assert json.loads(lines[2]) == {
        "LangChainInstrumentor": True, "LlamaIndexInstrumentor": True,
        "OpenAIInstrumentor": True,
    }

    spans = wait_for_spans(sdk_server, project, 3)
    summary = sorted((s["name"], s["span_kind"], parent_name(spans, s)) for s in spans)
    # The plain openai call is one LLM span. ChatOpenAI is seen by both instrumentors: the
    # LangChain one's LLM span, and the openai one's for the call it makes, in a trace of its
    # own (OpenInference's LangChain tracer deliberately does not make its spans current).
    assert summary == [
        ("ChatCompletion", "LLM", None),
        ("ChatCompletion", "LLM", None),
        ("ChatOpenAI", "LLM", None),
    ]
    assert len({s["context"]["trace_id"] for s in spans}) == 3
    for span in spans:
        assert span["attributes"]["llm.model_name"] == "gpt-4o-mini-2024-07-18"
