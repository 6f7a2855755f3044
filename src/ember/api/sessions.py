"""Phoenix's session routes: a project's sessions, one session, deleting one or many.

Beside Phoenix's fields, a session carries Ember's roll-ups and the p50 and p99 latency of
its traces (`latency_ms_p50`, `latency_ms_p99`, null without traces); the listing also takes
the traces listing's time range (`start_time`, `end_time`) on the sessions' start times.

A session is named by its GlobalID (the `id` these routes return) or by its own id (the
`session.id` the app sent). Ember keeps sessions per project, so an own id that several
projects use is ambiguous: those routes answer 400 and ask for the GlobalID (Ember's
`/v1/projects/{p}/sessions/{id}` routes take the project too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from ember.api.deps import project_of, store_of, unix_nano, unprocessable
from ember.api.filter_params import combined_condition
from ember.api.routes import JSONResponse
from ember.api.shapes import parse_global_id, session_data_json
from ember.errors import NotFound
from ember.store.listings import Listing

router = APIRouter()

SESSION_KIND = "ProjectSession"


@router.get(
    "/v1/projects/{project_identifier}/sessions",
    tags=["sessions"],
    summary="List a project's sessions with their traces (Phoenix's GetSessionsResponseBody)",
)
def list_sessions(
    request: Request,
    project_identifier: str,
    cursor: str | None = None,
    limit: Annotated[int, Query(gt=0, le=1000)] = 100,
    order: Literal["asc", "desc"] = "asc",
    sort: Annotated[
        str,
        Query(description="id (creation order, Phoenix's), start_time, end_time, latency_ms, "
              "trace_count, error_count, prompt_tokens, completion_tokens, total_tokens or cost"),
    ] = "id",
    filter: Annotated[
        str | None,
        Query(description="A session filter in Ember's filter language, e.g. "
              "trace_count >= 3 and 'cancel' in first_input"),
    ] = None,
    start_time: Annotated[
        datetime | None,
        Query(description="Ember: inclusive lower bound on the session's start time"),
    ] = None,
    end_time: Annotated[
        datetime | None,
        Query(description="Ember: exclusive upper bound on the session's start time"),
    ] = None,
) -> JSONResponse:
    store = store_of(request)
    listing = Listing(
        condition=combined_condition(filter, target="session"),
        sort=sort,
        start_from=unix_nano(start_time, "start_time"),
        start_to=unix_nano(end_time, "end_time"),
    )
    page = store.page_sessions(
        project_of(store, project_identifier), order, cursor, limit, listing
    )
    return JSONResponse(
        {"data": [session_data_json(s) for s in page.items], "next_cursor": page.next_cursor}
    )


@router.get(
    "/v1/sessions/{session_identifier}",
    tags=["sessions"],
    summary="One session by GlobalID or own id, with its traces (Phoenix's GetSessionResponseBody)",
)
def get_session(request: Request, session_identifier: str) -> JSONResponse:
    rowid = parse_global_id(session_identifier, SESSION_KIND)
    item = store_of(request).find_session(rowid, None if rowid is not None else session_identifier)
    return JSONResponse({"data": session_data_json(item)})


@router.delete(
    "/v1/sessions/{session_identifier}",
    tags=["sessions"],
    summary="Delete a session (by GlobalID or own id) with its traces, spans and annotations",
    status_code=204,
)
def delete_session(request: Request, session_identifier: str) -> Response:
    rowid = parse_global_id(session_identifier, SESSION_KIND)
    store = store_of(request)
    if rowid is None:
        deleted = store.delete_sessions((), (session_identifier,))
    else:
        deleted = store.delete_sessions((rowid,), ())
    if not deleted:
        raise NotFound(f"no session {session_identifier!r}")
    return Response(status_code=204)


class DeleteSessionsBody(BaseModel):
    """Phoenix's DeleteSessionsRequestBody."""

    model_config = ConfigDict(extra="forbid")

    session_identifiers: list[str]


@router.post(
    "/v1/sessions/delete",
    tags=["sessions"],
    summary="Delete sessions (all GlobalIDs or all own ids); ids not stored are skipped",
    status_code=204,
)
def delete_sessions(request: Request, body: DeleteSessionsBody) -> Response:
    if not body.session_identifiers:
        raise unprocessable(("body", "session_identifiers"), "name at least one session")
    rowids: list[int] = []
    own_ids: list[str] = []
    for identifier in body.session_identifiers:
        rowid = parse_global_id(identifier, SESSION_KIND)
        if rowid is None:
            own_ids.append(identifier)
        else:
            rowids.append(rowid)
    if rowids and own_ids:
        raise unprocessable(
            ("body", "session_identifiers"),
            "all identifiers must be of one kind: GlobalIDs or the sessions' own ids",
        )
    store_of(request).delete_sessions(rowids, own_ids)
    return Response(status_code=204)
