"""`POST /v1/spans`: Phoenix's span queries, answered as DataFrames.

The body holds a list of queries (filter, select, explode, concat, rename, index: see
api/span_frames.py) and what they share: project (`project_name` query parameter or body
field), time range, `limit` (spans per query, 1,000 by default) and `root_spans_only`. The
answer is `multipart/mixed`, one part per query, in order: table-schema JSON when the request
accepts `application/json` (what Phoenix's client asks for), else Arrow IPC streams. When a
query matched more spans than `limit`, the part carries `X-Ember-More: true`.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from starlette.responses import Response

from ember.api.deps import unix_nano
from ember.api.filter_params import combined_condition
from ember.api.span_frames import SpanQuery, frame, parse_query, to_arrow, to_table_json
from ember.errors import BadRequest
from ember.model import Project, SpanFilter, StoredSpan
from ember.query.ast import Condition
from ember.store.base import Store
from ember.store.listings import Listing

router = APIRouter()

MAX_LIMIT = 100_000
PAGE = 1_000
ARROW = "application/vnd.apache.arrow.stream"


def _time(value: Any, name: str) -> int | None:
    """A body's ISO 8601 time (with its zone) as unix ns, as the query parameters read."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} {value!r} is not an ISO 8601 time") from None
    return unix_nano(moment, name)


def _spans(
    store: Store, project: Project, condition: Condition | None, body: dict[str, Any], limit: int
) -> tuple[list[StoredSpan], bool]:
    roots_only = bool(body.get("root_spans_only"))
    listing = Listing(
        condition=condition,
        start_from=_time(body.get("start_time"), "start_time"),
        start_to=_time(body.get("end_time"), "end_time"),
    )
    found: list[StoredSpan] = []
    cursor = None
    while True:
        page = store.list_spans(
            project, SpanFilter(roots_only=roots_only), cursor, min(PAGE, limit + 1), listing
        )
        found += page.items
        cursor = page.next_cursor
        if len(found) > limit:
            return found[:limit], True
        if cursor is None:
            return found, False


@router.post(
    "/v1/spans",
    tags=["spans"],
    summary="Span queries (Phoenix's SpanQuery): DataFrames as Arrow IPC or table JSON",
)
def query_spans(
    request: Request,
    body: Annotated[dict[str, Any], Body()],
    project_name: Annotated[str | None, Query()] = None,
) -> Response:
    store: Store = request.app.state.store
    queries = body.get("queries")
    if not isinstance(queries, list) or not queries:
        raise BadRequest("queries must be a non-empty list of span queries")
    limit = body.get("limit", PAGE)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    parsed: list[tuple[SpanQuery, Condition | None]] = []
    for at, raw in enumerate(queries):
        try:
            query = parse_query(raw)
            parsed.append((query, combined_condition(query.filter)))
        except BadRequest as error:
            raise BadRequest(f"queries[{at}]: {error}") from None
    project = store.get_project(str(project_name or body.get("project_name") or "default"))
    as_json = "application/json" in request.headers.get("accept", "")
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for query, condition in parsed:
        spans, more = _spans(store, project, condition, body, limit)
        result = frame(query, spans)
        content, kind = (
            (to_table_json(result), "application/json") if as_json else (to_arrow(result), ARROW)
        )
        head = f"--{boundary}\r\nContent-Type: {kind}\r\n"
        if more:
            head += "X-Ember-More: true\r\n"
        parts.append(head.encode() + b"\r\n" + content + b"\r\n")
    payload = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return Response(payload, media_type=f"multipart/mixed; boundary={boundary}")
