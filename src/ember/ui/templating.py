"""Jinja2 for every UI page: one environment, autoescaping on, the shared filters and globals.

Pages extend `base.html` (header, one stylesheet, a `content` block and a `script` block that
names the page's own ES module). Page data reaches scripts through `data-` attributes or a
JSON fetch, never through inline script: the Content-Security-Policy (ui/security.py) would
refuse to run it anyway.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ember import __version__
from ember.ui import STATIC_DIR, STATIC_PREFIX
from ember.ui.format import FILTERS
from ember.ui.markdown import render_markdown


@cache
def static_url(path: str) -> str:
    """URL of a static file, with a digest of its content so a new version is fetched anew."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{path}?v={digest}"


def project_url(project: str) -> str:
    return f"/projects/{quote(project, safe='')}"


def trace_url(project: str, trace_id: str, span_id: str | None = None) -> str:
    """The trace page; with `span_id`, the link that opens that span (the shareable link)."""
    url = f"{project_url(project)}/traces/{quote(trace_id, safe='')}"
    return f"{url}?span={quote(span_id, safe='')}" if span_id else url


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ember.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.filters["markdown"] = render_markdown
    env.globals.update(
        static_url=static_url,
        project_url=project_url,
        trace_url=trace_url,
        version=__version__,
    )
    return env


ENV = _environment()


def render_text(template: str, context: dict[str, Any]) -> str:
    return ENV.get_template(template).render(context)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page or fragment as an HTML response."""
    return HTMLResponse(
        render_text(template, {"request": request, **context}), status_code=status_code
    )


def render_error(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    """A whole page that says what went wrong, with the status it carries."""
    return render(
        request, "error.html", {"title": title, "message": message}, status_code=status_code
    )
