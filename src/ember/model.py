"""Plain values passed between Ember's layers.

Ingest produces `SpanRecord`s (decoded, validated, normalized, no I/O); the store persists them and
answers reads with `StoredSpan`, `TraceSummary`, `Project` and `Page`.

Attribute values are JSON-native: str, int, float, bool, None, list and dict (an OTLP kvlist).
What JSON cannot say is recorded beside them, so nothing sent is lost:
- `attribute_types[key]` holds the OTLP/JSON AnyValue of an attribute whose value contains bytes
  (stored as base64 text) or a non-finite double (stored as the text "NaN", "Infinity"...);
- `truncated[key]` holds the original size of a value cut by a configured limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar

Attributes = dict[str, Any]

# "Bulky" attribute values are the ones read as a whole and rarely filtered on: text longer than
# BULKY_TEXT_CHARS, lists longer than BULKY_LIST_ITEMS or holding long text or structures, maps,
# and members of flattened lists (`llm.input_messages.0.message.content`: a digit segment).
# Ingest marks them while decoding; the store keeps them compressed, apart from the short
# scalars that queries reach.
BULKY_TEXT_CHARS = 64
BULKY_LIST_ITEMS = 32
LIST_ITEM_KEY = re.compile(r"(?:^|\.)\d+(?:\.|$)").search


def is_bulky(key: str, value: Any) -> bool:
    if LIST_ITEM_KEY(key):
        return True
    kind = type(value)
    if kind is str:
        return len(value) > BULKY_TEXT_CHARS
    if kind is dict:
        return True
    if kind is list:
        if len(value) > BULKY_LIST_ITEMS:
            return True
        for item in value:
            item_kind = type(item)
            if item_kind is list or item_kind is dict or (
                item_kind is str and len(item) > BULKY_TEXT_CHARS
            ):
                return True
    return False

def iso_time(unix_nano: int) -> str:
    """A unix-ns time as ISO 8601 in UTC, cut (never rounded up) to the microsecond, so it
    is never later than the time itself: as a lower bound it still includes that moment.
    (Through a float, 1.7e18 ns is only exact to ~256 ns, and may round up.)"""
    seconds, nanos = divmod(unix_nano, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=nanos // 1000)
    return moment.isoformat()


def token_count(value: Any) -> int | None:
    """A token count as producers send it: an int, an integral double or a numeric string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    return None


STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}
STATUS_CODES = {name: code for code, name in STATUS_NAMES.items()}
OTEL_KIND_NAMES = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}


@dataclass(frozen=True, slots=True)
class Resource:
    attributes: Attributes
    schema_url: str
    dropped_attributes_count: int
    attribute_types: dict[str, Any]
    fingerprint: str  # stable digest of everything above; the store deduplicates on it


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    version: str
    attributes: Attributes
    schema_url: str
    dropped_attributes_count: int
    attribute_types: dict[str, Any]
    fingerprint: str


class Promoted(NamedTuple):
    """Fields copied out of the attributes into their own columns for lists, filters and sums.

    A NamedTuple (as SpanRecord): built once per ingested span, where a frozen dataclass's
    __init__ costs several times more."""

    span_kind: str = "UNKNOWN"
    session_id: str | None = None
    user_id: str | None = None
    model_name: str | None = None
    provider: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    # Cost in pico-dollars (1e-12 USD; see ember.cost), None when the span has none.
    cost: int | None = None
    # Only for root spans (no parent), for their trace's roll-up; not span columns.
    input_preview: str | None = None
    output_preview: str | None = None


class SpanRecord(NamedTuple):
    """One decoded span, ready to store. Ids are lowercase hex; times are unix nanoseconds.

    `bulky_keys` names the attributes whose values are bulky (see `is_bulky`)."""

    project_name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    otel_kind: int
    start_time: int
    end_time: int
    status_code: int
    status_message: str
    attributes: Attributes
    bulky_keys: list[str]
    attribute_types: dict[str, Any]
    truncated: dict[str, int]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    trace_state: str
    flags: int
    dropped_attributes_count: int
    dropped_events_count: int
    dropped_links_count: int
    resource: Resource
    scope: Scope
    promoted: Promoted
    # OpenInference keys derived from other conventions (never overriding a raw key), and the
    # mapping report (dialect, where each derived key came from, keys nobody understood).
    derived: Attributes
    mapping: dict[str, Any] | None
    # Where the span's cost came from, or why it has none (`SpanCost.summary()`); None when
    # cost does not apply to the span.
    cost_summary: dict[str, Any] | None = None


_OPTIONAL_LOG_FIELDS = (
    "observed_time_unix_nano", "severity_number", "severity_text", "attribute_types",
    "truncated", "dropped_attributes_count", "flags",
)


class LogRecord(NamedTuple):
    """One OTLP log record tied to a span (GenAI instrumentations send message content this
    way). Ids are lowercase hex. `fingerprint` identifies the record for idempotent retries."""

    trace_id: str
    span_id: str
    time_unix_nano: int
    observed_time_unix_nano: int
    event_name: str
    severity_number: int
    severity_text: str
    body: Any
    attributes: Attributes
    attribute_types: dict[str, Any]
    truncated: dict[str, int]
    dropped_attributes_count: int
    flags: int
    resource: Resource
    scope: Scope
    fingerprint: str

    def document(self) -> dict[str, Any]:
        """The record as stored and shown, shaped like a span event (`name`, `time_unix_nano`,
        `attributes`) with the log fields beside: the semconv view reads it as one."""
        out: dict[str, Any] = {
            "name": self.event_name,
            "time_unix_nano": self.time_unix_nano,
            "attributes": self.attributes,
            "body": self.body,
        }
        # The log fields that are usually empty are written only when set.
        for name in _OPTIONAL_LOG_FIELDS:
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Keep traces for `days` days (by start time) and/or only the newest `max_traces` of a
    project; None means no limit of that kind."""

    days: int | None = None
    max_traces: int | None = None

    @property
    def keeps_everything(self) -> bool:
        return self.days is None and self.max_traces is None


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    description: str | None
    created_at: int  # unix ns
    # The project's own retention; None means the server's default policy applies.
    retention: RetentionPolicy | None = None


@dataclass(frozen=True, slots=True)
class StoredSpan:
    id: int  # the store's row id
    project_name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    otel_kind: int
    span_kind: str
    start_time: int
    end_time: int
    status_code: int
    status_message: str
    attributes: Attributes
    attribute_types: dict[str, Any]
    truncated: dict[str, int]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    trace_state: str
    flags: int
    dropped_attributes_count: int
    dropped_events_count: int
    dropped_links_count: int
    resource: dict[str, Any]
    scope: dict[str, Any]
    promoted: Promoted
    derived: Attributes
    mapping: dict[str, Any] | None
    cost_summary: dict[str, Any] | None = None
    # The log records tied to this span (`LogRecord.document()`), by time.
    logs: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """A trace's roll-up. Tokens count LLM spans only; the root is the earliest span without a
    parent; session and user are the smallest ids among the trace's spans."""

    trace_id: str
    project_name: str
    start_time: int
    end_time: int
    span_count: int
    error_count: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    root_span_id: str | None = None
    root_name: str | None = None
    root_span_kind: str | None = None
    input_preview: str | None = None
    output_preview: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    # Pico-dollars over the trace's LLM and EMBEDDING spans; `unpriced_spans` counts those of
    # them that used tokens but have no cost (their model has no price).
    cost: int = 0
    unpriced_spans: int = 0


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A session's roll-up over its traces: first input of the earliest, last output of the
    latest, token and error sums."""

    session_id: str
    project_name: str
    start_time: int
    end_time: int
    trace_count: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    first_input: str | None
    last_output: str | None
    user_id: str | None
    trace_ids: list[str]
    cost: int = 0
    unpriced_spans: int = 0
    # Nearest-rank p50 and p99 of its traces' latencies (ms), computed when it is read (the
    # listing's page, one session); None for a session without traces.
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SpanFilter:
    """The simple span filters of the list route; the filter language comes with [query]."""

    trace_ids: tuple[str, ...] = ()
    span_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    span_kinds: tuple[str, ...] = ()
    status_codes: tuple[int, ...] = ()
    parent_id: str | None = None
    roots_only: bool = False
    start_time_from: int | None = None
    start_time_to: int | None = None


# --------------------------------------------------------------------------------- annotations

# An annotation is about a span, a trace, a session, or one retrieved document of a span (by
# its position in the span's `retrieval.documents`): target kind "span", "trace", "session" or
# "document". Its annotator kind is HUMAN, LLM or CODE; its source API or APP.
# Stored as the document position of annotations that are not about a document, so that the
# upsert key (target kind, target id, name, identifier, position) never holds a NULL.
NO_DOCUMENT = -1


@dataclass(frozen=True, slots=True)
class AnnotationInput:
    """One annotation to upsert. Ids are as users see them: lowercase hex span/trace ids, or
    the session's own id text. `identifier` "" is the default annotation of that name."""

    target_kind: str
    target_id: str
    name: str
    annotator_kind: str
    label: str | None = None
    score: float | None = None
    explanation: str | None = None
    metadata: dict[str, Any] | None = None
    identifier: str = ""
    document_position: int = NO_DOCUMENT
    source: str = "API"
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Annotation:
    """A stored annotation; times are unix nanoseconds."""

    id: int
    target_kind: str
    target_id: str
    document_position: int
    name: str
    label: str | None
    score: float | None
    explanation: str | None
    metadata: dict[str, Any]
    annotator_kind: str
    identifier: str
    source: str
    user_id: str | None
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class AnnotationQuery:
    """Which annotations of one target kind a listing returns, within a project: those on
    `target_ids` and/or with one of `identifiers`, named in `include_names` (all when empty)
    and not in `exclude_names`."""

    target_kind: str
    target_ids: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    include_names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnnotationBrief:
    """What a table row shows of one annotation of its span or trace (label, score, who)."""

    name: str
    label: str | None
    score: float | None
    annotator_kind: str
    identifier: str


# ------------------------------------------------------------------- trace and session pages


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """The trace listing's filters and order. Times are unix ns (start time in
    [start_time_from, start_time_to)); latency bounds are inclusive, in ns. `session_ids` are
    sessions' own ids, `session_rowids` their row ids; a trace matches either."""

    start_time_from: int | None = None
    start_time_to: int | None = None
    sort: str = "start_time"  # or latency_ms, span_count, total_tokens, cost, ...
    order: str = "desc"  # or "asc"
    # A trace filter of Ember's filter language (an `ember.query.ast` condition), or None.
    condition: Any = None
    session_ids: tuple[str, ...] = ()
    session_rowids: tuple[int, ...] = ()
    error: bool | None = None
    min_latency_ns: int | None = None
    max_latency_ns: int | None = None
    include_spans: bool = False


@dataclass(frozen=True, slots=True)
class SpanBrief:
    """A span's tree columns only (never its attributes or payload)."""

    id: int  # row id
    span_id: str
    parent_id: str | None
    name: str
    span_kind: str
    status_code: int
    start_time: int
    end_time: int


@dataclass(frozen=True, slots=True)
class TraceItem:
    """A trace in a listing: its row id and project's row id beside the roll-up, and its spans'
    tree columns when they were asked for."""

    id: int
    project_id: int
    summary: TraceSummary
    spans: list[SpanBrief] | None = None


@dataclass(frozen=True, slots=True)
class SessionTrace:
    id: int  # the trace's row id
    trace_id: str
    start_time: int
    end_time: int


@dataclass(frozen=True, slots=True)
class SessionItem:
    """A session in a listing: its row id and project's row id, its roll-up, and its traces in
    time order."""

    id: int
    project_id: int
    summary: SessionSummary
    traces: list[SessionTrace]
