"""Phoenix's trace listing (`GET /v1/projects/{id}/traces`) and span delete
(`DELETE /v1/spans/{id}`).

The listing reads trace roll-ups only; `include_spans` adds each trace's spans' tree columns
(Phoenix's TraceSpanData), never their attributes; `include_annotations` (Ember's) adds each
trace's annotations (name, label, score, annotator kind), loaded in one query for the page.
Its cursor is a keyset position in the requested order, so paging never drops or repeats a
trace, whatever the sort.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ember.api.deps import ms_to_ns, project_of, store_of, unix_nano
from ember.api.filter_params import combined_condition
from ember.api.routes import JSONResponse
from ember.api.shapes import annotation_briefs_json, parse_global_id, trace_data_json
from ember.model import TraceQuery

router = APIRouter()


@router.get(
    "/v1/projects/{project_identifier}/traces",
    tags=["traces"],
    summary="List a project's traces (Phoenix's GetTracesResponseBody), with cursor pagination",
)
def list_traces(
    request: Request,
    project_identifier: str,
    start_time: Annotated[
        datetime | None, Query(description="Inclusive lower bound on the trace's start time")
    ] = None,
    end_time: Annotated[
        datetime | None, Query(description="Exclusive upper bound on the trace's start time")
    ] = None,
    sort: Annotated[
        str,
        Query(description="start_time, end_time, latency_ms, span_count, error_count, "
              "prompt_tokens, completion_tokens, total_tokens or cost"),
    ] = "start_time",
    order: Literal["asc", "desc"] = "desc",
    filter: Annotated[
        str | None,
        Query(description="A trace filter in Ember's filter language, e.g. "
              "error_count > 0 and 'refund' in input, or any(span_kind == 'TOOL')"),
    ] = None,
    limit: Annotated[int, Query(gt=0, le=1000)] = 100,
    cursor: str | None = None,
    include_spans: Annotated[
        bool, Query(description="Add each trace's spans (tree columns only, no attributes)")
    ] = False,
    session_identifier: Annotated[
        list[str] | None,
        Query(description="Only traces of these sessions (their own ids or GlobalIDs)"),
    ] = None,
    error: Annotated[
        bool | None,
        Query(description="true: traces with an errored span; false: traces without one"),
    ] = None,
    min_latency_ms: Annotated[float | None, Query(ge=0, description="Inclusive")] = None,
    max_latency_ms: Annotated[float | None, Query(ge=0, description="Inclusive")] = None,
    include_annotations: Annotated[
        bool,
        Query(description="Ember: add each trace's annotations (name, label, score, "
              "annotator_kind, identifier) as `annotations`"),
    ] = False,
) -> JSONResponse:
    store = store_of(request)
    project = project_of(store, project_identifier)
    session_ids: list[str] = []
    session_rowids: list[int] = []
    for identifier in session_identifier or []:
        rowid = parse_global_id(identifier, "ProjectSession")
        if rowid is None:
            session_ids.append(identifier)
        else:
            session_rowids.append(rowid)
    query = TraceQuery(
        start_time_from=unix_nano(start_time, "start_time"),
        start_time_to=unix_nano(end_time, "end_time"),
        sort=sort,
        order=order,
        condition=combined_condition(filter, target="trace"),
        session_ids=tuple(session_ids),
        session_rowids=tuple(session_rowids),
        error=error,
        min_latency_ns=ms_to_ns(min_latency_ms, "min_latency_ms", upper=False),
        max_latency_ns=ms_to_ns(max_latency_ms, "max_latency_ms", upper=True),
        include_spans=include_spans,
    )
    page = store.page_traces(project, query, cursor, limit)
    rows = [trace_data_json(t) for t in page.items]
    if include_annotations:
        notes = store.annotation_briefs("trace", [t.summary.trace_id for t in page.items])
        for row, item in zip(rows, page.items, strict=True):
            row["annotations"] = annotation_briefs_json(notes.get(item.summary.trace_id, []))
    return JSONResponse({"data": rows, "next_cursor": page.next_cursor})


@router.delete(
    "/v1/spans/{span_identifier}",
    tags=["spans"],
    summary="Delete one span (by its id or GlobalID); its children stay",
    status_code=204,
)
def delete_span(request: Request, span_identifier: str) -> Response:
    rowid = parse_global_id(span_identifier, "Span")
    store = store_of(request)
    if rowid is None:
        store.delete_span(span_identifier)
    else:
        store.delete_span(None, rowid)
    return Response(status_code=204)
