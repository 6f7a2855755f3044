"""Phoenix's project routes and version route, through the real `arize-phoenix-client`."""

from __future__ import annotations

import httpx
import pytest

from ember.api.projects import PHOENIX_COMPATIBLE_VERSION
from tests.conftest import EmberProcess
from tests.phoenix.support import client, now_ns, send_turn, tracer, unique


def test_the_version_route_satisfies_the_client_requirements(shared_server: EmberProcess) -> None:
    from phoenix.client.constants import server_requirements
    from phoenix.client.utils.server_requirements import ServerVersionGuard

    response = shared_server.get("/arize_phoenix_version")
    assert response.status_code == 200
    assert response.text == PHOENIX_COMPATIBLE_VERSION
    guard = ServerVersionGuard(httpx.Client(base_url=shared_server.url))
    for requirement in (
        server_requirements.GET_SESSION, server_requirements.DELETE_SESSION,
        server_requirements.DELETE_SESSIONS, server_requirements.LIST_PROJECT_SESSIONS,
        server_requirements.ANNOTATE_SESSIONS, server_requirements.LIST_PROJECT_TRACES,
        server_requirements.GET_TRACES_FILTERS, server_requirements.GET_SPANS_TRACE_IDS,
        server_requirements.GET_SPANS_SPAN_IDS, server_requirements.GET_SPANS_FILTERS,
    ):
        guard.require(requirement)  # raises when the version is too old


def test_create_get_update_delete(shared_server: EmberProcess) -> None:
    px = client(shared_server)
    name = unique("crud")
    created = px.projects.create(name=name, description="first")
    assert created["name"] == name and created["description"] == "first"
    assert px.projects.get(project_name=name) == created
    assert px.projects.get(project_id=created["id"]) == created

    updated = px.projects.update(project_id=created["id"], description="second")
    assert updated == {**created, "description": "second"}
    assert px.projects.get(project_name=name)["description"] == "second"

    with pytest.raises(httpx.HTTPStatusError) as taken:
        px.projects.create(name=name)
    assert taken.value.response.status_code == 409
    assert name in taken.value.response.json()["error"]["message"]

    px.projects.delete(project_id=created["id"])
    with pytest.raises(httpx.HTTPStatusError) as gone:
        px.projects.get(project_name=name)
    assert gone.value.response.status_code == 404


def test_a_project_made_by_ingest_is_listed_and_deleted_with_its_traces(
    shared_server: EmberProcess,
) -> None:
    px = client(shared_server)
    name = unique("ingested")
    with tracer(shared_server, name) as t:
        turn = send_turn(t, now_ns())
    (listed,) = px.projects.list(name_contains=name)
    assert listed["name"] == name
    px.projects.delete(project_name=name)
    assert px.projects.list(name_contains=name) == []
    assert shared_server.get(f"/v1/traces/{turn.trace_id}").status_code == 404


def test_list_follows_cursors_through_every_page(shared_server: EmberProcess) -> None:
    px = client(shared_server)
    prefix = unique("many")
    names = [f"{prefix}-{i:03}" for i in range(105)]  # more than one page of 100
    for name in names:
        px.projects.create(name=name)
    listed = [p["name"] for p in px.projects.list(name_contains=prefix.upper())]
    assert listed == list(reversed(names))  # newest first, every one once

    page = shared_server.get("/v1/projects", name_contains=prefix, limit=100).json()
    assert len(page["data"]) == 100 and page["next_cursor"]


def test_bad_input_is_refused_with_a_clear_message(shared_server: EmberProcess) -> None:
    url = shared_server.url
    empty = httpx.post(f"{url}/v1/projects", json={"name": ""})
    assert empty.status_code == 422
    assert "name" in empty.json()["error"]["message"]
    extra = httpx.post(f"{url}/v1/projects", json={"name": unique("x"), "colour": "red"})
    assert extra.status_code == 422
    assert "colour" in extra.json()["error"]["message"]
    cursor = httpx.get(f"{url}/v1/projects", params={"cursor": "nonsense"})
    assert cursor.status_code == 400
    assert "cursor" in cursor.json()["error"]["message"]
    missing = httpx.put(f"{url}/v1/projects/{unique('none')}", json={"description": "d"})
    assert missing.status_code == 404


def test_the_openapi_document_lists_the_phoenix_routes(shared_server: EmberProcess) -> None:
    document = shared_server.get("/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
    }
    for expected in [
        ("GET", "/arize_phoenix_version"),
        ("GET", "/v1/projects"), ("POST", "/v1/projects"),
        ("PUT", "/v1/projects/{project_identifier}"),
        ("GET", "/v1/projects/{project_identifier}/traces"),
        ("DELETE", "/v1/spans/{span_identifier}"),
        ("GET", "/v1/projects/{project_identifier}/sessions"),
        ("GET", "/v1/sessions/{session_identifier}"),
        ("DELETE", "/v1/sessions/{session_identifier}"),
        ("POST", "/v1/sessions/delete"),
        ("POST", "/v1/span_annotations"), ("POST", "/v1/trace_annotations"),
        ("POST", "/v1/session_annotations"), ("POST", "/v1/document_annotations"),
        ("POST", "/v1/span_notes"), ("POST", "/v1/trace_notes"), ("POST", "/v1/session_notes"),
        ("GET", "/v1/projects/{project_identifier}/span_annotations"),
        ("GET", "/v1/projects/{project_identifier}/trace_annotations"),
        ("GET", "/v1/projects/{project_identifier}/session_annotations"),
        ("GET", "/v1/projects/{project_identifier}/document_annotations"),
    ]:
        assert expected in operations, expected
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
