"""Phoenix's session routes through the real `arize-phoenix-client`: list, get, turns, delete."""

from __future__ import annotations

import httpx
import pytest

from ember.api.shapes import parse_global_id
from tests.conftest import EmberProcess
from tests.phoenix.support import MS, client, now_ns, send_turn, tracer, unique


def test_list_get_and_turns(shared_server: EmberProcess) -> None:
    project = unique("sessions")
    sessions = [unique("chat") for _ in range(105)]  # more than one page of 100
    base = now_ns()
    with tracer(shared_server, project) as t:
        turns = [send_turn(t, base + i * MS, session=s, question=f"q{i}")
                 for i, s in enumerate(sessions)]
        second = send_turn(t, base + 200 * MS, session=sessions[0], question="again")
    px = client(shared_server)

    listed = px.sessions.list(project_name=project)
    # By row id, as Phoenix orders them; every session once across the pages.
    assert sorted(s["session_id"] for s in listed) == sorted(sessions)
    rowids = [parse_global_id(s["id"], "ProjectSession") for s in listed]
    assert rowids == sorted(rowids)  # type: ignore[type-var]
    first = next(s for s in listed if s["session_id"] == sessions[0])
    assert [tr["trace_id"] for tr in first["traces"]] == [turns[0].trace_id, second.trace_id]
    assert first["project_id"] == px.projects.get(project_name=project)["id"]
    assert (first["token_count_prompt"], first["token_count_total"]) == (24, 30)
    assert len(px.sessions.list(project_name=project, limit=3)) == 3

    assert px.sessions.get(session_id=sessions[0]) == first
    assert px.sessions.get(session_id=first["id"]) == first

    frame = px.sessions.get_sessions_dataframe(project_name=project).set_index("session_id")
    assert frame["num_traces"][sessions[0]] == 2 and frame["num_traces"][sessions[1]] == 1

    turns_of_first = px.sessions.get_session_turns(session_id=sessions[0])
    assert [turn["input"]["value"] for turn in turns_of_first] == ["q0", "again"]
    assert [turn["output"]["value"] for turn in turns_of_first] == ["30 days", "30 days"]


def test_delete_one_and_many(shared_server: EmberProcess) -> None:
    project = unique("session-delete")
    names = [unique("s") for _ in range(4)]
    with tracer(shared_server, project) as t:
        turns = [send_turn(t, now_ns(), session=name) for name in names]
    px = client(shared_server)
    by_name = {s["session_id"]: s for s in px.sessions.list(project_name=project)}
    listed = [by_name[name] for name in names]

    px.sessions.delete(session_id=names[0])
    with pytest.raises(httpx.HTTPStatusError) as gone:
        px.sessions.get(session_id=names[0])
    assert gone.value.response.status_code == 404
    assert shared_server.get(f"/v1/traces/{turns[0].trace_id}").status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as again:
        px.sessions.delete(session_id=names[0])
    assert again.value.response.status_code == 404

    px.sessions.bulk_delete(session_ids=[listed[1]["id"], listed[2]["id"]])
    assert [s["session_id"] for s in px.sessions.list(project_name=project)] == [names[3]]
    px.sessions.bulk_delete(session_ids=[names[3], unique("never-stored")])
    assert px.sessions.list(project_name=project) == []

    route = f"{shared_server.url}/v1/sessions/delete"
    mixed = httpx.post(route, json={"session_identifiers": [listed[0]["id"], "plain"]})
    assert mixed.status_code == 422 and "one kind" in mixed.json()["error"]["message"]
    empty = httpx.post(route, json={"session_identifiers": []})
    assert empty.status_code == 422


def test_an_id_two_projects_use_must_be_named_by_global_id(
    shared_server: EmberProcess,
) -> None:
    shared = unique("shared-session")
    projects = [unique("twin"), unique("twin")]
    for project in projects:
        with tracer(shared_server, project) as t:
            send_turn(t, now_ns(), session=shared)
    px = client(shared_server)
    with pytest.raises(httpx.HTTPStatusError) as ambiguous:
        px.sessions.get(session_id=shared)
    assert ambiguous.value.response.status_code == 400
    assert "GlobalID" in ambiguous.value.response.json()["error"]["message"]
    (mine,) = px.sessions.list(project_name=projects[1])
    assert px.sessions.get(session_id=mine["id"])["project_id"] == mine["project_id"]
    with pytest.raises(httpx.HTTPStatusError):
        px.sessions.delete(session_id=shared)
    px.sessions.delete(session_id=mine["id"])
    assert px.sessions.get(session_id=shared)["project_id"] != mine["project_id"]
