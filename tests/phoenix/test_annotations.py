"""Phoenix's annotation routes through the real `arize-phoenix-client`: span annotations logged
from a DataFrame and read back as one, trace, session and document annotations, notes, upserts,
and annotations that arrive before their span."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest

from tests.conftest import EmberProcess
from tests.phoenix.support import Turn, client, now_ns, send_turn, tracer, unique


def _sent(server: EmberProcess, project: str, count: int = 3, **kwargs: Any) -> list[Turn]:
    with tracer(server, project) as t:
        return [send_turn(t, now_ns(), **kwargs) for _ in range(count)]


def _listed(server: EmberProcess, project: str, kind: str, **params: Any) -> list[dict[str, Any]]:
    """Every annotation a listing route returns, following cursors one at a time."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        response = server.get(f"/v1/projects/{project}/{kind}_annotations", **query)
        assert response.status_code == 200, response.text
        body = response.json()
        out.extend(body["data"])
        cursor = body["next_cursor"]
        if not cursor:
            return out


def test_span_annotations_from_a_dataframe_and_back(shared_server: EmberProcess) -> None:
    project = unique("span-annotations")
    turns = _sent(shared_server, project)
    px = client(shared_server)
    frame = pd.DataFrame({
        "span_id": [t.llm for t in turns],
        "name": "correctness",
        "annotator_kind": "LLM",
        "label": ["correct", "incorrect", "correct"],
        "score": [1.0, 0.0, 1.0],
        "explanation": ["fine", "wrong refund window", "fine"],
        "metadata": [{"judge": "gpt-4o"}] * 3,
    })
    inserted = px.spans.log_span_annotations_dataframe(dataframe=frame, sync=True)
    assert len({i["id"] for i in inserted}) == 3

    back = px.spans.get_span_annotations_dataframe(
        span_ids=[t.llm for t in turns], project_identifier=project
    )
    assert sorted(back.index) == sorted(t.llm for t in turns)
    row = back.loc[turns[1].llm]
    assert (row["annotation_name"], row["result.label"], row["result.score"],
            row["result.explanation"]) == ("correctness", "incorrect", 0.0, "wrong refund window")
    assert (row["annotator_kind"], row["source"], row["identifier"]) == ("LLM", "API", "")
    assert row["metadata"] == {"judge": "gpt-4o"}

    # Phoenix's own filter language reaches them (store/filters.py joins the same table).
    found = shared_server.get(
        f"/v1/projects/{project}/spans",
        filter="annotations['correctness'].label == 'incorrect'",
    )
    assert found.status_code == 200, found.text
    assert [s["context"]["span_id"] for s in found.json()["data"]] == [turns[1].llm]


def test_same_name_and_identifier_updates_one_annotation(shared_server: EmberProcess) -> None:
    project = unique("upsert")
    (turn,) = _sent(shared_server, project, 1)
    px = client(shared_server)
    first = px.spans.add_span_annotation(span_id=turn.root, annotation_name="tone",
                                         label="calm", sync=True)
    second = px.spans.add_span_annotation(span_id=turn.root, annotation_name="tone",
                                          label="angry", score=0.2, sync=True)
    other = px.spans.add_span_annotation(span_id=turn.root, annotation_name="tone",
                                         label="calm", identifier="reviewer-2", sync=True)
    assert first is not None and second is not None and other is not None
    assert first["id"] == second["id"] != other["id"]
    found = px.spans.get_span_annotations(span_ids=[turn.root], project_identifier=project)
    by_identifier = {a["identifier"]: a for a in found}
    assert set(by_identifier) == {"", "reviewer-2"}
    assert by_identifier[""]["result"] == {"label": "angry", "score": 0.2, "explanation": None}
    assert by_identifier[""]["created_at"] <= by_identifier[""]["updated_at"]


def test_an_annotation_logged_before_its_span_is_kept(shared_server: EmberProcess) -> None:
    project = unique("arrives")
    _sent(shared_server, project, 1)  # the project exists; the annotated span does not yet
    px = client(shared_server)
    with tracer(shared_server, project) as t:
        span = t.start_span("answer")  # not exported before it ends
        span_hex = format(span.get_span_context().span_id, "016x")
        inserted = px.spans.add_span_annotation(span_id=span_hex, annotation_name="helpful",
                                                label="yes", sync=True)
        assert inserted is not None and inserted["id"]
        with pytest.raises(httpx.HTTPStatusError) as missing:
            px.spans.get_span_annotations(span_ids=[span_hex], project_identifier=project)
        assert missing.value.response.status_code == 404  # as Phoenix: no such span yet
        span.end()
    (found,) = px.spans.get_span_annotations(span_ids=[span_hex], project_identifier=project)
    assert (found["span_id"], found["name"], found["result"]["label"]) == (
        span_hex, "helpful", "yes"
    )


def test_trace_session_and_document_annotations(shared_server: EmberProcess) -> None:
    project = unique("other-annotations")
    session = unique("conversation")
    turns = _sent(shared_server, project, 2, session=session)
    px = client(shared_server)

    px.traces.log_trace_annotations_dataframe(
        dataframe=pd.DataFrame({"label": ["solved", "unsolved"]},
                               index=[t.trace_id for t in turns]),
        annotation_name="outcome", annotator_kind="HUMAN", sync=True,
    )
    traces = _listed(shared_server, project, "trace", trace_ids=[t.trace_id for t in turns])
    assert sorted((a["trace_id"], a["result"]["label"]) for a in traces) == sorted(
        [(turns[0].trace_id, "solved"), (turns[1].trace_id, "unsolved")]
    )

    px.sessions.add_session_annotation(session_id=session, annotation_name="satisfaction",
                                       score=4.5, annotator_kind="CODE", sync=True)
    (on_session,) = _listed(shared_server, project, "session", session_ids=[session])
    assert (on_session["session_id"], on_session["result"]["score"],
            on_session["annotator_kind"]) == (session, 4.5, "CODE")
    assert on_session["id"].startswith("UHJvamVjdFNlc3Npb25Bbm5vdGF0aW9u")  # GlobalID

    px.spans.log_document_annotations_dataframe(
        dataframe=pd.DataFrame({
            "span_id": [turns[0].retriever] * 2,
            "document_position": [0, 1],
            "label": ["relevant", "irrelevant"],
        }),
        annotation_name="relevance", annotator_kind="LLM", sync=True,
    )
    documents = _listed(shared_server, project, "document", span_ids=[turns[0].retriever])
    assert sorted((a["document_position"], a["result"]["label"]) for a in documents) == [
        (0, "relevant"), (1, "irrelevant")
    ]
    # Deleting a trace takes its annotations and its documents' along.
    assert httpx.delete(f"{shared_server.url}/v1/traces/{turns[0].trace_id}").status_code == 204
    assert _listed(shared_server, project, "trace", trace_ids=[turns[1].trace_id])
    assert shared_server.get(f"/v1/projects/{project}/document_annotations",
                             span_ids=[turns[0].retriever]).status_code == 404


def test_notes_accumulate_and_are_left_out_by_default(shared_server: EmberProcess) -> None:
    project = unique("notes")
    (turn,) = _sent(shared_server, project, 1)
    px = client(shared_server)
    px.spans.add_span_note(span_id=turn.root, note="first look")
    px.spans.add_span_note(span_id=turn.root, note="second look")
    px.spans.add_span_annotation(span_id=turn.root, annotation_name="tone", label="ok",
                                 sync=True)
    assert [a["name"] for a in px.spans.get_span_annotations(
        span_ids=[turn.root], project_identifier=project
    )] == ["tone"]
    notes = _listed(shared_server, project, "span", span_ids=[turn.root],
                    include_annotation_names=["note"])
    assert sorted(n["result"]["explanation"] for n in notes) == ["first look", "second look"]
    assert {n["annotator_kind"] for n in notes} == {"HUMAN"}


def test_bad_annotations_are_refused_with_a_clear_message(shared_server: EmberProcess) -> None:
    url = shared_server.url
    good: dict[str, Any] = {"span_id": "ab" * 8, "name": "x", "annotator_kind": "LLM",
                            "result": {"label": "y"}}

    def post(kind: str, item: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{url}/v1/{kind}_annotations", json={"data": [item]})

    cases = [
        ("span", {**good, "span_id": "not-hex"}, 422, "span_id"),
        ("span", {**good, "annotator_kind": "ROBOT"}, 422, "annotator_kind"),
        ("span", {**good, "name": ""}, 422, "name"),
        ("span", {**good, "label": "top-level"}, 422, "label"),
        ("span", {**good, "result": {"score": "high"}}, 422, "score"),
        ("span", {**good, "name": "note"}, 400, "span_notes"),
        ("trace", {**{k: v for k, v in good.items() if k != "span_id"}, "trace_id": "ab" * 8},
         422, "trace_id"),
        ("document", {**good, "document_position": -1}, 422, "document_position"),
    ]
    for kind, item, status, mentioned in cases:
        response = post(kind, item)
        assert response.status_code == status, (item, response.text)
        assert mentioned in response.json()["error"]["message"], response.text

    project = unique("refusals")
    _sent(shared_server, project, 1)
    no_ids = httpx.get(f"{url}/v1/projects/{project}/span_annotations")
    assert no_ids.status_code == 422 and "span_ids" in no_ids.json()["error"]["message"]
    assert httpx.get(f"{url}/v1/projects/{unique('none')}/span_annotations",
                     params={"span_ids": "ab" * 8}).status_code == 404
