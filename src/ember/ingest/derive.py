"""What Ember derives from a span's raw data: the OpenInference view, the cost and the promoted
columns. Pure, apart from the price table it holds.

It runs at ingest on every span, and again in the store when log records tied to a stored span
arrive after it (GenAI instrumentations send message content as log records): a span's derived
data is always what its own events and all its log records give, whichever came first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ember.cost.compute import span_cost
from ember.cost.table import PriceTable
from ember.model import Attributes, Promoted, SpanRecord
from ember.semconv.promote import promote
from ember.semconv.view import View, openinference_view

# GenAI keys a log record may carry for its span (the "operation details" event of the newer
# GenAI conventions puts the whole conversation in log attributes, not on the span).
SPAN_KEYS_FROM_LOGS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
)


def mapping_report(view: View) -> dict[str, Any] | None:
    """The view's report as stored JSON; None for a plain OpenInference span (nothing to say)."""
    if view.dialect == "openinference" and not view.report and not view.unmapped:
        return None
    return {
        "dialect": view.dialect,
        "entries": [
            {"target": e.target, "sources": list(e.sources), "rule": e.rule, "note": e.note}
            for e in view.report
        ],
        "unmapped": list(view.unmapped),
    }


class SpanDeriver:
    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices

    def derive(
        self,
        attributes: Attributes,
        name: str,
        events: Sequence[Mapping[str, Any]],
        root: bool,
    ) -> tuple[Promoted, Attributes, dict[str, Any] | None, dict[str, Any] | None]:
        """The promoted columns, the derived OpenInference keys, the mapping report and the cost
        summary of a span with these raw attributes and events."""
        view = openinference_view(attributes, name, events)
        derived = view.derived
        mapping = mapping_report(view)
        merged = {**attributes, **derived} if derived else attributes
        cost = span_cost(merged, view.span_kind, self.prices)
        cost_summary = None
        if cost is not None:
            cost_summary = cost.summary()
            priced = cost.derived_attributes()
            # A raw llm.cost.* key is never overridden (the view's rule for every derived key).
            priced = {k: v for k, v in priced.items() if k not in attributes}
            if priced:
                derived = {**derived, **priced}
                merged = {**merged, **priced}
                mapping = _with_cost_entry(mapping, view.dialect, cost.model, cost.read_on)
        promoted = promote(merged, view.span_kind, root=root)
        if cost is not None and cost.total is not None:
            promoted = promoted._replace(cost=cost.total)
        return promoted, derived, mapping, cost_summary

    def with_logs(self, record: SpanRecord, logs: Sequence[Mapping[str, Any]]) -> SpanRecord:
        """The record re-derived as if its log records (`LogRecord.document()`s, in time order)
        were among its events; the raw attributes and events stay as sent."""
        if not logs:
            return record
        attributes = record.attributes
        from_logs = _span_keys_from_logs(logs, attributes)
        if from_logs:
            attributes = {**attributes, **from_logs}
        promoted, derived, mapping, cost_summary = self.derive(
            attributes, record.name, [*record.events, *logs], root=record.parent_id is None
        )
        if from_logs and mapping is not None:
            mapping = _mark_log_sources(mapping, from_logs)
        return record._replace(
            promoted=promoted, derived=derived, mapping=mapping, cost_summary=cost_summary
        )


def _with_cost_entry(
    mapping: dict[str, Any] | None, dialect: str, model: str | None, read_on: str | None
) -> dict[str, Any]:
    entry = {
        "target": "llm.cost",
        "sources": ["llm.model_name", "llm.token_count.*"],
        "rule": "price_table",
        "note": f"priced as {model} (list prices of {read_on})",
    }
    if mapping is None:
        return {"dialect": dialect, "entries": [entry], "unmapped": []}
    return {**mapping, "entries": [*mapping["entries"], entry]}


def _mark_log_sources(mapping: dict[str, Any], from_logs: Attributes) -> dict[str, Any]:
    """Sources that were log attributes, not span attributes, are named `log:<key>`."""
    entries = [
        {**e, "sources": [f"log:{k}" if k in from_logs else k for k in e["sources"]]}
        for e in mapping["entries"]
    ]
    return {**mapping, "entries": entries}


def _span_keys_from_logs(
    logs: Sequence[Mapping[str, Any]], attributes: Attributes
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for log in logs:
        log_attributes = log.get("attributes")
        if not isinstance(log_attributes, Mapping):
            continue
        for key in SPAN_KEYS_FROM_LOGS:
            if key in log_attributes and key not in attributes and key not in found:
                found[key] = log_attributes[key]
    return found
