"""ember.cost.compute: a span's cost in pico-dollars, from reported figures or the table."""

from __future__ import annotations

from typing import Any

import pytest

from ember.cost.compute import PRICED_KINDS, SpanCost, priced, reported_cost, span_cost, usd
from ember.cost.table import PICO_PER_USD, Price, PriceTable, parse_table

# Bundled rates in pico-dollars per token (USD per 1M tokens x 1e6).
MINI_PROMPT, MINI_COMPLETION, MINI_CACHE = 150_000, 600_000, 75_000  # gpt-4o-mini
SONNET_PROMPT, SONNET_COMPLETION = 3_000_000, 15_000_000  # claude-3-5-sonnet
SONNET_CACHE_READ, SONNET_CACHE_WRITE = 300_000, 3_750_000


def llm(model: str | None = "gpt-4o-mini", **tokens: Any) -> dict[str, Any]:
    """OpenInference LLM attributes: `prompt=`, `completion=`, `total=`, `cache_read=`,
    `cache_write=`, `reasoning=` become the llm.token_count.* keys."""
    keys = {
        "prompt": "llm.token_count.prompt",
        "completion": "llm.token_count.completion",
        "total": "llm.token_count.total",
        "cache_read": "llm.token_count.prompt_details.cache_read",
        "cache_write": "llm.token_count.prompt_details.cache_write",
        "reasoning": "llm.token_count.completion_details.reasoning",
    }
    out: dict[str, Any] = {keys[k]: v for k, v in tokens.items()}
    if model is not None:
        out["llm.model_name"] = model
    return out


def cost_of(bundled: PriceTable, attributes: dict[str, Any], kind: str = "LLM") -> SpanCost:
    cost = span_cost(attributes, kind, bundled)
    assert cost is not None
    return cost


def price(**rates: int | None) -> Price:
    """A Price with rates given directly in pico-dollars per token."""
    fields: dict[str, Any] = {"prompt": 10, "completion": 20, "cache_read": None,
                              "cache_write": None}
    fields.update(rates)
    return Price(model="m", provider="p", source="s", read_on="2025-01-01", **fields)


def openai_read_on(bundled: PriceTable) -> str:
    """The date the bundled OpenAI prices were read (data, not something these tests fix)."""
    gpt_4o = bundled.lookup("gpt-4o")
    assert gpt_4o is not None
    return gpt_4o.read_on


# ------------------------------------------------------------------------------ table prices


def test_gpt_4o_mini_exact_arithmetic(bundled: PriceTable) -> None:
    """1000 prompt + 200 completion tokens of gpt-4o-mini = 0.00015 + 0.00012 USD, exactly."""
    cost = cost_of(bundled, llm(prompt=1000, completion=200))
    assert cost == SpanCost(
        total=270_000_000,
        prompt=150_000_000,
        completion=120_000_000,
        cache_read=0,
        cache_write=0,
        source="price_table",
        model="gpt-4o-mini",
        read_on=openai_read_on(bundled),
    )


def test_totals_are_exact_at_scale(bundled: PriceTable) -> None:
    """Integer pico-dollars: a billion tokens costs exactly rate x count, no float drift."""
    cost = cost_of(bundled, llm(prompt=10**9, completion=10**9))
    assert cost.total == 10**9 * (MINI_PROMPT + MINI_COMPLETION)
    assert cost.total == 750 * PICO_PER_USD  # 150 + 600 USD


def test_dated_model_is_priced_as_its_entry(bundled: PriceTable) -> None:
    """The span's model id goes through lookup: a dated snapshot prices as its base model."""
    cost = cost_of(bundled, llm("gpt-4o-mini-2024-07-18", prompt=1000, completion=200))
    assert (cost.total, cost.model) == (270_000_000, "gpt-4o-mini")


def test_cache_reads_are_billed_at_the_cache_rate_inside_the_prompt(bundled: PriceTable) -> None:
    """Inclusive convention: 400 of 1000 prompt tokens were cache hits."""
    cost = cost_of(bundled, llm(prompt=1000, completion=0, cache_read=400))
    assert cost.cache_read == 400 * MINI_CACHE
    assert cost.prompt == 600 * MINI_PROMPT + 400 * MINI_CACHE == 120_000_000
    assert cost.completion == 0
    assert cost.total == 120_000_000


def test_anthropic_cache_reads_and_writes(bundled: PriceTable) -> None:
    """Cache writes bill at cache_write (1.25x input) and reads at cache_read, both inside the
    prompt count."""
    cost = cost_of(
        bundled,
        llm("claude-3-5-sonnet-20241022", prompt=1000, completion=100, cache_read=200,
            cache_write=300),
    )
    assert cost.cache_read == 200 * SONNET_CACHE_READ == 60_000_000
    assert cost.cache_write == 300 * SONNET_CACHE_WRITE == 1_125_000_000
    assert cost.prompt == 500 * SONNET_PROMPT + 60_000_000 + 1_125_000_000 == 2_685_000_000
    assert cost.completion == 100 * SONNET_COMPLETION == 1_500_000_000
    assert cost.total == 4_185_000_000


def test_model_without_cache_rate_bills_cache_reads_at_the_prompt_rate(
    bundled: PriceTable,
) -> None:
    """gpt-4o-2024-05-13 has no cached-input discount: a cache hit costs full input."""
    with_cache = cost_of(bundled, llm("gpt-4o-2024-05-13", prompt=1000, completion=0,
                                      cache_read=400))
    without = cost_of(bundled, llm("gpt-4o-2024-05-13", prompt=1000, completion=0))
    assert with_cache.cache_read == 400 * 5_000_000
    assert with_cache.total == without.total == 1000 * 5_000_000


def test_cache_write_without_a_write_rate_bills_at_the_prompt_rate(bundled: PriceTable) -> None:
    """OpenAI has no per-token write price: written tokens cost plain input."""
    cost = cost_of(bundled, llm(prompt=1000, completion=0, cache_write=300))
    assert cost.cache_write == 300 * MINI_PROMPT
    assert cost.total == 1000 * MINI_PROMPT


def test_cache_beyond_the_prompt_is_billed_on_top(bundled: PriceTable) -> None:
    """Exclusive producer (cache tokens larger than the prompt): the whole prompt at the prompt
    rate plus the cache tokens at the cache rate."""
    cost = cost_of(bundled, llm(prompt=100, completion=10, cache_read=500))
    assert cost.prompt == 100 * MINI_PROMPT + 500 * MINI_CACHE == 52_500_000
    assert cost.total == 52_500_000 + 10 * MINI_COMPLETION


def test_cache_equal_to_the_prompt_is_fully_cached(bundled: PriceTable) -> None:
    """The boundary: cache tokens == prompt means every prompt token was a cache hit."""
    cost = cost_of(bundled, llm(prompt=500, completion=0, cache_read=500))
    assert cost.prompt == 500 * MINI_CACHE


def test_reasoning_tokens_are_part_of_the_completion(bundled: PriceTable) -> None:
    """Reasoning tokens sit inside the completion count and are not charged again."""
    plain = cost_of(bundled, llm("o3-mini", prompt=100, completion=1000))
    reasoning = cost_of(bundled, llm("o3-mini", prompt=100, completion=1000, reasoning=800))
    assert reasoning == plain
    assert reasoning.completion == 1000 * 4_400_000


def test_completion_only_is_priced(bundled: PriceTable) -> None:
    """A span with only completion tokens still has a cost."""
    cost = cost_of(bundled, llm(completion=200))
    assert (cost.prompt, cost.completion, cost.total) == (0, 120_000_000, 120_000_000)


def test_integral_float_token_counts_are_counted(bundled: PriceTable) -> None:
    """Token counts sent as doubles (1000.0) count like ints."""
    cost = cost_of(bundled, llm(prompt=1000.0, completion=200.0))
    assert cost.total == 270_000_000


@pytest.mark.parametrize("bad", [-5, True, 12.5, None, [100]])
def test_unusable_cache_counts_count_as_zero(bundled: PriceTable, bad: Any) -> None:
    """Negative, boolean, fractional or non-numeric cache counts are ignored."""
    cost = cost_of(bundled, llm(prompt=1000, completion=200, cache_read=bad, cache_write=bad))
    assert cost.total == 270_000_000
    assert cost.cache_read == cost.cache_write == 0


# ------------------------------------------------------------------------------ embeddings


def test_embedding_with_only_a_total_is_priced_on_the_total(bundled: PriceTable) -> None:
    """Embeddings bill input only, so a total token count is priced as prompt tokens."""
    attributes = {"embedding.model_name": "text-embedding-3-small", "llm.token_count.total": 1000}
    cost = cost_of(bundled, attributes, "EMBEDDING")
    assert (cost.prompt, cost.completion, cost.total) == (20_000_000, 0, 20_000_000)
    assert cost.model == "text-embedding-3-small"


def test_embedding_prompt_count_wins_over_the_total(bundled: PriceTable) -> None:
    """With a prompt count, the total is not used."""
    attributes = {"embedding.model_name": "text-embedding-3-large",
                  "llm.token_count.prompt": 100, "llm.token_count.total": 999}
    assert cost_of(bundled, attributes, "EMBEDDING").total == 100 * 130_000


def test_embedding_falls_back_to_llm_model_name(bundled: PriceTable) -> None:
    """An EMBEDDING span naming its model in llm.model_name is still priced."""
    attributes = llm("text-embedding-3-small", prompt=1000)
    assert cost_of(bundled, attributes, "EMBEDDING").total == 20_000_000


def test_embedding_model_name_wins_over_llm_model_name(bundled: PriceTable) -> None:
    """For EMBEDDING spans embedding.model_name is the model."""
    attributes = {**llm("gpt-4o", prompt=1000), "embedding.model_name": "text-embedding-3-small"}
    assert cost_of(bundled, attributes, "EMBEDDING").model == "text-embedding-3-small"


def test_llm_span_ignores_embedding_model_name(bundled: PriceTable) -> None:
    """For LLM spans only llm.model_name names the model."""
    attributes = {**llm(None, prompt=10, completion=10),
                  "embedding.model_name": "text-embedding-3-small"}
    cost = cost_of(bundled, attributes)
    assert cost.total is None
    assert cost.note == "no model name was sent, so no price applies"


# ------------------------------------------------------------------------------ no price


def test_llm_with_only_a_total_needs_the_split(bundled: PriceTable) -> None:
    """An LLM's prompt and completion rates differ, so a bare total cannot be priced."""
    cost = cost_of(bundled, llm(total=1200))
    assert cost.total is None
    assert cost.source is None
    assert cost.note is not None
    assert "only a total token count" in cost.note
    assert "prompt/completion split" in cost.note


@pytest.mark.parametrize("kind", ["LLM", "EMBEDDING"])
@pytest.mark.parametrize(
    "tokens",
    [{}, {"prompt": 0, "completion": 0}, {"total": 0}, {"prompt": -3}, {"prompt": True}],
)
def test_no_token_counts(bundled: PriceTable, kind: str, tokens: dict[str, Any]) -> None:
    """Without usable token counts there is nothing to price, and the note says so."""
    cost = cost_of(bundled, llm(**tokens), kind)
    assert cost == SpanCost(total=None, note="no token counts were sent")


@pytest.mark.parametrize("model", [None, "", "   ", 42])
def test_no_model_name(bundled: PriceTable, model: Any) -> None:
    """Tokens without a (string) model name: no price, with a note."""
    attributes = {**llm(None, prompt=10, completion=10), "llm.model_name": model}
    cost = cost_of(bundled, attributes)
    assert cost == SpanCost(total=None, note="no model name was sent, so no price applies")


def test_unknown_model_note_names_the_model_and_the_setting(bundled: PriceTable) -> None:
    """The note says which model has no price and how to add one."""
    cost = cost_of(bundled, llm("my-finetune", prompt=10, completion=10))
    assert cost.total is None
    assert cost.source is None
    assert cost.note is not None
    assert "'my-finetune'" in cost.note
    assert "EMBER_PRICES_FILE" in cost.note


def test_token_check_comes_before_the_model_check(bundled: PriceTable) -> None:
    """A span with neither tokens nor model is reported as missing tokens."""
    assert cost_of(bundled, {}).note == "no token counts were sent"


@pytest.mark.parametrize(
    "kind", sorted({"CHAIN", "AGENT", "TOOL", "RETRIEVER", "RERANKER", "UNKNOWN"})
)
def test_other_kinds_without_reported_cost_have_no_cost(bundled: PriceTable, kind: str) -> None:
    """Only LLM and EMBEDDING spans are priced; others (often roll-ups of their children's
    tokens) would double count."""
    assert kind not in PRICED_KINDS
    assert span_cost(llm(prompt=1000, completion=200), kind, bundled) is None


def test_priced_kinds() -> None:
    """The kinds priced from the table."""
    assert frozenset({"LLM", "EMBEDDING"}) == PRICED_KINDS


def test_numeric_string_token_counts_are_priced(bundled: PriceTable) -> None:
    """Token counts as numeric strings (which promote() counts) are priced too."""
    cost = cost_of(bundled, llm(prompt="1000", completion="200"))
    assert cost.total == 270_000_000


# ------------------------------------------------------------------------------ reported cost


def test_reported_total_wins_over_the_table(bundled: PriceTable) -> None:
    """llm.cost.total is the provider's figure: used as is, the table is not consulted."""
    attributes = {**llm(prompt=1000, completion=200), "llm.cost.total": 0.001}
    assert cost_of(bundled, attributes) == SpanCost(
        total=1_000_000_000, prompt=None, completion=None, source="reported"
    )


def test_reported_cost_counts_on_any_kind(bundled: PriceTable) -> None:
    """A reported cost counts even on an AGENT span, which the table never prices."""
    cost = cost_of(bundled, {"llm.cost.total": 0.25}, "AGENT")
    assert (cost.total, cost.source) == (250_000_000_000, "reported")


def test_reported_cost_needs_no_model_or_tokens(bundled: PriceTable) -> None:
    """A reported figure for an unknown model still counts."""
    cost = cost_of(bundled, {**llm("my-finetune"), "llm.cost.total": 0.5})
    assert (cost.total, cost.source) == (500_000_000_000, "reported")


def test_reported_prompt_and_completion_are_summed(bundled: PriceTable) -> None:
    """Without a total, prompt + completion is the total; the parts are kept."""
    attributes = {**llm(prompt=1000, completion=200), "llm.cost.prompt": 0.001,
                  "llm.cost.completion": 0.002}
    assert cost_of(bundled, attributes) == SpanCost(
        total=3_000_000_000, prompt=1_000_000_000, completion=2_000_000_000, source="reported"
    )


@pytest.mark.parametrize(("key", "value"), [("llm.cost.prompt", 0.5),
                                            ("llm.cost.completion", 0.25)])
def test_one_reported_part_is_the_total(bundled: PriceTable, key: str, value: float) -> None:
    """A single reported part is a reported cost, the missing part counting as zero."""
    cost = cost_of(bundled, {key: value})
    assert (cost.total, cost.source) == (round(value * PICO_PER_USD), "reported")


def test_reported_total_is_kept_even_if_parts_disagree(bundled: PriceTable) -> None:
    """The reported total is the figure; the parts are not re-added over it."""
    cost = cost_of(bundled, {"llm.cost.total": 1.0, "llm.cost.prompt": 0.2,
                             "llm.cost.completion": 0.3})
    assert (cost.total, cost.prompt, cost.completion) == (
        PICO_PER_USD, 200_000_000_000, 300_000_000_000
    )


def test_reported_integer_and_zero_costs(bundled: PriceTable) -> None:
    """Integer dollars and an explicit zero are valid reported figures."""
    assert cost_of(bundled, {"llm.cost.total": 2}).total == 2 * PICO_PER_USD
    zero = cost_of(bundled, {**llm(prompt=1000, completion=200), "llm.cost.total": 0.0})
    assert (zero.total, zero.source) == (0, "reported")


def test_reported_float_is_rounded_to_the_nearest_pico(bundled: PriceTable) -> None:
    """USD floats become whole pico-dollars by rounding, not truncation."""
    assert cost_of(bundled, {"llm.cost.total": 0.1}).total == 100_000_000_000
    assert cost_of(bundled, {"llm.cost.total": 1e-12 * 0.6}).total == 1


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), float("-inf"), True, False, "0.5", None, [0.5]]
)
def test_unusable_reported_costs_are_ignored(bundled: PriceTable, bad: Any) -> None:
    """NaN, infinities, booleans, strings and lists are not costs: the table prices the span."""
    attributes = {**llm(prompt=1000, completion=200), "llm.cost.total": bad,
                  "llm.cost.prompt": bad, "llm.cost.completion": bad}
    assert reported_cost(attributes) is None
    cost = cost_of(bundled, attributes)
    assert (cost.total, cost.source) == (270_000_000, "price_table")


def test_unusable_reported_cost_on_a_chain_span_means_no_cost(bundled: PriceTable) -> None:
    """A non-LLM span whose reported cost is unusable has no cost at all."""
    assert span_cost({"llm.cost.total": float("nan")}, "CHAIN", bundled) is None


def test_negative_reported_cost_is_ignored(bundled: PriceTable) -> None:
    """A negative figure is not a cost: the table prices the span instead."""
    attributes = {**llm(prompt=1000, completion=200), "llm.cost.total": -0.5}
    cost = cost_of(bundled, attributes)
    assert (cost.total, cost.source) == (270_000_000, "price_table")


# ------------------------------------------------------------------------------ priced()


@pytest.mark.parametrize(
    ("prompt", "completion", "cache_read", "cache_write", "expected"),
    [
        (0, 0, 0, 0, (0, 0, 0, 0, 0)),
        (100, 50, 0, 0, (1000, 1000, 0, 0, 2000)),
        (100, 0, 30, 0, (70 * 10 + 30 * 2, 0, 60, 0, 760)),
        (100, 0, 0, 30, (70 * 10 + 30 * 15, 0, 0, 450, 1150)),
        (100, 0, 30, 30, (40 * 10 + 60 + 450, 0, 60, 450, 910)),
        # cache read + write together exceed the prompt: the whole prompt is uncached
        (100, 0, 80, 30, (100 * 10 + 160 + 450, 0, 160, 450, 1610)),
    ],
)
def test_priced_breakdown(
    prompt: int,
    completion: int,
    cache_read: int,
    cache_write: int,
    expected: tuple[int, int, int, int, int],
) -> None:
    """(prompt, completion, cache_read, cache_write, total) costs for rates 10/20/2/15 pico."""
    cost = priced(price(prompt=10, completion=20, cache_read=2, cache_write=15), prompt,
                  completion, cache_read, cache_write)
    assert (cost.prompt, cost.completion, cost.cache_read, cost.cache_write, cost.total) == (
        expected
    )
    assert cost.total == (cost.prompt or 0) + (cost.completion or 0)
    assert (cost.source, cost.model, cost.read_on, cost.note) == (
        "price_table", "m", "2025-01-01", None
    )


def test_priced_with_zero_cache_rate_is_free_not_prompt_rate() -> None:
    """A cache_read rate of 0 is a real (free) rate, not a missing one."""
    cost = priced(price(prompt=10, cache_read=0), 100, 0, 40, 0)
    assert (cost.cache_read, cost.prompt) == (0, 60 * 10)


# ------------------------------------------------------------------------------ SpanCost views


def test_derived_attributes_are_usd_floats(bundled: PriceTable) -> None:
    """A table price becomes the OpenInference llm.cost.* keys, in USD."""
    cost = cost_of(bundled, llm(prompt=1000, completion=200))
    assert cost.derived_attributes() == {
        "llm.cost.prompt": 0.00015,
        "llm.cost.completion": 0.00012,
        "llm.cost.total": 0.00027,
    }
    assert all(isinstance(v, float) for v in cost.derived_attributes().values())


def test_derived_attributes_include_nonzero_cache_details(bundled: PriceTable) -> None:
    """Cache read/write costs appear as prompt_details keys when they are non-zero."""
    cost = cost_of(bundled, llm("claude-3-5-sonnet", prompt=1000, completion=100,
                                cache_read=200, cache_write=300))
    assert cost.derived_attributes() == {
        "llm.cost.prompt": usd(2_685_000_000),
        "llm.cost.completion": 0.0015,
        "llm.cost.total": usd(4_185_000_000),
        "llm.cost.prompt_details.cache_read": 0.00006,
        "llm.cost.prompt_details.cache_write": 0.001125,
    }


def test_derived_attributes_only_cache_read_when_no_writes(bundled: PriceTable) -> None:
    """A zero cache-write cost is left out."""
    keys = cost_of(bundled, llm(prompt=1000, completion=0, cache_read=400)).derived_attributes()
    assert "llm.cost.prompt_details.cache_read" in keys
    assert "llm.cost.prompt_details.cache_write" not in keys


@pytest.mark.parametrize(
    "cost",
    [
        SpanCost(total=1_000_000_000, source="reported"),
        SpanCost(total=3, prompt=1, completion=2, source="reported"),
        SpanCost(total=None, note="no token counts were sent"),
        SpanCost(total=None, source="price_table"),
    ],
)
def test_derived_attributes_only_for_table_prices(cost: SpanCost) -> None:
    """Reported costs are already in the attributes; a missing cost derives nothing."""
    assert cost.derived_attributes() == {}


def test_usd() -> None:
    """Pico-dollars to USD."""
    assert usd(0) == 0.0
    assert usd(PICO_PER_USD) == 1.0
    assert usd(270_000_000) == 0.00027


def test_summary_of_a_table_price(bundled: PriceTable) -> None:
    """A table price says which entry priced it and when the prices were read."""
    cost = cost_of(bundled, llm("gpt-4o-2024-08-06", prompt=1, completion=1))
    assert cost.summary() == {
        "source": "price_table", "priced_as": "gpt-4o", "prices_read_on": openai_read_on(bundled)
    }


def test_summary_of_a_reported_cost(bundled: PriceTable) -> None:
    """A reported cost says only where it came from."""
    assert cost_of(bundled, {"llm.cost.total": 1.0}).summary() == {"source": "reported"}


def test_summary_of_no_price(bundled: PriceTable) -> None:
    """No price: no source, and the note says why."""
    summary = cost_of(bundled, llm("my-finetune", prompt=1, completion=1)).summary()
    assert summary.keys() == {"source", "note"}
    assert summary["source"] is None
    assert "my-finetune" in summary["note"]


def test_custom_table_prices_a_private_model() -> None:
    """span_cost uses whatever table it is given (a user's private model here)."""
    doc = {"provider": [{"name": "acme", "source": "https://acme.example", "read_on":
                         "2025-05-05", "model": [{"name": "acme-llm", "prompt": 1,
                                                  "completion": 3}]}]}
    table = parse_table(doc, "mine")
    cost = span_cost(llm("acme-llm", prompt=10, completion=10), "LLM", table)
    assert cost is not None
    assert cost.total == 10 * 1_000_000 + 10 * 3_000_000
    assert cost.summary() == {"source": "price_table", "priced_as": "acme-llm",
                              "prices_read_on": "2025-05-05"}
