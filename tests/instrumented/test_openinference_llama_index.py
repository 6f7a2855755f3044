"""openinference-instrumentation-llama-index on llama-index-core with the OpenAI LLM and
embedding integrations pointed at the fake OpenAI server, exporting to a real `ember serve`:
a VectorStoreIndex query engine (retrieve, then synthesize) and chat engine turns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.chat_engine.types import ChatMode
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI
from openinference.instrumentation import using_session
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

from tests.fakes.openai_server import FakeOpenAI, embed
from tests.instrumented.support import (
    Telemetry,
    assert_cost,
    assert_tokens,
    assert_trace_cost,
    assert_trace_tokens,
    by_name,
    in_trace,
    indexed,
    messages,
    one,
    span_id,
    trace_id,
    trace_json,
)

# The instrumentation calls pydantic's deprecated `.json()`: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The `json` method is deprecated")

FACTS = [
    "The sky is blue and the sky is wide.",
    "Grass is green under a blue sky.",
    "Otters hold hands while sleeping.",
    "Paris is the capital of France.",
]


@pytest.fixture(scope="module")
def index(fake_openai_server: FakeOpenAI) -> VectorStoreIndex:
    """The facts indexed once, before any instrumentation (building it is not under test)."""
    embed_model = OpenAIEmbedding(
        model="text-embedding-3-small", api_base=fake_openai_server.base_url,
        api_key="sk-fake", max_retries=0,
    )
    return VectorStoreIndex.from_documents(
        [Document(text=fact) for fact in FACTS], embed_model=embed_model
    )


@pytest.fixture
def llm(fake_openai: FakeOpenAI) -> OpenAI:
    return OpenAI(model="gpt-4o-mini", api_base=fake_openai.base_url, api_key="sk-fake",
                  max_retries=0)


@pytest.fixture
def instrumented(telemetry: Telemetry) -> Iterator[Telemetry]:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.provider)
    try:
        yield telemetry
    finally:
        instrumentor.uninstrument()


def path(spans: list[dict[str, Any]], span: dict[str, Any]) -> list[str]:
    """Span names from the trace root down to `span`, following the stored parent ids."""
    by_id = {span_id(s): s for s in spans}
    names = [span["name"]]
    while span["parent_id"] is not None:
        span = by_id[span["parent_id"]]
        names.append(span["name"])
    return names[::-1]


def assert_connected(spans: list[dict[str, Any]]) -> dict[str, Any]:
    """All spans form one tree: one root, every other parent id is a stored span."""
    ids = {span_id(s) for s in spans}
    roots = [s for s in spans if s["parent_id"] is None]
    assert len(roots) == 1, [r["name"] for r in roots]
    assert all(s["parent_id"] in ids for s in spans if s["parent_id"] is not None)
    return roots[0]


def ranked(question: str, k: int) -> list[tuple[float, str]]:
    """The k facts nearest to the question under the fake's embeddings, with their scores."""
    query = embed(question)
    scores = sorted(
        ((sum(a * b for a, b in zip(query, embed(f), strict=True)), f) for f in FACTS),
        reverse=True,
    )
    assert scores[k - 1][0] > scores[k][0], "the fake's vectors must rank the facts without ties"
    return scores[:k]


def test_query_engine(instrumented: Telemetry, index: VectorStoreIndex, llm: OpenAI,
                      fake_openai: FakeOpenAI) -> None:
    """A query is one trace: the RETRIEVER span under the query holds the two nearest nodes
    with their similarity scores, the synthesizing LLM call has the context in its prompt and
    the exact usage, and the trace counts that call's tokens once (the wrapping `predict` LLM
    span carries none)."""
    question = "What color is the sky?"
    response = index.as_query_engine(llm=llm, similarity_top_k=2).query(question)
    expected = ranked(question, 2)

    spans = instrumented.stored()
    root = assert_connected(spans)
    assert (root["name"], root["span_kind"]) == ("RetrieverQueryEngine.query", "CHAIN")
    assert root["attributes"]["input.value"] == question
    assert root["attributes"]["output.value"] == str(response)

    retrieve = one(spans, "VectorIndexRetriever.retrieve")
    assert retrieve["span_kind"] == "RETRIEVER"
    assert path(spans, retrieve) == [
        "RetrieverQueryEngine.query", "RetrieverQueryEngine._query",
        "VectorIndexRetriever.retrieve",
    ]
    documents = indexed(retrieve["attributes"], "retrieval.documents")
    assert [d["document.content"] for d in documents] == [fact for _, fact in expected]
    assert [d["document.score"] for d in documents] == pytest.approx(
        [score for score, _ in expected], abs=1e-6
    )
    embeddings = [s for s in spans if s["span_kind"] == "EMBEDDING"]
    assert embeddings, "the query embedding is traced"
    for span in embeddings:
        assert span["attributes"]["embedding.model_name"] == "text-embedding-3-small"
        assert "VectorIndexRetriever.retrieve" in path(spans, span)

    chat = one(spans, "OpenAI.chat")
    assert chat["span_kind"] == "LLM"
    chat_path = path(spans, chat)
    assert chat_path[:3] == [
        "RetrieverQueryEngine.query", "RetrieverQueryEngine._query", "CompactAndRefine.synthesize"
    ]
    assert chat_path[-2:] == ["OpenAI.predict", "OpenAI.chat"]
    attributes = chat["attributes"]
    assert attributes["llm.model_name"] == "gpt-4o-mini"  # llama-index reports the requested name
    (call,) = fake_openai.chat_calls()
    assert_tokens(attributes, call.usage)
    system, user = messages(attributes, "input")
    assert system["role"] == "system"
    assert user["role"] == "user"
    assert all(fact in user["content"] for _, fact in expected)
    assert question in user["content"]
    assert messages(attributes, "output") == [
        {"role": "assistant", "content": call.response["choices"][0]["message"]["content"]}
    ]
    predict = one(spans, "OpenAI.predict")
    assert predict["span_kind"] == "LLM"
    assert "llm.token_count.total" not in predict["attributes"]

    trace = assert_trace_tokens(instrumented.server, trace_id(root), [call.usage])
    assert trace["span_count"] == len(spans)
    assert trace["root_span"]["name"] == "RetrieverQueryEngine.query"


def test_chat_engine_turns(instrumented: Telemetry, index: VectorStoreIndex, llm: OpenAI,
                           fake_openai: FakeOpenAI) -> None:
    """Two context chat engine turns in one session: each turn is a trace whose RETRIEVER span
    holds the nearest node and whose LLM span holds the history so far (system, user; then
    system, user, assistant, user); the session rolls both up."""
    engine = index.as_chat_engine(chat_mode=ChatMode.CONTEXT, llm=llm, similarity_top_k=1)
    with using_session("sess-li-1"):
        first = engine.chat("Do otters sleep?")
        second = engine.chat("And do otters hold hands?")
    assert str(first) == "You said: Do otters sleep?"
    assert str(second) == "You said: And do otters hold hands?"

    spans = instrumented.stored()
    roots = by_name([s for s in spans if s["parent_id"] is None], "ContextChatEngine.chat")
    assert len(roots) == 2
    calls = fake_openai.chat_calls()
    assert len(calls) == 2
    for turn, (root, call) in enumerate(zip(roots, calls, strict=True)):
        turn_spans = in_trace(spans, trace_id(root))
        assert assert_connected(turn_spans) is not None
        assert root["span_kind"] == "CHAIN"
        retrieve = one(turn_spans, "VectorIndexRetriever.retrieve")
        (document,) = indexed(retrieve["attributes"], "retrieval.documents")
        assert document["document.content"] == "Otters hold hands while sleeping."
        chat = one(turn_spans, "OpenAI.chat")
        history = messages(chat["attributes"], "input")
        expected_roles = ["system", "user"] if turn == 0 else [
            "system", "user", "assistant", "user"
        ]
        assert [m["role"] for m in history] == expected_roles
        assert "Otters hold hands while sleeping." in history[0]["content"]
        assert_tokens(chat["attributes"], call.usage)
        assert all(s["attributes"].get("session.id") == "sess-li-1" for s in turn_spans)
        trace = assert_trace_tokens(instrumented.server, trace_id(root), [call.usage])
        assert trace["session_id"] == "sess-li-1"

    session = instrumented.server.get(
        f"/v1/projects/{instrumented.project}/sessions/sess-li-1"
    ).json()["data"]
    assert session["trace_count"] == 2
    assert session["token_count"]["total"] == sum(c.usage["total_tokens"] for c in calls)


def test_cost(instrumented: Telemetry, index: VectorStoreIndex, llm: OpenAI) -> None:
    """Cost (pending): the synthesizing `OpenAI.chat` span gets `llm.cost.*` from its token
    counts, and the trace's cost is that span's, with no span left unpriced."""
    index.as_query_engine(llm=llm, similarity_top_k=2).query("Where do otters sleep at night?")
    spans = instrumented.stored()
    chat = one(spans, "OpenAI.chat")["attributes"]
    assert_cost(chat)
    assert_trace_cost(trace_json(instrumented.server, trace_id(spans[0])), [chat])
