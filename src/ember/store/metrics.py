"""A project's metrics over a time range: trace counts, errors, latency percentiles, tokens and
cost, per time bucket and in total, and the models that cost most.

Counts and sums are aggregated by SQL per bucket (one GROUP BY); latency percentiles need the
latencies themselves, so one integer column of the range's traces is read and ranked in Python
(SQLite has no percentile function; this keeps one exact definition for both backends: the
nearest-rank percentile). Traces belong to a bucket by their start time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ember.model import Project
from ember.store.schema import spans, traces

MIN_BUCKET_NS = 1_000_000_000
MAX_BUCKETS = 500
TOP_MODELS = 10


@dataclass(frozen=True, slots=True)
class Aggregate:
    trace_count: int = 0
    error_count: int = 0  # traces with at least one errored span
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: int = 0  # pico-dollars

    @property
    def error_rate(self) -> float | None:
        return None if self.trace_count == 0 else self.error_count / self.trace_count


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model_name: str
    provider: str | None
    span_count: int
    total_tokens: int
    cost: int  # pico-dollars


@dataclass(frozen=True, slots=True)
class ProjectMetrics:
    start_time: int
    end_time: int
    bucket_ns: int
    totals: Aggregate
    last_activity: int | None
    series: list[tuple[int, Aggregate]] = field(default_factory=list)
    top_models: list[ModelUsage] = field(default_factory=list)


def percentile(sorted_values: Sequence[int], q: float) -> int | None:
    """Nearest-rank percentile of sorted values (q in (0, 1]); None for no values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def _aggregate(row: Any, latencies: list[int]) -> Aggregate:
    latencies.sort()
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    return Aggregate(
        trace_count=int(row.trace_count or 0),
        error_count=int(row.error_count or 0),
        latency_ms_p50=None if p50 is None else p50 / 1e6,
        latency_ms_p99=None if p99 is None else p99 / 1e6,
        prompt_tokens=int(row.prompt_tokens or 0),
        completion_tokens=int(row.completion_tokens or 0),
        total_tokens=int(row.total_tokens or 0),
        cost=int(row.cost or 0),
    )


_SUMMED = (
    "trace_count", "error_count", "prompt_tokens", "completion_tokens", "total_tokens", "cost"
)


def _sums() -> list[Any]:
    return [
        sa.func.count().label("trace_count"),
        sa.func.sum(sa.case((traces.c.error_count > 0, 1), else_=0)).label("error_count"),
        sa.func.sum(traces.c.prompt_tokens).label("prompt_tokens"),
        sa.func.sum(traces.c.completion_tokens).label("completion_tokens"),
        sa.func.sum(traces.c.total_tokens).label("total_tokens"),
        sa.func.sum(traces.c.cost).label("cost"),
    ]


def project_metrics(
    conn: Connection,
    project: Project,
    start_from: int | None,
    start_to: int | None,
    buckets: int,
) -> ProjectMetrics:
    """Metrics of the project's traces starting in [start_from, start_to); an open end is the
    project's first (last) trace start. `buckets` (1 to MAX_BUCKETS) equal time buckets, each
    at least a second long."""
    buckets = min(max(buckets, 1), MAX_BUCKETS)
    in_project = traces.c.project_id == project.id
    first, last, last_end = conn.execute(
        sa.select(
            sa.func.min(traces.c.start_time),
            sa.func.max(traces.c.start_time),
            sa.func.max(traces.c.end_time),
        ).where(in_project)
    ).one()
    start = start_from if start_from is not None else (first or 0)
    end = start_to if start_to is not None else ((last or start) + 1)
    end = max(end, start + 1)
    bucket_ns = max(MIN_BUCKET_NS, -(-(end - start) // buckets))
    in_range = sa.and_(in_project, traces.c.start_time >= start, traces.c.start_time < end)
    bucket = ((traces.c.start_time - start) // bucket_ns).label("bucket")

    latencies: dict[int, list[int]] = {}
    every: list[int] = []
    for number, latency in conn.execute(
        sa.select(bucket, traces.c.end_time - traces.c.start_time).where(in_range)
    ):
        latencies.setdefault(int(number), []).append(int(latency))
        every.append(int(latency))
    grouped = list(
        conn.execute(sa.select(bucket, *_sums()).where(in_range).group_by(bucket))
    )
    filled = {
        start + int(row.bucket) * bucket_ns: _aggregate(row, latencies.get(int(row.bucket), []))
        for row in grouped
    }
    # The range's totals are the buckets' sums (no second pass over the range).
    summed = {name: sum(int(getattr(row, name) or 0) for row in grouped) for name in _SUMMED}
    totals = _aggregate(SimpleNamespace(**summed), every)
    usage = conn.execute(
        sa.select(
            spans.c.model_name,
            spans.c.provider,
            sa.func.count().label("span_count"),
            sa.func.coalesce(sa.func.sum(spans.c.total_tokens), 0).label("total_tokens"),
            sa.func.coalesce(sa.func.sum(spans.c.cost), 0).label("cost"),
        )
        .where(
            spans.c.project_id == project.id,
            spans.c.start_time >= start,
            spans.c.start_time < end,
            spans.c.model_name.is_not(None),
            spans.c.span_kind.in_(("LLM", "EMBEDDING")),
        )
        .group_by(spans.c.model_name, spans.c.provider)
        .order_by(sa.desc("cost"), sa.desc("total_tokens"), spans.c.model_name)
        .limit(TOP_MODELS)
    )
    return ProjectMetrics(
        start_time=start,
        end_time=end,
        bucket_ns=bucket_ns,
        totals=totals,
        last_activity=last_end,
        series=[
            (at, filled.get(at, Aggregate()))
            for at in range(start, end, bucket_ns)
        ],
        top_models=[
            ModelUsage(r.model_name, r.provider, int(r.span_count), int(r.total_tokens),
                       int(r.cost))
            for r in usage
        ],
    )
