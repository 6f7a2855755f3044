"""`GET /v1/projects/{project}/metrics`: how a project behaves over time (Ember's own route)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ember.api.deps import project_of, store_of, unix_nano
from ember.api.routes import JSONResponse
from ember.cost.compute import usd
from ember.model import iso_time
from ember.store.metrics import MAX_BUCKETS, Aggregate, ProjectMetrics

router = APIRouter()


def _aggregate_json(value: Aggregate) -> dict[str, Any]:
    return {
        "trace_count": value.trace_count,
        "error_count": value.error_count,
        "error_rate": value.error_rate,
        "latency_ms_p50": value.latency_ms_p50,
        "latency_ms_p99": value.latency_ms_p99,
        "prompt_tokens": value.prompt_tokens,
        "completion_tokens": value.completion_tokens,
        "total_tokens": value.total_tokens,
        "cost": usd(value.cost),
    }


def metrics_json(result: ProjectMetrics) -> dict[str, Any]:
    last = result.last_activity
    return {
        "start_time": iso_time(result.start_time),
        "end_time": iso_time(result.end_time),
        "bucket_seconds": result.bucket_ns / 1e9,
        "totals": {
            **_aggregate_json(result.totals),
            "last_activity": None if last is None else iso_time(last),
        },
        "series": [
            {"start_time": iso_time(at), "start_time_unix_nano": at, **_aggregate_json(value)}
            for at, value in result.series
        ],
        "top_models": [
            {
                "model_name": m.model_name,
                "provider": m.provider,
                "span_count": m.span_count,
                "total_tokens": m.total_tokens,
                "cost": usd(m.cost),
            }
            for m in result.top_models
        ],
    }


@router.get(
    "/v1/projects/{project_identifier}/metrics",
    tags=["projects"],
    summary="Trace count, error rate, latency p50/p99, tokens and cost over time; top models",
)
def project_metrics(
    request: Request,
    project_identifier: str,
    start_time: Annotated[datetime | None, Query(description="Inclusive; default: all")] = None,
    end_time: Annotated[datetime | None, Query(description="Exclusive; default: all")] = None,
    buckets: Annotated[int, Query(ge=1, le=MAX_BUCKETS)] = 24,
) -> JSONResponse:
    store = store_of(request)
    project = project_of(store, project_identifier)
    result = store.project_metrics(
        project, unix_nano(start_time, "start_time"), unix_nano(end_time, "end_time"), buckets
    )
    return JSONResponse({"data": metrics_json(result)})
