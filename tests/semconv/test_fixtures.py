"""Every span of the shared capture fixtures through `openinference_view`.

The captures are real OTLP bodies from OpenInference instrumentors; their expected_spans.jsonl
facts (kind, model, token counts) must agree with the raw attributes plus the derived view.
The same facts are then re-expressed as hand-built OTel GenAI and OpenLLMetry attribute dicts,
which must give the same OpenInference answers.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ember.ingest.normalize import Normalizer
from ember.model import SpanRecord
from ember.semconv.view import View, openinference_view
from tests.conftest import FIXTURES


def _records(scenario: Path) -> Iterator[tuple[str, SpanRecord]]:
    normalizer = Normalizer(4 * 1024 * 1024, 32)
    for capture in sorted((scenario / "captures").glob("*.pb*")):
        body = capture.read_bytes()
        if capture.name.endswith(".gz"):
            body = gzip.decompress(body)
        batch = normalizer.normalize(ExportTraceServiceRequest.FromString(body))
        assert batch.rejected == 0, batch.message
        name = capture.name.removesuffix(".gz")
        for record in batch.spans:
            yield name, record


def _expected(scenario: Path) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for line in (scenario / "expected_spans.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            out[(row["trace_id"], row["span_id"])] = row
    return out


SCENARIOS = sorted(p for p in FIXTURES.glob("*") if (p / "expected_spans.jsonl").exists())


def _facts(attributes: dict[str, Any]) -> dict[str, Any]:
    """The expected_spans facts this layer is responsible for, read from OpenInference keys."""
    return {
        "model_name": attributes.get("llm.model_name", attributes.get("embedding.model_name")),
        "prompt_tokens": attributes.get("llm.token_count.prompt"),
        "completion_tokens": attributes.get("llm.token_count.completion"),
        "total_tokens": attributes.get("llm.token_count.total"),
    }


def test_fixtures_exist() -> None:
    assert SCENARIOS, f"no fixtures under {FIXTURES}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_every_fixture_span(scenario: Path) -> None:
    expected = _expected(scenario)
    seen = 0
    for _, record in _records(scenario):
        result = openinference_view(record.attributes, record.name, record.events)
        assert isinstance(result, View)
        assert not [e for e in result.report if e.rule == "error"], result.report
        row = expected[(record.trace_id, record.span_id)]
        facts = row["facts"]
        assert result.span_kind == row["span_kind"] == record.promoted.span_kind
        merged = {**record.attributes, **result.derived}
        for fact, value in _facts(merged).items():
            if fact in facts:
                assert value == facts[fact], (record.name, fact)
            else:
                assert value is None or fact == "total_tokens", (record.name, fact)
        # OpenInference-native captures: nothing to derive, all keys understood
        assert result.dialect == "openinference"
        assert result.derived == {}
        assert result.unmapped == ()
        seen += 1
    assert seen == len(expected)


def _genai(facts: dict[str, Any], kind: str) -> dict[str, Any]:
    operation = {"LLM": "chat", "EMBEDDING": "embeddings"}[kind]
    attributes: dict[str, Any] = {"gen_ai.operation.name": operation,
                                  "gen_ai.provider.name": facts.get("system", "openai")}
    if "model_name" in facts:
        attributes["gen_ai.response.model"] = facts["model_name"]
    if "prompt_tokens" in facts:
        attributes["gen_ai.usage.input_tokens"] = facts["prompt_tokens"]
    if "completion_tokens" in facts:
        attributes["gen_ai.usage.output_tokens"] = facts["completion_tokens"]
    return attributes


def _openllmetry(facts: dict[str, Any], kind: str) -> dict[str, Any]:
    request_type = {"LLM": "chat", "EMBEDDING": "embedding"}[kind]
    attributes: dict[str, Any] = {"llm.request.type": request_type,
                                  "gen_ai.system": facts.get("system", "openai").title()}
    if "model_name" in facts:
        attributes["gen_ai.request.model"] = facts["model_name"]
    if "prompt_tokens" in facts:
        attributes["gen_ai.usage.prompt_tokens"] = facts["prompt_tokens"]
    if "completion_tokens" in facts:
        attributes["gen_ai.usage.completion_tokens"] = facts["completion_tokens"]
    if "total_tokens" in facts:
        attributes["llm.usage.total_tokens"] = facts["total_tokens"]
    return attributes


@pytest.mark.parametrize("build", [_genai, _openllmetry], ids=["otel_genai", "openllmetry"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_fixture_facts_in_other_dialects(scenario: Path, build: Any) -> None:
    for row in _expected(scenario).values():
        kind = row["span_kind"]
        if kind not in ("LLM", "EMBEDDING"):
            continue
        facts = row["facts"]
        result = openinference_view(build(facts, kind), row["name"])
        assert not [e for e in result.report if e.rule == "error"]
        assert result.span_kind == kind
        got = _facts(result.derived)
        for fact in ("model_name", "prompt_tokens", "completion_tokens", "total_tokens"):
            assert got[fact] == facts.get(fact), (row["name"], fact, build.__name__)
        if kind == "LLM":
            assert result.derived["llm.system"] == facts["system"]
        else:
            assert "llm.system" not in result.derived
