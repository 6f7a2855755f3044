"""The OpenInference view of a span written in any of the three dialects.

`openinference_view(attributes, span_name, events)` reads a span's flat OTLP attributes (and its
span events) and returns the OpenInference keys that can be derived from OTel GenAI and
OpenLLMetry attributes, a report of where each came from, the keys nothing understood, the
dialect and the OpenInference span kind. It is pure and total (never raises) and runs on every
ingested span: a span without any `gen_ai.*`, `traceloop.*` or OpenLLMetry `llm.*` key and
without GenAI/vector-store span events takes a fast path: one set difference (in C) against
the memoized set of understood keys, then a lookup of the span kind.
The rules are data in `ember.semconv.rules`; `ember.semconv.mapper` runs them, and the
structured conversions live in `ember.semconv.messages` (messages, legacy events) and
`ember.semconv.convert` (JSON, tools, documents, envelopes, providers). Section numbers below
refer to spec/SEMCONV.md.

Choices made where the spec is ambiguous or silent:

* Span kind: a native `openinference.span.kind` is upper-cased and kept verbatim even when it is
  not a known kind (`AUDIO`, `USER`), as `promote.span_kind_of` does; a blank one counts as
  absent. Unrecognized `gen_ai.operation.name` values fall through to the remaining 5.2 rules
  (then UNKNOWN). `traceloop.span.kind = task` -> CHAIN; `plan`/`create_agent` -> AGENT; memory
  writes -> CHAIN. Legacy GenAI message span events alone make a span LLM (after rule 21).
  `openinference.span.kind` is derived only when a rule matched (never "UNKNOWN" for plain
  HTTP/DB spans).
* Native OpenInference keys always win: a target already in the raw attributes is never
  derived, and a whole list (`llm.input_messages`, `llm.tools`, `retrieval.documents`, ...) is
  not derived when any raw key of that list exists.
* Plain OpenInference spans get an empty `derived`, even when `llm.token_count.total` is
  missing (promote computes it). On other spans the total is computed from prompt + completion
  only when one of them was derived here.
* Usage on AGENT and CHAIN spans is an aggregate (5.3.6, 5.7 #3): it is not copied to
  `llm.token_count.*`, so roll-ups summing that key do not double count. The raw keys stay.
* Cache tokens are never subtracted. When cache_read + cache_write > prompt, a report entry
  with a note flags the likely "exclusive" producer (5.7 #1).
* `llm.finish_reason` is the first finish reason (choice 0), in the producer's vocabulary
  (`tool_calls`, `end_turn`, `STOP` are not canonicalized, like OpenInference producers).
  Output messages also carry their own `message.finish_reason` (an OI pass-through key).
* Session and user: OpenLLMetry association properties (explicit user choices) come before
  the context-propagated `gen_ai.conversation.id` / the request's `gen_ai.user` (5.3.1 order).
* Model: `llm.model_name` = response model ?? request model, not on EMBEDDING/RETRIEVER/
  RERANKER spans (`embedding.model_name` / `reranker.model_name` there).
  `llm.request.model_name` and `llm.response.model_name` are set only when both differ.
* Provider/system come from the 5.4 table on LLM and AGENT spans only (never on EMBEDDING
  spans, per OI). Frameworks (`langchain`, `langgraph`, `crewai`) derive nothing. Without a
  provider key the host of `server.address` / `gen_ai.openai.api_base` gives the provider and
  the model name gives the system. An unresolvable "infer" leaves `llm.system` unset.
* Messages: a message whose only content is one text part gets `message.content` only (what OI
  producers write for plain text), otherwise `message.contents`. System instructions become
  input message 0 (text parts joined with a newline) unless the history already starts with
  the same system message. Parts without an OI slot (file, video, server tool calls,
  compaction, generic, unknown) become a content item whose type is the part type (or
  modality) and whose text is the part as JSON; `refusal` becomes a `refusal` item with the
  refusal text. Tool results become one `tool` message per result. Message lists are only
  derived on LLM spans; on other kinds the messages JSON becomes `input.value`/`output.value`.
  For LLM spans `gen_ai.input.messages`/`gen_ai.output.messages` also fill `input.value`/
  `output.value` (as sent), so previews work. OpenLLMetry generation-A buckets are renumbered
  contiguously in numeric order; `llm.request.type = completion` gives `llm.prompts`/
  `llm.choices` instead of messages.
* Message sources in precedence: `gen_ai.input/output.messages` (+ system instructions), then
  legacy message span events, then `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` buckets.
* Invalid or truncated JSON never raises: the list is not derived (a report entry notes it),
  and the raw text still becomes `input.value`/`output.value` with `text/plain`.
* `metadata` (when not sent natively) collects the GenAI/OpenLLMetry context keys of
  `rules.METADATA_KEYS` under their raw key name, plus association properties and flattened
  `metadata.*` keys under their own names. Transport and provider-response keys
  (`server.address`, `openai.*`) are left in the raw attributes.
* `llm.tools` is derived on LLM spans only (an agent's tool set stays raw, 5.3.6).
* `unmapped` lists keys outside every known namespace/registry (OpenInference, OTel general and
  GenAI, OpenLLMetry), whatever the span's dialect: an unknown `gen_ai.request.foo` is listed,
  any `llm.*`/`traceloop.*` key or general OTel namespace (`http.`, `db.`...) is not. It
  depends only on key names, so the classification is memoized in bounded module-level caches
  (50,000 keys; beyond that keys are classified each time; results are unaffected).
* Dialect: `openllmetry` as soon as one OpenLLMetry-only key is present (its spans also carry
  official `gen_ai.*` keys); `mixed` = OpenInference keys plus GenAI/OpenLLMetry keys (dual
  writing, converters). `session.id`/`user.id` mark no dialect.
* A bug or an unexpected input type inside the rules gives an empty `derived` and one report
  entry with rule "error" (never an exception); tests assert it never happens.
* `exception.*` is not derived: all three dialects already use the standard `exception` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ember.semconv import rules as R
from ember.semconv.mapper import Mapper, MappingEntry

__all__ = ["MappingEntry", "View", "openinference_view"]


@dataclass(frozen=True, slots=True)
class View:
    derived: dict[str, Any]
    report: tuple[MappingEntry, ...]
    unmapped: tuple[str, ...]
    dialect: str
    span_kind: str


# --- key classification (memoized: it depends on the key name only) --------------------------

_KNOWN = 1
_OI = 2
_GENAI = 4
_OLLM = 8
_FOREIGN = _GENAI | _OLLM


def _rule_sources() -> frozenset[str]:
    keys: set[str] = set()
    for rename in R.RENAMES:
        keys.update(rename.sources)
    for table in (R.INVOCATION_PARAMETERS, R.EMBEDDING_PARAMETERS):
        for _, sources in table:
            keys.update(sources)
    for io in R.INPUT_SOURCES + R.OUTPUT_SOURCES:
        keys.add(io.source)
    keys.update(R.METADATA_KEYS + R.PROVIDER_SOURCES + R.HOST_SOURCES + R.LLM_EVIDENCE_KEYS)
    keys.update(R.TOOL_DEFINITION_LISTS + R.DOCUMENT_LISTS)
    keys.update(
        (R.COST_AMOUNT, R.COST_CURRENCY, R.INPUT_MESSAGES, R.OUTPUT_MESSAGES,
         R.SYSTEM_INSTRUCTIONS, R.REQUEST_TYPE, R.OPERATION_NAME, R.TRACELOOP_KIND)
    )
    return frozenset(keys | R.OTEL_GENAI_KNOWN_KEYS | R.OPENLLMETRY_KEYS | R.OPENINFERENCE_KEYS)


_KNOWN_KEYS = _rule_sources()
_KNOWN_PREFIXES = (
    R.OPENINFERENCE_PREFIXES + R.OTEL_KNOWN_PREFIXES + R.OTEL_GENAI_KNOWN_PREFIXES
    + R.OPENLLMETRY_PREFIXES + R.PROMPT_VARIABLE_PREFIXES + R.METADATA_PREFIXES
    + R.INDEXED_TOOL_PREFIXES
)
_CACHE: dict[str, int] = {}
_CACHE_LIMIT = 50_000
# Keys already classified as understood and not foreign, split by whether they mark OpenInference:
# a set difference against these (done in C) leaves only the keys that need a closer look.
_PLAIN_OI: set[str] = set()
_PLAIN_OTHER: set[str] = set()


def _indexed_openllmetry(key: str) -> bool:
    for prefix in R.OPENLLMETRY_INDEXED_PREFIXES:
        if key.startswith(prefix) and key[len(prefix):].partition(".")[0].isdigit():
            return True
    return False


def _classify(key: str) -> int:
    if _indexed_openllmetry(key):
        return _OLLM | _KNOWN
    if key in R.OPENLLMETRY_KEYS or (
        key.startswith(R.OPENLLMETRY_PREFIXES)
        and not key.startswith(R.OTEL_GENAI_NOT_OPENLLMETRY)
    ):
        flags = _OLLM
    elif key.startswith(R.OTEL_GENAI_PREFIXES):
        flags = _GENAI
    elif key in R.OPENINFERENCE_KEYS or key.startswith(R.OPENINFERENCE_PREFIXES):
        flags = _OI
    else:
        flags = 0
    if key in _KNOWN_KEYS or key.startswith(_KNOWN_PREFIXES):
        flags |= _KNOWN
    return flags


def _key_flags(attributes: Mapping[str, Any]) -> tuple[int, list[str]]:
    """OR of the key flags, and the keys not understood (in attribute order)."""
    keys = attributes.keys()
    rest = keys - _PLAIN_OI
    flags = _OI if len(rest) < len(keys) else 0
    if rest:
        rest -= _PLAIN_OTHER
    if not rest:
        return flags, []
    unmapped: list[str] = []
    cache = _CACHE
    for key in attributes:
        if key not in rest:
            continue
        found = cache.get(key)
        if found is None:
            found = _classify(key)
            if len(cache) < _CACHE_LIMIT:
                cache[key] = found
                if found == _KNOWN | _OI:
                    _PLAIN_OI.add(key)
                elif found == _KNOWN:
                    _PLAIN_OTHER.add(key)
        flags |= found
        if not found & _KNOWN:
            unmapped.append(key)
    return flags, unmapped


def _event_flags(events: Sequence[Mapping[str, Any]]) -> int:
    flags = 0
    for event in events:
        name = event.get("name") if isinstance(event, Mapping) else None
        if not isinstance(name, str):
            continue
        if name in R.VECTOR_RESULT_EVENTS:
            flags |= _OLLM
        elif name.startswith("gen_ai."):
            flags |= _GENAI
    return flags


def _dialect(flags: int) -> str:
    if flags & _OI and flags & _FOREIGN:
        return "mixed"
    if flags & _OLLM:
        return R.OPENLLMETRY
    if flags & _GENAI:
        return R.OTEL_GENAI
    if flags & _OI:
        return R.OPENINFERENCE
    return "unknown"


def _native_kind(attributes: Mapping[str, Any]) -> str | None:
    raw = attributes.get("openinference.span.kind")
    if isinstance(raw, str) and raw.strip():
        return raw.strip().upper()
    return None


def openinference_view(
    attributes: Mapping[str, Any],
    span_name: str,
    events: Sequence[Mapping[str, Any]] = (),
) -> View:
    """The OpenInference view of one span (see the module docstring). Never raises.

    `span_name` is accepted for display-oriented rules; no rule derives semantics from it
    (SEMCONV 4.2: names are not reliable).
    """
    flags = 0
    unmapped: list[str] = []
    try:
        flags, unmapped = _key_flags(attributes)
        if events:
            flags |= _event_flags(events)
        if not flags & _FOREIGN:
            kind = _native_kind(attributes) or R.UNKNOWN
            return View({}, (), tuple(unmapped), _dialect(flags), kind)
        derived, report, kind = Mapper(attributes, span_name, events).run()
        return View(derived, tuple(report), tuple(unmapped), _dialect(flags), kind)
    except Exception as error:  # a rule bug or a malformed input must never fail ingestion
        try:
            kind = _native_kind(attributes) or R.UNKNOWN
        except Exception:
            kind = R.UNKNOWN
        entry = MappingEntry("", (), "error", f"{type(error).__name__}: {error}")
        return View({}, (entry,), tuple(unmapped), _dialect(flags), kind)
