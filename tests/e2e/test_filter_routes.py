"""The filter language over REST, against a real `ember serve` on every backend."""

from __future__ import annotations

import httpx

from tests.conftest import EmberProcess
from tests.helpers import make_span, post, project_request, span_id, trace_id


def _send(server: EmberProcess, project: str) -> None:
    trace = trace_id()
    root = span_id()
    spans = [
        make_span(trace, root, None, "ask", attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": "How do refunds work for orders older than thirty days? " * 3,
            "metadata": '{"tier": "gold"}',
        }),
        make_span(trace, span_id(), root, "model", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
            "llm.token_count.total": 120, "acme.team": "ml",
        }),
        make_span(trace, span_id(), root, "tool", status_code=2, attributes={
            "openinference.span.kind": "TOOL", "acme.team": "infra",
        }),
    ]
    assert post(server.url, project_request(project, spans)).status_code == 200


def _names(server: EmberProcess, project: str, **params: object) -> list[str]:
    response = server.get(f"/v1/projects/{project}/spans", **params)
    assert response.status_code == 200, response.text
    return sorted(span["name"] for span in response.json()["data"])


def test_filter_and_attribute_parameters(shared_server: EmberProcess) -> None:
    _send(shared_server, "filter-route")
    assert _names(shared_server, "filter-route", filter="'REFUND' in input.value") == ["ask"]
    assert _names(shared_server, "filter-route", filter="metadata['tier'] == 'gold'") == ["ask"]
    assert _names(
        shared_server, "filter-route", filter="span_kind in ['LLM', 'TOOL']",
        attribute="acme.team:infra",
    ) == ["tool"]
    assert _names(shared_server, "filter-route", attribute="llm.token_count.total:120") == [
        "model"
    ]
    assert _names(shared_server, "filter-route", filter="acme.team != 'infra'") == ["model"]


def test_a_bad_filter_is_a_400_that_points_at_the_mistake(shared_server: EmberProcess) -> None:
    _send(shared_server, "filter-bad")
    response = httpx.get(
        f"{shared_server.url}/v1/projects/filter-bad/spans",
        params={"filter": "llm.modle_name == 'gpt-4o'"},
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "llm.model_name" in message and "1:1" in message
    response = httpx.get(
        f"{shared_server.url}/v1/projects/filter-bad/spans",
        params={"filter": "__import__('os').system('true')"},
    )
    assert response.status_code == 400
    response = httpx.get(
        f"{shared_server.url}/v1/projects/filter-bad/spans", params={"attribute": "nocolon"}
    )
    assert response.status_code == 400
    assert "key:value" in response.json()["error"]["message"]


def test_trace_and_session_listings_take_filters_and_sorts(shared_server: EmberProcess) -> None:
    project = "filter-listings"
    for n, (session, tokens, failing) in enumerate(
        [("alpha", 10, False), ("alpha", 500, True), ("beta", 50, False)]
    ):
        trace = trace_id()
        root = span_id()
        spans = [
            make_span(trace, root, None, f"turn{n}", start=1_000_000_000 * (n + 1), attributes={
                "openinference.span.kind": "AGENT", "session.id": session,
                "input.value": f"question {n}",
            }),
            make_span(trace, span_id(), root, "model", start=1_000_000_000 * (n + 1),
                      status_code=2 if failing else 0, attributes={
                          "openinference.span.kind": "LLM", "llm.token_count.total": tokens,
                      }),
        ]
        assert post(shared_server.url, project_request(project, spans)).status_code == 200

    def names(path: str, key: str, **params: object) -> list[str]:
        response = shared_server.get(f"/v1/projects/{project}/{path}", **params)
        assert response.status_code == 200, response.text
        return [item[key] for item in response.json()["data"]]

    traces = shared_server.get(f"/v1/projects/{project}/traces", sort="total_tokens").json()
    assert [t["token_count_total"] for t in traces["data"]] == [500, 50, 10]
    failing = shared_server.get(
        f"/v1/projects/{project}/traces",
        filter="any(span_kind == 'LLM' and status_code == 'ERROR')",
    ).json()["data"]
    assert len(failing) == 1 and failing[0]["token_count_total"] == 500
    assert names("sessions", "session_id", filter="traces >= 2") == ["alpha"]
    assert names("sessions", "session_id", sort="total_tokens", order="desc") == [
        "alpha", "beta"
    ]
    bad = shared_server.get(f"/v1/projects/{project}/sessions", filter="span_kind == 'LLM'")
    assert bad.status_code == 400


def test_project_metrics_route(shared_server: EmberProcess) -> None:
    project = "metrics-route"
    for n in range(3):
        trace = trace_id()
        spans = [make_span(trace, span_id(), None, "call", start=1_000_000_000 * (n + 1),
                           end=1_000_000_000 * (n + 1) + 100_000_000 * (n + 1),
                           status_code=2 if n == 2 else 0, attributes={
                               "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
                               "llm.token_count.prompt": 100, "llm.token_count.completion": 10,
                           })]
        assert post(shared_server.url, project_request(project, spans)).status_code == 200
    response = shared_server.get(f"/v1/projects/{project}/metrics", buckets=3)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["totals"]["trace_count"] == 3
    assert abs(data["totals"]["error_rate"] - 1 / 3) < 1e-9
    assert data["totals"]["latency_ms_p50"] == 200.0
    assert [b["trace_count"] for b in data["series"]] == [1, 1, 1]
    assert data["top_models"][0]["model_name"] == "gpt-4o"
    assert data["top_models"][0]["cost"] > 0
    bad = shared_server.get(f"/v1/projects/{project}/metrics", buckets=0)
    assert bad.status_code == 422
    naive = shared_server.get(f"/v1/projects/{project}/metrics", start_time="2026-01-01T00:00")
    assert naive.status_code == 400
