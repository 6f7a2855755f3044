"""The web UI: server-rendered pages (Jinja2) with small hand-written ES modules.

Layout of the package, for whoever adds a page:
- templating.py: the Jinja2 environment, `render()`, `static_url()`, URL helpers;
- templates/base.html: the layout every page extends; templates/error.html;
- static/ember.css: the one stylesheet; static/<page>.js: one ES module per page, with shared
  helpers in static/lib/ (no build step, no third-party script);
- security.py: the security headers (strict CSP) put on every response;
- one module per page or family of pages with its router (trace_page.py: the trace view;
  project_pages.py: the projects, project and session pages, with charts.py and timerange.py).

`install_ui(app)` wires all of it into the FastAPI app. Page modules import Jinja2 and the
markdown renderer inside their handlers, so they cost nothing at start-up (the server's start
budget is one second) and are loaded by the first page view.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ember.ui.security import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"


class _StaticFiles(StaticFiles):
    """Static files that the browser revalidates (a cheap 304) before reusing: ES modules
    import each other by plain URL, without the content digest `static_url()` adds."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def install_ui(app: FastAPI) -> None:
    """Mount the static files, add the pages' routers and the security headers."""
    from ember.ui.api_docs import router as api_docs_router
    from ember.ui.project_pages import router as project_router
    from ember.ui.trace_page import router as trace_router

    app.include_router(trace_router)
    # After the trace page: the project page's `/projects/{project:path}` would match it too.
    app.include_router(project_router)
    app.include_router(api_docs_router)
    app.mount(STATIC_PREFIX, _StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
