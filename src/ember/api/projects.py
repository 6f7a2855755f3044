"""Phoenix's project routes (list with cursors, create, update) and its version route.

`GET /v1/projects/{id}` and `DELETE /v1/projects/{id}` live in api/routes.py with Ember's
other project routes; their shapes are Phoenix's too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import PlainTextResponse

from ember.api.deps import project_of, store_of
from ember.api.routes import JSONResponse
from ember.api.shapes import project_json

router = APIRouter()

# `arize-phoenix-client` asks the server's version before it calls a route or sends a parameter
# that Phoenix added late (phoenix/client/constants/server_requirements.py), and refuses to call
# a server older than the route needs. Ember answers with the newest Phoenix version whose
# tracing requirements it meets: 20.8.0 added the trace listing's `error`, `min_latency_ms` and
# `max_latency_ms`, the newest of them. Raise it only when Ember serves what a newer version
# gates (the client then also believes newer dataset and prompt routes exist; Ember has none of
# those and answers 404 to them, whatever this says).
PHOENIX_COMPATIBLE_VERSION = "20.8.0"


@router.get(
    "/arize_phoenix_version",
    tags=["phoenix"],
    summary="The Phoenix version whose tracing routes this server serves (plain text)",
)
def phoenix_version() -> PlainTextResponse:
    return PlainTextResponse(PHOENIX_COMPATIBLE_VERSION)


@router.get(
    "/v1/projects",
    tags=["projects"],
    summary="List projects, newest first, a page at a time (Phoenix's GetProjectsResponseBody)",
)
def list_projects(
    request: Request,
    cursor: str | None = None,
    limit: Annotated[int, Query(gt=0, le=1000)] = 100,
    name_contains: Annotated[
        str | None, Query(description="Only projects whose name contains this (any case)")
    ] = None,
) -> JSONResponse:
    page = store_of(request).page_projects(name_contains, cursor, limit)
    return JSONResponse(
        {"data": [project_json(p) for p in page.items], "next_cursor": page.next_cursor}
    )


class CreateProjectBody(BaseModel):
    """Phoenix's CreateProjectRequestBody."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=1000)
    description: str | None = None


class UpdateProjectBody(BaseModel):
    """Phoenix's UpdateProjectRequestBody: a project's name never changes; a missing or null
    description leaves it as it is."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None


@router.post(
    "/v1/projects",
    tags=["projects"],
    summary="Create an empty project (409 when the name is taken)",
)
def create_project(request: Request, body: CreateProjectBody) -> JSONResponse:
    project = store_of(request).create_project(body.name, body.description)
    return JSONResponse({"data": project_json(project)})


@router.put(
    "/v1/projects/{project_identifier}",
    tags=["projects"],
    summary="Update a project's description (by name, GlobalID or row id)",
)
def update_project(
    request: Request, project_identifier: str, body: UpdateProjectBody
) -> JSONResponse:
    store = store_of(request)
    project = project_of(store, project_identifier)
    if body.description is not None:
        project = store.update_project(project, body.description)
    return JSONResponse({"data": project_json(project)})
