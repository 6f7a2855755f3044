"""The demo's three small applications, traced the way a real one would be: the openai SDK under
OpenInference's openai instrumentor makes the LLM and EMBEDDING spans; OpenInference's tracer
decorators (`chain`, `retriever`, `agent`, `tool`) make the others; `using_session`,
`using_user`, `using_metadata` and `using_tags` label them.

Traces it makes (each a separate trace, roots first):
- index-documents (CHAIN) > embeddings (EMBEDDING)
- rag-query (CHAIN) > retrieve (RETRIEVER > EMBEDDING), then ChatCompletion (LLM); per question
- trip-planner (AGENT) > per task: ChatCompletion (LLM), the tool (TOOL), ChatCompletion (LLM);
  the convert_currency tool raises, so its span is an ERROR, and the agent carries on
- chat-turn (CHAIN) > ChatCompletion (LLM); per turn, all in one session with one user id
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageFunctionToolCall
from openinference.instrumentation import (
    Document,
    OITracer,
    get_retriever_attributes,
    using_metadata,
    using_prompt_template,
    using_session,
    using_tags,
    using_user,
)
from opentelemetry import trace

from ember.demo import data

TOOL_SCHEMAS: dict[str, Any] = {
    "get_weather": {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Tomorrow's weather forecast for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    "convert_currency": {
        "type": "function",
        "function": {
            "name": "convert_currency",
            "description": "What a price in euros is in another currency at today's rate.",
            "parameters": {
                "type": "object",
                "properties": {"currency": {"type": "string"}},
                "required": ["currency"],
            },
        },
    },
}


def get_weather(city: str) -> str:
    """Tomorrow's weather forecast for a city."""
    return f"{city}: sunny, 24 °C, light wind from the north-west"


def convert_currency(currency: str) -> str:
    """What a price in euros is in another currency at today's rate."""
    # The demo's deliberate failure: the agent's trace shows an ERROR tool span.
    raise RuntimeError(data.TOOL_FAILURE)


@dataclass
class Sent:
    """What the demo sent, for its summary: answers and session id by scenario."""

    rag_answers: list[str] = field(default_factory=list)
    agent_answer: str = ""
    chat_replies: list[str] = field(default_factory=list)
    session_id: str = ""


def _cosine(a: list[float], b: list[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


class DemoApp:
    """The three applications over one openai client and one OpenInference tracer."""

    def __init__(self, tracer: OITracer, client: openai.OpenAI, session_id: str) -> None:
        self.tracer = tracer
        self.client = client
        self.session_id = session_id
        self.vectors: list[list[float]] = []
        self.history: list[dict[str, Any]] = [
            {"role": "system", "content": data.CHAT_SYSTEM_PROMPT}
        ]
        self.index_documents = tracer.chain(name="index-documents")(self._index_documents)
        self.answer = tracer.chain(name="rag-query")(self._answer)
        self.retrieve = tracer.retriever(name="retrieve")(self._retrieve)
        self.plan_trip = tracer.agent(name=data.AGENT_NAME)(self._plan_trip)
        self.chat_turn = tracer.chain(name="chat-turn")(self._chat_turn)
        self.tools: dict[str, Callable[..., str]] = {
            "get_weather": tracer.tool(name="get_weather")(get_weather),
            "convert_currency": tracer.tool(name="convert_currency")(convert_currency),
        }

    def run(self) -> Sent:
        sent = Sent(session_id=self.session_id)
        with using_tags(["demo", "rag"]), using_metadata({"scenario": "rag"}):
            self.index_documents(len(data.DOCUMENTS))
            sent.rag_answers = [self.answer(question) for question in data.RAG_QUESTIONS]
        with using_tags(["demo", "agent"]), using_metadata({"scenario": "agent"}):
            sent.agent_answer = self.plan_trip(" ".join(task for _, task in data.AGENT_TASKS))
        with (
            using_session(self.session_id),
            using_user(data.CHAT_USER_ID),
            using_tags(["demo", "chat"]),
            using_metadata({"scenario": "chat"}),
        ):
            sent.chat_replies = [self.chat_turn(message) for message in data.CHAT_TURNS]
        return sent

    def _embed(self, texts: list[str]) -> list[list[float]]:
        response = self.client.embeddings.create(
            model=data.EMBEDDING_MODEL, input=texts, dimensions=data.EMBEDDING_DIMENSIONS
        )
        return [list(item.embedding) for item in response.data]

    def _chat(self, messages: list[dict[str, Any]], tools: list[Any] | None = None) -> Any:
        if tools:
            return self.client.chat.completions.create(
                model=data.MODEL, messages=messages, tools=tools  # type: ignore[arg-type]
            ).choices[0].message
        return self.client.chat.completions.create(
            model=data.MODEL, messages=messages  # type: ignore[arg-type]
        ).choices[0].message

    # RAG ----------------------------------------------------------------------------------
    def _index_documents(self, count: int) -> str:
        self.vectors = self._embed([doc.text for doc in data.DOCUMENTS[:count]])
        return f"indexed {len(self.vectors)} documents"

    def _retrieve(self, query: str) -> list[str]:
        (query_vector,) = self._embed([query])
        ranked = sorted(
            ((_cosine(query_vector, vector), doc)
             for vector, doc in zip(self.vectors, data.DOCUMENTS, strict=True)),
            key=lambda pair: -pair[0],
        )[: data.TOP_K]
        documents = [
            Document(id=doc.id, content=doc.text, score=round(score, 4),
                     metadata={"title": doc.title})
            for score, doc in ranked
        ]
        trace.get_current_span().set_attributes(get_retriever_attributes(documents=documents))
        return [doc.id for _, doc in ranked]

    def _answer(self, question: str) -> str:
        ids = self.retrieve(question)
        by_id = {doc.id: doc for doc in data.DOCUMENTS}
        context = "\n".join(f"[{i}] {by_id[i].text}" for i in ids)
        with using_prompt_template(
            template=data.RAG_SYSTEM_PROMPT, variables={"context": context}, version="v1"
        ):
            message = self._chat([
                {"role": "system", "content": data.RAG_SYSTEM_PROMPT.format(context=context)},
                {"role": "user", "content": question},
            ])
        return str(message.content or "")

    # Agent --------------------------------------------------------------------------------
    def _plan_trip(self, request: str) -> str:
        answers = [self._task(tool, task) for tool, task in data.AGENT_TASKS]
        return "\n".join(answers)

    def _task(self, tool_name: str, task: str) -> str:
        tools = [TOOL_SCHEMAS[tool_name]]
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": data.AGENT_SYSTEM_PROMPT},
            {"role": "user", "content": task},
        ]
        reply = self._chat(messages, tools)
        for call in reply.tool_calls or []:
            if not isinstance(call, ChatCompletionMessageFunctionToolCall):
                continue
            try:
                result = self.tools[call.function.name](**json.loads(call.function.arguments))
            except Exception as exc:  # a failed tool is an answer the model can work with
                result = f"error: {exc}"
            messages.append({
                "role": "assistant",
                "content": None,
                "tool_calls": [{
                    "id": call.id, "type": "function",
                    "function": {"name": call.function.name,
                                 "arguments": call.function.arguments},
                }],
            })
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        return str(self._chat(messages, tools).content or "")

    # Chat session -------------------------------------------------------------------------
    def _chat_turn(self, message: str) -> str:
        self.history.append({"role": "user", "content": message})
        reply = str(self._chat(self.history).content or "")
        self.history.append({"role": "assistant", "content": reply})
        return reply
