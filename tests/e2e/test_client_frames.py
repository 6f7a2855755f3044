"""ember_sdk.Client's DataFrames against a real `ember serve`: spans with filter, select and
explode, traces, sessions, and span annotations logged from a DataFrame."""

from __future__ import annotations

import pandas as pd
import pytest

from ember_sdk import Client
from tests.conftest import EmberProcess
from tests.helpers import make_span, post, project_request, span_id, trace_id


def _send(server: EmberProcess, project: str) -> str:
    trace = trace_id()
    root, retriever = span_id(), span_id()
    spans = [
        make_span(trace, root, None, "rag", attributes={
            "openinference.span.kind": "CHAIN", "session.id": "conv-1",
            "input.value": "What is the refund policy for damaged items?",
        }),
        make_span(trace, retriever, root, "retrieve", attributes={
            "openinference.span.kind": "RETRIEVER",
            "retrieval.documents.0.document.content": "Damaged items are refunded.",
            "retrieval.documents.0.document.score": 0.8,
            "retrieval.documents.1.document.content": "Refunds take 5 days.",
            "retrieval.documents.1.document.score": 0.6,
        }),
        make_span(trace, span_id(), root, "llm", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
            "llm.token_count.total": 77,
        }),
    ]
    assert post(server.url, project_request(project, spans)).status_code == 200
    return retriever.hex()


def test_spans_traces_sessions_and_annotations(shared_server: EmberProcess) -> None:
    retriever = _send(shared_server, "client-frames")
    with Client(shared_server.url) as client:
        everything = client.spans("client-frames")
        assert sorted(everything["name"]) == ["llm", "rag", "retrieve"]
        assert everything.index.name == "context.span_id"

        llm = client.spans("client-frames", "span_kind == 'LLM'",
                           select={"model": "llm.model_name", "tokens": "llm.token_count.total"})
        assert llm.to_dict("records") == [{"model": "gpt-4o", "tokens": 77}]

        documents = client.spans(
            "client-frames", "'refund' in input.value or span_kind == 'RETRIEVER'",
            explode="retrieval.documents",
            explode_columns={"text": "document.content", "score": "document.score"},
        )
        assert list(documents.index) == [(retriever, 0), (retriever, 1)]
        assert list(documents["score"]) == [0.8, 0.6]

        with pytest.warns(UserWarning, match="more than 1 spans"):
            assert len(client.spans("client-frames", limit=1)) == 1

        traces = client.traces("client-frames", "span_count >= 3")
        assert list(traces["token_count_total"]) == [77]
        sessions = client.sessions("client-frames", "traces == 1")
        assert list(sessions.index) == ["conv-1"]

        verdicts = pd.DataFrame(
            {"name": ["relevance", "relevance"], "label": ["relevant", "irrelevant"],
             "score": [1.0, float("nan")]},
            index=pd.Index([retriever, llm.index[0]], name="context.span_id"),
        )
        assert client.log_span_annotations(verdicts) == 2
        relevant = client.spans(
            "client-frames", "annotations['relevance'].label == 'relevant'", select=["name"]
        )
        assert list(relevant["name"]) == ["retrieve"]
        unscored = client.spans(
            "client-frames", "annotations['relevance'].score is None", select=["name"]
        )
        assert list(unscored["name"]) == ["llm"]
        with pytest.raises(ValueError, match="name"):
            client.log_span_annotations(pd.DataFrame({"span_id": [retriever]}))
