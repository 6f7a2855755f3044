"""A span's cost: what the provider reported, else tokens times the price table's rates.

Pure. Precedence: `llm.cost.total` (or `llm.cost.prompt` + `llm.cost.completion`) in the span's
attributes, sent natively or derived from `gen_ai.usage.cost.amount`, is the provider's figure and
wins; otherwise an LLM or EMBEDDING span with a model and token counts is priced from the table.

Token conventions (OpenInference): `llm.token_count.prompt` includes cache reads and cache
writes, and `llm.token_count.completion` includes reasoning tokens. So the prompt is billed as
(prompt - cache_read - cache_write) at the prompt rate, cache reads and writes at their own rates
(the prompt rate where the model has none), and the completion at the completion rate. When a
producer reports cache tokens beyond the prompt (it counted them apart), the whole prompt is
billed as uncached input and the cache tokens on top. Audio tokens are billed at the text rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ember.cost.table import PICO_PER_USD, Price, PriceTable
from ember.model import token_count

PRICED_KINDS = frozenset({"LLM", "EMBEDDING"})


@dataclass(frozen=True, slots=True)
class SpanCost:
    """`total` etc. in pico-dollars; `total` None means the span has no cost, and `note` says why.

    `source` is "reported" (the provider's figure) or "price_table"."""

    total: int | None
    prompt: int | None = None
    completion: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    source: str | None = None
    model: str | None = None  # the table entry that priced it
    read_on: str | None = None
    note: str | None = None

    def derived_attributes(self) -> dict[str, float]:
        """The OpenInference `llm.cost.*` keys (USD) of a cost computed from the table."""
        if self.source != "price_table" or self.total is None:
            return {}
        out = {
            "llm.cost.prompt": usd(self.prompt or 0),
            "llm.cost.completion": usd(self.completion or 0),
            "llm.cost.total": usd(self.total),
        }
        if self.cache_read:
            out["llm.cost.prompt_details.cache_read"] = usd(self.cache_read)
        if self.cache_write:
            out["llm.cost.prompt_details.cache_write"] = usd(self.cache_write)
        return out

    def summary(self) -> dict[str, Any]:
        """What the API shows beside the attributes: where the figure came from, or why none."""
        out: dict[str, Any] = {"source": self.source}
        if self.model is not None:
            out["priced_as"] = self.model
            out["prices_read_on"] = self.read_on
        if self.note is not None:
            out["note"] = self.note
        return out


def usd(pico: int) -> float:
    return pico / PICO_PER_USD


def _pico(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:  # not a cost: the table prices the span
        return None
    return round(value * PICO_PER_USD)


def _tokens(value: Any) -> int:
    count = token_count(value)
    return count if count is not None and count > 0 else 0


def reported_cost(attributes: dict[str, Any]) -> SpanCost | None:
    total = _pico(attributes.get("llm.cost.total"))
    prompt = _pico(attributes.get("llm.cost.prompt"))
    completion = _pico(attributes.get("llm.cost.completion"))
    if total is None and prompt is None and completion is None:
        return None
    if total is None:
        total = (prompt or 0) + (completion or 0)
    return SpanCost(total=total, prompt=prompt, completion=completion, source="reported")


def span_cost(
    attributes: dict[str, Any], span_kind: str, prices: PriceTable
) -> SpanCost | None:
    """The cost of a span from its (raw and derived) OpenInference attributes; None when cost
    does not apply (a span that is neither LLM nor EMBEDDING and reports none)."""
    reported = reported_cost(attributes)
    if reported is not None:
        return reported
    if span_kind not in PRICED_KINDS:
        return None
    get = attributes.get
    model = get("llm.model_name") if span_kind == "LLM" else (
        get("embedding.model_name") or get("llm.model_name")
    )
    prompt = _tokens(get("llm.token_count.prompt"))
    completion = _tokens(get("llm.token_count.completion"))
    if not prompt and not completion:
        total = _tokens(get("llm.token_count.total"))
        if total and span_kind == "EMBEDDING":
            prompt = total  # embeddings bill input only
        elif total:
            return SpanCost(
                total=None,
                note="only a total token count was sent: the prompt/completion split is needed "
                "to price it",
            )
        else:
            return SpanCost(total=None, note="no token counts were sent")
    if not isinstance(model, str) or not model.strip():
        return SpanCost(total=None, note="no model name was sent, so no price applies")
    price = prices.lookup(model)
    if price is None:
        return SpanCost(
            total=None,
            note=f"no price for model {model!r}; add it with a price file (EMBER_PRICES_FILE)",
        )
    return priced(
        price,
        prompt,
        completion,
        cache_read=_tokens(get("llm.token_count.prompt_details.cache_read")),
        cache_write=_tokens(get("llm.token_count.prompt_details.cache_write")),
    )


def priced(
    price: Price, prompt: int, completion: int, cache_read: int, cache_write: int
) -> SpanCost:
    uncached = prompt - cache_read - cache_write
    if uncached < 0:  # cache tokens were counted apart from the prompt
        uncached = prompt
    read_cost = cache_read * (price.cache_read if price.cache_read is not None else price.prompt)
    write_cost = cache_write * (
        price.cache_write if price.cache_write is not None else price.prompt
    )
    prompt_cost = uncached * price.prompt + read_cost + write_cost
    completion_cost = completion * price.completion
    return SpanCost(
        total=prompt_cost + completion_cost,
        prompt=prompt_cost,
        completion=completion_cost,
        cache_read=read_cost,
        cache_write=write_cost,
        source="price_table",
        model=price.model,
        read_on=price.read_on,
    )
