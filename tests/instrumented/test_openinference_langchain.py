"""openinference-instrumentation-langchain on langchain-core and langchain-openai (ChatOpenAI,
OpenAIEmbeddings on the fake OpenAI server), exporting to a real `ember serve`: chains, a RAG
chain over InMemoryVectorStore, a tool-using agent loop, and context attributes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from openinference.instrumentation import (
    using_attributes,
    using_metadata,
    using_session,
    using_tags,
    using_user,
)
from openinference.instrumentation.langchain import LangChainInstrumentor
from pydantic import SecretStr

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
    trace_id,
    trace_json,
    tree,
)

# The instrumentation calls a LangChain method LangChain has deprecated: not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Calling .text\\(\\) as a method is deprecated"
)

FACTS = [
    "The sky is blue and the sky is wide.",
    "Grass is green under a blue sky.",
    "Otters hold hands while sleeping.",
    "Paris is the capital of France.",
]


@pytest.fixture
def instrumented(telemetry: Telemetry) -> Iterator[Telemetry]:
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.provider)
    try:
        yield telemetry
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def llm(fake_openai: FakeOpenAI) -> ChatOpenAI:
    return ChatOpenAI(
        model="gpt-4o-mini", base_url=fake_openai.base_url, api_key=SecretStr("sk-fake"),
        max_retries=0, temperature=0,
    )


def _chain(llm: ChatOpenAI) -> Any:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a terse guide."), ("user", "Tell me about {topic}")]
    )
    return prompt | llm | StrOutputParser()


def test_lcel_chain_with_context_attributes(
    instrumented: Telemetry, llm: ChatOpenAI, fake_openai: FakeOpenAI
) -> None:
    """prompt | model | parser, twice in one session: each run is a CHAIN root over PROMPT,
    LLM and parser spans; session, user, metadata and tags set with the OpenInference context
    helpers reach every span, the traces and the session roll-up."""
    chain = _chain(llm)
    with using_attributes(
        session_id="sess-lc-1", user_id="user-ada", metadata={"tier": "gold"}, tags=["lcel", "a"]
    ):
        first = chain.invoke({"topic": "otters"})
    with (
        using_session("sess-lc-1"),
        using_user("user-ada"),
        using_metadata({"tier": "silver", "turn": 2}),
        using_tags(["lcel", "b"]),
    ):
        second = chain.invoke({"topic": "sea lions"})
    assert first == "You said: Tell me about otters"
    assert second == "You said: Tell me about sea lions"

    spans = instrumented.stored()
    roots = by_name([s for s in spans if s["parent_id"] is None], "RunnableSequence")
    assert len(roots) == 2
    calls = fake_openai.chat_calls()
    expected_meta: list[dict[str, Any]] = [{"tier": "gold"}, {"tier": "silver", "turn": 2}]
    expected_tags = [["lcel", "a"], ["lcel", "b"]]
    for root, call, meta, tags in zip(roots, calls, expected_meta, expected_tags, strict=True):
        trace_spans = in_trace(spans, trace_id(root))
        assert tree(trace_spans) == (
            "RunnableSequence", "CHAIN", (
                ("ChatPromptTemplate", "PROMPT", ()),
                ("ChatOpenAI", "LLM", ()),
                ("StrOutputParser", "CHAIN", ()),
            ),
        )
        for span in trace_spans:
            attributes = span["attributes"]
            assert attributes["session.id"] == "sess-lc-1", span["name"]
            assert attributes["user.id"] == "user-ada", span["name"]
            assert attributes["tag.tags"] == tags, span["name"]
            stored_meta = json.loads(attributes["metadata"])
            assert {k: stored_meta[k] for k in meta} == meta, span["name"]
        model = one(trace_spans, "ChatOpenAI")["attributes"]
        assert model["llm.model_name"] == "gpt-4o-mini-2024-07-18"
        assert model["llm.provider"] == "openai"
        assert_tokens(model, call.usage)
        assert [m["role"] for m in messages(model, "input")] == ["system", "user"]
        prompt = one(trace_spans, "ChatPromptTemplate")["attributes"]
        assert prompt["llm.prompt_template.template"] == "You are a terse guide."

        trace = assert_trace_tokens(instrumented.server, trace_id(root), [call.usage])
        assert trace["session_id"] == "sess-lc-1"
        assert trace["user_id"] == "user-ada"
        assert trace["span_count"] == 4
        assert trace["root_span"]["span_kind"] == "CHAIN"
        assert trace["root_span"]["output_preview"] == call.response["choices"][0][
            "message"]["content"]

    session = instrumented.server.get(
        f"/v1/projects/{instrumented.project}/sessions/sess-lc-1"
    ).json()["data"]
    assert session["trace_count"] == 2
    assert session["trace_ids"] == [trace_id(root) for root in roots]
    assert session["user_id"] == "user-ada"
    assert session["token_count"]["total"] == sum(c.usage["total_tokens"] for c in calls)
    assert session["last_output"] == second


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def canonical(node: Any) -> Any:
    """A tree with every node's children sorted by name, for branches that run in parallel."""
    name, kind, children = node
    return (name, kind, tuple(sorted(canonical(child) for child in children)))


def test_rag_chain(instrumented: Telemetry, llm: ChatOpenAI, fake_openai: FakeOpenAI) -> None:
    """A RAG chain: the RETRIEVER span holds the two nearest documents (in similarity order),
    the LLM span's system message carries them, and the tree nests retrieval under the
    parallel step."""
    embeddings = OpenAIEmbeddings(
        model="text-embedding-3-small", base_url=fake_openai.base_url,
        api_key=SecretStr("sk-fake"),
        check_embedding_ctx_length=False, max_retries=0,
    )
    store = InMemoryVectorStore.from_documents([Document(page_content=f) for f in FACTS],
                                               embeddings)
    retriever = store.as_retriever(search_kwargs={"k": 2})

    def format_docs(docs: list[Document]) -> str:
        return "\n".join(doc.page_content for doc in docs)

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this context:\n{context}"), ("user", "{question}")]
    )
    rag = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt | llm | StrOutputParser()
    )
    question = "What color is the sky?"
    answer = rag.invoke(question)
    assert answer == f"You said: {question}"

    query = embed(question)
    scores = sorted((_cosine(query, embed(f)), f) for f in FACTS)[::-1]
    assert scores[1][0] > scores[2][0], "the fake's vectors must rank the facts without ties"
    expected_docs = [fact for _, fact in scores[:2]]

    spans = instrumented.stored()
    assert canonical(tree(spans)) == canonical((
        "RunnableSequence", "CHAIN", (
            ("RunnableParallel<context,question>", "CHAIN", (
                ("RunnableSequence", "CHAIN", (
                    ("VectorStoreRetriever", "RETRIEVER", ()),
                    ("format_docs", "CHAIN", ()),
                )),
                ("RunnablePassthrough", "CHAIN", ()),
            )),
            ("ChatPromptTemplate", "PROMPT", ()),
            ("ChatOpenAI", "LLM", ()),
            ("StrOutputParser", "CHAIN", ()),
        ),
    ))
    retrieval = one(spans, "VectorStoreRetriever")["attributes"]
    documents = indexed(retrieval, "retrieval.documents")
    assert [d["document.content"] for d in documents] == expected_docs
    assert retrieval["input.value"] == question

    model = one(spans, "ChatOpenAI")["attributes"]
    system, user = messages(model, "input")
    assert system == {"role": "system",
                      "content": "Answer from this context:\n" + "\n".join(expected_docs)}
    assert user == {"role": "user", "content": question}
    (call,) = fake_openai.chat_calls()
    assert_tokens(model, call.usage)
    # Four facts and one query were embedded (not traced: LangChain has no embedding callback).
    assert sum(len(c.request["input"]) for c in fake_openai.embedding_calls()) == 5
    assert_trace_tokens(instrumented.server, trace_id(spans[0]), [call.usage])


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny, 21C in {city}"


def _agent(llm: ChatOpenAI) -> Any:
    """A hand-written tool loop: ask the model, run the tools it calls, ask again."""
    model = llm.bind_tools([get_weather])

    def weather_agent(question: str) -> str:
        history: list[BaseMessage] = [HumanMessage(question)]
        for _ in range(3):
            reply = model.invoke(history)
            history.append(reply)
            if not isinstance(reply, AIMessage) or not reply.tool_calls:
                return str(reply.content)
            for call in reply.tool_calls:
                history.append(get_weather.invoke(call))
        raise AssertionError("the agent did not finish")

    return RunnableLambda(weather_agent, name="weather_agent")


def test_tool_agent_loop(instrumented: Telemetry, llm: ChatOpenAI,
                         fake_openai: FakeOpenAI) -> None:
    """A tool-using agent: an AGENT span over LLM -> TOOL -> LLM; the first LLM span holds the
    tool call and the tool schema, the TOOL span the tool's name, the second LLM span the tool
    message; the trace adds up the two LLM calls."""
    answer = _agent(llm).invoke("What is the weather in Paris?")
    assert answer == "The tool answered: Sunny, 21C in Paris"

    spans = instrumented.stored()
    assert tree(spans) == (
        "weather_agent", "AGENT", (
            ("ChatOpenAI", "LLM", ()),
            ("get_weather", "TOOL", ()),
            ("ChatOpenAI", "LLM", ()),
        ),
    )
    asking, answering = by_name(spans, "ChatOpenAI")
    calls = fake_openai.chat_calls()
    assert len(calls) == 2
    assert_tokens(asking["attributes"], calls[0].usage)
    assert_tokens(answering["attributes"], calls[1].usage)
    (tool_call,) = indexed(asking["attributes"], "llm.output_messages.0.message.tool_calls")
    assert tool_call["tool_call.function.name"] == "get_weather"
    assert json.loads(tool_call["tool_call.function.arguments"]) == {"city": "Paris"}
    (schema,) = indexed(asking["attributes"], "llm.tools")
    assert json.loads(schema["tool.json_schema"])["function"]["name"] == "get_weather"

    tool_span = one(spans, "get_weather")["attributes"]
    assert tool_span["tool.name"] == "get_weather"
    assert tool_span["tool.description"] == "The current weather in a city."
    history = messages(answering["attributes"], "input")
    assert [m["role"] for m in history] == ["user", "assistant", "tool"]
    assert history[2]["content"] == "Sunny, 21C in Paris"
    assert history[2]["tool_call_id"] == tool_call["tool_call.id"]

    trace = assert_trace_tokens(
        instrumented.server, trace_id(spans[0]), [calls[0].usage, calls[1].usage]
    )
    assert trace["root_span"]["span_kind"] == "AGENT"
    assert trace["root_span"]["output_preview"] == answer


def test_cost(instrumented: Telemetry, llm: ChatOpenAI) -> None:
    """Cost (pending): the ChatOpenAI span gets `llm.cost.*` from its token counts, and the
    trace's cost is that span's."""
    _chain(llm).invoke({"topic": "the price of tokens in the year of the otter"})
    spans = instrumented.stored()
    model = one(spans, "ChatOpenAI")["attributes"]
    assert model["llm.token_count.prompt_details.cache_read"] > 0
    assert_cost(model)
    assert_trace_cost(trace_json(instrumented.server, trace_id(spans[0])), [model])
