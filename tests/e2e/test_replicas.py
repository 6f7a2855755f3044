"""Two `ember serve` replicas on one PostgreSQL database, written to at the same time.

The spans of the same traces and sessions (and the log records of their model calls) are sent
to both replicas concurrently, out of order, with retries of the same requests to the other
replica. Afterwards every span is stored once, each trace and session has one row, and every
roll-up equals what the spans say.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg

from tests.conftest import EmberProcess
from tests.helpers import (
    BASE_NS,
    make_log,
    make_logs_request,
    make_span,
    project_request,
    span_id,
    trace_id,
)
from tests.postgres import PostgresServer

PROJECT = "replicas"
TRACES, SESSIONS = 12, 3
PICO = 10**12
LLM_COST = 1000 * 150_000 + 100 * 600_000  # gpt-4o-mini, pico-dollars


def _trace(k: int) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """A conversation turn: an agent root, two LLM calls (one with its messages as log records),
    a failing tool; with what its roll-up must be."""
    trace, root = trace_id(), span_id()
    session = f"session-{k % SESSIONS}"
    start = BASE_NS + k * 1_000_000_000
    llm_a, llm_b = span_id(), span_id()
    chat = {
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 100,
    }
    spans = [
        make_span(trace, root, name="agent", start=start, end=start + 900_000_000, attributes={
            "openinference.span.kind": "AGENT", "session.id": session, "user.id": "u-1",
            "input.value": f"question {k}", "output.value": f"answer {k}",
            "llm.token_count.total": 99_999,  # a run total: must not be counted again
        }),
        make_span(trace, llm_a, root, name="chat", start=start + 1, end=start + 100,
                  kind=3, attributes=chat),
        make_span(trace, llm_b, root, name="chat", start=start + 200, end=start + 300,
                  kind=3, attributes=chat),
        make_span(trace, span_id(), root, name="tool", start=start + 101, end=start + 199,
                  status_code=2, attributes={"openinference.span.kind": "TOOL"}),
    ]
    logs = [
        make_log(trace, llm_b, "gen_ai.user.message", {"content": f"question {k}"},
                 time=start + 201),
        make_log(trace, llm_b, "gen_ai.choice",
                 {"index": 0, "message": {"role": "assistant", "content": f"answer {k}"}},
                 time=start + 299),
    ]
    expected = {
        "span_count": 4, "error_count": 1, "session_id": session,
        "token_count": {"prompt": 2000, "completion": 200, "total": 2200},
        "cost": 2 * LLM_COST, "root": root.hex(), "llm_b": llm_b.hex(),
    }
    return spans, logs, expected


def _requests(rng: random.Random, spans: list[Any], logs: list[Any]) -> list[tuple[str, bytes]]:
    """The items shuffled into small requests (so the two replicas' transactions meet on the
    same traces often), plus retries."""
    items: list[tuple[str, Any]] = [("span", s) for s in spans] + [("log", g) for g in logs]
    rng.shuffle(items)
    requests: list[tuple[str, bytes]] = []
    while items:
        size = rng.randint(1, 2)
        chunk, items = items[:size], items[size:]
        chunk_spans = [item for kind, item in chunk if kind == "span"]
        chunk_logs = [item for kind, item in chunk if kind == "log"]
        if chunk_spans:
            requests.append(
                ("/v1/traces", project_request(PROJECT, chunk_spans).SerializeToString())
            )
        if chunk_logs:
            requests.append(("/v1/logs", make_logs_request(chunk_logs).SerializeToString()))
    # Retries: each request has about one extra copy, sent to either replica.
    half = len(requests) // 2
    requests += rng.sample(requests, half) + rng.sample(requests, half)
    rng.shuffle(requests)
    return requests


def _send(url: str, path: str, body: bytes) -> None:
    for _ in range(20):  # like an exporter: retry what the server asks to retry
        response = httpx.post(
            f"{url}{path}", content=body,
            headers={"content-type": "application/x-protobuf"}, timeout=60,
        )
        if response.status_code != 503:
            break
    assert response.status_code == 200, response.text


def test_two_replicas_store_everything_once_with_exact_rollups(
    postgres: PostgresServer, server_factory: Callable[..., EmberProcess]
) -> None:
    url = postgres.create_database()
    replicas = [server_factory(env={"EMBER_DATABASE_URL": url}) for _ in range(2)]
    rng = random.Random(7)
    turns = [_trace(k) for k in range(TRACES)]
    spans = [s for t in turns for s in t[0]]
    logs = [g for t in turns for g in t[1]]
    requests = _requests(rng, spans, logs)

    # Each request goes to a replica chosen at random, so retries often reach the other one.
    targets = [rng.choice(replicas).url for _ in requests]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda job: _send(job[0], *job[1]), zip(targets, requests, strict=True)))

    reader = replicas[0]
    assert len(reader.spans(PROJECT)) == len(spans)
    for _, _, expected in turns:
        trace = reader.get(f"/v1/traces/{_trace_id_of(reader, expected)}").json()["data"]
        assert trace["span_count"] == expected["span_count"]
        assert trace["error_count"] == expected["error_count"]
        assert trace["token_count"] == expected["token_count"]
        assert round(trace["cost"]["total"] * PICO) == expected["cost"]
        assert trace["cost"]["unpriced_spans"] == 0
        assert trace["root_span"]["span_id"] == expected["root"]
        assert trace["session_id"] == expected["session_id"]
        llm_b = next(s for s in trace["spans"] if s["context"]["span_id"] == expected["llm_b"])
        assert llm_b["attributes"]["llm.output_messages.0.message.content"].startswith("answer")
        assert len(llm_b["logs"]) == 2

    for s in range(SESSIONS):
        session = reader.get(f"/v1/projects/{PROJECT}/sessions/session-{s}").json()["data"]
        mine = [e for _, _, e in turns if e["session_id"] == f"session-{s}"]
        assert session["trace_count"] == len(mine)
        assert session["error_count"] == len(mine)
        assert session["token_count"]["total"] == 2200 * len(mine)
        assert round(session["cost"]["total"] * PICO) == 2 * LLM_COST * len(mine)

    with psycopg.connect(url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM traces),"
            " (SELECT count(*) FROM sessions), (SELECT count(*) FROM spans),"
            " (SELECT count(*) FROM span_logs)"
        ).fetchone()
    assert counts == (1, TRACES, SESSIONS, len(spans), len(logs))


def _trace_id_of(server: EmberProcess, expected: dict[str, Any]) -> str:
    (span,) = server.spans(PROJECT, span_id=expected["root"])
    return str(span["context"]["trace_id"])
