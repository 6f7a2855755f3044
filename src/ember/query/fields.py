"""The field catalogue: every name a filter may use, per target, as data.

A name in a filter is, in this order of lookup:

1. a column of the target (or one of its aliases, or an attribute key the column stands for:
   `llm.model_name` is the span's `model_name` column, `llm.token_count.total` its
   `total_tokens`, in a trace filter the roll-up `total_tokens`);
2. an attribute alias (`input` is `input.value` on spans);
3. a known OpenInference attribute (`input.value`, `tool.name`, ...), typed where the spec says;
4. any other dotted name, taken as a custom attribute (`acme.team`), *unless* it sits in an
   OpenInference namespace (`llm.`, `input.`, ...) or one spelled almost like it and is spelled
   almost like a known name: then it is a typo and the parser suggests the known name.
   `attributes['exact.key']` always reaches an attribute by its exact key, typo or not.

Column names are what the tree's `Field(kind="column").name` carries; the store maps them to SQL.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ember.query.ast import AnnotationMember, Target, ValueType


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One filterable column of a target. `attribute_keys` are OpenInference keys that denote
    it, so `llm.model_name` and `attributes['llm.model_name']` both reach `model_name`."""

    name: str
    type: ValueType
    doc: str
    aliases: tuple[str, ...] = ()
    attribute_keys: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *self.attribute_keys)


# Ordered as OpenInference lists them; messages show them in this order.
SPAN_KINDS: tuple[str, ...] = (
    "LLM",
    "CHAIN",
    "RETRIEVER",
    "RERANKER",
    "EMBEDDING",
    "TOOL",
    "AGENT",
    "GUARDRAIL",
    "EVALUATOR",
    "PROMPT",
    "UNKNOWN",
)
# The stored `status_code` integers (OTLP's).
STATUS_CODES: dict[str, int] = {"UNSET": 0, "OK": 1, "ERROR": 2}
ANNOTATION_MEMBERS: dict[AnnotationMember, ValueType] = {
    "label": "text",
    "score": "float",
    "explanation": "text",
}

_TIMES = (
    ColumnSpec("start_time", "time", "start, unix ns; compare with an ISO time or now() - ..."),
    ColumnSpec("end_time", "time", "end, unix ns; compare with an ISO time or now() - ..."),
    ColumnSpec("latency_ms", "float", "end_time - start_time, in milliseconds"),
)
_TOKENS = (
    ColumnSpec("prompt_tokens", "int", "prompt tokens", (), ("llm.token_count.prompt",)),
    ColumnSpec(
        "completion_tokens", "int", "completion tokens", (), ("llm.token_count.completion",)
    ),
    ColumnSpec("total_tokens", "int", "total tokens", (), ("llm.token_count.total",)),
    ColumnSpec(
        "cost", "usd", "cost in US dollars (stored as pico-dollars)", (), ("llm.cost.total",)
    ),
)
_TRACE_ID = ColumnSpec("trace_id", "id", "trace id, 32 hex characters", ("context.trace_id",))

SPAN_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("span_id", "id", "span id, 16 hex characters", ("context.span_id",)),
    _TRACE_ID,
    ColumnSpec("parent_id", "id", "parent span id; None for a root span"),
    ColumnSpec("name", "text", "span name"),
    ColumnSpec("span_kind", "span_kind", "OpenInference kind", (), ("openinference.span.kind",)),
    ColumnSpec("status_code", "status", "'OK', 'ERROR' or 'UNSET'"),
    ColumnSpec("status_message", "text", "status message"),
    *_TIMES,
    *_TOKENS,
    ColumnSpec(
        "model_name",
        "text",
        "model (llm.model_name, else embedding.model_name)",
        (),
        ("llm.model_name",),
    ),
    ColumnSpec(
        "provider", "text", "provider (llm.provider, else llm.system)", (), ("llm.provider",)
    ),
    ColumnSpec("session_id", "text", "session.id", (), ("session.id",)),
    ColumnSpec("user_id", "text", "user.id", (), ("user.id",)),
)

TRACE_COLUMNS: tuple[ColumnSpec, ...] = (
    _TRACE_ID,
    ColumnSpec("root_span_id", "id", "the root span's id"),
    ColumnSpec("root_name", "text", "the root span's name", ("name",)),
    ColumnSpec(
        "root_span_kind",
        "span_kind",
        "the root span's kind",
        ("span_kind",),
        ("openinference.span.kind",),
    ),
    ColumnSpec("span_count", "int", "number of spans"),
    ColumnSpec("error_count", "int", "number of spans with status ERROR"),
    *_TIMES,
    *(
        ColumnSpec(c.name, c.type, c.doc + " of the trace's LLM spans", (), c.attribute_keys)
        for c in _TOKENS
    ),
    ColumnSpec("input_preview", "text", "the root's input (its start)", ("input",)),
    ColumnSpec("output_preview", "text", "the root's output (its start)", ("output",)),
    ColumnSpec("session_id", "text", "session.id", (), ("session.id",)),
    ColumnSpec("user_id", "text", "user.id", (), ("user.id",)),
)

SESSION_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("session_id", "text", "session.id", ("session.id",)),
    ColumnSpec("user_id", "text", "user.id", ("user.id",)),
    ColumnSpec("trace_count", "int", "number of traces", ("traces",)),
    ColumnSpec("error_count", "int", "number of spans with status ERROR"),
    *_TIMES,
    *(
        ColumnSpec(c.name, c.type, c.doc + " of the session's LLM spans", c.attribute_keys)
        for c in _TOKENS
    ),
    ColumnSpec("first_input", "text", "the first trace's input", ("input",)),
    ColumnSpec("last_output", "text", "the last trace's output", ("output",)),
)

COLUMNS: dict[Target, tuple[ColumnSpec, ...]] = {
    "span": SPAN_COLUMNS,
    "trace": TRACE_COLUMNS,
    "session": SESSION_COLUMNS,
}
# Short names for attributes, so `'refund' in input` reads the same in every target.
ATTRIBUTE_ALIASES: dict[Target, dict[str, str]] = {
    "span": {"input": "input.value", "output": "output.value"},
    "trace": {},
    "session": {},
}

# Flat OpenInference keys (besides those that are columns), with their types.
KNOWN_ATTRIBUTES: dict[str, ValueType] = {
    **dict.fromkeys(
        (
            "input.value",
            "input.mime_type",
            "output.value",
            "output.mime_type",
            "llm.system",
            "llm.invocation_parameters",
            "llm.function_call",
            "llm.finish_reason",
            "llm.prompt_template.template",
            "llm.prompt_template.variables",
            "llm.prompt_template.version",
            "embedding.model_name",
            "reranker.model_name",
            "reranker.query",
            "tool.name",
            "tool.description",
            "tool.parameters",
            "tool.id",
            "tool_call.id",
            "tool_call.function.name",
            "tool_call.function.arguments",
            "agent.name",
            "graph.node.id",
            "graph.node.name",
            "graph.node.parent_id",
            "prompt.vendor",
            "prompt.id",
            "prompt.url",
            "metadata",
        ),
        "text",
    ),
    **dict.fromkeys(
        (
            "llm.token_count.prompt_details.cache_read",
            "llm.token_count.prompt_details.cache_write",
            "llm.token_count.prompt_details.audio",
            "llm.token_count.completion_details.reasoning",
            "llm.token_count.completion_details.audio",
            "reranker.top_k",
        ),
        "int",
    ),
    **dict.fromkeys(("llm.cost.prompt", "llm.cost.completion", "time_to_first_token_ms"), "float"),
    "tag.tags": "any",
}
# Lists OpenInference flattens into indexed keys (`llm.input_messages.0.message.content`): the
# bare name matches nothing, so the parser explains how to reach an element.
# Each maps to an example element key for the message.
LIST_ATTRIBUTES: dict[str, str] = {
    "llm.input_messages": "llm.input_messages.0.message.content",
    "llm.output_messages": "llm.output_messages.0.message.content",
    "llm.tools": "llm.tools.0.tool.json_schema",
    "retrieval.documents": "retrieval.documents.0.document.content",
    "reranker.input_documents": "reranker.input_documents.0.document.content",
    "reranker.output_documents": "reranker.output_documents.0.document.content",
    "embedding.embeddings": "embedding.embeddings.0.embedding.text",
}
# First segments of OpenInference keys: a near-miss under one of these is a typo, not a custom
# attribute.
NAMESPACES: frozenset[str] = frozenset(
    {
        "openinference",
        "llm",
        "input",
        "output",
        "embedding",
        "retrieval",
        "reranker",
        "tool",
        "tool_call",
        "agent",
        "graph",
        "tag",
        "metadata",
        "prompt",
        "message",
        "message_content",
        "document",
        "session",
        "user",
        "context",
    }
)
# Names users bring from Phoenix that Ember cannot answer, and why.
UNSUPPORTED: dict[str, str] = {
    "cumulative_token_count.total": "Ember keeps no per-span cumulative token counts; "
    "filter traces on total_tokens instead",
    "cumulative_token_count.prompt": "Ember keeps no per-span cumulative token counts; "
    "filter traces on prompt_tokens instead",
    "cumulative_token_count.completion": "Ember keeps no per-span cumulative token counts; "
    "filter traces on completion_tokens instead",
}
# What a subscript may follow: attributes['k'], metadata['k'], annotations['name'] (and Phoenix's
# older spelling evals['name']).
SUBSCRIPT_ROOTS: tuple[str, ...] = ("attributes", "metadata", "annotations", "evals")

_BY_NAME: dict[Target, dict[str, ColumnSpec]] = {
    target: {name: spec for spec in specs for name in spec.names}
    for target, specs in COLUMNS.items()
}
_BY_KEY: dict[Target, dict[str, ColumnSpec]] = {
    target: {key: spec for spec in specs for key in spec.attribute_keys}
    for target, specs in COLUMNS.items()
}


# Every flat OpenInference key Ember knows, with its type: the above plus those that are span
# columns (`llm.model_name`); in a trace filter these name the root span's attributes.
OPENINFERENCE_KEYS: dict[str, ValueType] = {
    **KNOWN_ATTRIBUTES,
    **{key: spec.type for spec in SPAN_COLUMNS for key in spec.attribute_keys},
}


def column(target: Target, name: str) -> ColumnSpec | None:
    """The column `name` denotes in `target` (by name, alias or attribute key), if any."""
    return _BY_NAME[target].get(name)


def column_for_key(target: Target, key: str) -> ColumnSpec | None:
    """The column an exact attribute key denotes (`attributes['llm.model_name']`), if any."""
    return _BY_KEY[target].get(key)


def attribute_alias(target: Target, name: str) -> str | None:
    return ATTRIBUTE_ALIASES[target].get(name)


def attribute_type(key: str) -> ValueType:
    """The type OpenInference gives `key`, else `any`."""
    return OPENINFERENCE_KEYS.get(key, "any")


def list_root(name: str) -> str | None:
    """The OpenInference list `name` names without an element index (`llm.input_messages`,
    `llm.input_messages.message.content`), if it does."""
    for root in LIST_ATTRIBUTES:
        if name == root:
            return root
        if name.startswith(root + "."):
            index = name[len(root) + 1 :].split(".", 1)[0]
            return None if index.isdigit() else root
    return None


def has_attributes(target: Target) -> bool:
    """Sessions have no attributes of their own; spans have theirs, traces their root's."""
    return target != "session"


def names(target: Target) -> tuple[str, ...]:
    """Every name a user may type for `target`, for suggestions."""
    found = [*_BY_NAME[target], *ATTRIBUTE_ALIASES[target]]
    if has_attributes(target):
        found += [*OPENINFERENCE_KEYS, *LIST_ATTRIBUTES]
    return tuple(dict.fromkeys(found))


def suggest(target: Target, name: str, cutoff: float = 0.75) -> str | None:
    """The known name closest to `name` (a case slip first, then difflib), if close enough."""
    pool = names(target)
    lowered = {candidate.lower(): candidate for candidate in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    return close[0] if close else None


def in_namespace(name: str) -> bool:
    """Whether `name`'s first segment is an OpenInference namespace or a near-miss of one."""
    head = name.split(".", 1)[0].lower()
    return head in NAMESPACES or bool(difflib.get_close_matches(head, NAMESPACES, n=1, cutoff=0.6))


def targets_with_column(name: str) -> tuple[Target, ...]:
    """The targets where `name` is a column (by name or alias, not by attribute key)."""
    return tuple(
        target
        for target, specs in COLUMNS.items()
        if any(name == spec.name or name in spec.aliases for spec in specs)
    )


def describe(value_type: ValueType) -> str:
    """How messages name a type: 'latency_ms is a number'."""
    return _DESCRIPTIONS[value_type]


_DESCRIPTIONS: dict[ValueType, str] = {
    "text": "text",
    "id": "an id (text)",
    "int": "a number",
    "float": "a number",
    "usd": "a number (US dollars)",
    "time": "a time",
    "span_kind": "a span kind",
    "status": "a status",
    "any": "an attribute",
}
