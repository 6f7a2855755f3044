"""The trace view in headless Chromium, on traces that real instrumentors produced: LangChain
(OpenInference) running a RAG chain and a tool-using agent, and the OpenAI SDK (OpenInference)
embedding texts, all against the fake OpenAI server and exported to a real `ember serve`.

Checks: the tree and timeline, expand and collapse (one span, all), each kind's detail, search
inside the trace, keyboard navigation, the shareable span link. Takes the docs' screenshots
(docs/images, refreshed with EMBER_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from openinference.instrumentation import OITracer, TraceConfig
from openinference.instrumentation.langchain import LangChainInstrumentor
from openinference.instrumentation.openai import OpenAIInstrumentor
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from tests.conftest import EmberProcess
from tests.fakes.openai_server import FakeOpenAI
from tests.instrumented.support import Telemetry, one, span_id, trace_id
from tests.instrumented.test_openinference_langchain import FACTS, _agent
from tests.ui.pages import TraceView

pytestmark = pytest.mark.filterwarnings(
    "ignore:Calling .text\\(\\) as a method is deprecated"
)

QUESTION = "What color is the sky?"


@dataclass
class Run:
    """One stored trace: its project, id and spans (as the REST API returns them)."""

    project: str
    spans: list[dict[str, Any]]

    @property
    def trace_id(self) -> str:
        return trace_id(self.spans[0])

    def id_of(self, name: str) -> str:
        return span_id(one(self.spans, name))

    def ids_of(self, name: str) -> list[str]:
        found = sorted(
            (s for s in self.spans if s["name"] == name), key=lambda s: s["start_time_unix_nano"]
        )
        return [span_id(s) for s in found]


@dataclass
class Runs:
    rag: Run
    agent: Run
    embedding: Run


def _langchain_runs(server: EmberProcess, fake: FakeOpenAI) -> tuple[Run, Run]:
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=fake.base_url, api_key=SecretStr("sk-fake"),
                     max_retries=0, temperature=0)
    embeddings = OpenAIEmbeddings(model="text-embedding-3-small", base_url=fake.base_url,
                                  api_key=SecretStr("sk-fake"), check_embedding_ctx_length=False,
                                  max_retries=0)
    retriever = InMemoryVectorStore.from_documents(
        [Document(page_content=fact, metadata={"source": f"facts/{i}"})
         for i, fact in enumerate(FACTS)],
        embeddings,
    ).as_retriever(search_kwargs={"k": 2})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this context:\n{context}"), ("user", "{question}")]
    )
    rag = (
        {"context": retriever | (lambda docs: "\n".join(d.page_content for d in docs)),
         "question": RunnablePassthrough()}
        | prompt | llm | StrOutputParser()
    )
    runs = []
    for project, run in (("ui-rag", lambda: rag.invoke(QUESTION)),
                         ("ui-agent", lambda: _agent(llm).invoke("What is the weather in Paris?"))):
        telemetry = Telemetry(server, project)
        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(tracer_provider=telemetry.provider)
        try:
            run()
            runs.append(Run(project, telemetry.stored()))
        finally:
            instrumentor.uninstrument()
            telemetry.shutdown()
    return runs[0], runs[1]


def _embedding_run(server: EmberProcess, fake: FakeOpenAI) -> Run:
    telemetry = Telemetry(server, "ui-embedding")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.provider)
    try:
        client = openai.OpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
        tracer = OITracer(telemetry.provider.get_tracer("indexer"), config=TraceConfig())
        with tracer.start_as_current_span("index", openinference_span_kind="chain"):
            client.embeddings.create(model="text-embedding-3-small", input=FACTS[:2])
        return Run("ui-embedding", telemetry.stored())
    finally:
        instrumentor.uninstrument()
        telemetry.shutdown()


@pytest.fixture(scope="module")
def runs(ui_server: EmberProcess, fake_openai: FakeOpenAI) -> Iterator[Runs]:
    rag, agent = _langchain_runs(ui_server, fake_openai)
    yield Runs(rag, agent, _embedding_run(ui_server, fake_openai))


@pytest.fixture
def view(page: Page, ui_server: EmberProcess) -> TraceView:
    return TraceView(page, ui_server.url)


def _preorder(spans: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(level, name, kind) of every span, parents before children, siblings by start time."""
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        by_parent.setdefault(span["parent_id"], []).append(span)
    out: list[tuple[int, str, str]] = []

    def walk(parent: str | None, level: int) -> None:
        children = sorted(by_parent.get(parent, []), key=lambda s: s["start_time_unix_nano"])
        for child in children:
            out.append((level, child["name"], child["span_kind"]))
            walk(span_id(child), level + 1)

    walk(None, 1)
    return out


def test_rag_trace_tree_and_timeline(view: TraceView, runs: Runs, screenshot_dir: Path) -> None:
    """The RAG trace opens with every span in a row (tree order, nesting levels, kind labels),
    each with a bar on the timeline, and the root selected; the summary counts the spans."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    rows = view.rows()
    assert [(r["level"], r["name"], r["kind"]) for r in rows] == _preorder(rag.spans)
    assert len(rows) == len(rag.spans) == view.row_count()
    assert all(r["bar_width"].endswith("%") and float(r["bar_width"][:-1]) > 0 for r in rows)
    assert rows[0]["bar_width"] == "100%"  # the root spans the whole trace
    expect(view.page.locator("#tv-summary")).to_contain_text(f"{len(rag.spans)} spans")
    view.wait_selected(rows[0]["span_id"])
    view.wait_detail(rows[0]["span_id"])
    view.select(rag.id_of("VectorStoreRetriever"))
    view.page.screenshot(path=str(screenshot_dir / "trace-view-rag.png"))


def test_expand_and_collapse(view: TraceView, runs: Runs) -> None:
    """A span's toggle hides and shows its subtree; collapse all leaves the root; expand all
    brings every span back."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    total = len(rag.spans)
    parallel = rag.id_of("RunnableParallel<context,question>")
    row = view.row(parallel)
    expect(row).to_have_attribute("aria-expanded", "true")
    row.locator(".tv-toggle").click()
    # Its subtree: the inner sequence, the retriever, format step and the passthrough.
    view.wait_row_count(total - 4)
    expect(row).to_have_attribute("aria-expanded", "false")
    assert view.row(rag.id_of("VectorStoreRetriever")).count() == 0
    row.locator(".tv-toggle").click()
    view.wait_row_count(total)
    expect(view.row(rag.id_of("VectorStoreRetriever"))).to_be_visible()

    view.page.click("#tv-collapse-all")
    view.wait_row_count(1)
    assert [r["name"] for r in view.rows()] == ["RunnableSequence"]
    view.page.click("#tv-expand-all")
    view.wait_row_count(total)


def test_llm_span(view: TraceView, runs: Runs) -> None:
    """LLM: the conversation as chat (system prompt with the retrieved context, the user's
    question, the answer), model and provider, token counts and cost, parameters."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    detail = view.select(rag.id_of("ChatOpenAI"))
    messages = detail.locator(".sd-conversation .msg")
    expect(messages).to_have_count(3)
    roles = [messages.nth(i).get_attribute("data-role") for i in range(3)]
    assert roles == ["system", "user", "assistant"]
    expect(messages.nth(0)).to_contain_text("Answer from this context:")
    expect(messages.nth(1)).to_contain_text(QUESTION)
    expect(messages.nth(2)).to_contain_text(f"You said: {QUESTION}")
    model = detail.locator(".sd-model")
    expect(model).to_contain_text("gpt-4o-mini")
    expect(model).to_contain_text("openai")
    chips = model.locator(".chip")
    expect(chips.first).to_contain_text("prompt")
    expect(model).to_contain_text("total")
    expect(model).to_contain_text("cost from price table")
    expect(detail.locator(".sd-section", has_text="Invocation parameters")).to_contain_text(
        '"temperature": 0'
    )


def test_retriever_prompt_and_chain_spans(view: TraceView, runs: Runs) -> None:
    """RETRIEVER: the query and the documents in rank order with their metadata. PROMPT: the
    template with its variables. CHAIN: input and output."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    detail = view.select(rag.id_of("VectorStoreRetriever"))
    expect(detail.locator(".sd-retriever")).to_contain_text(QUESTION)
    stored = one(rag.spans, "VectorStoreRetriever")["attributes"]
    docs = detail.locator(".doc")
    expect(docs).to_have_count(2)
    for rank in range(2):
        content = stored[f"retrieval.documents.{rank}.document.content"]
        expect(docs.nth(rank)).to_contain_text(f"#{rank + 1}")
        expect(docs.nth(rank)).to_contain_text(content)
    docs.nth(0).locator(".doc-meta summary").click()
    expect(docs.nth(0).locator(".doc-meta")).to_contain_text('"source": "facts/')

    detail = view.select(rag.id_of("ChatPromptTemplate"))
    template = detail.locator(".sd-template")
    expect(template).to_contain_text("Answer from this context:\n{context}")
    variables = template.locator("table")
    expect(variables.locator("th")).to_have_text(["context"])
    expect(variables.locator("td")).to_contain_text(stored["retrieval.documents.0.document.content"])

    root = rag.ids_of("RunnableSequence")[0]
    detail = view.select(root)
    expect(detail.locator(".sd-io")).to_contain_text(QUESTION)
    expect(detail.locator(".sd-io")).to_contain_text(f"You said: {QUESTION}")


def test_agent_tool_and_tool_call(view: TraceView, runs: Runs, screenshot_dir: Path) -> None:
    """AGENT: input and answer. TOOL: name, description, arguments as JSON, result. The LLM
    span that asked for the tool shows the call with its arguments pretty-printed, and the
    tools it was offered."""
    agent = runs.agent
    view.open(agent.project, agent.trace_id)
    detail = view.wait_detail(agent.id_of("weather_agent"))
    expect(detail.locator(".kind-badge")).to_have_text("AGENT")
    expect(detail.locator(".sd-io")).to_contain_text("What is the weather in Paris?")
    expect(detail.locator(".sd-io")).to_contain_text("Sunny, 21C in Paris")

    detail = view.select(agent.id_of("get_weather"))
    tool = detail.locator(".sd-tool")
    expect(tool.locator(".tool-name")).to_have_text("get_weather")
    expect(tool.locator(".tool-description")).to_have_text("The current weather in a city.")
    stored = one(agent.spans, "get_weather")["attributes"]
    # LangChain records the tool's input as the tool received it, and its result as JSON.
    expect(tool.locator("h3:has-text('Arguments') + *")).to_have_text(stored["input.value"])
    result = tool.locator("h3:has-text('Result') + pre.code")
    assert json.loads(result.inner_text()) == json.loads(stored["output.value"])
    expect(result).to_contain_text('\n  "data": {\n    "content": "Sunny, 21C in Paris"')

    asking = agent.ids_of("ChatOpenAI")[0]
    detail = view.select(asking)
    view.page.screenshot(path=str(screenshot_dir / "trace-view-agent.png"))
    call = detail.locator(".sd-conversation .tool-call")
    expect(call).to_contain_text("get_weather")
    arguments = call.locator("pre.code").inner_text()
    assert json.loads(arguments) == {"city": "Paris"}
    assert arguments != json.dumps({"city": "Paris"})  # pretty-printed, not as sent
    tools = detail.locator(".sd-tools")
    tools.locator("summary").first.click()
    expect(tools).to_contain_text("get_weather: The current weather in a city.")


def test_embedding_span_shows_texts_not_vectors(view: TraceView, runs: Runs) -> None:
    """EMBEDDING: the model and each text with its vector's size; no vector value anywhere in
    the detail, the raw attributes table included."""
    run = runs.embedding
    view.open(run.project, run.trace_id)
    detail = view.select(run.id_of("CreateEmbeddings"))
    section = detail.locator(".sd-embedding")
    expect(section).to_contain_text("text-embedding-3-small")
    for fact in FACTS[:2]:
        expect(section).to_contain_text(fact)
    expect(section).to_contain_text("16 dimensions")
    vector = one(run.spans, "CreateEmbeddings")["attributes"][
        "embedding.embeddings.0.embedding.vector"
    ]
    detail.locator(".sd-attributes > summary").click()
    text = detail.inner_text()
    assert "16 numbers (not shown)" in text
    shown = [repr(x) for x in vector if len(repr(x)) > 6]
    assert shown and not [x for x in shown if x in text]


def test_attributes_table_is_searchable(view: TraceView, runs: Runs) -> None:
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    detail = view.select(rag.id_of("ChatOpenAI"))
    detail.locator(".sd-attributes > summary").click()
    rows = detail.locator(".sd-attributes tr[data-key]")
    total = rows.count()
    assert total > 10
    detail.locator(".attr-filter").fill("token_count")
    visible = detail.locator(".sd-attributes tr[data-key]:visible")
    keys = [visible.nth(i).get_attribute("data-key") for i in range(visible.count())]
    assert keys and all("token_count" in str(k) for k in keys), keys
    # Values are searched too.
    detail.locator(".attr-filter").fill("gpt-4o-mini-2024")
    assert "llm.model_name" in [
        visible.nth(i).get_attribute("data-key") for i in range(visible.count())
    ]
    detail.locator(".attr-filter").fill("no such attribute anywhere")
    expect(visible).to_have_count(0)
    expect(detail.locator(".attr-none")).to_be_visible()


def test_search_inside_the_trace(view: TraceView, runs: Runs) -> None:
    """By name (substring), by kind (whole word), by text in attributes (the server's search);
    Enter steps to the next match and selects it; Escape clears."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    retriever = rag.id_of("VectorStoreRetriever")
    view.search("storeretr")
    expect(view.page.locator("#tv-search-count")).to_have_text("1 of 1")
    expect(view.row(retriever)).to_have_class(
        "tv-row is-selected is-match is-current-match"
    )
    view.wait_detail(retriever)

    view.search("chain")
    chains = [s for s in rag.spans if s["span_kind"] == "CHAIN"]
    expect(view.page.locator("#tv-search-count")).to_have_text(f"1 of {len(chains)}")
    first = view.selected()
    view.page.locator("#tv-search").press("Enter")
    expect(view.page.locator("#tv-search-count")).to_have_text(f"2 of {len(chains)}")
    expect(view.page.locator(".tv-row.is-selected")).not_to_have_attribute(
        "data-span-id", first or ""
    )
    assert {r["span_id"] for r in view.rows() if "is-match" in r["classes"]} == {
        span_id(s) for s in chains
    }

    # Text only the retrieved documents and what was built from them hold.
    fact = "grass is green"
    holders = {span_id(s) for s in rag.spans if fact in json.dumps(s["attributes"]).lower()}
    assert retriever in holders
    view.search(fact)
    expect(view.page.locator("#tv-search-count")).to_have_text(f"1 of {len(holders)}")
    assert {r["span_id"] for r in view.rows() if "is-match" in r["classes"]} == holders

    view.page.locator("#tv-search").press("Escape")
    expect(view.page.locator("#tv-search-count")).to_have_text("")
    assert not [r for r in view.rows() if "is-match" in r["classes"]]


def test_keyboard_navigation(view: TraceView, runs: Runs) -> None:
    """Arrows move through the rows, Left collapses then goes to the parent, Right expands
    then goes to the first child, Home and End jump, and "/" focuses the search box."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    order = [r["span_id"] for r in view.rows()]
    view.tree.focus()
    keyboard = view.page.keyboard
    keyboard.press("Home")
    view.wait_selected(order[0])
    keyboard.press("ArrowDown")
    keyboard.press("ArrowDown")
    view.wait_selected(order[2])
    keyboard.press("ArrowUp")
    view.wait_selected(order[1])
    view.wait_detail(order[1])  # the detail follows the selection
    keyboard.press("End")
    view.wait_selected(order[-1])
    keyboard.press("ArrowLeft")  # a leaf: to its parent, the root
    view.wait_selected(order[0])
    keyboard.press("ArrowLeft")  # the root: collapse
    view.wait_row_count(1)
    keyboard.press("ArrowRight")  # expand
    view.wait_row_count(len(order))
    keyboard.press("ArrowRight")  # to the first child
    view.wait_selected(order[1])
    keyboard.press("/")
    expect(view.page.locator("#tv-search")).to_be_focused()


def test_shared_span_link(view: TraceView, runs: Runs, ui_server: EmberProcess) -> None:
    """The detail's link (and the address bar) name the span; opening the link selects that
    span, scrolls it into view and shows its detail; /spans/{id} redirects there."""
    rag = runs.rag
    view.open(rag.project, rag.trace_id)
    target = rag.id_of("StrOutputParser")
    detail = view.select(target)
    link = detail.locator(".sd-share").get_attribute("href")
    assert link == f"/projects/{rag.project}/traces/{rag.trace_id}?span={target}"
    assert view.page.url == f"{ui_server.url}{link}"

    view.goto(f"{ui_server.url}{link}")
    view.wait_selected(target)
    view.wait_detail(target)
    expect(view.row(target)).to_be_in_viewport()

    redirect = httpx.get(f"{ui_server.url}/spans/{target}", follow_redirects=False)
    assert redirect.status_code == 302
    assert redirect.headers["location"] == link
    view.goto(f"{ui_server.url}/spans/{target}?trace_id={rag.trace_id}")
    view.wait_selected(target)
    view.wait_detail(target)
