"""`POST /v1/spans` span queries through the real, unmodified Phoenix client, and as Arrow."""

from __future__ import annotations

import io

import httpx
import pyarrow as pa  # type: ignore[import-untyped]
from phoenix.client import Client
from phoenix.client.types.spans import SpanQuery

from tests.conftest import EmberProcess
from tests.helpers import make_span, post, project_request, span_id, trace_id


def _send(server: EmberProcess, project: str) -> tuple[str, str]:
    trace = trace_id()
    root, retriever = span_id(), span_id()
    spans = [
        make_span(trace, root, None, "rag", attributes={
            "openinference.span.kind": "CHAIN", "input.value": "What is our refund policy?",
        }),
        make_span(trace, retriever, root, "retrieve", attributes={
            "openinference.span.kind": "RETRIEVER", "input.value": "refund policy",
            "retrieval.documents.0.document.id": "d1",
            "retrieval.documents.0.document.content": "Refunds within 30 days.",
            "retrieval.documents.0.document.score": 0.9,
            "retrieval.documents.1.document.id": "d2",
            "retrieval.documents.1.document.content": "Shipping takes 5 days.",
            "retrieval.documents.1.document.score": 0.4,
        }),
        make_span(trace, span_id(), root, "llm", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
            "llm.token_count.total": 42,
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Be brief.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "What is our refund policy?",
        }),
    ]
    assert post(server.url, project_request(project, spans)).status_code == 200
    return trace.hex(), retriever.hex()


def test_phoenix_client_span_queries(shared_server: EmberProcess) -> None:
    _, retriever = _send(shared_server, "span-queries")
    client = Client(base_url=shared_server.url)

    everything = client.spans.get_spans_dataframe(project_identifier="span-queries")
    assert sorted(everything["name"]) == ["llm", "rag", "retrieve"]
    assert everything.index.name == "context.span_id"
    assert "attributes.llm.model_name" in everything.columns

    llm = client.spans.get_spans_dataframe(
        query=SpanQuery().where("span_kind == 'LLM'").select("name", "llm.token_count.total"),
        project_identifier="span-queries",
    )
    assert list(llm["name"]) == ["llm"]
    assert list(llm["llm.token_count.total"]) == [42]

    documents = client.spans.get_spans_dataframe(
        query=SpanQuery()
        .where("span_kind == 'RETRIEVER'")
        .explode("retrieval.documents", content="document.content", score="document.score"),
        project_identifier="span-queries",
    )
    assert list(documents.index.names) == ["context.span_id", "document_position"]
    assert list(documents.index) == [(retriever, 0), (retriever, 1)]
    assert list(documents["content"]) == ["Refunds within 30 days.", "Shipping takes 5 days."]
    assert list(documents["score"]) == [0.9, 0.4]

    joined = client.spans.get_spans_dataframe(
        query=SpanQuery()
        .where("'refund' in input.value and span_kind == 'RETRIEVER'")
        .concat("retrieval.documents", reference="document.content"),
        project_identifier="span-queries",
    )
    assert list(joined["reference"]) == ["Refunds within 30 days.\n\nShipping takes 5 days."]

    renamed = client.spans.get_spans_dataframe(
        query=SpanQuery().select("name", "input.value").rename(**{"input.value": "question"})
        .where("parent_id is None"),
        project_identifier="span-queries",
    )
    assert list(renamed["question"]) == ["What is our refund policy?"]


def test_arrow_answer_and_bad_queries(shared_server: EmberProcess) -> None:
    _send(shared_server, "span-queries-arrow")
    url = f"{shared_server.url}/v1/spans"
    body = {"queries": [{"select": {"name": {"key": "name"}},
                         "explode": {"key": "llm.input_messages",
                                     "kwargs": {"role": "message.role"}}}],
            "limit": 10}
    response = httpx.post(url, params={"project_name": "span-queries-arrow"}, json=body)
    assert response.status_code == 200
    boundary = response.headers["content-type"].split("boundary=")[1]
    part = response.content.split(f"--{boundary}".encode())[1]
    head, _, stream = part.partition(b"\r\n\r\n")
    assert b"application/vnd.apache.arrow.stream" in head
    table = pa.ipc.open_stream(io.BytesIO(stream.removesuffix(b"\r\n"))).read_all()
    assert table.column("role").to_pylist() == ["system", "user"]
    assert table.column("message_position").to_pylist() == [0, 1]

    one = httpx.post(url, params={"project_name": "span-queries-arrow"},
                     json={"queries": [{}], "limit": 1},
                     headers={"accept": "application/json"})
    assert one.status_code == 200 and "X-Ember-More: true" in one.text

    bad = httpx.post(url, json={"queries": [{"filter": {"condition": "span_kind = 'LLM'"}}]})
    assert bad.status_code == 400
    assert httpx.post(url, json={"queries": []}).status_code == 400
    assert httpx.post(url, json={"queries": [{}], "limit": 0}).status_code == 400
