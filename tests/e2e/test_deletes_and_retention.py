"""Deletes and retention through the REST API and `ember db prune`, on a real server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import EmberProcess
from tests.helpers import export_response, make_span, post, project_request, span_id, trace_id

DAY = 86_400 * 10**9


def _send_turn(server: EmberProcess, project: str, session: str, start: int) -> str:
    trace, root = trace_id(), span_id()
    export_response(post(server.url, project_request(project, [
        make_span(trace, root, name="turn", start=start, end=start + 10,
                  attributes={"openinference.span.kind": "CHAIN", "session.id": session}),
        make_span(trace, span_id(), root, name="step", start=start + 1, end=start + 5),
    ])))
    return trace.hex()


def test_delete_routes(shared_server: EmberProcess) -> None:
    url, project = shared_server.url, f"deletes-{time.time_ns()}"
    now = time.time_ns()
    first = _send_turn(shared_server, project, "s1", now)
    _send_turn(shared_server, project, "s1", now + 100)
    _send_turn(shared_server, project, "s2", now + 200)

    assert httpx.delete(f"{url}/v1/traces/{first}").status_code == 204
    assert shared_server.get(f"/v1/traces/{first}").status_code == 404
    assert httpx.delete(f"{url}/v1/traces/{first}").status_code == 404
    session = shared_server.get(f"/v1/projects/{project}/sessions/s1").json()["data"]
    assert session["trace_count"] == 1

    assert httpx.delete(f"{url}/v1/projects/{project}/sessions/s1").status_code == 204
    assert shared_server.get(f"/v1/projects/{project}/sessions/s1").status_code == 404
    assert len(shared_server.spans(project)) == 2

    assert httpx.delete(f"{url}/v1/projects/{project}").status_code == 204
    assert shared_server.get(f"/v1/projects/{project}").status_code == 404
    names = [p["name"] for p in shared_server.get("/v1/projects").json()["data"]]
    assert project not in names


def test_retention_policy_route(shared_server: EmberProcess) -> None:
    url, project = shared_server.url, f"retention-{time.time_ns()}"
    _send_turn(shared_server, project, "s", time.time_ns())
    route = f"{url}/v1/projects/{project}/retention"
    assert httpx.get(route).json()["data"] == {
        "days": None, "max_traces": None, "source": "server default"
    }
    put = httpx.put(route, json={"days": 7, "max_traces": 1000})
    assert put.status_code == 200
    assert put.json()["data"] == {"days": 7, "max_traces": 1000, "source": "project"}
    assert httpx.get(route).json()["data"]["source"] == "project"
    bad = httpx.put(route, json={"days": -1})
    assert bad.status_code == 422
    assert "days" in bad.json()["error"]["message"]
    back = httpx.put(route, json={"use_default": True}).json()["data"]
    assert back["source"] == "server default"


def test_db_prune_applies_retention_once(
    server_factory: Callable[..., EmberProcess], tmp_path: Path
) -> None:
    server = server_factory(working_dir=tmp_path / "data")
    now = time.time_ns()
    old = [_send_turn(server, "p", "old", now - 40 * DAY) for _ in range(2)]
    new = _send_turn(server, "p", "new", now - DAY)
    server.stop()

    result = subprocess.run(
        [sys.executable, "-m", "ember", "db", "prune", "--working-dir", str(tmp_path / "data"),
         "--days", "30"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "deleted 2 traces" in result.stdout

    server = server_factory(working_dir=tmp_path / "data")
    for trace in old:
        assert server.get(f"/v1/traces/{trace}").status_code == 404
    assert server.get(f"/v1/traces/{new}").status_code == 200


def test_the_server_sweeps_by_itself(server_factory: Callable[..., EmberProcess]) -> None:
    server = server_factory(env={
        "EMBER_RETENTION_DAYS": "30", "EMBER_RETENTION_SWEEP_MINUTES": "0.01",
    })
    now = time.time_ns()
    old = _send_turn(server, "swept", "s", now - 60 * DAY)
    kept = _send_turn(server, "swept", "s", now)
    deadline = time.monotonic() + 10
    while server.get(f"/v1/traces/{old}").status_code != 404:
        assert time.monotonic() < deadline, "the sweeper never deleted the old trace"
        time.sleep(0.1)
    assert server.get(f"/v1/traces/{kept}").status_code == 200
