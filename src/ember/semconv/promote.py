"""Which attributes become promoted columns, read from the OpenInference keys.

Pure functions. [semantics] widens this to the OTel GenAI and OpenLLMetry vocabularies; the
columns it fills are fixed here.
"""

from __future__ import annotations

from typing import Any

from ember.model import Attributes, Promoted, token_count

SPAN_KINDS = frozenset(
    {
        "LLM", "CHAIN", "RETRIEVER", "RERANKER", "EMBEDDING", "TOOL", "AGENT",
        "GUARDRAIL", "EVALUATOR", "PROMPT", "UNKNOWN",
    }
)


def span_kind_of(attributes: Attributes) -> str:
    """OpenInference span kind, upper-cased; unknown values kept verbatim, absent is UNKNOWN."""
    raw = attributes.get("openinference.span.kind")
    if not isinstance(raw, str) or not raw.strip():
        return "UNKNOWN"
    return raw.strip().upper()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    return str(value)


PREVIEW_CHARS = 300


def preview(value: Any) -> str | None:
    """The start of an input or output value, as lists and roll-ups show it."""
    text = _text(value)
    return None if text is None else text[:PREVIEW_CHARS]


def input_preview(attributes: Attributes) -> str | None:
    """`input.value`, else (a model call that sent only messages) the last user message."""
    value = attributes.get("input.value")
    if value is None:
        value = _last_message_content(attributes, "llm.input_messages", "user")
    return preview(value)


def output_preview(attributes: Attributes) -> str | None:
    """`output.value`, else the first output message."""
    value = attributes.get("output.value")
    if value is None:
        value = attributes.get("llm.output_messages.0.message.content")
    return preview(value)


def _last_message_content(attributes: Attributes, prefix: str, role: str) -> Any:
    found: Any = None
    index = 0
    while True:
        message = f"{prefix}.{index}.message."
        if message + "role" not in attributes and message + "content" not in attributes:
            return found
        if attributes.get(message + "role") == role and message + "content" in attributes:
            found = attributes[message + "content"]
        index += 1


def promote(attributes: Attributes, span_kind: str | None = None, root: bool = False) -> Promoted:
    """Promoted columns from a span's attributes (raw and derived OpenInference keys together);
    `span_kind` is the kind the semconv view settled on, when it ran; a `root` span also gets
    its input and output previews, for its trace."""
    get = attributes.get
    prompt = token_count(get("llm.token_count.prompt"))
    completion = token_count(get("llm.token_count.completion"))
    total = token_count(get("llm.token_count.total"))
    if total is None and (prompt is not None or completion is not None):
        total = (prompt or 0) + (completion or 0)
    return Promoted(
        span_kind=span_kind or span_kind_of(attributes),
        session_id=_text(get("session.id")),
        user_id=_text(get("user.id")),
        model_name=_text(get("llm.model_name")) or _text(get("embedding.model_name")),
        provider=_text(get("llm.provider")) or _text(get("llm.system")),
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        input_preview=input_preview(attributes) if root else None,
        output_preview=output_preview(attributes) if root else None,
    )
