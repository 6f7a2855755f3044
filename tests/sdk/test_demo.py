"""`ember demo` against a fresh `ember serve`: the traces it promises are stored, with their
trees, kinds, the failing tool's ERROR, the retrieved documents, and the chat session with its
turns and user id."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from typing import Any

from ember.demo import data
from tests.conftest import EmberProcess, free_port
from tests.instrumented.support import tree
from tests.sdk.conftest import clean_env

PROJECT = "demo-under-test"


def ember_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ember", "demo", *args],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env(),
    )


def traces(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        out[span["context"]["trace_id"]].append(span)
    return out


def test_demo_fills_a_fresh_server(server_factory: Any) -> None:
    server: EmberProcess = server_factory()
    result = ember_demo("--endpoint", server.url, "--project", PROJECT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith(f"Sending demo traces to Ember at {server.url}, project "
                          f"'{PROJECT}'")
    assert "Sent 23 spans in 7 traces." in out
    assert f"Open {server.url}/projects/{PROJECT} to explore them" in out
    match = re.search(r"Chat: session (demo-chat-[0-9a-f]+), user (\S+), 3 turns", out)
    assert match, out
    session_id = match.group(1)

    spans = server.spans(PROJECT)
    assert len(spans) == 23
    by_trace = traces(spans)
    shapes = sorted(tree(trace_spans) for trace_spans in by_trace.values())
    llm = ("ChatCompletion", "LLM", ())
    rag = ("rag-query", "CHAIN", (
        ("retrieve", "RETRIEVER", (("CreateEmbeddings", "EMBEDDING", ()),)), llm,
    ))
    agent_children = tuple(
        step for tool in ("get_weather", "convert_currency")
        for step in (llm, (tool, "TOOL", ()), llm)
    )
    assert shapes == sorted([
        ("index-documents", "CHAIN", (("CreateEmbeddings", "EMBEDDING", ()),)),
        rag, rag,
        (data.AGENT_NAME, "AGENT", agent_children),
        ("chat-turn", "CHAIN", (llm,)), ("chat-turn", "CHAIN", (llm,)),
        ("chat-turn", "CHAIN", (llm,)),
    ])

    # The failing tool: an ERROR span with the exception; the agent and its trace carry on.
    (failed,) = [s for s in spans if s["status_code"] == "ERROR"]
    assert failed["name"] == data.FAILING_TOOL == "convert_currency"
    assert failed["span_kind"] == "TOOL"
    assert data.TOOL_FAILURE in failed["status_message"]
    assert failed["exception"]["type"] == "RuntimeError"
    assert failed["exception"]["message"] == data.TOOL_FAILURE
    assert json.loads(failed["attributes"]["input.value"]) == {"currency": "USD"}
    (weather,) = [s for s in spans if s["name"] == "get_weather"]
    assert json.loads(weather["attributes"]["input.value"]) == {"city": "Lisbon"}
    assert weather["attributes"]["output.value"].startswith("Lisbon: sunny")
    agent = next(s for s in spans if s["span_kind"] == "AGENT")
    assert agent["status_code"] == "OK"
    agent_trace = server.get(f"/v1/traces/{agent['context']['trace_id']}").json()["data"]
    assert agent_trace["error_count"] == 1
    assert agent_trace["span_count"] == 7
    last_llm = max((s for s in by_trace[agent["context"]["trace_id"]] if s["span_kind"] == "LLM"),
                   key=lambda s: s["start_time_unix_nano"])
    assert "error: " + data.TOOL_FAILURE in last_llm["attributes"]["output.value"]

    # RAG: the retriever holds the documents, best first; the LLM call saw them in its prompt.
    for question, expected_top in zip(data.RAG_QUESTIONS, ("kb-1", "kb-2"), strict=True):
        (root,) = [s for s in spans if s["name"] == "rag-query"
                   and s["attributes"]["input.value"] == question]
        trace_spans = by_trace[root["context"]["trace_id"]]
        (retrieve,) = [s for s in trace_spans if s["span_kind"] == "RETRIEVER"]
        attributes = retrieve["attributes"]
        ids = [attributes[f"retrieval.documents.{i}.document.id"] for i in range(data.TOP_K)]
        scores = [attributes[f"retrieval.documents.{i}.document.score"]
                  for i in range(data.TOP_K)]
        assert ids[0] == expected_top, (question, ids)
        assert scores == sorted(scores, reverse=True)
        contents = {doc.id: doc.text for doc in data.DOCUMENTS}
        assert attributes["retrieval.documents.0.document.content"] == contents[ids[0]]
        (call,) = [s for s in trace_spans if s["span_kind"] == "LLM"]
        assert call["attributes"]["llm.prompt_template.template"] == data.RAG_SYSTEM_PROMPT
        assert contents[ids[0]] in call["attributes"]["llm.input_messages.0.message.content"]
        assert call["attributes"]["llm.token_count.total"] > 0
        assert json.loads(call["attributes"]["metadata"]) == {"scenario": "rag"}

    # The chat: one session, three traces in order, the user id on every span of them.
    session = server.get(f"/v1/projects/{PROJECT}/sessions/{session_id}").json()["data"]
    assert session["trace_count"] == 3
    assert session["user_id"] == data.CHAT_USER_ID == match.group(2)
    assert session["first_input"] == data.CHAT_TURNS[0]
    assert session["last_output"] == f"You said: {data.CHAT_TURNS[-1]}"
    assert session["error_count"] == 0
    assert session["token_count"]["total"] > 0
    turns = [by_trace[trace_id] for trace_id in session["trace_ids"]]
    assert [next(s for s in turn if s["name"] == "chat-turn")["attributes"]["input.value"]
            for turn in turns] == list(data.CHAT_TURNS)
    for turn in turns:
        for span in turn:
            assert span["attributes"]["session.id"] == session_id
            assert span["attributes"]["user.id"] == data.CHAT_USER_ID
    # The third turn's model call saw the whole conversation.
    third = next(s for s in turns[2] if s["span_kind"] == "LLM")["attributes"]
    assert third["llm.input_messages.5.message.content"] == data.CHAT_TURNS[2]
    assert third["llm.input_messages.2.message.content"] == f"You said: {data.CHAT_TURNS[0]}"


def test_demo_without_a_server_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = ember_demo("--endpoint", url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: no Ember server answers at {url} (")
    assert result.stderr.rstrip().endswith("start one with `ember serve`, or pass --endpoint")
