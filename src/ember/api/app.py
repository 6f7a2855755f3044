"""The ASGI application: REST routes, OTLP/HTTP ingest, error envelopes."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from ember import __version__
from ember.api import annotations as annotation_routes
from ember.api import metrics as metrics_routes
from ember.api import projects, sessions, span_queries, traces
from ember.api.routes import JSONResponse, error_response, router
from ember.api.trace_routes import router as trace_router
from ember.errors import EmberError
from ember.ingest.http import export_logs, export_traces
from ember.ingest.service import IngestService
from ember.metrics import Metrics
from ember.settings import Settings
from ember.store.base import Store
from ember.ui import install_ui

log = logging.getLogger("ember.api")


def create_app(
    settings: Settings, store: Store, ingest: IngestService, metrics: Metrics
) -> FastAPI:
    app = FastAPI(
        title="Ember",
        version=__version__,
        summary="Observability server for LLM applications",
        docs_url=None,  # ui/api_docs.py serves /docs without a CDN
        redoc_url=None,
        # FastAPI traces its own requests whenever a global TracerProvider is set. Ember must
        # not: in a notebook (ember.launch_app) the application's register() sets one in the
        # server's process, and the server would export spans about its own requests to
        # itself, from inside its own event loop (a deadlock with span-by-span export).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.store = store
    app.state.ingest = ingest
    app.state.metrics = metrics
    app.state.default_retention = settings.default_retention
    app.include_router(router)
    app.include_router(trace_router)
    app.include_router(span_queries.router)
    app.include_router(metrics_routes.router)
    # Phoenix's tracing routes, at Phoenix's paths and shapes.
    for phoenix_routes in (projects, traces, sessions, annotation_routes):
        app.include_router(phoenix_routes.router)
    install_ui(app)
    app.add_route(
        "/v1/traces", export_traces, methods=["POST"], include_in_schema=False
    )
    app.add_route("/v1/logs", export_logs, methods=["POST"], include_in_schema=False)

    @app.exception_handler(EmberError)
    async def _ember_error(_request: Request, error: EmberError) -> Response:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
            for e in error.errors()
        )
        return JSONResponse(
            {"error": {"status": 422, "code": "invalid_parameters", "message": problems}},
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> Response:
        log.exception("unexpected error", exc_info=error)
        return JSONResponse(
            {"error": {"status": 500, "code": "internal", "message": "internal server error"}},
            status_code=500,
        )

    return app
