"""Project metrics (store/metrics.py) on every backend: buckets, totals, percentiles, top
models, computed here by hand from the traces written."""

from __future__ import annotations

from ember.store.base import Store
from ember.store.metrics import percentile
from tests.helpers import make_request, make_span
from tests.store.conftest import NORMALIZER

S = 1_000_000_000
BASE = 1_700_000_000 * S


def _trace(n: int, start: int, latency_ms: int, failing: bool, model: str, tokens: int) -> list:
    trace = bytes([n]) * 16
    root = (n * 2).to_bytes(8, "big")
    return [
        make_span(trace, root, None, "root", start=start, end=start + latency_ms * 1_000_000,
                  attributes={"openinference.span.kind": "CHAIN"}),
        make_span(trace, (n * 2 + 1).to_bytes(8, "big"), root, "llm", start=start,
                  end=start + 1_000_000, status_code=2 if failing else 1, attributes={
                      "openinference.span.kind": "LLM", "llm.model_name": model,
                      "llm.provider": "openai", "llm.token_count.prompt": tokens,
                      "llm.token_count.completion": 1, "llm.token_count.total": tokens + 1,
                  }),
    ]


def test_buckets_totals_percentiles_and_top_models(store: Store) -> None:
    spans = []
    # Ten traces, one per 10 s: latencies 100..1000 ms; every third fails; two models.
    for n in range(1, 11):
        spans += _trace(n, BASE + (n - 1) * 10 * S, 100 * n, n % 3 == 0,
                        "gpt-4o" if n % 2 else "gpt-4o-mini", 1000 * n)
    batch = NORMALIZER.normalize(make_request(spans, {"openinference.project.name": "m"}))
    store.write_spans(batch.spans)
    project = store.get_project("m")

    every = store.project_metrics(project, None, None, 5)
    assert every.start_time == BASE
    assert every.totals.trace_count == 10
    assert every.totals.error_count == 3 and every.totals.error_rate == 0.3
    assert every.totals.latency_ms_p50 == 500.0 and every.totals.latency_ms_p99 == 1000.0
    assert every.totals.prompt_tokens == sum(1000 * n for n in range(1, 11))
    assert every.totals.total_tokens == every.totals.prompt_tokens + 10
    assert every.last_activity == BASE + 90 * S + 1000 * 1_000_000
    assert [a.trace_count for _, a in every.series] == [2, 2, 2, 2, 2]
    assert every.series[1][0] == BASE + every.bucket_ns
    assert [a.error_count for _, a in every.series] == [0, 1, 1, 0, 1]  # traces 3, 6, 9
    assert every.series[0][1].latency_ms_p50 == 100.0

    # A window holding traces 3..5 (starts at 20, 30, 40 s) in 2 buckets of 15 s.
    window = store.project_metrics(project, BASE + 20 * S, BASE + 50 * S, 2)
    assert window.totals.trace_count == 3
    assert [a.trace_count for _, a in window.series] == [2, 1]
    assert window.totals.latency_ms_p50 == 400.0

    models = {m.model_name: m for m in every.top_models}
    assert set(models) == {"gpt-4o", "gpt-4o-mini"}
    assert models["gpt-4o"].span_count == 5 and models["gpt-4o"].provider == "openai"
    assert models["gpt-4o"].total_tokens == sum(1000 * n + 1 for n in (1, 3, 5, 7, 9))
    assert every.top_models[0].cost >= every.top_models[1].cost > 0

    empty = store.project_metrics(project, BASE - 100 * S, BASE - 50 * S, 3)
    assert empty.totals.trace_count == 0 and empty.totals.error_rate is None
    assert len(empty.series) == 3 and all(a.trace_count == 0 for _, a in empty.series)


def test_nearest_rank_percentile() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.99) == 7
    assert percentile(list(range(1, 101)), 0.5) == 50
    assert percentile(list(range(1, 101)), 0.99) == 99
