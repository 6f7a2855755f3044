"""Filter conditions from request parameters: Ember's `filter` text and Phoenix's
`attribute=key:value` pairs, combined into one tree for the store."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ember.errors import BadRequest
from ember.query.ast import And, Condition, Target
from ember.query.parse import parse_filter


def attribute_condition(pair: str, target: Target = "span") -> Condition:
    """Phoenix's `attribute=key:value`: the value is JSON when it parses as a number or a
    bool (`llm.token_count.total:120`, `flag:true`), else text (a JSON string is unquoted)."""
    key, sep, raw = pair.partition(":")
    if not sep or not key:
        raise BadRequest(f"attribute {pair!r} must be key:value, e.g. llm.model_name:gpt-4o")
    value: str | int | float | bool = raw
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = raw
    if isinstance(parsed, str | bool | int | float):
        value = parsed
    # repr() of a str, int, float or bool is a literal the filter language reads back exactly.
    return parse_filter(f"attributes[{key!r}] == {value!r}", target)


def combined_condition(
    text: str | None, attributes: Sequence[str] = (), target: Target = "span"
) -> Condition | None:
    """The filter `text` (if any) and every attribute pair, all of which must hold."""
    items: list[Condition] = []
    if text is not None and text.strip():
        items.append(parse_filter(text, target))
    items += [attribute_condition(pair, target) for pair in attributes]
    if not items:
        return None
    return items[0] if len(items) == 1 else And(tuple(items))
