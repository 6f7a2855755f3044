"""The trace view's routes: the page, the span-id link, and the span detail fragment.

- `GET /projects/{project}/traces/{trace_id}[?span=<span_id>]`: the page shell. The tree and
  timeline are drawn by static/trace.js from the skeleton (`GET /v1/traces/{id}/skeleton`,
  api/trace_routes.py); `?span=` selects that span and scrolls to it: the shareable link.
- `GET /spans/{span_id}[?trace_id=]`: redirects to the trace page with the span selected.
- `GET /ui/traces/{trace_id}/spans/{span_id}`: one span's detail as an HTML fragment, loaded
  when the span is opened. It is rendered here, so untrusted text is escaped or sanitized by
  the server (ui/markdown.py) and the browser only inserts finished, inert HTML.

Templates and the markdown renderer are imported by the handlers (see ember/ui/__init__.py).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from ember.api.deps import store_of
from ember.errors import EmberError, NotFound

router = APIRouter(include_in_schema=False)

TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
SPAN_ID = re.compile(r"^[0-9a-fA-F]{16}$")



@router.get("/projects/{project:path}/traces/{trace_id}")
def trace_page(
    request: Request,
    project: str,
    trace_id: str,
    span: Annotated[str | None, Query(description="A span to select")] = None,
) -> Response:
    from ember.ui.templating import render, render_error, trace_url

    if not TRACE_ID.match(trace_id):
        return render_error(
            request, 404, "Not a trace id",
            f"{trace_id!r} is not a trace id: trace ids are 32 hexadecimal digits.",
        )
    if span is not None and not SPAN_ID.match(span):
        return render_error(
            request, 400, "Not a span id",
            f"span={span!r} is not a span id: span ids are 16 hexadecimal digits.",
        )
    try:
        found = store_of(request).get_project(project)
    except NotFound:
        return render_error(request, 404, "No such project", f"There is no project {project!r}.")
    trace_id = trace_id.lower()
    return render(request, "trace.html", {
        "project": found.name,
        "trace_id": trace_id,
        "selected": span.lower() if span else "",
        "skeleton_url": (
            f"/v1/traces/{trace_id}/skeleton?project={quote(found.name, safe='')}"
        ),
        "search_url": f"/v1/traces/{trace_id}/search",
        "detail_url": f"/ui/traces/{trace_id}/spans/",
        "page_url": trace_url(found.name, trace_id),
    })


@router.get("/spans/{span_id}")
def span_link(
    request: Request,
    span_id: str,
    trace_id: Annotated[str | None, Query(description="Needed if the id is ambiguous")] = None,
) -> Response:
    from ember.ui.templating import render_error, trace_url

    try:
        span = store_of(request).get_span(span_id, trace_id)
    except EmberError as error:
        return render_error(request, error.status, "Cannot open this span", error.message)
    return RedirectResponse(
        trace_url(span.project_name, span.trace_id, span.span_id), status_code=302
    )


@router.get("/ui/traces/{trace_id}/spans/{span_id}")
def span_fragment(request: Request, trace_id: str, span_id: str) -> Response:
    from ember.ui.span_view import span_detail
    from ember.ui.templating import render, trace_url

    try:
        span = store_of(request).get_span(span_id, trace_id)
    except EmberError as error:
        return render(
            request, "detail/error.html", {"message": error.message}, status_code=error.status
        )
    context = span_detail(span, trace_url(span.project_name, span.trace_id, span.span_id))
    return render(request, "span_detail.html", context)
