"""`client.spans.get_spans` (Phoenix's span listing with its simple filters) through the real
`arize-phoenix-client`, against spans made by the real OpenTelemetry SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import EmberProcess
from tests.phoenix.support import MS, Turn, client, now_ns, send_turn, tracer, unique


@pytest.fixture(scope="module")
def sent(shared_server: EmberProcess) -> tuple[str, list[Turn]]:
    """45 traces of 3 spans: 135 spans, more than one page of 100."""
    project = unique("spans")
    base = now_ns() - 60 * 10**9
    with tracer(shared_server, project) as t:
        turns = [send_turn(t, base + i * 10 * MS, error=i % 5 == 0) for i in range(45)]
    return project, turns


def test_every_span_once_across_pages(
    shared_server: EmberProcess, sent: tuple[str, list[Turn]]
) -> None:
    project, turns = sent
    spans = client(shared_server).spans.get_spans(project_identifier=project, limit=1000)
    ids = [s["context"]["span_id"] for s in spans]
    assert len(ids) == len(set(ids)) == 135
    assert set(ids) == {span for t in turns for span in t.span_ids}
    starts = [s["start_time"] for s in spans]
    assert starts == sorted(starts, reverse=True)  # newest first
    assert client(shared_server).spans.get_spans(project_identifier=project, limit=101) == (
        spans[:101]
    )


def test_the_simple_filters(shared_server: EmberProcess, sent: tuple[str, list[Turn]]) -> None:
    project, turns = sent
    px = client(shared_server)

    def ids(**filters: object) -> set[str]:
        found = px.spans.get_spans(
            project_identifier=project, limit=1000, **filters  # type: ignore[arg-type]
        )
        return {s["context"]["span_id"] for s in found}

    some = turns[3:6]
    assert ids(trace_ids=[t.trace_id for t in some]) == {s for t in some for s in t.span_ids}
    assert ids(span_ids=[turns[0].llm, turns[1].root]) == {turns[0].llm, turns[1].root}
    assert ids(span_kind="LLM") == {t.llm for t in turns}
    assert ids(span_kind=["RETRIEVER", "CHAIN"]) == {
        s for t in turns for s in (t.root, t.retriever)
    }
    assert ids(status_code="ERROR") == {t.llm for t in turns if t.error}
    assert ids(name="retrieve") == {t.retriever for t in turns}
    assert ids(parent_id="null") == {t.root for t in turns}
    assert ids(parent_id=turns[7].root) == {turns[7].llm, turns[7].retriever}
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=turns[40].start // 1000)
    assert ids(start_time=start, span_kind="CHAIN") == {t.root for t in turns[40:]}
