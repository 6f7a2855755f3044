"""Every quickstart's code runs as written and its spans reach Ember.

From each page (docs/quickstarts/*.md and docs/sdk.md) the test takes the python blocks whose
first line is `# file: NAME.py` (a complete program) and the `export NAME=value` lines of its sh
blocks, then runs the program in this checkout's environment (where the packages the page
installs are installed) against the session's `ember serve`, with two substitutions a reader
would not need: Ember's address 127.0.0.1:6006 (and the Collector's 127.0.0.1:4318) become the
test server's, and the OpenAI variables point at the fake OpenAI server. Programs that call
register() without an endpoint get the server from EMBER_COLLECTOR_ENDPOINT.

No OpenTelemetry Collector binary (otelcol) is installed here, so the Collector page is checked
on the application side only: its collector.yaml is parsed and must forward OTLP/HTTP to
Ember's default address, and its app, configured for the Collector's port, runs against Ember
directly (which is what the Collector would forward to).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

from ember.demo.openai_server import FakeOpenAI
from tests.conftest import EmberProcess
from tests.sdk.conftest import clean_env
from tests.sdk.support import parent_name, wait_for_spans

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["quickstarts/openai.md", "quickstarts/langchain.md", "quickstarts/llama-index.md",
         "quickstarts/opentelemetry.md", "quickstarts/collector.md", "sdk.md"]


@dataclass(frozen=True)
class Page:
    files: dict[str, str]
    env: dict[str, str]


def read_page(name: str) -> Page:
    files: dict[str, str] = {}
    env: dict[str, str] = {}
    for token in MarkdownIt().parse((DOCS / name).read_text()):
        if token.type != "fence":
            continue
        first = token.content.split("\n", 1)[0]
        if match := re.fullmatch(r"# file: (\S+)", first):
            files[match.group(1)] = token.content
        elif token.info.strip() == "sh":
            for line in token.content.splitlines():
                if line.startswith("export "):
                    key, _, value = line.removeprefix("export ").partition("=")
                    env[key] = value.split("  #", 1)[0].strip()
    return Page(files, env)


def test_every_page_has_one_program() -> None:
    for name in PAGES:
        programs = [f for f in read_page(name).files if f.endswith(".py")]
        assert len(programs) == 1, (name, programs)
    assert set(read_page("quickstarts/collector.md").files) == {"collector.yaml", "app.py"}


def run_page(name: str, server: EmberProcess, fake: FakeOpenAI, tmp_path: Path) -> str:
    page = read_page(name)
    (program,) = [f for f in page.files if f.endswith(".py")]
    for file, text in page.files.items():
        (tmp_path / file).write_text(text)
    port = str(server.port)
    env = {key: value.replace("127.0.0.1:6006", f"127.0.0.1:{port}")
                     .replace("127.0.0.1:4318", f"127.0.0.1:{port}")
           for key, value in page.env.items()}
    env.update(
        EMBER_COLLECTOR_ENDPOINT=server.url,
        OPENAI_API_KEY="sk-fake",
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_API_BASE=fake.base_url,  # LlamaIndex's name for it
    )
    result = subprocess.run(
        [sys.executable, program], capture_output=True, text=True, timeout=180, check=False,
        env=clean_env(**env), cwd=tmp_path,
    )
    assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert "Could not export" not in result.stderr, result.stderr
    return result.stdout


def shape(spans: list[dict[str, Any]]) -> Counter[tuple[str, str, str | None]]:
    return Counter((s["name"], s["span_kind"], parent_name(spans, s)) for s in spans)


def test_openai_quickstart(sdk_server: EmberProcess, fake_llm: FakeOpenAI,
                           tmp_path: Path) -> None:
    out = run_page("quickstarts/openai.md", sdk_server, fake_llm, tmp_path)
    assert "You said: What does an observability server do?" in out
    assert out.rstrip().endswith("You said: Name three colours")
    spans = wait_for_spans(sdk_server, "openai-quickstart", 2)
    assert shape(spans) == Counter({("ChatCompletion", "LLM", None): 2})
    streamed = next(s for s in spans if "colours" in s["attributes"]["input.value"])
    attributes = streamed["attributes"]
    assert attributes["llm.output_messages.0.message.content"] == "You said: Name three colours"
    assert attributes["llm.token_count.total"] > 0
    assert attributes["llm.cost.total"] > 0


def test_langchain_quickstart(sdk_server: EmberProcess, fake_llm: FakeOpenAI,
                              tmp_path: Path) -> None:
    out = run_page("quickstarts/langchain.md", sdk_server, fake_llm, tmp_path)
    assert out.splitlines() == [
        f"Ember: tracing project 'langchain-quickstart' to {sdk_server.url}/v1/traces "
        "(http/protobuf, in batches).",
        "Ember: auto-instrumented: langchain, llama_index, openai.",
        "You said: Why trace an LLM application?",
    ]
    spans = wait_for_spans(sdk_server, "langchain-quickstart", 5)
    assert shape(spans) == Counter({
        ("RunnableSequence", "CHAIN", None): 1,
        ("ChatPromptTemplate", "PROMPT", "RunnableSequence"): 1,
        ("ChatOpenAI", "LLM", "RunnableSequence"): 1,
        ("StrOutputParser", "CHAIN", "RunnableSequence"): 1,
        # the openai instrumentor is installed here too: the call, in its own trace
        ("ChatCompletion", "LLM", None): 1,
    })


def test_llama_index_quickstart(sdk_server: EmberProcess, fake_llm: FakeOpenAI,
                                tmp_path: Path) -> None:
    out = run_page("quickstarts/llama-index.md", sdk_server, fake_llm, tmp_path)
    assert "What is a trace?" in out
    spans = wait_for_spans(sdk_server, "llamaindex-quickstart", 20)
    found = shape(spans)
    # The query's trace, as LlamaIndex's and the openai instrumentor's spans nest (the whole
    # tree has more steps: splitters, refine programs).
    for expected in [
        ("RetrieverQueryEngine.query", "CHAIN", None),
        ("VectorIndexRetriever.retrieve", "RETRIEVER", "RetrieverQueryEngine._query"),
        ("CompactAndRefine.synthesize", "CHAIN", "RetrieverQueryEngine._query"),
        ("OpenAI.chat", "LLM", "OpenAI.predict"),
        ("ChatCompletion", "LLM", "OpenAI.chat"),
        ("CreateEmbeddings", "EMBEDDING", "OpenAIEmbedding._get_query_embedding"),
        ("OpenAIEmbedding.get_text_embedding_batch", "EMBEDDING", None),
    ]:
        assert found[expected] == 1, (expected, found)
    (retrieve,) = [s for s in spans if s["name"] == "VectorIndexRetriever.retrieve"]
    attributes = retrieve["attributes"]
    assert "retrieval.documents.1.document.content" in attributes
    assert "retrieval.documents.2.document.content" not in attributes, "similarity_top_k=2"
    assert "A trace is a tree of spans" in json.dumps(attributes)
    (query,) = [s for s in spans if s["name"] == "RetrieverQueryEngine.query"]
    assert query["attributes"]["input.value"] == "What is a trace?"


def test_opentelemetry_env_only_quickstart(sdk_server: EmberProcess, fake_llm: FakeOpenAI,
                                           tmp_path: Path) -> None:
    page = read_page("quickstarts/opentelemetry.md")
    assert "ember" not in page.files["app.py"].lower(), "nothing in the code names Ember"
    run_page("quickstarts/opentelemetry.md", sdk_server, fake_llm, tmp_path)
    spans = wait_for_spans(sdk_server, "otel-quickstart", 2)
    assert shape(spans) == Counter({
        ("handle-request", "CHAIN", None): 1, ("lookup-weather", "TOOL", "handle-request"): 1,
    })
    assert spans[0]["resource"]["attributes"]["service.name"] == "weather-service"


def test_collector_quickstart(sdk_server: EmberProcess, fake_llm: FakeOpenAI,
                              tmp_path: Path) -> None:
    page = read_page("quickstarts/collector.md")
    config = yaml.safe_load(page.files["collector.yaml"])
    assert config["exporters"]["otlphttp/ember"]["endpoint"] == "http://127.0.0.1:6006"
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "127.0.0.1:4318"
    assert config["service"]["pipelines"]["traces"] == {
        "receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlphttp/ember"],
    }
    assert page.env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    run_page("quickstarts/collector.md", sdk_server, fake_llm, tmp_path)
    spans = wait_for_spans(sdk_server, "collector-quickstart", 2)
    assert shape(spans) == Counter({
        ("checkout", "CHAIN", None): 1, ("suggest-extras", "LLM", "checkout"): 1,
    })
    llm = next(s for s in spans if s["span_kind"] == "LLM")
    assert llm["attributes"]["llm.cost.total"] == pytest.approx((120 * 0.15 + 30 * 0.60) / 1e6)


def test_sdk_page_example(sdk_server: EmberProcess, fake_llm: FakeOpenAI,
                          tmp_path: Path) -> None:
    out = run_page("sdk.md", sdk_server, fake_llm, tmp_path)
    assert out.splitlines()[-1] == (
        "Order A-1001 left the warehouse yesterday. Tracking links arrive by e-mail."
    )
    spans = wait_for_spans(sdk_server, "support-bot", 3)
    assert shape(spans) == Counter({
        ("answer", "CHAIN", None): 1,
        ("search_help_centre", "RETRIEVER", "answer"): 1,
        ("order_status", "TOOL", "answer"): 1,
    })
    for span in spans:
        assert span["attributes"]["session.id"] == "chat-42"
        assert span["attributes"]["user.id"] == "customer-7"
