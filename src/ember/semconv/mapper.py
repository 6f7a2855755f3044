"""The slow path of `ember.semconv.view`: applies the `rules` tables to one non-OI span.

`Mapper(attributes, span_name, events).run()` returns the derived OpenInference keys, the
report and the span kind. Choices are documented in `ember.semconv.view`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ember.model import token_count
from ember.semconv import convert as cv
from ember.semconv import messages as msg
from ember.semconv import rules as R

NATIVE_KIND = "openinference.span.kind"
_MODEL_KINDS_EXCLUDED = frozenset({R.EMBEDDING, R.RETRIEVER, R.RERANKER})
_PROMPT = "llm.token_count.prompt"
_COMPLETION = "llm.token_count.completion"
_TOTAL = "llm.token_count.total"
_CACHE_READ = "llm.token_count.prompt_details.cache_read"
_CACHE_WRITE = "llm.token_count.prompt_details.cache_write"


class MappingEntry(NamedTuple):
    """Where one derived key (or a group such as a whole message list) came from.

    `sources` are raw attribute keys (`gen_ai.prompt.*` for a bucketed family, `event:<name>`
    for span events, OpenInference keys for computed values); `note` explains anything odd.
    """

    target: str
    sources: tuple[str, ...]
    rule: str
    note: str = ""


# Which RENAMES (by position) read a given source, so only rules with a present source run.
_RULES_BY_SOURCE: dict[str, list[int]] = {}
for _position, _rule in enumerate(R.RENAMES):
    for _source in _rule.sources:
        _RULES_BY_SOURCE.setdefault(_source, []).append(_position)

_SCAN_CACHE: dict[str, tuple[int, str]] = {}
_SCAN_CACHE_LIMIT = 50_000


class Mapper:
    def __init__(
        self, attributes: Mapping[str, Any], span_name: str, events: Sequence[Mapping[str, Any]]
    ) -> None:
        self.attrs = attributes
        self.span_name = span_name
        self.events = [event for event in events if isinstance(event, Mapping)]
        self.derived: dict[str, Any] = {}
        self.report: list[MappingEntry] = []
        self.pseudo: dict[str, Any] = {}
        self.kind = R.UNKNOWN
        self._parsed: dict[str, Any] = {}
        self.prompt_keys: list[str] = []
        self.completion_keys: list[str] = []
        self.tool_keys: dict[str, list[str]] = {prefix: [] for prefix in R.INDEXED_TOOL_PREFIXES}
        self.variable_keys: list[tuple[str, str]] = []
        self.metadata_keys: list[tuple[str, str]] = []
        self.oi_lists: set[str] = set()
        self._scan()

    # --- helpers ---------------------------------------------------------------------------

    def _scan(self) -> None:
        cache = _SCAN_CACHE
        for key in self.attrs:
            found = cache.get(key)
            if found is None:
                found = cv.scan_category(key)
                if len(cache) < _SCAN_CACHE_LIMIT:
                    cache[key] = found
            category, detail = found
            if category == cv.OTHER:
                continue
            if category == cv.IN_PROMPT:
                self.prompt_keys.append(key)
            elif category == cv.IN_COMPLETION:
                self.completion_keys.append(key)
            elif category == cv.TOOL_INDEXED:
                self.tool_keys[detail].append(key)
            elif category == cv.VARIABLE:
                self.variable_keys.append((key, detail))
            elif category == cv.METADATA:
                self.metadata_keys.append((key, detail))
            else:
                self.oi_lists.add(detail)

    def json(self, key: str) -> Any:
        """The parsed value of a JSON attribute (memoized; cv.INVALID if it does not parse)."""
        if key not in self._parsed:
            self._parsed[key] = cv.loads(self.attrs.get(key))
        return self._parsed[key]

    def value(self, key: str) -> Any:
        return self.derived[key] if key in self.derived else self.attrs.get(key)

    def put(self, key: str, value: Any) -> None:
        if key not in self.attrs:
            self.derived[key] = value

    def note(self, target: str, sources: tuple[str, ...], rule: str, note: str = "") -> None:
        self.report.append(MappingEntry(target, sources, rule, note))

    def put_list(
        self, root: str, items: Sequence[Mapping[str, Any]], sources: tuple[str, ...], rule: str
    ) -> None:
        for i, item in enumerate(items):
            for key, value in item.items():
                self.put(f"{root}.{i}.{key}", value)
        self.note(root, sources, rule)

    # --- pipeline --------------------------------------------------------------------------

    def run(self) -> tuple[dict[str, Any], list[MappingEntry], str]:
        kind, source = self.resolve_kind()
        self.kind = kind
        if kind == R.LLM:
            self.messages()
            self.tools()
        elif kind == R.EMBEDDING:
            self.embedding_texts()
        elif kind == R.RETRIEVER:
            self.documents()
        elif kind == R.RERANKER:
            self.reranker()
        self.renames()
        self.model_pair()
        self.provider()
        self.parameters()
        self.cost()
        self.io()
        self.variables()
        self.metadata()
        self.totals()
        if source is not None and source != NATIVE_KIND:
            self.put(NATIVE_KIND, kind)
            self.note(NATIVE_KIND, (source,), "span_kind")
        return self.derived, self.report, kind

    def resolve_kind(self) -> tuple[str, str | None]:
        """SEMCONV 5.2, first matching rule; returns the kind and the key that decided it."""
        attrs = self.attrs
        native = attrs.get(NATIVE_KIND)
        if isinstance(native, str) and native.strip():
            return native.strip().upper(), NATIVE_KIND
        operation = cv.lower(attrs.get(R.OPERATION_NAME))
        if operation in R.KIND_BY_OPERATION:
            return R.KIND_BY_OPERATION[operation], R.OPERATION_NAME
        traceloop_kind = cv.lower(attrs.get(R.TRACELOOP_KIND))
        if operation == R.EXECUTE_TASK:
            tool = attrs.get("gen_ai.tool.name") is not None or traceloop_kind == "tool"
            return (R.TOOL if tool else R.CHAIN), R.OPERATION_NAME
        if traceloop_kind in R.KIND_BY_TRACELOOP_KIND:
            return R.KIND_BY_TRACELOOP_KIND[traceloop_kind], R.TRACELOOP_KIND
        request_type = cv.lower(attrs.get(R.REQUEST_TYPE))
        if request_type in R.KIND_BY_REQUEST_TYPE:
            return R.KIND_BY_REQUEST_TYPE[request_type], R.REQUEST_TYPE
        evidence = next((k for k in R.LLM_EVIDENCE_KEYS if attrs.get(k) is not None), None)
        if request_type == "unknown" and (evidence or "llm.usage.total_tokens" in attrs):
            return R.LLM, R.REQUEST_TYPE
        if attrs.get("gen_ai.tool.name") is not None:
            return R.TOOL, "gen_ai.tool.name"
        if attrs.get("mcp.method.name") == "tools/call":
            return R.TOOL, "mcp.method.name"
        if evidence is not None:
            return R.LLM, evidence
        for event in self.events:  # legacy message events only ever sit on inference spans
            name = event.get("name")
            if name in R.LEGACY_MESSAGE_EVENTS or name in R.LEGACY_CONTENT_EVENTS:
                return R.LLM, f"event:{name}"
        if cv.lower(attrs.get("db.system")) in R.VECTOR_DB_SYSTEMS and (
            any(key.startswith(R.VECTOR_QUERY_PREFIX) for key in attrs)
            or any(event.get("name") in R.VECTOR_RESULT_EVENTS for event in self.events)
        ):
            return R.RETRIEVER, "db.system"
        return R.UNKNOWN, None

    def renames(self) -> None:
        kind = self.kind
        attrs = self.attrs
        index = _RULES_BY_SOURCE
        present = list(attrs.keys() & index.keys())
        present.extend(k for k in self.pseudo if k in index)
        positions = sorted({i for source in present for i in index[source]})
        for position in positions:
            rule = R.RENAMES[position]
            if (rule.kinds is not None and kind not in rule.kinds) or kind in rule.skip_kinds:
                continue
            if rule.target in attrs or rule.target in self.derived:
                continue
            for source in rule.sources:
                raw = attrs[source] if source in attrs else self.pseudo.get(source)
                value = cv.coerce(raw, rule)
                if value is not None:
                    self.derived[rule.target] = value
                    self.note(rule.target, (source.partition("[")[0],), rule.rule)
                    break

    def model_pair(self) -> None:
        if self.kind in _MODEL_KINDS_EXCLUDED:
            return
        requested = cv.text(self.attrs.get("gen_ai.request.model"))
        responded = cv.text(self.attrs.get("gen_ai.response.model"))
        if requested and responded and requested != responded:
            for target, value, source in (
                ("llm.request.model_name", requested, "gen_ai.request.model"),
                ("llm.response.model_name", responded, "gen_ai.response.model"),
            ):
                if target not in self.attrs:
                    self.derived[target] = value
                    self.note(target, (source,), "model")

    # --- provider and system (SEMCONV 5.4) -------------------------------------------------

    def provider(self) -> None:
        attrs = self.attrs
        if self.kind not in R.PROVIDER_KINDS:
            return
        if "llm.provider" in attrs and "llm.system" in attrs:
            return
        model = cv.text(self.value("llm.model_name")) or cv.text(attrs.get("gen_ai.request.model"))
        source = next((k for k in R.PROVIDER_SOURCES if cv.text(attrs.get(k))), None)
        if source is not None:
            raw = cv.lower(attrs[source])
            if raw in R.FRAMEWORK_PROVIDERS:
                self.note("llm.provider", (source,), "provider", f"{raw} is a framework")
                return
            provider, system = R.PROVIDERS.get(raw, R.OTHER_PROVIDER)
            provider_value: str | None = raw if provider == R.RAW else provider
            system_value = cv.system_for(system, raw, model)
        else:
            source = next((k for k in R.HOST_SOURCES if cv.text(attrs.get(k))), None)
            if source is None:
                return
            provider_value = cv.host_provider(str(attrs[source]))
            if provider_value is None:
                return
            system_value = cv.system_for(R.INFER, "", model)
        for target, value in (("llm.provider", provider_value), ("llm.system", system_value)):
            if value and target not in attrs:
                self.derived[target] = value
                self.note(target, (source,), "provider")

    # --- request parameters, cost, io ------------------------------------------------------

    def parameters(self) -> None:
        if self.kind == R.EMBEDDING:
            table, target = R.EMBEDDING_PARAMETERS, "embedding.invocation_parameters"
        elif self.kind in (R.LLM, R.AGENT):
            table, target = R.INVOCATION_PARAMETERS, "llm.invocation_parameters"
        else:
            return
        if target in self.attrs:
            return
        params: dict[str, Any] = {}
        used: list[str] = []
        for name, sources in table:
            for source in sources:
                value = self.attrs.get(source)
                if value is None:
                    continue
                if source in R.JSON_PARAMETERS:
                    parsed = self.json(source)
                    value = value if parsed is cv.INVALID else parsed
                if name in R.SINGULAR_PARAMETERS and isinstance(value, list) and len(value) == 1:
                    value = value[0]
                params[name] = value
                used.append(source)
                break
        if params:
            self.derived[target] = cv.dumps(params)
            self.note(target, tuple(used), "invocation_parameters")

    def cost(self) -> None:
        if "llm.cost.total" in self.attrs or self.kind in R.AGGREGATE_USAGE_KINDS:
            return
        amount = cv.number(self.attrs.get(R.COST_AMOUNT))
        currency = cv.lower(self.attrs.get(R.COST_CURRENCY))
        if amount is not None and currency == "usd":
            self.derived["llm.cost.total"] = float(amount)
            self.note("llm.cost.total", (R.COST_AMOUNT, R.COST_CURRENCY), "cost")

    def io(self) -> None:
        for direction, sources in (("input", R.INPUT_SOURCES), ("output", R.OUTPUT_SOURCES)):
            target = f"{direction}.value"
            if target in self.attrs:
                continue
            for source in sources:
                if source.kinds is not None and self.kind not in source.kinds:
                    continue
                raw = self.attrs.get(source.source)
                if raw is None:
                    continue
                value, mime, note = self._io_value(source, raw, direction)
                if value is None:
                    continue
                self.derived[target] = value
                self.note(target, (source.source,), f"{direction}_value", note)
                mime_key = f"{direction}.mime_type"
                if mime_key not in self.attrs:
                    self.derived[mime_key] = mime
                    self.note(mime_key, (source.source,), f"{direction}_value")
                break

    def _io_value(
        self, source: R.IoSource, raw: Any, direction: str
    ) -> tuple[str | None, str, str]:
        parsed = self.json(source.source)
        if parsed is cv.INVALID:
            broken = isinstance(raw, str) and raw.lstrip()[:1] in ("{", "[")
            return str(raw), "text/plain", "invalid JSON kept as text" if broken else ""
        value = cv.unwrap_envelope(parsed, direction) if source.unwrap == "envelope" else parsed
        if value is None:
            return None, "", ""
        note = "" if value is parsed else "unwrapped from envelope"
        if isinstance(value, str):
            return value, "text/plain", note
        if value is parsed and isinstance(raw, str):
            is_json = isinstance(parsed, dict | list)
            return raw, "application/json" if is_json else "text/plain", ""
        if isinstance(value, dict | list):
            return cv.dumps(value), "application/json", note
        return cv.dumps(value), "text/plain", note

    def variables(self) -> None:
        target = "llm.prompt_template.variables"
        if target in self.attrs or not self.variable_keys:
            return
        values: dict[str, Any] = {}
        for key, name in self.variable_keys:
            values.setdefault(name, self.attrs[key])
        self.derived[target] = cv.dumps(values)
        self.note(target, tuple(key for key, _ in self.variable_keys), "prompt_variables")

    def metadata(self) -> None:
        if "metadata" in self.attrs:
            return
        values: dict[str, Any] = {}
        used: list[str] = []
        for key in R.METADATA_KEYS:
            value = self.attrs.get(key)
            if value is not None:
                values[key] = value
                used.append(key)
        for key, name in self.metadata_keys:
            if name not in values:
                values[name] = self.attrs[key]
                used.append(key)
        if values:
            self.derived["metadata"] = cv.dumps(values)
            self.note("metadata", tuple(used), "metadata")

    def totals(self) -> None:
        derived = self.derived
        if _PROMPT in derived or _COMPLETION in derived:
            prompt = token_count(self.value(_PROMPT))
            completion = token_count(self.value(_COMPLETION))
            if _TOTAL not in self.attrs and _TOTAL not in derived:
                derived[_TOTAL] = (prompt or 0) + (completion or 0)
                self.note(_TOTAL, (_PROMPT, _COMPLETION), "usage_total", "prompt + completion")
        if {_PROMPT, _CACHE_READ, _CACHE_WRITE} & derived.keys():
            prompt = token_count(self.value(_PROMPT))
            cached = (token_count(self.value(_CACHE_READ)) or 0) + (
                token_count(self.value(_CACHE_WRITE)) or 0
            )
            if prompt is not None and cached > prompt:
                self.note(
                    _PROMPT, (_CACHE_READ, _CACHE_WRITE), "usage_cache",
                    "cache_read + cache_write > prompt: input tokens probably exclude cache "
                    "tokens; nothing subtracted",
                )

    # --- LLM messages ----------------------------------------------------------------------

    def messages(self) -> None:
        completion_api = cv.lower(self.attrs.get(R.REQUEST_TYPE)) == "completion"
        events_in, events_out, event_names = msg.event_messages(self.events)
        if "llm.input_messages" not in self.oi_lists:
            self._input_messages(events_in, event_names, completion_api)
        if "llm.output_messages" not in self.oi_lists:
            self._output_messages(events_out, event_names, completion_api)

    def _input_messages(
        self, from_events: list[msg.Message], event_names: tuple[str, ...], completion_api: bool
    ) -> None:
        attrs = self.attrs
        root = "llm.input_messages"
        system = attrs.get(R.SYSTEM_INSTRUCTIONS)
        history = attrs.get(R.INPUT_MESSAGES)
        if system is not None or history is not None:
            sources = tuple(k for k in (R.SYSTEM_INSTRUCTIONS, R.INPUT_MESSAGES) if k in attrs)
            converted: list[msg.Message] = []
            note = ""
            if history is not None:
                found = msg.convert_messages(self.json(R.INPUT_MESSAGES))
                if found is None:
                    note = "not a JSON array; kept raw"
                converted = found or []
            first = msg.system_message(system) if system is not None else None
            if first is not None and not (converted and converted[0] == first):
                converted.insert(0, first)
            self._write_messages(root, converted, sources, "genai_messages", note)
        elif from_events:
            self._write_messages(root, from_events, event_names, "legacy_events")
        elif self.prompt_keys:
            prompts = cv.buckets(attrs, self.prompt_keys, R.PROMPT_PREFIX)
            if completion_api and "llm.prompts" not in self.oi_lists:
                texts = [{"prompt.text": t} for t in map(cv.bucket_text, prompts) if t]
                self.put_list("llm.prompts", texts, ("gen_ai.prompt.*",), "openllmetry_prompts")
                return
            converted = [m for fields in prompts for m in msg.bucket_message(fields, None)]
            self._write_messages(root, converted, ("gen_ai.prompt.*",), "openllmetry_prompts")

    def _output_messages(
        self, from_events: list[msg.Message], event_names: tuple[str, ...], completion_api: bool
    ) -> None:
        attrs = self.attrs
        root = "llm.output_messages"
        converted: list[msg.Message] = []
        if attrs.get(R.OUTPUT_MESSAGES) is not None:
            found = msg.convert_messages(self.json(R.OUTPUT_MESSAGES), "assistant")
            note = "" if found is not None else "not a JSON array; kept raw"
            converted = found or []
            self._write_messages(root, converted, (R.OUTPUT_MESSAGES,), "genai_messages", note)
        elif from_events:
            converted = from_events
            self._write_messages(root, converted, event_names, "legacy_events")
        elif self.completion_keys:
            completions = cv.buckets(attrs, self.completion_keys, R.COMPLETION_PREFIX)
            if completion_api and "llm.choices" not in self.oi_lists:
                texts = [{"completion.text": t} for t in map(cv.bucket_text, completions) if t]
                self.put_list(
                    "llm.choices", texts, ("gen_ai.completion.*",), "openllmetry_completions"
                )
                return
            converted = [
                m for fields in completions for m in msg.bucket_message(fields, "assistant")
            ]
            self._write_messages(
                root, converted, ("gen_ai.completion.*",), "openllmetry_completions"
            )
        for message in converted:
            if "message.finish_reason" in message:
                self.pseudo["gen_ai.output.messages[].finish_reason"] = message[
                    "message.finish_reason"
                ]
                break

    def _write_messages(
        self,
        root: str,
        messages: list[msg.Message],
        sources: tuple[str, ...],
        rule: str,
        note: str = "",
    ) -> None:
        flat: dict[str, Any] = {}
        msg.flatten_messages(root, messages, flat)
        for key, value in flat.items():
            self.put(key, value)
        self.note(root, sources, rule, note)

    # --- tools, embeddings, documents, reranker --------------------------------------------

    def tools(self) -> None:
        if "llm.tools" in self.oi_lists:
            return
        for key in R.TOOL_DEFINITION_LISTS:
            if self.attrs.get(key) is None:
                continue
            items = cv.as_list(self.json(key))
            if items is None:
                self.note("llm.tools", (key,), "tool_definitions", "not a JSON array; kept raw")
                return
            schemas = [s for s in map(cv.tool_schema, items) if s]
            self.put_list("llm.tools", [{"tool.json_schema": s} for s in schemas], (key,),
                          "tool_definitions")
            return
        for prefix, keys in self.tool_keys.items():
            if keys:
                found = cv.buckets(self.attrs, keys, prefix)
                schemas = [s for s in (cv.tool_schema(dict(b)) for b in found) if s]
                self.put_list("llm.tools", [{"tool.json_schema": s} for s in schemas],
                              (prefix + "*",), "tool_definitions")
                return

    def embedding_texts(self) -> None:
        if "embedding.embeddings" in self.oi_lists:
            return
        texts: list[str] = []
        source = ""
        if self.prompt_keys:
            prompts = cv.buckets(self.attrs, self.prompt_keys, R.PROMPT_PREFIX)
            texts = [t for t in map(cv.bucket_text, prompts) if t is not None]
            source = "gen_ai.prompt.*"
        elif self.attrs.get(R.INPUT_MESSAGES) is not None:
            for message in cv.as_list(self.json(R.INPUT_MESSAGES)) or []:
                parts = message.get("parts") if isinstance(message, Mapping) else [message]
                for part in parts if isinstance(parts, list) else []:
                    found = msg.part_text(part)
                    if found is not None:
                        texts.append(found)
            source = R.INPUT_MESSAGES
        if texts:
            items = [{"embedding.text": t} for t in texts]
            self.put_list("embedding.embeddings", items, (source,), "embedding_texts")

    def documents(self) -> None:
        if "retrieval.documents" in self.oi_lists:
            return
        for key in R.DOCUMENT_LISTS:
            if self.attrs.get(key) is not None:
                items = cv.as_list(self.json(key))
                if items is None:
                    self.note("retrieval.documents", (key,), "documents", "not a JSON array")
                    continue
                docs = [cv.document(item) for item in items]
                self.put_list("retrieval.documents", docs, (key,), "documents")
                return
        for key in R.RETRIEVER_OUTPUT_ENVELOPES:
            if self.attrs.get(key) is None:
                continue
            found = cv.unwrap_envelope(self.json(key), "output")
            if isinstance(found, list) and all(isinstance(item, Mapping) for item in found):
                docs = [cv.document(item) for item in found]
                self.put_list("retrieval.documents", docs, (key,), "documents_envelope")
                return
        docs = []
        names: list[str] = []
        for event in self.events:
            name = event.get("name")
            attributes = event.get("attributes")
            if name in R.VECTOR_RESULT_EVENTS and isinstance(attributes, Mapping):
                docs.append(cv.event_document(attributes, f"{name}."))
                names.append(f"event:{name}")
        if docs:
            self.put_list("retrieval.documents", docs, tuple(dict.fromkeys(names)),
                          "documents_events")

    def reranker(self) -> None:
        """OpenLLMetry generation-A Cohere rerank (SEMCONV 5.3.7, a heuristic)."""
        prompts = cv.buckets(self.attrs, self.prompt_keys, R.PROMPT_PREFIX)
        query = None
        inputs: list[dict[str, Any]] = []
        for fields in prompts:
            content = cv.bucket_text(fields)
            if fields.get("role") == "user":
                query = content
            elif content is not None:
                inputs.append({"document.content": content})
        if query is not None and "reranker.query" not in self.attrs:
            self.derived["reranker.query"] = query
            self.note("reranker.query", ("gen_ai.prompt.*",), "openllmetry_rerank")
        if inputs and "reranker.input_documents" not in self.oi_lists:
            self.put_list("reranker.input_documents", inputs, ("gen_ai.prompt.*",),
                          "openllmetry_rerank")
        completions = cv.buckets(self.attrs, self.completion_keys, R.COMPLETION_PREFIX)
        outputs = [cv.rerank_result(fields.get("content")) for fields in completions]
        outputs = [doc for doc in outputs if doc]
        if outputs and "reranker.output_documents" not in self.oi_lists:
            self.put_list("reranker.output_documents", outputs, ("gen_ai.completion.*",),
                          "openllmetry_rerank")
