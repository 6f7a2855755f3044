"""The projects page, a project's page (tabs Traces, Spans, Sessions, Metrics) and a session's
page.

- `GET /[?range=]`: every project with its trace count, last activity, p50 latency, error rate,
  tokens and cost over the range (store.project_metrics, one bucket per project); with no
  project yet, two lines of code that send a first trace to this very server.
- `GET /projects/{project}[?tab=traces|spans|sessions|metrics&range=&from=&to=&filter=&sort=
  &order=&roots=1&live=1]`: the page shell. The tables are drawn by static/project.js from the
  REST listings (the filter, sort, range and cursor go to the API as they are); the Metrics
  tab is drawn here, as SVG (ui/charts.py).
- `GET /projects/{project}/sessions/{session_id}`: the conversation, turn by turn: each trace's
  root input and output, linking to the trace.

Templates, charts and the markdown renderer are imported by the handlers (see
ember/ui/__init__.py).
"""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ember.api.deps import store_of
from ember.errors import BadRequest, EmberError, NotFound
from ember.model import Project, TraceQuery
from ember.ui.timerange import LABELS, TimeRange, resolve

router = APIRouter(include_in_schema=False)

TABS = ("traces", "spans", "sessions", "metrics")
CHART_BUCKETS = 24
SESSION_TURNS = 100  # turns per page of a session



def _time_range(request: Request) -> TimeRange:
    params = request.query_params
    return resolve(params.get("range"), params.get("from"), params.get("to"), time.time_ns())


def _ago(unix_ns: int | None, now_ns: int) -> str:
    if unix_ns is None:
        return "never"
    seconds = max(0, (now_ns - unix_ns) // 1_000_000_000)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


@router.get("/")
def projects_page(request: Request) -> Response:
    from ember.cost.compute import usd
    from ember.ui.templating import render, render_error

    store = store_of(request)
    try:
        window = _time_range(request)
    except BadRequest as error:
        return render_error(request, 400, "Bad time range", error.message)
    now = time.time_ns()
    rows: list[dict[str, Any]] = []
    for project in store.list_projects():
        found = store.project_metrics(project, window.start_ns, window.end_ns, 1)
        totals = found.totals
        rows.append({
            "name": project.name,
            "trace_count": totals.trace_count,
            "last_activity": _ago(found.last_activity, now),
            "last_activity_ns": found.last_activity,
            "latency_ms_p50": totals.latency_ms_p50,
            "error_rate": totals.error_rate,
            "total_tokens": totals.total_tokens,
            "cost": usd(totals.cost),
        })
    endpoint = str(request.base_url).rstrip("/")
    return render(request, "projects.html", {
        "projects": rows,
        "window": window,
        "ranges": LABELS,
        "endpoint": endpoint,
    })


def _project(request: Request, name: str) -> Project:
    return store_of(request).get_project(name)


@router.get("/projects/{project:path}/sessions/{session_id}")
def session_page(
    request: Request,
    project: str,
    session_id: str,
    cursor: Annotated[str | None, Query(description="The next turns")] = None,
) -> Response:
    from ember.ui.templating import render, render_error

    store = store_of(request)
    try:
        found = _project(request, project)
        session = store.get_session(found, session_id)
        page = store.page_traces(
            found,
            TraceQuery(session_ids=(session_id,), sort="start_time", order="asc"),
            cursor,
            SESSION_TURNS,
        )
    except EmberError as error:
        return render_error(request, error.status, "Cannot open this session", error.message)
    turns = []
    for item in page.items:
        summary = item.summary
        user_text = output_text = None
        if summary.root_span_id is not None:
            # The root span's whole input and output (the previews are cut short): one
            # payload per turn shown.
            try:
                root = store.get_span(summary.root_span_id, summary.trace_id)
            except NotFound:
                root = None
            if root is not None:
                user_text = _text(root.attributes.get("input.value"))
                output_text = _text(root.attributes.get("output.value"))
        turns.append({
            "summary": summary,
            "input": user_text if user_text is not None else summary.input_preview,
            "output": output_text if output_text is not None else summary.output_preview,
        })
    next_url = None
    if page.next_cursor:
        next_url = f"{request.url.path}?cursor={quote(page.next_cursor, safe='')}"
    return render(request, "session.html", {
        "project": found.name,
        "session": session,
        "turns": turns,
        "next_url": next_url,
    })


def _seconds_text(seconds: int) -> str:
    """A bucket's length: 1 h, 5 min, 90 s (whole units when they divide it)."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


@router.get("/projects/{project:path}")
def project_page(
    request: Request,
    project: str,
    tab: Annotated[str, Query(description="traces, spans, sessions or metrics")] = "traces",
) -> Response:
    from ember.ui.templating import project_url, render, render_error

    try:
        found = _project(request, project)
    except NotFound:
        return render_error(request, 404, "No such project", f"There is no project {project!r}.")
    if tab not in TABS:
        return render_error(
            request, 400, "No such tab", f"tab={tab!r}: one of {', '.join(TABS)}."
        )
    try:
        window = _time_range(request)
    except BadRequest as error:
        return render_error(request, 400, "Bad time range", error.message)
    context: dict[str, Any] = {
        "project": found.name,
        "tab": tab,
        "tabs": TABS,
        "window": window,
        "ranges": LABELS,
        "api_base": f"/v1/projects/{quote(found.name, safe='')}",
        "page_base": project_url(found.name),
        "charts": [],
        "metrics": None,
    }
    if tab == "metrics":
        from ember.cost.compute import usd
        from ember.ui.charts import charts

        metrics = store_of(request).project_metrics(
            found, window.start_ns, window.end_ns, CHART_BUCKETS
        )
        context["charts"] = charts(metrics)
        context["metrics"] = metrics
        context["bucket_text"] = _seconds_text(metrics.bucket_ns // 1_000_000_000)
        context["top_models"] = [
            {"model": m, "cost": usd(m.cost)} for m in metrics.top_models
        ]
    return render(request, "project.html", context)
