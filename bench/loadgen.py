"""Load generator: realistic OpenInference traces sent as OTLP/HTTP protobuf by N client processes.

What it sends
- A RAG trace (4 spans): a CHAIN root with two children, a RETRIEVER (5 documents with id,
  content, score, metadata; its child is the EMBEDDING of the query) and an LLM (system + user
  messages holding the question and excerpts of the documents, one assistant answer,
  input.value/output.value JSON, model, token counts, invocation parameters).
- An agent trace (8-14 spans): an AGENT root over 2-4 rounds of (LLM choosing a tool, a small
  CHAIN output parser, the TOOL), then a final LLM and parser. One tool call per trace fails:
  ERROR status, message and an `exception` event with a stacktrace.
- Every span carries session.id, user.id and metadata, as OpenInference's `using_attributes`
  would set them. Text is seeded random English-like words (Zipf-weighted vocabulary, a few
  numbers and codes), so runs are repeatable and the text compresses about like real prose.
  Ids are random (seeded); trace ids end with the client number, so clients never collide.
- Spans are listed in the order they end (children before parents), as an SDK's batch span
  processor exports them, and cut into requests of `--batch-spans` spans (512, the OTel SDK's
  default export batch); a trace may straddle two requests, as it does in real exports.

How it sends
- The protobuf bodies are built with the opentelemetry-proto message classes (not the SDK) and
  all of them are built before the clock starts, in the client processes themselves.
- Each client is its own process with one keep-alive HTTP/1.1 connection, sending one request
  at a time and waiting for its acknowledgement (the server answers 200 only after the commit).
- 503 / 429 / 502 / 504 and connection errors are retried like an OTel exporter: after
  Retry-After when the server gives one, otherwise exponential backoff with jitter.
- Per request it records the acknowledgement latency from the first attempt to the 200
  (retries included) and the latency of the attempt that succeeded.

Run it alone against a server that is already running:
    .venv/bin/python bench/loadgen.py --endpoint http://127.0.0.1:6006 --spans 20000
or only look at the generated mix without sending anything:
    .venv/bin/python bench/loadgen.py --dry-run --spans 20000
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing as mp
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

PROJECT_NAME = "ember-bench"
MAX_CLIENTS = 256
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_BACKOFF_S = 5.0
_MS = 1_000_000  # nanoseconds per millisecond

AttrValue = str | int | float | bool
Attrs = list[tuple[str, AttrValue]]

# ----------------------------------------------------------------------------------- text

# Ordered roughly by how common each word is; the generator draws them with Zipf weights.
_VOCABULARY_TEXT = """
the of and to a in is that for it as with was on be by this are or from at which an not have
has can will your you we they our their more also if all one about when there use other into
only new than these what some any may time would should each how most after first system data
customer order account refund policy payment plan service support request team product user
report model answer question document context information process value result example number
issue update change access price invoice subscription billing shipment delivery return item
warranty contract agreement section page version release feature setting option error problem
cause step guide manual article summary detail record field table query search index score
source reference note comment reply message email phone address region country store warehouse
stock inventory supplier vendor partner employee manager department office project task
deadline schedule meeting calendar event date month week year day hour minute period quarter
budget cost revenue margin discount tax fee charge credit debit balance transfer bank card
security password login session token key permission role admin owner member group policy
compliance audit review approval status pending approved rejected closed open active expired
available required optional standard premium enterprise basic annual monthly weekly daily
please thank confirm check verify provide include ensure follow contact send receive create
delete cancel renew upgrade downgrade extend reduce increase apply submit complete resolve
escalate assign track monitor measure compare analyze explain describe recommend suggest
however therefore because although while unless until before during within without between
under over above below near across through against toward upon among per via
customers orders accounts refunds payments plans services requests products users reports
documents questions answers results errors issues updates changes items invoices shipments
quickly usually typically currently recently previously automatically manually directly
important relevant specific general possible similar different additional previous current
"""
_VOCABULARY = _VOCABULARY_TEXT.split()

_CODES = ("SKU", "INV", "ORD", "TKT", "REF", "ACC", "CASE")


class TextGen:
    """Seeded English-like text: Zipf-weighted words, sentences, some numbers and codes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._cum = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(_VOCABULARY))))

    def words(self, count: int) -> list[str]:
        return self.rng.choices(_VOCABULARY, cum_weights=self._cum, k=count)

    def code(self) -> str:
        return f"{self.rng.choice(_CODES)}-{self.rng.randint(10000, 999999)}"

    def chars(self, low: int, high: int) -> str:
        """Sentences of 6-20 words, about a random length between low and high characters."""
        rng = self.rng
        random_ = rng.random
        target = rng.randint(low, high)
        words = self.words(target // 6 + 6)
        sentences: list[str] = []
        size = 0
        start = 0
        while size < target:
            if start >= len(words) - 20:
                words += self.words(40)
            end = start + 6 + int(random_() * 15)
            sentence = words[start:end]
            start = end
            roll = random_()
            if roll < 0.3:
                sentence.insert(int(random_() * len(sentence)), self.code())
            elif roll < 0.45:
                sentence.insert(int(random_() * len(sentence)), str(rng.randint(2, 9999)))
            sentence[0] = sentence[0].capitalize()
            text = " ".join(sentence) + ("?" if random_() < 0.1 else ".")
            sentences.append(text)
            size += len(text) + 1
        return " ".join(sentences)

    def question(self) -> str:
        words = self.words(self.rng.randint(6, 16))
        lead = self.rng.choice(("How do I", "Why was my", "Can you explain the", "What is the",
                                "When will the", "Where can I find the"))
        return f"{lead} {' '.join(words)}?"


# ----------------------------------------------------------------------------------- spans


def _kv(key: str, value: AttrValue) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _json(value: Any) -> str:
    # json.dumps' default separators, as OpenInference instrumentors write their JSON values.
    return json.dumps(value)


_MODELS = (("gpt-4o-mini", "openai"), ("gpt-4o", "openai"),
           ("claude-3-5-sonnet-20241022", "anthropic"), ("mistral-large-latest", "mistralai"))
_TOOLS = ("search_orders", "get_invoice", "lookup_customer", "create_ticket", "check_inventory",
          "refund_payment", "get_shipping_status", "search_knowledge_base")
_ERRORS = (("TimeoutError", "the upstream service did not answer within 30 seconds"),
           ("httpx.HTTPStatusError", "Server error '502 Bad Gateway' for url"),
           ("KeyError", "'customer_id'"),
           ("ValueError", "invalid literal for int() with base 10"))


@dataclass
class GeneratedSpan:
    span: Span
    scope: int  # index into TraceFactory.scopes
    kind: str


class TraceFactory:
    """Builds whole traces with seeded random content; spans come out in the order they end."""

    def __init__(self, seed: int, client: int, start_ns: int) -> None:
        if not 0 <= client < MAX_CLIENTS:
            raise ValueError(f"client must be in [0, {MAX_CLIENTS})")
        self.rng = random.Random(seed)
        self.text = TextGen(self.rng)
        self.client = client
        self.clock_ns = start_ns
        rng = self.rng
        self.system_prompts = [self.text.chars(150, 300) for _ in range(3)]
        self.users = [f"user-{rng.getrandbits(32):08x}" for _ in range(500)]
        self.sessions = [f"{rng.getrandbits(64):016x}" for _ in range(2000)]
        self.tool_schemas = {name: self._tool_schema(name) for name in _TOOLS}
        self.resource = Resource(attributes=[
            _kv("service.name", "support-assistant"),
            _kv("openinference.project.name", PROJECT_NAME),
            _kv("service.version", "2.14.0"),
            _kv("deployment.environment", "production"),
            _kv("host.name", f"bench-client-{client}"),
            _kv("process.pid", 10_000 + client),
            _kv("telemetry.sdk.language", "python"),
            _kv("telemetry.sdk.name", "opentelemetry"),
            _kv("telemetry.sdk.version", "1.27.0"),
        ])
        self.scopes = [
            InstrumentationScope(name="openinference.instrumentation.llama_index",
                                 version="3.0.3"),
            InstrumentationScope(name="openinference.instrumentation.langchain",
                                 version="0.1.28"),
        ]

    # ids and time ---------------------------------------------------------------------

    def _trace_id(self) -> bytes:
        return self.rng.randbytes(15) + bytes([self.client])

    def _span_id(self) -> bytes:
        while True:
            span_id = self.rng.randbytes(8)
            if any(span_id):
                return span_id

    def _ms(self, low: int, high: int) -> int:
        return self.rng.randint(low, high) * _MS

    # shared pieces ---------------------------------------------------------------------

    def _context_attrs(self) -> Attrs:
        rng = self.rng
        return [
            ("session.id", rng.choice(self.sessions)),
            ("user.id", rng.choice(self.users)),
            ("metadata", _json({
                "tier": rng.choice(("free", "pro", "enterprise")),
                "region": rng.choice(("eu-west-1", "us-east-1", "ap-south-1")),
                "app_version": "2.14.0",
                "experiment": rng.choice(("control", "rerank-v2", "prompt-v7")),
            })),
        ]

    def _tool_schema(self, name: str) -> str:
        return _json({
            "type": "function",
            "function": {
                "name": name,
                "description": self.text.chars(40, 90),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "description": self.text.chars(15, 40)},
                        "limit": {"type": "integer", "description": "How many results."},
                    },
                    "required": ["query"],
                },
            },
        })

    def _span(
        self,
        trace_id: bytes,
        span_id: bytes,
        parent_id: bytes,
        name: str,
        start: int,
        end: int,
        attrs: Attrs,
        status: Status | None = None,
        events: Sequence[Span.Event] = (),
    ) -> Span:
        return Span(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=parent_id,
            name=name,
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=start,
            end_time_unix_nano=end,
            attributes=[_kv(k, v) for k, v in attrs],
            status=status or Status(code=Status.STATUS_CODE_OK),
            events=events,
        )

    def _llm_attrs(
        self,
        inputs: list[dict[str, Any]],
        output: dict[str, Any],
        tools: Sequence[str] = (),
    ) -> Attrs:
        rng = self.rng
        model, provider = rng.choice(_MODELS)
        params = {"model": model, "temperature": rng.choice((0.0, 0.2, 0.7)),
                  "max_tokens": rng.choice((512, 1024, 2048)), "top_p": 1.0}
        attrs: Attrs = [
            ("openinference.span.kind", "LLM"),
            ("llm.model_name", model),
            ("llm.provider", provider),
            ("llm.system", provider),
            ("llm.invocation_parameters", _json(params)),
        ]
        for i, message in enumerate(inputs):
            prefix = f"llm.input_messages.{i}.message"
            attrs.append((f"{prefix}.role", message["role"]))
            if message.get("content"):
                attrs.append((f"{prefix}.content", message["content"]))
            for j, call in enumerate(message.get("tool_calls", ())):
                call_prefix = f"{prefix}.tool_calls.{j}.tool_call"
                attrs.append((f"{call_prefix}.id", call["id"]))
                attrs.append((f"{call_prefix}.function.name", call["name"]))
                attrs.append((f"{call_prefix}.function.arguments", call["arguments"]))
        prefix = "llm.output_messages.0.message"
        attrs.append((f"{prefix}.role", "assistant"))
        if output.get("content"):
            attrs.append((f"{prefix}.content", output["content"]))
        for j, call in enumerate(output.get("tool_calls", ())):
            call_prefix = f"{prefix}.tool_calls.{j}.tool_call"
            attrs.append((f"{call_prefix}.id", call["id"]))
            attrs.append((f"{call_prefix}.function.name", call["name"]))
            attrs.append((f"{call_prefix}.function.arguments", call["arguments"]))
        for i, tool in enumerate(tools):
            attrs.append((f"llm.tools.{i}.tool.json_schema", self.tool_schemas[tool]))
        prompt_tokens = sum(len(m.get("content") or "") for m in inputs) // 4 + rng.randint(5, 40)
        completion_tokens = len(output.get("content") or "") // 4 + rng.randint(1, 30)
        attrs += [
            ("llm.token_count.prompt", prompt_tokens),
            ("llm.token_count.completion", completion_tokens),
            ("llm.token_count.total", prompt_tokens + completion_tokens),
            ("input.value", _json({"messages": [
                {k: v for k, v in m.items() if k != "tool_calls"} for m in inputs
            ], "model": model})),
            ("input.mime_type", "application/json"),
            ("output.value", _json({
                "id": f"chatcmpl-{rng.getrandbits(96):024x}",
                "object": "chat.completion",
                "created": self.clock_ns // 1_000_000_000,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                      "content": output.get("content")},
                             "finish_reason": "tool_calls" if output.get("tool_calls")
                             else "stop"}],
                "usage": {"prompt_tokens": prompt_tokens,
                          "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens},
            })),
            ("output.mime_type", "application/json"),
        ]
        return attrs

    # traces ----------------------------------------------------------------------------

    def next_trace(self) -> list[GeneratedSpan]:
        self.clock_ns += self._ms(1, 40)
        if self.rng.random() < 0.5:
            return self.rag_trace()
        return self.agent_trace()

    def rag_trace(self) -> list[GeneratedSpan]:
        rng, text = self.rng, self.text
        trace_id = self._trace_id()
        root_id, retriever_id, llm_id = self._span_id(), self._span_id(), self._span_id()
        context = self._context_attrs()
        question = text.question()
        t0 = self.clock_ns

        r_start = t0 + self._ms(2, 20)
        r_end = r_start + self._ms(30, 300)
        documents = []
        retriever: Attrs = [("openinference.span.kind", "RETRIEVER"), ("input.value", question)]
        for i in range(5):
            doc_id = f"kb-{rng.getrandbits(40):010x}"
            content = text.chars(300, 600)
            documents.append(content)
            prefix = f"retrieval.documents.{i}.document"
            retriever += [
                (f"{prefix}.id", doc_id),
                (f"{prefix}.content", content),
                (f"{prefix}.score", round(0.9 - 0.07 * i - rng.random() * 0.05, 4)),
                (f"{prefix}.metadata", _json({
                    "source": f"https://docs.example.com/{text.words(1)[0]}/{doc_id}",
                    "title": " ".join(text.words(rng.randint(3, 7))).title(),
                    "updated_at": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "chunk": rng.randint(0, 40),
                })),
            ]

        l_start = r_end + self._ms(1, 10)
        l_end = l_start + self._ms(400, 4000)
        excerpts = "\n\n".join(doc[: rng.randint(120, 300)] for doc in documents[:2])
        inputs = [
            {"role": "system", "content": rng.choice(self.system_prompts)},
            {"role": "user", "content": f"Context:\n{excerpts}\n\nQuestion: {question}"},
        ]
        answer = text.chars(150, 600)
        llm = self._llm_attrs(inputs, {"content": answer})
        root_end = l_end + self._ms(1, 5)
        root: Attrs = [
            ("openinference.span.kind", "CHAIN"),
            ("input.value", _json({"query": question})),
            ("input.mime_type", "application/json"),
            ("output.value", answer),
        ]
        e_start = r_start + self._ms(1, 3)
        embedding: Attrs = [
            ("openinference.span.kind", "EMBEDDING"),
            ("embedding.model_name", "text-embedding-3-small"),
            ("embedding.embeddings.0.embedding.text", question),
            ("input.value", question),
        ]
        return [
            GeneratedSpan(self._span(trace_id, self._span_id(), retriever_id, "embed",
                                     e_start, e_start + self._ms(15, 120), embedding + context),
                          0, "EMBEDDING"),
            GeneratedSpan(self._span(trace_id, retriever_id, root_id, "retrieve", r_start,
                                     r_end, retriever + context), 0, "RETRIEVER"),
            GeneratedSpan(self._span(trace_id, llm_id, root_id, "OpenAI.chat", l_start, l_end,
                                     llm + context), 0, "LLM"),
            GeneratedSpan(self._span(trace_id, root_id, b"", "query", t0, root_end,
                                     root + context), 0, "CHAIN"),
        ]

    def agent_trace(self) -> list[GeneratedSpan]:
        rng, text = self.rng, self.text
        trace_id = self._trace_id()
        root_id = self._span_id()
        context = self._context_attrs()
        request = text.chars(60, 240)
        tools = rng.sample(_TOOLS, 3)
        system = rng.choice(self.system_prompts)
        history: list[dict[str, Any]] = [{"role": "system", "content": system},
                                         {"role": "user", "content": request}]
        rounds = rng.randint(2, 4)
        failing = rng.randrange(rounds)
        out: list[GeneratedSpan] = []
        t = self.clock_ns + self._ms(1, 5)
        for step in range(rounds):
            call = {"id": f"call_{rng.getrandbits(64):016x}", "name": rng.choice(tools),
                    "arguments": _json({"query": " ".join(text.words(rng.randint(3, 8))),
                                        "limit": rng.randint(1, 10)})}
            thought = text.chars(30, 120)
            start, end = t, t + self._ms(300, 2500)
            attrs = self._llm_attrs(history, {"content": thought, "tool_calls": [call]}, tools)
            out.append(GeneratedSpan(self._span(trace_id, self._span_id(), root_id,
                                                "ChatOpenAI", start, end, attrs + context),
                                     1, "LLM"))
            out.append(self._parser_span(trace_id, root_id, end, thought,
                                         {"tool": call["name"], "tool_input": call["arguments"],
                                          "tool_call_id": call["id"]}, context))
            t = end + self._ms(1, 5)
            start, end = t, t + self._ms(20, 900)
            tool: Attrs = [
                ("openinference.span.kind", "TOOL"),
                ("tool.name", call["name"]),
                ("tool.description", text.chars(40, 100)),
                ("tool.parameters", self.tool_schemas[call["name"]]),
                ("input.value", call["arguments"]),
                ("input.mime_type", "application/json"),
            ]
            status: Status | None = None
            events: list[Span.Event] = []
            if step == failing:
                error_type, error_message = rng.choice(_ERRORS)
                result = f"Error: {error_type}: {error_message}"
                status = Status(code=Status.STATUS_CODE_ERROR,
                                message=f"{error_type}: {error_message}")
                events.append(Span.Event(name="exception", time_unix_nano=end, attributes=[
                    _kv("exception.type", error_type),
                    _kv("exception.message", error_message),
                    _kv("exception.stacktrace", self._stacktrace(error_type, error_message)),
                    _kv("exception.escaped", "False"),
                ]))
            else:
                result = text.chars(100, 500)
                tool += [("output.value", result)]
            out.append(GeneratedSpan(self._span(trace_id, self._span_id(), root_id, call["name"],
                                                start, end, tool + context, status, events),
                                     1, "TOOL"))
            history.append({"role": "assistant", "content": thought, "tool_calls": [call]})
            history.append({"role": "tool", "content": result[:200]})
            t = end + self._ms(1, 5)
        answer = text.chars(100, 500)
        start, end = t, t + self._ms(400, 3000)
        attrs = self._llm_attrs(history, {"content": answer}, tools)
        out.append(GeneratedSpan(self._span(trace_id, self._span_id(), root_id, "ChatOpenAI",
                                            start, end, attrs + context), 1, "LLM"))
        out.append(self._parser_span(trace_id, root_id, end, answer[:200],
                                     {"return_values": {"output": "..."}, "type": "AgentFinish"},
                                     context))
        end += self._ms(1, 3)
        root: Attrs = [
            ("openinference.span.kind", "AGENT"),
            ("input.value", request),
            ("output.value", answer),
            ("agent.name", "support_agent"),
        ]
        out.append(GeneratedSpan(self._span(trace_id, root_id, b"", "AgentExecutor",
                                            self.clock_ns, end + self._ms(1, 5), root + context),
                                 1, "AGENT"))
        return out

    def _parser_span(
        self,
        trace_id: bytes,
        parent_id: bytes,
        start: int,
        text_in: str,
        parsed: dict[str, Any],
        context: Attrs,
    ) -> GeneratedSpan:
        """The small CHAIN span an agent framework records for parsing the model's output."""
        attrs: Attrs = [
            ("openinference.span.kind", "CHAIN"),
            ("input.value", text_in),
            ("output.value", _json(parsed)),
            ("output.mime_type", "application/json"),
        ]
        span = self._span(trace_id, self._span_id(), parent_id, "ToolsAgentOutputParser",
                          start, start + self._ms(0, 2) + 150_000, attrs + context)
        return GeneratedSpan(span, 1, "CHAIN")

    def _stacktrace(self, error_type: str, message: str) -> str:
        rng = self.rng
        lines = ["Traceback (most recent call last):"]
        for _ in range(rng.randint(4, 8)):
            module = "/".join(self.text.words(2))
            lines.append(f'  File "/app/.venv/lib/python3.11/site-packages/{module}.py", '
                         f"line {rng.randint(10, 900)}, in {self.text.words(1)[0]}_handler")
            lines.append(f"    {self.text.words(1)[0]} = {' '.join(self.text.words(3))}")
        lines.append(f"{error_type}: {message}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- requests


@dataclass
class Body:
    spans: int
    data: bytes


def generate_spans(factory: TraceFactory, count: int) -> Iterator[GeneratedSpan]:
    """`count` spans of whole traces (the last trace may be cut short)."""
    made = 0
    while made < count:
        for generated in factory.next_trace():
            if made == count:
                return
            made += 1
            yield generated


def build_bodies(
    factory: TraceFactory, count: int, batch_spans: int
) -> tuple[list[Body], Counter[str], Counter[str]]:
    """Serialized ExportTraceServiceRequests of `batch_spans` spans each (the last may be
    smaller), with the span count and the protobuf bytes per span kind."""
    bodies: list[Body] = []
    kinds: Counter[str] = Counter()
    kind_bytes: Counter[str] = Counter()
    stream = generate_spans(factory, count)
    while True:
        chunk = list(itertools.islice(stream, batch_spans))
        if not chunk:
            break
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.CopyFrom(factory.resource)
        for scope_index, scope in enumerate(factory.scopes):
            members = [g.span for g in chunk if g.scope == scope_index]
            if members:
                scope_spans = resource_spans.scope_spans.add()
                scope_spans.scope.CopyFrom(scope)
                scope_spans.spans.extend(members)
        for g in chunk:
            kinds[g.kind] += 1
            kind_bytes[g.kind] += g.span.ByteSize()
        bodies.append(Body(len(chunk), request.SerializeToString()))
    return bodies, kinds, kind_bytes


# ------------------------------------------------------------------------------ clients


@dataclass(frozen=True)
class ClientConfig:
    endpoint: str
    index: int
    spans: int
    batch_spans: int
    seed: int
    send_timeout_s: float
    start_ns: int
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class ClientResult:
    index: int
    spans_generated: int = 0
    unique_spans: int = 0
    requests: int = 0
    body_bytes: int = 0
    generate_s: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    kind_bytes: dict[str, int] = field(default_factory=dict)
    send_start: float = 0.0  # time.monotonic(): CLOCK_MONOTONIC, comparable across processes
    send_end: float = 0.0
    send_cpu_s: float = 0.0
    spans_acked: int = 0
    spans_rejected: int = 0  # counted in an OTLP partial_success
    requests_failed: int = 0
    ack_latency_s: list[float] = field(default_factory=list)  # first attempt -> 200
    acks: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, spans)
    attempt_latency_s: list[float] = field(default_factory=list)  # the attempt that got 200
    retries: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _retry_delay(retry_after: str | None, attempt: int, rng: random.Random) -> float:
    """Retry-After when given (seconds), else exponential backoff with jitter, capped."""
    if retry_after is not None:
        with contextlib.suppress(ValueError):
            return min(max(float(retry_after), 0.0), MAX_BACKOFF_S)
    return min(0.05 * 2.0 ** (attempt - 1), MAX_BACKOFF_S) * (0.5 + rng.random() / 2)


def _note(result: ClientResult, reason: str) -> None:
    result.retries[reason] = result.retries.get(reason, 0) + 1


def _send_all(config: ClientConfig, bodies: list[Body], result: ClientResult) -> None:
    import httpx

    url = config.endpoint.rstrip("/") + "/v1/traces"
    headers = {"content-type": "application/x-protobuf", **dict(config.headers)}
    rng = random.Random(config.seed ^ 0x5EED)
    cpu_start = time.process_time()
    result.send_start = time.monotonic()
    deadline = result.send_start + config.send_timeout_s
    timeout = httpx.Timeout(120.0, connect=10.0)
    with httpx.Client(timeout=timeout, headers=headers, trust_env=False) as client:
        for body in bodies:
            first = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                if time.monotonic() > deadline:
                    result.requests_failed += 1
                    result.errors.append("gave up: the send deadline passed")
                    break
                started = time.monotonic()
                try:
                    response = client.post(url, content=body.data)
                except httpx.TransportError as exc:
                    _note(result, type(exc).__name__)
                    time.sleep(_retry_delay(None, attempt, rng))
                    continue
                finished = time.monotonic()
                if response.status_code == 200:
                    answer = ExportTraceServiceResponse()
                    answer.ParseFromString(response.content)
                    rejected = answer.partial_success.rejected_spans
                    result.spans_rejected += rejected
                    result.spans_acked += body.spans - rejected
                    result.ack_latency_s.append(finished - first)
                    result.acks.append((finished, body.spans - rejected))
                    result.attempt_latency_s.append(finished - started)
                    if rejected and len(result.errors) < 20:
                        result.errors.append(f"partial_success: {answer.partial_success}")
                    break
                if response.status_code in RETRYABLE_STATUS:
                    _note(result, str(response.status_code))
                    time.sleep(_retry_delay(response.headers.get("retry-after"), attempt, rng))
                    continue
                result.requests_failed += 1
                if len(result.errors) < 20:
                    result.errors.append(f"HTTP {response.status_code}: {response.text[:300]}")
                break
    result.send_end = time.monotonic()
    result.send_cpu_s = time.process_time() - cpu_start


def _client_main(config: ClientConfig, ready: Any, go: Any, results: Any) -> None:
    """One client process: build its bodies, wait for the start signal, send them all."""
    result = ClientResult(index=config.index)
    try:
        started = time.monotonic()
        factory = TraceFactory(config.seed, config.index, config.start_ns)
        bodies, kinds, kind_bytes = build_bodies(factory, config.spans, config.batch_spans)
        result.generate_s = time.monotonic() - started
        result.requests = len(bodies)
        result.spans_generated = sum(b.spans for b in bodies)
        result.body_bytes = sum(len(b.data) for b in bodies)
        result.kinds = dict(kinds)
        result.kind_bytes = dict(kind_bytes)
        result.unique_spans = _count_unique(bodies)
        ready.wait()
        go.wait()
        _send_all(config, bodies, result)
    except BaseException as exc:  # report, never hang the parent
        ready.abort()
        result.errors.append("".join(traceback.format_exception(exc))[-2000:])
    results.put(result)


def _count_unique(bodies: list[Body]) -> int:
    seen: set[bytes] = set()
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body.data)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    seen.add(span.trace_id + span.span_id)
    return len(seen)


# ------------------------------------------------------------------------------- results


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks; q in [0, 100]."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class LoadResult:
    clients: int
    batch_spans: int
    spans_sent: int
    unique_spans: int
    requests: int
    body_bytes: int
    generate_s: float
    wall_s: float
    spans_acked: int
    spans_rejected: int
    requests_failed: int
    client_cpu_s: float
    ack_latency_s: list[float]
    acks: list[tuple[float, int]]
    send_start: float
    attempt_latency_s: list[float]
    retries: dict[str, int]
    kinds: dict[str, int]
    kind_bytes: dict[str, int]
    errors: list[str]

    @property
    def spans_per_s(self) -> float:
        return self.spans_acked / self.wall_s if self.wall_s > 0 else 0.0

    def spans_per_s_by_part(self, parts: int = 10) -> list[float]:
        """Throughput over each successive 1/parts of the acknowledged spans: does ingest slow
        down as the database grows?"""
        if not self.acks:
            return []
        total = sum(n for _, n in self.acks)
        rates: list[float] = []
        done = 0
        mark_time, mark_done = self.send_start, 0
        for when, n in self.acks:
            done += n
            if done * parts >= total * (len(rates) + 1):
                elapsed = when - mark_time
                rates.append(round((done - mark_done) / elapsed, 1) if elapsed > 0 else 0.0)
                mark_time, mark_done = when, done
        return rates

    def latency_ms(self, q: float, attempt: bool = False) -> float:
        values = sorted(self.attempt_latency_s if attempt else self.ack_latency_s)
        return percentile(values, q) * 1000

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "batch_spans": self.batch_spans,
            "spans_sent": self.spans_sent,
            "unique_spans": self.unique_spans,
            "requests": self.requests,
            "protobuf_bytes_per_span": round(self.body_bytes / max(self.spans_sent, 1), 1),
            "protobuf_bytes_per_span_by_kind": {
                k: round(self.kind_bytes[k] / n) for k, n in sorted(self.kinds.items())
            },
            "spans_by_kind": dict(sorted(self.kinds.items())),
            "generate_s": round(self.generate_s, 2),
            "wall_s": round(self.wall_s, 3),
            "spans_acked": self.spans_acked,
            "spans_rejected": self.spans_rejected,
            "requests_failed": self.requests_failed,
            "acked_spans_per_s": round(self.spans_per_s, 1),
            "ack_latency_ms": {
                "p50": round(self.latency_ms(50), 1),
                "p90": round(self.latency_ms(90), 1),
                "p99": round(self.latency_ms(99), 1),
                "max": round(self.latency_ms(100), 1),
            },
            "successful_attempt_latency_ms": {
                "p50": round(self.latency_ms(50, attempt=True), 1),
                "p99": round(self.latency_ms(99, attempt=True), 1),
            },
            "spans_per_s_by_tenth": self.spans_per_s_by_part(10),
            "retries": self.retries,
            "client_cpu_s": round(self.client_cpu_s, 2),
            "errors": self.errors[:10],
        }


def _merge(results: list[ClientResult], batch_spans: int, generate_s: float) -> LoadResult:
    kinds: Counter[str] = Counter()
    kind_bytes: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    for r in results:
        kinds.update(r.kinds)
        kind_bytes.update(r.kind_bytes)
        retries.update(r.retries)
    sending = [r for r in results if r.send_end > 0]
    wall = (
        max(r.send_end for r in sending) - min(r.send_start for r in sending) if sending else 0.0
    )
    return LoadResult(
        clients=len(results),
        batch_spans=batch_spans,
        spans_sent=sum(r.spans_generated for r in results),
        unique_spans=sum(r.unique_spans for r in results),
        requests=sum(r.requests for r in results),
        body_bytes=sum(r.body_bytes for r in results),
        generate_s=generate_s,
        wall_s=wall,
        spans_acked=sum(r.spans_acked for r in results),
        spans_rejected=sum(r.spans_rejected for r in results),
        requests_failed=sum(r.requests_failed for r in results),
        client_cpu_s=sum(r.send_cpu_s for r in results),
        ack_latency_s=[x for r in results for x in r.ack_latency_s],
        acks=sorted(a for r in results for a in r.acks),
        send_start=min((r.send_start for r in sending), default=0.0),
        attempt_latency_s=[x for r in results for x in r.attempt_latency_s],
        retries=dict(retries),
        kinds=dict(kinds),
        kind_bytes=dict(kind_bytes),
        errors=[e for r in results for e in r.errors],
    )


def run_load(
    endpoint: str,
    spans: int,
    clients: int = 4,
    batch_spans: int = 512,
    seed: int = 1,
    timeout_s: float = 900.0,
    headers: Sequence[tuple[str, str]] = (),
    on_start: Callable[[], None] | None = None,
    log: Callable[[str], None] = lambda _message: None,
) -> LoadResult:
    """Build `spans` spans in `clients` processes, then send them all at once and wait.

    `on_start` runs after every body is built and right before the clients start sending.
    The clients give up `timeout_s` after the start; the whole call is bounded by about
    twice that (generation included).
    """
    if not 1 <= clients <= MAX_CLIENTS:
        raise ValueError(f"clients must be between 1 and {MAX_CLIENTS}")
    if spans < clients:
        raise ValueError("need at least one span per client")
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(clients + 1)
    go = ctx.Event()
    results_queue = ctx.Queue()
    start_ns = time.time_ns() - 3 * 3600 * 1_000_000_000
    share, extra = divmod(spans, clients)
    processes = []
    for index in range(clients):
        config = ClientConfig(
            endpoint=endpoint,
            index=index,
            spans=share + (1 if index < extra else 0),
            batch_spans=batch_spans,
            seed=seed * 1000 + index,
            send_timeout_s=timeout_s,
            start_ns=start_ns,
            headers=tuple(headers),
        )
        process = ctx.Process(target=_client_main, args=(config, ready, go, results_queue),
                              name=f"loadgen-{index}", daemon=True)
        process.start()
        processes.append(process)
    try:
        log(f"building {spans} spans in {clients} client processes...")
        generate_started = time.monotonic()
        with contextlib.suppress(Exception):  # a broken barrier: the failing client reports it
            ready.wait(timeout=timeout_s)
        generate_s = time.monotonic() - generate_started
        if on_start is not None:
            on_start()
        log(f"built in {generate_s:.1f}s; sending")
        go.set()
        collected: list[ClientResult] = []
        deadline = time.monotonic() + timeout_s + 60
        while len(collected) < clients:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"only {len(collected)} of {clients} clients finished in time")
            collected.append(results_queue.get(timeout=remaining))
        for process in processes:
            process.join(timeout=10)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    collected.sort(key=lambda r: r.index)
    return _merge(collected, batch_spans, generate_s)


# ---------------------------------------------------------------------------------- CLI


def dry_run(spans: int, batch_spans: int, seed: int) -> dict[str, Any]:
    """Build one client's worth of bodies and describe them, without sending anything."""
    started = time.monotonic()
    factory = TraceFactory(seed * 1000, 0, time.time_ns())
    bodies, kinds, kind_bytes = build_bodies(factory, spans, batch_spans)
    elapsed = time.monotonic() - started
    total = sum(len(b.data) for b in bodies)
    return {
        "spans": sum(b.spans for b in bodies),
        "unique_spans": _count_unique(bodies),
        "requests": len(bodies),
        "build_s": round(elapsed, 2),
        "build_spans_per_s": round(spans / elapsed),
        "protobuf_bytes_per_span": round(total / spans, 1),
        "body_bytes_mean": round(total / len(bodies)),
        "spans_by_kind": dict(sorted(kinds.items())),
        "protobuf_bytes_per_span_by_kind": {
            k: round(kind_bytes[k] / n) for k, n in sorted(kinds.items())
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:6006",
                        help="Base URL of the server (only 127.0.0.1 / localhost is allowed).")
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch-spans", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds of sending at most.")
    parser.add_argument("--dry-run", action="store_true", help="Build and describe; send nothing.")
    args = parser.parse_args(argv)
    if args.dry_run:
        print(json.dumps(dry_run(args.spans, args.batch_spans, args.seed), indent=2))
        return 0
    check_local(args.endpoint)
    result = run_load(args.endpoint, args.spans, args.clients, args.batch_spans, args.seed,
                      args.timeout, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(result.summary(), indent=2))
    ok = result.spans_acked == result.unique_spans and not result.requests_failed
    return 0 if ok else 1


def check_local(endpoint: str) -> None:
    from urllib.parse import urlsplit

    host = urlsplit(endpoint).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing to send load to {host!r}: this harness targets 127.0.0.1")


if __name__ == "__main__":
    sys.exit(main())
