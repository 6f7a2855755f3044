"""Helpers for the instrumented-library tests: a per-test TracerProvider exporting to Ember, a
poll for the spans to be stored, views of the stored tree, and the expected cost of a span."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

try:
    from wrapt import BaseObjectProxy
except ImportError:  # wrapt < 2
    from wrapt import ObjectProxy as BaseObjectProxy

from tests.conftest import EmberProcess

# USD per one million tokens: (prompt, completion, cached prompt). The cost contract: cache-read
# prompt tokens are billed at the cache rate, the rest of the prompt at the prompt rate.
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.60, 0.075),
    "text-embedding-3-small": (0.02, 0.0, 0.02),
}
_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


class CountingProcessor(SimpleSpanProcessor):
    """Exports each span as it ends (so a 200 from Ember means it is stored) and remembers the
    spans, so a test knows exactly how many the library produced."""

    def __init__(self, exporter: OTLPSpanExporter) -> None:
        super().__init__(exporter)
        self.ended: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)
        super().on_end(span)


@dataclass
class Telemetry:
    """One test's tracing pipeline: its own project, provider and exporter to `server`."""

    server: EmberProcess
    project: str
    provider: TracerProvider = field(init=False)
    processor: CountingProcessor = field(init=False)

    def __post_init__(self) -> None:
        self.provider = TracerProvider(
            resource=Resource.create(
                {"openinference.project.name": self.project, "service.name": "instrumented"}
            )
        )
        self.processor = CountingProcessor(
            OTLPSpanExporter(endpoint=f"{self.server.url}/v1/traces", timeout=30)
        )
        self.provider.add_span_processor(self.processor)

    def stored(self, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Every span the library ended, as Ember stored it: flushes, then polls until the
        project holds exactly as many spans as were ended."""
        assert self.provider.force_flush(), "the span exporter did not flush"
        expected = len(self.processor.ended)
        assert expected > 0, "the instrumentation produced no span"
        deadline = time.monotonic() + timeout
        spans: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            response = self.server.get(f"/v1/projects/{self.project}/spans", limit=1000)
            if response.status_code == 200:
                spans = response.json()["data"]
                if len(spans) >= expected:
                    break
            time.sleep(0.05)
        assert len(spans) == expected, (
            f"stored {len(spans)} spans, the SDK ended {expected}: "
            f"{sorted(s['name'] for s in spans)} vs {sorted(s.name for s in self.processor.ended)}"
        )
        return spans

    def shutdown(self) -> None:
        self.provider.shutdown()


def strip_wrappers(*module_names: str) -> list[str]:
    """Undo every wrapt wrapper left on the classes of these modules; returns what it undid.

    OpenLLMetry's `uninstrument()` calls `unwrap("openai.resources.chat.completions",
    "Completions.create")`, which `opentelemetry.instrumentation.utils.unwrap` reads as the
    attribute "Completions.create" of module `openai.resources.chat.completions`... and finds
    nothing, so its wrappers stay; a second `instrument()` then wraps them again (a streamed
    reply is then accumulated twice). Tests that instrument per test call this afterwards.
    """
    undone: list[str] = []
    for module_name in module_names:
        if module_name not in sys.modules:  # never imported, so never wrapped
            continue
        module = importlib.import_module(module_name)
        for class_name, cls in inspect.getmembers(module, inspect.isclass):
            for attribute, value in list(vars(cls).items()):
                original = value
                while isinstance(original, BaseObjectProxy):
                    original = original.__wrapped__
                if original is not value:
                    setattr(cls, attribute, original)
                    undone.append(f"{module_name}.{class_name}.{attribute}")
    return undone


def by_name(spans: Iterable[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Spans called `name`, in start order."""
    return sorted((s for s in spans if s["name"] == name), key=lambda s: s["start_time_unix_nano"])


def one(spans: Iterable[dict[str, Any]], name: str) -> dict[str, Any]:
    found = by_name(spans, name)
    assert len(found) == 1, f"{len(found)} spans named {name!r}"
    return found[0]


def span_id(span: Mapping[str, Any]) -> str:
    return str(span["context"]["span_id"])


def trace_id(span: Mapping[str, Any]) -> str:
    return str(span["context"]["trace_id"])


def in_trace(spans: Iterable[dict[str, Any]], trace: str) -> list[dict[str, Any]]:
    return [s for s in spans if trace_id(s) == trace]


def tree(spans: Iterable[dict[str, Any]], root: dict[str, Any] | None = None) -> Any:
    """The stored tree as nested tuples `(name, span_kind, (children...))`, children in start
    order, following the stored `parent_id`s. Without `root`, the one root span is used."""
    spans = list(spans)
    if root is None:
        ids = {span_id(s) for s in spans}
        roots = [s for s in spans if s["parent_id"] is None or s["parent_id"] not in ids]
        assert len(roots) == 1, f"{len(roots)} roots: {[r['name'] for r in roots]}"
        root = roots[0]
    children = sorted(
        (s for s in spans if s["parent_id"] == span_id(root)),
        key=lambda s: (s["start_time_unix_nano"], s["name"]),
    )
    return (root["name"], root["span_kind"], tuple(tree(spans, child) for child in children))


def indexed(attributes: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The items of a flattened OpenInference list: `prefix.N.rest` -> [{rest: value}, ...]."""
    items: dict[int, dict[str, Any]] = {}
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.(.+)$")
    for key, value in attributes.items():
        match = pattern.match(key)
        if match:
            items.setdefault(int(match.group(1)), {})[match.group(2)] = value
    assert sorted(items) == list(range(len(items))), f"{prefix}: gaps in {sorted(items)}"
    return [items[i] for i in sorted(items)]


def messages(attributes: Mapping[str, Any], direction: str) -> list[dict[str, Any]]:
    """`llm.input_messages` / `llm.output_messages` with the `message.` prefix dropped."""
    return [
        {key.removeprefix("message."): value for key, value in item.items()}
        for item in indexed(attributes, f"llm.{direction}_messages")
    ]


def usage_attributes(usage: Mapping[str, Any]) -> dict[str, int]:
    """The OpenInference token counts an OpenAI `usage` object stands for."""
    return {
        "llm.token_count.prompt": usage["prompt_tokens"],
        "llm.token_count.completion": usage["completion_tokens"],
        "llm.token_count.total": usage["total_tokens"],
        "llm.token_count.prompt_details.cache_read": usage["prompt_tokens_details"][
            "cached_tokens"
        ],
    }


def assert_tokens(attributes: Mapping[str, Any], usage: Mapping[str, Any]) -> None:
    """The span carries exactly the counts the fake server reported."""
    for key, value in usage_attributes(usage).items():
        assert attributes.get(key) == value, (key, attributes.get(key), value)


def trace_json(server: EmberProcess, trace: str) -> dict[str, Any]:
    response = server.get(f"/v1/traces/{trace}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_trace_tokens(
    server: EmberProcess, trace: str, usages: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The trace roll-up adds up exactly the given LLM calls' usage; returns the trace JSON."""
    usages = list(usages)
    data = trace_json(server, trace)
    assert data["token_count"] == {
        "prompt": sum(u["prompt_tokens"] for u in usages),
        "completion": sum(u["completion_tokens"] for u in usages),
        "total": sum(u["total_tokens"] for u in usages),
    }
    return data


def price_of(model: str) -> tuple[float, float, float]:
    """The price of a model name, a dated snapshot priced as its alias."""
    return PRICES[_DATE_SUFFIX.sub("", model)]


def expected_cost(attributes: Mapping[str, Any]) -> tuple[float, float, float]:
    """(prompt, completion, total) USD for a span's token counts at the contract's rates."""
    model = attributes.get("llm.model_name") or attributes["embedding.model_name"]
    prompt_rate, completion_rate, cached_rate = price_of(str(model))
    prompt = int(attributes.get("llm.token_count.prompt") or 0)
    completion = int(attributes.get("llm.token_count.completion") or 0)
    cached = int(attributes.get("llm.token_count.prompt_details.cache_read") or 0)
    prompt_cost = ((prompt - cached) * prompt_rate + cached * cached_rate) / 1e6
    completion_cost = completion * completion_rate / 1e6
    return prompt_cost, completion_cost, prompt_cost + completion_cost


def assert_cost(attributes: Mapping[str, Any]) -> float:
    """The span's derived cost follows from its token counts and the price table (cost
    contract: `llm.cost.total`, `llm.cost.prompt`, `llm.cost.completion`, floats in USD)."""
    prompt, completion, total = expected_cost(attributes)
    assert total > 0, "a priced span with tokens costs something"
    got = {key: attributes.get(key) for key in ("llm.cost.prompt", "llm.cost.completion",
                                                "llm.cost.total")}
    assert got == {
        "llm.cost.prompt": pytest.approx(prompt, rel=1e-9, abs=1e-15),
        "llm.cost.completion": pytest.approx(completion, rel=1e-9, abs=1e-15),
        "llm.cost.total": pytest.approx(total, rel=1e-9, abs=1e-15),
    }, f"stored {got}, expected prompt={prompt} completion={completion} total={total}"
    return total


def assert_trace_cost(trace: Mapping[str, Any], costed: Iterable[Mapping[str, Any]]) -> None:
    """The trace's cost is the sum of its costed spans' expected costs, none unpriced."""
    expected = sum(expected_cost(attributes)[2] for attributes in costed)
    assert trace.get("cost") == {
        "total": pytest.approx(expected, rel=1e-9, abs=1e-15),
        "unpriced_spans": 0,
    }, f"trace cost {trace.get('cost')}, expected total {expected}"
