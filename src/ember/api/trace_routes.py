"""Routes the trace view reads: a trace's skeleton and text search inside a trace.

The skeleton is compact, columnar JSON (one array per field, entry i of each is span i, in
start order), so a 50,000-span trace is a few MB that the browser parses in one go:
- `parent` holds the index of the span's parent in these arrays, -1 for a root and -2 for a
  span whose parent never arrived (its parent's id is in `missing_parents`);
- `name` and `kind` index into the `names` and `kinds` tables (traces repeat a few names);
- `start` and `duration` are nanoseconds from the trace's start (exact in a double for any
  trace shorter than 104 days);
- `status` is 0 unset, 1 ok, 2 error; `tokens` the span's total tokens, `cost` its cost in USD
  (null when none).
It never includes attributes or payloads: a span's payload is loaded when it is opened
(`GET /v1/spans/{span_id}` or the UI's detail fragment).
"""

from __future__ import annotations

import gzip
import ipaddress
import operator
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ember.api.deps import store_of
from ember.cost.compute import usd
from ember.errors import BadRequest, NotFound
from ember.store.skeleton import TraceSkeleton

router = APIRouter()

# Below this size gzip saves too little to pay for itself.
GZIP_MIN_BYTES = 64 * 1024
SEARCH_LIMIT = 10_000



def _table(values: list[str]) -> tuple[list[str], list[int]]:
    """Dictionary-encode a column: (distinct values in first-seen order, index per row)."""
    distinct = list(dict.fromkeys(values))
    code = {value: i for i, value in enumerate(distinct)}
    return distinct, list(map(code.__getitem__, values))


def skeleton_json(skeleton: TraceSkeleton) -> dict[str, Any]:
    """The skeleton as the compact JSON described in the module docstring.

    Written with C-level loops (map, dict.fromkeys, zip) where it can: at 50,000 spans every
    per-span Python statement costs milliseconds of the page's budget."""
    span_ids = skeleton.span_ids
    position = dict(zip(span_ids, range(len(span_ids)), strict=True))
    parents = [
        -1 if parent_id is None else position.get(parent_id, -2)
        for parent_id in skeleton.parent_ids
    ]
    missing = {
        str(i): skeleton.parent_ids[i] for i, parent in enumerate(parents) if parent == -2
    }
    names, name_codes = _table(skeleton.names)
    kinds, kind_codes = _table(skeleton.span_kinds)
    t0 = skeleton.start_time
    return {
        "trace_id": skeleton.trace_id,
        "project_name": skeleton.project_name,
        "start_time_unix_nano": skeleton.start_time,
        "end_time_unix_nano": skeleton.end_time,
        "span_count": len(span_ids),
        "error_count": skeleton.error_count,
        "total_tokens": skeleton.total_tokens_sum,
        "cost": usd(skeleton.cost_sum),
        "names": names,
        "kinds": kinds,
        "missing_parents": missing,
        "spans": {
            "span_id": span_ids,
            "parent": parents,
            "name": name_codes,
            "kind": kind_codes,
            "start": [start - t0 for start in skeleton.start_times],
            "duration": list(map(operator.sub, skeleton.end_times, skeleton.start_times)),
            "status": skeleton.status_codes,
            "tokens": skeleton.total_tokens,
            "cost": [None if cost is None else usd(cost) for cost in skeleton.costs],
        },
    }


def _remote(request: Request) -> bool:
    """Whether the client is on another machine. uvicorn reads X-Forwarded-For from a proxy
    on this machine, so clients behind such a proxy count as remote."""
    host = request.client.host if request.client else ""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name or a Unix socket: assume far
        return True


def _json(request: Request, content: Any, timings: dict[str, float]) -> Response:
    """orjson bytes with a Server-Timing header (milliseconds per stage) for the benchmark
    and browser tools; gzipped when the body is large and the client takes gzip and is on
    another machine (on this one, moving 3 MB costs less than the 20 ms gzip takes)."""
    started = time.perf_counter()
    body = orjson.dumps(content)
    timings["encode"] = time.perf_counter() - started
    headers = {"Vary": "Accept-Encoding"}
    if (
        len(body) >= GZIP_MIN_BYTES
        and "gzip" in request.headers.get("accept-encoding", "")
        and _remote(request)
    ):
        started = time.perf_counter()
        body = gzip.compress(body, compresslevel=1)
        timings["gzip"] = time.perf_counter() - started
        headers["Content-Encoding"] = "gzip"
    headers["Server-Timing"] = ", ".join(
        f"{name};dur={seconds * 1000:.1f}" for name, seconds in timings.items()
    )
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/v1/traces/{trace_id}/skeleton",
    tags=["traces"],
    summary="A whole trace's tree as compact columnar JSON (no attributes, no payloads)",
)
def get_skeleton(
    request: Request,
    trace_id: str,
    project: Annotated[
        str | None, Query(description="404 unless the trace belongs to this project (name)")
    ] = None,
) -> Response:
    started = time.perf_counter()
    skeleton = store_of(request).trace_skeleton(trace_id)
    timings = {"store": time.perf_counter() - started}
    if project is not None and skeleton.project_name != project:
        raise NotFound(f"no trace with id {trace_id!r} in project {project!r}")
    started = time.perf_counter()
    content = {"data": skeleton_json(skeleton)}
    timings["shape"] = time.perf_counter() - started
    return _json(request, content, timings)


@router.get(
    "/v1/traces/{trace_id}/search",
    tags=["traces"],
    summary="Ids of a trace's spans whose name, kind, attributes, events or logs contain text",
)
def search_trace(
    request: Request,
    trace_id: str,
    q: Annotated[str, Query(description="Text to find, ignoring case")],
    limit: Annotated[int, Query(gt=0, le=SEARCH_LIMIT)] = SEARCH_LIMIT,
) -> Response:
    text = q.strip()
    if not text:
        raise BadRequest("q must hold some text to search for")
    started = time.perf_counter()
    found = store_of(request).search_trace(trace_id, text, limit + 1)
    timings = {"store": time.perf_counter() - started}
    content = {"data": {"span_ids": found[:limit], "truncated": len(found) > limit}}
    return _json(request, content, timings)
