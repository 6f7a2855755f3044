"""REST routes: projects, spans, traces (Phoenix's paths and shapes), health and metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ember.api.deps import project_of, store_of, unix_nano
from ember.api.filter_params import combined_condition
from ember.api.shapes import (
    annotation_briefs_json,
    project_json,
    session_json,
    span_detail_json,
    span_json,
    span_row_json,
    trace_json,
)
from ember.errors import BadRequest, EmberError
from ember.model import STATUS_CODES, Project, RetentionPolicy, SpanFilter
from ember.store.listings import Listing


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(error: EmberError) -> JSONResponse:
    response = JSONResponse(error.envelope(), status_code=error.status)
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


router = APIRouter()


@router.get("/healthz", tags=["health"], summary="Liveness: the process answers")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", tags=["health"], summary="Readiness: the database answers")
def readyz(request: Request) -> JSONResponse:
    try:
        store_of(request).ping()
    except Exception as exc:  # any database failure means not ready
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/metrics", tags=["health"], summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    return Response(
        request.app.state.metrics.render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


@router.get("/v1/projects/{project_identifier}", tags=["projects"], summary="Get a project")
def get_project(request: Request, project_identifier: str) -> JSONResponse:
    return JSONResponse({"data": project_json(project_of(store_of(request), project_identifier))})


@router.get(
    "/v1/projects/{project_identifier}/spans",
    tags=["spans"],
    summary="List a project's spans, newest first (or as `sort` says), with filters and cursor "
    "pagination",
)
def list_spans(
    request: Request,
    project_identifier: str,
    cursor: str | None = None,
    limit: Annotated[int, Query(gt=0, le=1000)] = 100,
    trace_id: Annotated[list[str] | None, Query()] = None,
    span_id: Annotated[list[str] | None, Query()] = None,
    parent_id: Annotated[
        str | None, Query(description='A parent span id, or "null" for root spans only')
    ] = None,
    name: Annotated[list[str] | None, Query()] = None,
    span_kind: Annotated[list[str] | None, Query()] = None,
    status_code: Annotated[list[str] | None, Query(description="OK, ERROR or UNSET")] = None,
    start_time: Annotated[datetime | None, Query(description="Inclusive lower bound")] = None,
    end_time: Annotated[datetime | None, Query(description="Exclusive upper bound")] = None,
    filter: Annotated[
        str | None,
        Query(description="A span filter in Ember's filter language, e.g. "
              "span_kind == 'LLM' and 'refund' in input.value (see docs/query.md)"),
    ] = None,
    attribute: Annotated[
        list[str] | None,
        Query(description="Phoenix's key:value attribute equality, repeatable"),
    ] = None,
    sort: Annotated[
        str,
        Query(description="Ember: start_time, end_time, latency_ms, prompt_tokens, "
              "completion_tokens, total_tokens or cost"),
    ] = "start_time",
    order: Annotated[Literal["asc", "desc"], Query(description="Ember: the sort's order")] = "desc",
    fields: Annotated[
        Literal["all", "table"],
        Query(description="Ember: `table` for light rows (promoted columns and short "
              "input/output previews, no attributes, events or resource)"),
    ] = "all",
    include_annotations: Annotated[
        bool,
        Query(description="Ember: add each span's annotations (name, label, score, "
              "annotator_kind, identifier) as `annotations`"),
    ] = False,
) -> JSONResponse:
    store = store_of(request)
    project = project_of(store, project_identifier)
    condition = combined_condition(filter, attribute or ())
    codes: list[int] = []
    for code in status_code or []:
        if code.upper() not in STATUS_CODES:
            raise BadRequest(f"status_code {code!r} is not one of OK, ERROR, UNSET")
        codes.append(STATUS_CODES[code.upper()])
    roots_only = parent_id is not None and parent_id.lower() == "null"
    span_filter = SpanFilter(
        trace_ids=tuple(trace_id or ()),
        span_ids=tuple(span_id or ()),
        names=tuple(name or ()),
        span_kinds=tuple(span_kind or ()),
        status_codes=tuple(codes),
        parent_id=None if roots_only else parent_id,
        roots_only=roots_only,
        start_time_from=unix_nano(start_time, "start_time"),
        start_time_to=unix_nano(end_time, "end_time"),
    )
    listing = Listing(condition=condition, sort=sort, descending=order == "desc")
    page = store.list_spans(project, span_filter, cursor, limit, listing)
    shape = span_row_json if fields == "table" else span_json
    rows = [shape(s) for s in page.items]
    if include_annotations:
        # One query for the page's spans (annotations name a span by its id).
        notes = store.annotation_briefs("span", [s.span_id for s in page.items])
        for row, span in zip(rows, page.items, strict=True):
            row["annotations"] = annotation_briefs_json(notes.get(span.span_id, []))
    return JSONResponse({"data": rows, "next_cursor": page.next_cursor})


@router.get(
    "/v1/projects/{project_identifier}/sessions/{session_id}",
    tags=["sessions"],
    summary="A session's roll-up and its traces in time order",
)
def get_session(request: Request, project_identifier: str, session_id: str) -> JSONResponse:
    store = store_of(request)
    session = store.get_session(project_of(store, project_identifier), session_id)
    return JSONResponse({"data": session_json(session)})


@router.get(
    "/v1/spans/{span_id}",
    tags=["spans"],
    summary="One span's full payload with its mapping report",
)
def get_span(
    request: Request,
    span_id: str,
    trace_id: Annotated[str | None, Query(description="Needed only if the id is ambiguous")] = None,
) -> JSONResponse:
    return JSONResponse({"data": span_detail_json(store_of(request).get_span(span_id, trace_id))})


@router.get("/v1/traces/{trace_id}", tags=["traces"], summary="A whole trace: roll-up and spans")
def get_trace(request: Request, trace_id: str) -> JSONResponse:
    summary, spans = store_of(request).get_trace(trace_id)
    return JSONResponse({"data": trace_json(summary, spans)})


@router.delete(
    "/v1/traces/{trace_id}",
    tags=["traces"],
    summary="Delete a trace with its spans and their log records",
    status_code=204,
)
def delete_trace(request: Request, trace_id: str) -> Response:
    store_of(request).delete_trace(trace_id)
    return Response(status_code=204)


@router.delete(
    "/v1/projects/{project_identifier}/sessions/{session_id}",
    tags=["sessions"],
    summary="Delete a session: every trace of it, with their spans",
    status_code=204,
)
def delete_session(request: Request, project_identifier: str, session_id: str) -> Response:
    store = store_of(request)
    store.delete_session(project_of(store, project_identifier), session_id)
    return Response(status_code=204)


@router.delete(
    "/v1/projects/{project_identifier}",
    tags=["projects"],
    summary="Delete a project and all its traces, spans and sessions",
    status_code=204,
)
def delete_project(request: Request, project_identifier: str) -> Response:
    store = store_of(request)
    store.delete_project(project_of(store, project_identifier))
    return Response(status_code=204)


class RetentionBody(BaseModel):
    """A project's retention: keep `days` days and/or the newest `max_traces` traces (null: no
    limit of that kind). `use_default: true` makes the project follow the server's default."""

    days: int | None = Field(default=None, gt=0)
    max_traces: int | None = Field(default=None, gt=0)
    use_default: bool = False


def _retention_json(request: Request, project: Project) -> dict[str, Any]:
    default: RetentionPolicy = request.app.state.default_retention
    policy = project.retention or default
    return {
        "days": policy.days,
        "max_traces": policy.max_traces,
        "source": "project" if project.retention is not None else "server default",
    }


@router.get(
    "/v1/projects/{project_identifier}/retention",
    tags=["projects"],
    summary="The retention policy that applies to a project",
)
def get_retention(request: Request, project_identifier: str) -> JSONResponse:
    project = project_of(store_of(request), project_identifier)
    return JSONResponse({"data": _retention_json(request, project)})


@router.put(
    "/v1/projects/{project_identifier}/retention",
    tags=["projects"],
    summary="Set a project's own retention policy (or return it to the server's default)",
)
def put_retention(
    request: Request, project_identifier: str, body: RetentionBody
) -> JSONResponse:
    store = store_of(request)
    project = project_of(store, project_identifier)
    policy = None if body.use_default else RetentionPolicy(body.days, body.max_traces)
    return JSONResponse({"data": _retention_json(request, store.set_retention(project, policy))})
