"""How ingest puts the cost on a span: `SpanDeriver.derive` (derived llm.cost.* keys,
`Promoted.cost` in pico-dollars, the cost summary), directly and through the Normalizer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ember.cost.table import PICO_PER_USD, PriceTable, load_prices
from ember.ingest.derive import SpanDeriver
from ember.ingest.normalize import Normalizer
from ember.model import Promoted
from tests.helpers import make_request, make_span, span_id, trace_id

COST_KEYS = ("llm.cost.prompt", "llm.cost.completion", "llm.cost.total")
MiB = 1 << 20


def openinference_llm(**extra: Any) -> dict[str, Any]:
    """An OpenInference LLM span's attributes: gpt-4o-mini, 1000 prompt + 200 completion."""
    return {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.token_count.prompt": 1000,
        "llm.token_count.completion": 200,
        **extra,
    }


def derive(
    prices: PriceTable, attributes: dict[str, Any], name: str = "ChatCompletion"
) -> tuple[Promoted, dict[str, Any], dict[str, Any] | None]:
    """promoted, derived and cost summary of a root span with these attributes."""
    promoted, derived, _mapping, summary = SpanDeriver(prices).derive(
        attributes, name, [], root=True
    )
    return promoted, derived, summary


def test_openinference_llm_span_gets_cost(bundled: PriceTable) -> None:
    """Table cost: llm.cost.* derived in USD, promoted.cost in pico, summary names the entry."""
    promoted, derived, summary = derive(bundled, openinference_llm())
    assert {k: derived[k] for k in COST_KEYS} == {
        "llm.cost.prompt": 0.00015,
        "llm.cost.completion": 0.00012,
        "llm.cost.total": 0.00027,
    }
    assert promoted.cost == 270_000_000
    assert (promoted.prompt_tokens, promoted.completion_tokens) == (1000, 200)
    mini = bundled.lookup("gpt-4o-mini")
    assert mini is not None
    assert summary == {"source": "price_table", "priced_as": "gpt-4o-mini",
                       "prices_read_on": mini.read_on}


def test_cache_details_are_derived_for_anthropic(bundled: PriceTable) -> None:
    """Cache read/write costs of a priced span appear as derived prompt_details keys."""
    attributes = openinference_llm(**{
        "llm.model_name": "claude-3-5-sonnet-20241022",
        "llm.token_count.prompt_details.cache_read": 200,
        "llm.token_count.prompt_details.cache_write": 300,
        "llm.token_count.completion": 100,
    })
    promoted, derived, _ = derive(bundled, attributes)
    assert promoted.cost == 4_185_000_000
    assert derived["llm.cost.prompt_details.cache_read"] == 0.00006
    assert derived["llm.cost.prompt_details.cache_write"] == 0.001125


def test_sent_total_is_kept_raw_and_promoted(bundled: PriceTable) -> None:
    """A span that sends llm.cost.total keeps it raw: nothing derived, promoted.cost = it."""
    attributes = openinference_llm(**{"llm.cost.total": 0.0042})
    promoted, derived, summary = derive(bundled, attributes)
    assert not any(k.startswith("llm.cost.") for k in derived)
    assert promoted.cost == 4_200_000_000 == round(0.0042 * PICO_PER_USD)
    assert summary == {"source": "reported"}


def test_sent_parts_are_summed_into_promoted_cost(bundled: PriceTable) -> None:
    """Reported prompt + completion cost without a total: promoted.cost is their sum."""
    attributes = openinference_llm(**{"llm.cost.prompt": 0.001, "llm.cost.completion": 0.002})
    promoted, derived, summary = derive(bundled, attributes)
    assert promoted.cost == 3_000_000_000
    assert not any(k.startswith("llm.cost.") for k in derived)
    assert summary == {"source": "reported"}


def test_unusable_sent_total_is_never_overridden(bundled: PriceTable) -> None:
    """A raw llm.cost.total that is not a number is ignored for pricing, but the derived keys
    never shadow it: only the other llm.cost.* keys are derived."""
    attributes = openinference_llm(**{"llm.cost.total": "n/a"})
    promoted, derived, summary = derive(bundled, attributes)
    assert promoted.cost == 270_000_000
    assert "llm.cost.total" not in derived
    assert derived["llm.cost.prompt"] == 0.00015
    assert summary is not None
    assert summary["source"] == "price_table"


def test_reported_cost_on_an_agent_span(bundled: PriceTable) -> None:
    """An AGENT span's own reported cost is promoted (the table never prices agents)."""
    attributes = {"openinference.span.kind": "AGENT", "llm.cost.total": 0.5}
    promoted, derived, summary = derive(bundled, attributes, name="agent")
    assert promoted.span_kind == "AGENT"
    assert promoted.cost == 500_000_000_000
    assert summary == {"source": "reported"}
    assert "llm.cost.total" not in derived


@pytest.mark.parametrize("kind", ["AGENT", "CHAIN", "TOOL"])
def test_rollup_spans_are_not_priced(bundled: PriceTable, kind: str) -> None:
    """Non-LLM spans carrying tokens and a model get no table cost and no summary."""
    attributes = openinference_llm(**{"openinference.span.kind": kind})
    promoted, derived, summary = derive(bundled, attributes, name=kind.lower())
    assert promoted.cost is None
    assert summary is None
    assert not any(k.startswith("llm.cost.") for k in derived)


def test_otel_genai_chat_span_is_priced(bundled: PriceTable) -> None:
    """An OTel GenAI span (no OpenInference keys) is mapped to LLM and priced the same way."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
    }
    promoted, derived, summary = derive(bundled, attributes, name="chat gpt-4o-mini")
    assert promoted.span_kind == "LLM"
    assert promoted.cost == 270_000_000
    assert derived["llm.cost.total"] == 0.00027
    assert summary is not None
    assert summary["priced_as"] == "gpt-4o-mini"


def test_otel_genai_cache_tokens_are_priced(bundled: PriceTable) -> None:
    """GenAI cache-read tokens reach the cost through the view's OpenInference keys."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 0,
        "gen_ai.usage.cache_read.input_tokens": 400,
    }
    promoted, derived, _ = derive(bundled, attributes)
    assert promoted.cost == 600 * 150_000 + 400 * 75_000
    assert derived["llm.cost.prompt_details.cache_read"] == 0.00003


def test_otel_genai_embeddings_span_is_priced(bundled: PriceTable) -> None:
    """A GenAI embeddings span is an EMBEDDING span priced on its input tokens."""
    attributes = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 1000,
    }
    promoted, _, summary = derive(bundled, attributes, name="embeddings")
    assert promoted.span_kind == "EMBEDDING"
    assert promoted.cost == 20_000_000
    assert summary is not None
    assert summary["priced_as"] == "text-embedding-3-small"


def test_otel_genai_reported_usd_cost_wins(bundled: PriceTable) -> None:
    """gen_ai.usage.cost.amount in USD is the reported figure, over the table's price."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
        "gen_ai.usage.cost.amount": 0.5,
        "gen_ai.usage.cost.currency": "USD",
    }
    promoted, derived, summary = derive(bundled, attributes)
    assert promoted.cost == 500_000_000_000
    assert summary == {"source": "reported"}
    assert derived.get("llm.cost.total") == 0.5
    assert "llm.cost.prompt" not in derived


def test_unpriced_llm_span(bundled: PriceTable) -> None:
    """An LLM span with an unknown model: no cost anywhere, and the summary's note says why."""
    promoted, derived, summary = derive(bundled, openinference_llm(**{
        "llm.model_name": "my-finetune"}))
    assert promoted.cost is None
    assert promoted.prompt_tokens == 1000  # the tokens are still promoted
    assert not any(k.startswith("llm.cost.") for k in derived)
    assert summary is not None
    assert summary["source"] is None
    assert "my-finetune" in summary["note"]
    assert "EMBER_PRICES_FILE" in summary["note"]


def test_llm_span_without_tokens_has_a_note(bundled: PriceTable) -> None:
    """An LLM span without usage has no cost, and the summary says there were no tokens."""
    _, _, summary = derive(bundled, {"openinference.span.kind": "LLM",
                                     "llm.model_name": "gpt-4o"})
    assert summary == {"source": None, "note": "no token counts were sent"}


def test_plain_span_has_no_cost_summary(bundled: PriceTable) -> None:
    """A span that is not about a model has neither cost nor summary."""
    promoted, derived, summary = derive(bundled, {"http.method": "GET"}, name="GET /")
    assert promoted.cost is None
    assert summary is None
    assert not any(k.startswith("llm.cost.") for k in derived)


def test_derive_does_not_modify_the_raw_attributes(bundled: PriceTable) -> None:
    """Derived cost keys go to `derived`, never into the raw attributes passed in."""
    attributes = openinference_llm()
    before = dict(attributes)
    derive(bundled, attributes)
    assert attributes == before


# ------------------------------------------------------------------------------ through ingest


def test_normalizer_uses_the_deriver_table(tmp_path: Path) -> None:
    """A Normalizer built with a deriver over a user-extended table prices with that table:
    the user's private model and an overridden bundled price, end to end from OTLP."""
    prices_file = tmp_path / "prices.json"
    prices_file.write_text(json.dumps({"provider": [{
        "name": "acme", "source": "https://acme.example", "read_on": "2025-06-01",
        "model": [
            {"name": "acme-llm", "prompt": 2, "completion": 4},
            {"name": "gpt-4o-mini", "prompt": 1, "completion": 1},
        ],
    }]}))
    normalizer = Normalizer(4 * MiB, 32, deriver=SpanDeriver(load_prices(str(prices_file))))
    trace = trace_id()
    spans = [
        make_span(trace, span_id(), name="acme", attributes=openinference_llm(
            **{"llm.model_name": "acme-llm"})),
        make_span(trace, span_id(), name="mini", attributes=openinference_llm(
            **{"llm.model_name": "gpt-4o-mini-2024-07-18"})),
        make_span(trace, span_id(), name="sonnet", attributes=openinference_llm(
            **{"llm.model_name": "claude-3-5-sonnet-20241022"})),
        make_span(trace, span_id(), name="reported", attributes=openinference_llm(
            **{"llm.cost.total": 0.01})),
    ]
    batch = normalizer.normalize(make_request(spans))
    assert batch.rejected == 0, batch.message
    records = {r.name: r for r in batch.spans}
    assert records["acme"].promoted.cost == 1000 * 2_000_000 + 200 * 4_000_000
    assert records["acme"].cost_summary == {
        "source": "price_table", "priced_as": "acme-llm", "prices_read_on": "2025-06-01"
    }
    assert records["mini"].promoted.cost == 1200 * 1_000_000
    assert records["mini"].derived["llm.cost.total"] == 0.0012
    assert records["sonnet"].promoted.cost == 1000 * 3_000_000 + 200 * 15_000_000
    assert records["reported"].promoted.cost == 10_000_000_000
    assert "llm.cost.total" not in records["reported"].derived
    assert records["reported"].attributes["llm.cost.total"] == 0.01


def test_normalizer_defaults_to_the_bundled_table(bundled: PriceTable) -> None:
    """Without a deriver, the Normalizer prices with the bundled table."""
    record = Normalizer(4 * MiB, 32).normalize(
        make_request([make_span(trace_id(), span_id(), attributes=openinference_llm())])
    ).spans[0]
    assert record.promoted.cost == 270_000_000
    assert record.cost_summary == derive(bundled, openinference_llm())[2]
