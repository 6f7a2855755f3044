"""The mapping rules from OTel GenAI and OpenLLMetry attributes onto OpenInference, as data.

Everything a reader needs to check the mapping against spec/SEMCONV.md section 5 is in this
module: which raw keys feed which OpenInference key and in which order (first present source
wins), which `gen_ai.operation.name` / `traceloop.span.kind` / `llm.request.type` values give
which span kind, the provider table, the invocation-parameter table and the key lists used to
tell dialects apart. `ember.semconv.mapper` runs these tables; `ember.semconv.messages` and
`ember.semconv.convert` hold the structured conversions (messages, tool definitions, documents,
envelopes) that cannot be a table. Choices where the spec is ambiguous: `ember.semconv.view`.

Source order inside a rule follows SEMCONV 5.1: OTel GenAI keys (current names, then deprecated
ones), then OpenLLMetry keys. Native OpenInference keys are never listed: they win by not being
overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- span kinds ------------------------------------------------------------------------------

LLM = "LLM"
EMBEDDING = "EMBEDDING"
CHAIN = "CHAIN"
RETRIEVER = "RETRIEVER"
RERANKER = "RERANKER"
TOOL = "TOOL"
AGENT = "AGENT"
UNKNOWN = "UNKNOWN"

# SEMCONV 5.2 rules 2-9. `execute_task` (rule 8) depends on other keys and is decided in code.
KIND_BY_OPERATION: dict[str, str] = {
    "chat": LLM,
    "text_completion": LLM,
    "generate_content": LLM,
    "llm_request": LLM,
    "generate_live_content": LLM,
    "realtime_inference": LLM,
    "fetch_response": LLM,
    "embeddings": EMBEDDING,
    "embedding": EMBEDDING,
    "retrieval": RETRIEVER,
    "vector_db_retrieve": RETRIEVER,
    "search_memory": RETRIEVER,
    "execute_tool": TOOL,
    "invoke_agent": AGENT,
    "create_agent": AGENT,
    "plan": AGENT,
    "invoke_workflow": CHAIN,
    "handle_conversation_turn": CHAIN,
    "create_memory": CHAIN,
    "update_memory": CHAIN,
    "upsert_memory": CHAIN,
    "delete_memory": CHAIN,
    "create_memory_store": CHAIN,
    "delete_memory_store": CHAIN,
}
EXECUTE_TASK = "execute_task"  # rule 8: TOOL with a tool name or traceloop kind `tool`, else CHAIN

# SEMCONV 5.2 rules 10-14 (`task` -> CHAIN is our choice; Arize's converter says TOOL).
KIND_BY_TRACELOOP_KIND: dict[str, str] = {
    "workflow": CHAIN,
    "agent": AGENT,
    "tool": TOOL,
    "task": CHAIN,
    "llm": LLM,
}

# SEMCONV 5.2 rules 15-18 (OpenLLMetry generation A). `unknown` is LLM only with LLM evidence.
KIND_BY_REQUEST_TYPE: dict[str, str] = {
    "chat": LLM,
    "completion": LLM,
    "embedding": EMBEDDING,
    "rerank": RERANKER,
}

# SEMCONV 5.2 rule 21: any of these present makes an otherwise unclassified span an LLM span.
LLM_EVIDENCE_KEYS: tuple[str, ...] = (
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.input.messages",
    "gen_ai.prompt.0.role",
    "gen_ai.prompt.0.content",
)

# SEMCONV 4.6 / 5.2 rule 22: vector stores whose query spans are retrievals.
VECTOR_DB_SYSTEMS = frozenset(
    {"chroma", "pinecone", "qdrant", "milvus", "weaviate", "lancedb", "marqo"}
)
VECTOR_QUERY_PREFIX = "db.vector.query."
VECTOR_RESULT_EVENTS = frozenset({"db.query.result", "db.search.result"})

# Kinds whose usage attributes are an aggregate over their children (SEMCONV 5.3.6, 5.7 #3):
# their gen_ai.usage.* keys are understood but not copied to llm.token_count.*.
AGGREGATE_USAGE_KINDS = frozenset({AGENT, CHAIN})

# --- simple renames --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rename:
    """`target` <- the first of `sources` present with a usable value, converted by `coerce`.

    coerce: "text" (non-empty string; numbers stringified), "count" (int from int, integral
    float or numeric string), "first" (first element of a list, or the value itself),
    "true_flag" (the constant `constant` when the source is true or "true").
    `kinds` limits the rule to those span kinds (None: any); `skip_kinds` excludes some.
    """

    target: str
    sources: tuple[str, ...]
    rule: str
    coerce: str = "text"
    kinds: frozenset[str] | None = None
    skip_kinds: frozenset[str] = frozenset()
    constant: str = ""


_NOT_MODEL_KINDS = frozenset({EMBEDDING, RETRIEVER, RERANKER})
_USAGE_SKIP = AGGREGATE_USAGE_KINDS

RENAMES: tuple[Rename, ...] = (
    # model (5.3.2, 5.3.5, 5.3.6)
    Rename("llm.model_name", ("gen_ai.response.model", "gen_ai.request.model"), "model",
           skip_kinds=_NOT_MODEL_KINDS),
    Rename("embedding.model_name", ("gen_ai.response.model", "gen_ai.request.model"),
           "embedding_model", kinds=frozenset({EMBEDDING})),
    Rename("reranker.model_name", ("gen_ai.request.model", "gen_ai.response.model"),
           "reranker_model", kinds=frozenset({RERANKER})),
    # usage (5.3.2): current names, deprecated names, then OpenLLMetry names
    Rename("llm.token_count.prompt",
           ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.completion",
           ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.total",
           ("gen_ai.usage.total_tokens", "llm.usage.total_tokens"),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.prompt_details.cache_read",
           ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.prompt_details.cache_write",
           ("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_creation_input_tokens"),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.prompt_details.audio", ("gen_ai.usage.audio.input_tokens",),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.completion_details.reasoning",
           ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
            "llm.usage.reasoning_tokens"),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    Rename("llm.token_count.completion_details.audio", ("gen_ai.usage.audio.output_tokens",),
           "usage", "count", skip_kinds=_USAGE_SKIP),
    # finish reason (5.3.2); a list keeps its first element (choice 0), raw vocabulary kept.
    # "gen_ai.output.messages[].finish_reason" is filled from the converted output messages.
    Rename("llm.finish_reason",
           ("gen_ai.response.finish_reasons", "gen_ai.output.messages[].finish_reason",
            "gen_ai.response.finish_reason", "llm.response.finish_reason",
            "gen_ai.completion.0.finish_reason", "gen_ai.response.stop_reason",
            "llm.response.stop_reason"),
           "finish_reason", "first", kinds=frozenset({LLM})),
    # context and identity (5.3.1). Association properties are explicit user choices, so they
    # come before the context-propagated GenAI keys (the 5.3.1 table's order).
    Rename("session.id",
           ("traceloop.association.properties.session_id", "gen_ai.conversation.id"),
           "session"),
    Rename("user.id",
           ("traceloop.association.properties.user_id", "gen_ai.user", "llm.user"), "user"),
    Rename("agent.name", ("gen_ai.agent.name", "traceloop.entity.name"), "agent",
           kinds=frozenset({AGENT})),
    Rename("graph.node.id", ("gen_ai.task.id",), "graph_node"),
    Rename("graph.node.name", ("gen_ai.task.name",), "graph_node"),
    Rename("graph.node.parent_id", ("gen_ai.task.parent.id",), "graph_node"),
    # tools (5.3.3)
    Rename("tool.name", ("gen_ai.tool.name", "traceloop.entity.name"), "tool",
           kinds=frozenset({TOOL})),
    Rename("tool.description", ("gen_ai.tool.description",), "tool", kinds=frozenset({TOOL})),
    Rename("tool.id", ("gen_ai.tool.call.id",), "tool", kinds=frozenset({TOOL})),
    # prompt management (5.3.1)
    Rename("llm.prompt_template.template", ("traceloop.prompt.template",), "prompt_template"),
    Rename("llm.prompt_template.version", ("gen_ai.prompt.version", "traceloop.prompt.version"),
           "prompt_template"),
    Rename("prompt.id", ("gen_ai.prompt.name", "traceloop.prompt.key"), "prompt_template"),
    Rename("prompt.vendor", ("traceloop.prompt.managed",), "prompt_template", "true_flag",
           constant="traceloop"),
)

# Cost (5.3.2, post-snapshot keys): only a USD amount fits OpenInference's llm.cost.total.
COST_AMOUNT = "gen_ai.usage.cost.amount"
COST_CURRENCY = "gen_ai.usage.cost.currency"

# --- input / output values (5.3.1, 5.3.3, 5.3.4, 5.3.6) --------------------------------------


@dataclass(frozen=True, slots=True)
class IoSource:
    """`input.value`/`output.value` <- `source` on spans of `kinds` (None: any kind).

    unwrap: "none" (value as sent), "envelope" (OpenLLMetry decorator / LangChain envelope,
    see convert.unwrap_envelope).
    """

    source: str
    kinds: frozenset[str] | None = None
    unwrap: str = "none"


INPUT_SOURCES: tuple[IoSource, ...] = (
    IoSource("gen_ai.tool.call.arguments", frozenset({TOOL}), "envelope"),
    IoSource("gen_ai.retrieval.query.text", frozenset({RETRIEVER})),
    IoSource("gen_ai.memory.query.text", frozenset({RETRIEVER})),
    IoSource("gen_ai.input.messages"),
    IoSource("traceloop.entity.input", None, "envelope"),
    IoSource("gen_ai.task.input", None, "envelope"),
)
OUTPUT_SOURCES: tuple[IoSource, ...] = (
    IoSource("gen_ai.tool.call.result", frozenset({TOOL}), "envelope"),
    IoSource("gen_ai.output.messages"),
    IoSource("traceloop.entity.output", None, "envelope"),
    IoSource("gen_ai.task.output", None, "envelope"),
)

# --- provider and system (5.4, 2.4) ----------------------------------------------------------

PROVIDER_SOURCES: tuple[str, ...] = ("gen_ai.provider.name", "gen_ai.system")
HOST_SOURCES: tuple[str, ...] = ("server.address", "gen_ai.openai.api_base")
PROVIDER_KINDS = frozenset({LLM, AGENT})  # OI: no llm.provider/llm.system on EMBEDDING spans

RAW = "=raw"        # keep the (lower-cased) input value
INFER = "=infer"    # infer llm.system from the model name (MODEL_SYSTEM_PREFIXES)
BEDROCK = "=bedrock"  # infer llm.system from a Bedrock model id (BEDROCK_MODEL_PREFIXES)
VERTEX = "=vertex"  # vertexai, but anthropic for claude* models
INFER_OR_RAW = "=infer_or_raw"  # infer from the model name, else keep the raw value

# lower-cased provider value -> (llm.provider, llm.system)
PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("openai", "openai"),
    "azure.ai.openai": ("azure", "openai"),
    "az.ai.openai": ("azure", "openai"),
    "azure": ("azure", "openai"),
    "azure.ai.inference": ("azure", INFER),
    "az.ai.inference": ("azure", INFER),
    "anthropic": ("anthropic", "anthropic"),
    "aws.bedrock": ("aws", BEDROCK),
    "aws": ("aws", BEDROCK),
    "gcp.vertex_ai": ("google", VERTEX),
    "vertex_ai": ("google", VERTEX),
    "gcp.gemini": ("google", "vertexai"),
    "gemini": ("google", "vertexai"),
    "gcp.gen_ai": ("google", "vertexai"),
    "google": ("google", "vertexai"),
    "cohere": ("cohere", "cohere"),
    "mistral_ai": ("mistralai", "mistralai"),
    "mistralai": ("mistralai", "mistralai"),
    "x_ai": ("xai", "xai"),
    "xai": ("xai", "xai"),
    "deepseek": ("deepseek", "deepseek"),
    "groq": ("groq", INFER),
    "perplexity": ("perplexity", INFER),
    "moonshot_ai": ("moonshot", RAW),
    "ollama": ("ollama", INFER),
    "together_ai": ("together", INFER),
    "togetherai": ("together", INFER),
    "together": ("together", INFER),
    "fireworks": ("fireworks", INFER),
    "ibm.watsonx.ai": (RAW, RAW),
    "watsonx": (RAW, RAW),
}
# Any other value: llm.provider = raw, llm.system = inferred from the model name, else raw.
OTHER_PROVIDER: tuple[str, str] = (RAW, INFER_OR_RAW)
# Frameworks are not providers: nothing is derived from them.
FRAMEWORK_PROVIDERS = frozenset({"langchain", "langgraph", "crewai"})

# infer_llm_system_from_model_name (2.4): first matching prefix, case-insensitive.
MODEL_SYSTEM_PREFIXES: tuple[tuple[str, str], ...] = (
    ("google_anthropic_vertex", "anthropic"),
    ("anthropic", "anthropic"),
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding", "openai"),
    ("davinci", "openai"),
    ("curie", "openai"),
    ("babbage", "openai"),
    ("ada", "openai"),
    ("azure", "openai"),
    ("openai", "openai"),
    ("cohere", "cohere"),
    ("command", "cohere"),
    ("mistral", "mistralai"),
    ("mixtral", "mistralai"),
    ("pixtral", "mistralai"),
    ("gemini", "vertexai"),
    ("vertex", "vertexai"),
    ("google", "vertexai"),
)
# Bedrock model ids, optionally behind a region prefix such as `us.` or `eu.` (5.4).
BEDROCK_MODEL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("anthropic.", "anthropic"),
    ("amazon.", "amazon"),
    ("meta.", "meta"),
    ("cohere.", "cohere"),
    ("mistral.", "mistralai"),
    ("ai21.", "ai21"),
)
# infer_llm_provider_from_host (2.4): matched on a label boundary.
HOST_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("api.openai.com", "openai"),
    ("openai.azure.com", "azure"),
    ("services.ai.azure.com", "azure"),
    ("cognitiveservices.azure.com", "azure"),
    ("api.anthropic.com", "anthropic"),
    ("api.cohere.com", "cohere"),
    ("api.cohere.ai", "cohere"),
    ("api.mistral.ai", "mistralai"),
    ("generativelanguage.googleapis.com", "google"),
    ("aiplatform.googleapis.com", "google"),
    ("amazonaws.com", "aws"),
    ("api.x.ai", "xai"),
    ("api.deepseek.com", "deepseek"),
    ("api.groq.com", "groq"),
    ("api.fireworks.ai", "fireworks"),
    ("api.moonshot.cn", "moonshot"),
    ("api.cerebras.ai", "cerebras"),
    ("api.perplexity.ai", "perplexity"),
    ("api.together.ai", "together"),
    ("api.together.xyz", "together"),
    ("ollama.com", "ollama"),
)

# --- invocation parameters (5.3.2, 5.3.5) ----------------------------------------------------
# (parameter name in llm.invocation_parameters, sources in precedence order)

INVOCATION_PARAMETERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("model", ("gen_ai.request.model",)),
    ("temperature", ("gen_ai.request.temperature",)),
    ("top_p", ("gen_ai.request.top_p",)),
    ("top_k", ("gen_ai.request.top_k", "llm.top_k")),
    ("max_tokens", ("gen_ai.request.max_tokens",)),
    ("max_completion_tokens", ("gen_ai.request.max_completion_tokens",)),
    ("frequency_penalty", ("gen_ai.request.frequency_penalty", "llm.frequency_penalty")),
    ("presence_penalty", ("gen_ai.request.presence_penalty", "llm.presence_penalty")),
    ("repetition_penalty",
     ("gen_ai.request.repetition_penalty", "llm.request.repetition_penalty")),
    ("seed", ("gen_ai.request.seed", "gen_ai.openai.request.seed")),
    ("stop", ("gen_ai.request.stop_sequences", "llm.chat.stop_sequences")),
    ("n", ("gen_ai.request.choice.count", "gen_ai.request.n")),
    ("stream", ("gen_ai.request.stream", "gen_ai.is_streaming", "llm.is_streaming")),
    ("reasoning_effort",
     ("gen_ai.request.reasoning.level", "gen_ai.request.reasoning_effort",
      "llm.request.reasoning_effort")),
    ("reasoning_summary", ("gen_ai.request.reasoning_summary",)),
    ("response_format",
     ("gen_ai.output.type", "gen_ai.request.structured_output_schema",
      "gen_ai.openai.request.response_format")),
    ("service_tier", ("openai.request.service_tier", "gen_ai.openai.request.service_tier")),
)
EMBEDDING_PARAMETERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("model", ("gen_ai.request.model",)),
    ("encoding_format", ("gen_ai.request.encoding_formats",)),
    ("dimensions", ("gen_ai.embeddings.dimension.count",)),
)
# Sources whose value is a JSON string to be embedded as an object.
JSON_PARAMETERS = frozenset({"gen_ai.request.structured_output_schema"})
# Parameters that are one value in the provider API although the source is a list.
SINGULAR_PARAMETERS = frozenset({"encoding_format"})

# --- metadata (5.3.1, 5.3.6) -----------------------------------------------------------------
# Copied into the OpenInference `metadata` object under their raw key name.
METADATA_KEYS: tuple[str, ...] = (
    "gen_ai.agent.id",
    "gen_ai.agent.description",
    "gen_ai.agent.version",
    "gen_ai.workflow.name",
    "gen_ai.data_source.id",
    "traceloop.workflow.name",
    "traceloop.entity.path",
    "traceloop.entity.version",
    "gen_ai.task.status",
)
# Copied into `metadata` under the rest of the key (user-chosen names).
METADATA_PREFIXES: tuple[str, ...] = ("traceloop.association.properties.", "metadata.")

# Prompt template variables, one attribute per variable (5.3.1).
PROMPT_VARIABLE_PREFIXES: tuple[str, ...] = (
    "gen_ai.prompt.variable.",
    "traceloop.prompt.template_variables.",
)

# --- structured sources (handled by ember.semconv.convert) -----------------------------------

# OpenInference lists: when any raw key of one exists, that list is never derived.
OI_LISTS: tuple[str, ...] = (
    "llm.input_messages", "llm.output_messages", "llm.prompts", "llm.choices", "llm.tools",
    "retrieval.documents", "embedding.embeddings", "reranker.input_documents",
    "reranker.output_documents",
)

INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
TOOL_DEFINITIONS = "gen_ai.tool.definitions"
TOOL_DEFINITION_LISTS: tuple[str, ...] = ("gen_ai.tool.definitions", "llm.request.tools")
INDEXED_TOOL_PREFIXES: tuple[str, ...] = ("llm.request.functions.", "gen_ai.tool.definitions.")
PROMPT_PREFIX = "gen_ai.prompt."
COMPLETION_PREFIX = "gen_ai.completion."
REQUEST_TYPE = "llm.request.type"
OPERATION_NAME = "gen_ai.operation.name"
TRACELOOP_KIND = "traceloop.span.kind"
DOCUMENT_LISTS: tuple[str, ...] = ("gen_ai.retrieval.documents", "gen_ai.memory.records")
RETRIEVER_OUTPUT_ENVELOPES: tuple[str, ...] = ("traceloop.entity.output", "gen_ai.task.output")

# Legacy per-message events (3.6), given as span events: event name -> role ("" = output).
LEGACY_MESSAGE_EVENTS: dict[str, str] = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
    "gen_ai.choice": "",
}
# First-draft events carrying a JSON list of messages in one attribute.
LEGACY_CONTENT_EVENTS: dict[str, tuple[str, str]] = {
    "gen_ai.content.prompt": ("gen_ai.prompt", "input"),
    "gen_ai.content.completion": ("gen_ai.completion", "output"),
}

# --- dialect markers and known keys (for `dialect` and `unmapped`) ---------------------------

OPENINFERENCE = "openinference"
OTEL_GENAI = "otel_genai"
OPENLLMETRY = "openllmetry"

# OpenLLMetry-specific keys inside the `gen_ai.` and `llm.` namespaces (4.1, 4.3, 4.4).
OPENLLMETRY_KEYS = frozenset(
    {
        "gen_ai.usage.total_tokens",
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.token_type",
        "gen_ai.is_streaming",
        "gen_ai.user",
        "gen_ai.headers",
        "gen_ai.request.repetition_penalty",
        "gen_ai.request.reasoning_effort",
        "gen_ai.request.reasoning_summary",
        "gen_ai.request.structured_output_schema",
        "gen_ai.request.n",
        "gen_ai.request.max_completion_tokens",
        "gen_ai.response.reasoning_effort",
        "gen_ai.response.finish_reason",
        "gen_ai.response.stop_reason",
        "gen_ai.workflow.nodes",
        "gen_ai.workflow.edges",
        "llm.request.type",
        "llm.request.repetition_penalty",
        "llm.request.reasoning_effort",
        "llm.request.tools",
        "llm.top_k",
        "llm.frequency_penalty",
        "llm.presence_penalty",
        "llm.chat.stop_sequences",
        "llm.is_streaming",
        "llm.user",
        "llm.headers",
        "llm.response.finish_reason",
        "llm.response.stop_reason",
    }
)
OPENLLMETRY_PREFIXES: tuple[str, ...] = (
    "traceloop.",
    "llm.usage.",
    "llm.request.functions.",
    "llm.watsonx.",
    "gen_ai.task.",
    "gen_ai.openai.",
    "gen_ai.prompt.",  # indexed generation-A keys; `gen_ai.prompt.name|version|variable.*`
    "gen_ai.completion.",  # are OTel and listed in OTEL_GENAI_NOT_OPENLLMETRY below
    "gen_ai.tool.definitions.",
    "db.vector.query.",
    "langgraph.",
)
# `<prefix><n>.<rest>` families that are OpenLLMetry generation A (Cohere generation ids).
OPENLLMETRY_INDEXED_PREFIXES: tuple[str, ...] = ("gen_ai.response.",)
OTEL_GENAI_NOT_OPENLLMETRY: tuple[str, ...] = (
    "gen_ai.prompt.name",
    "gen_ai.prompt.version",
    "gen_ai.prompt.variable.",
)
# The GenAI dialect also covers MCP spans (the MCP conventions live in the same repository).
OTEL_GENAI_PREFIXES: tuple[str, ...] = ("gen_ai.", "mcp.method.name")

# Keys of the OpenInference namespaces that mark a span as written by an OpenInference producer.
# (`session.id`, `user.id` are shared with OTel and mark nothing.)
OPENINFERENCE_PREFIXES: tuple[str, ...] = (
    "openinference.", "llm.", "input.", "output.", "embedding.", "retrieval.", "reranker.",
    "tool.", "tool_call.", "agent.", "graph.", "tag.", "metadata", "prompt.", "message.",
    "message_content.", "document.", "annotations.", "evaluations.", "trace.annotations.",
    "trace.evaluations.", "session.annotations.", "session.evaluations.",
)
OPENINFERENCE_KEYS = frozenset({"time_to_first_token_ms", "end_reason"})

# GenAI registry keys (3.4, 3.7, 3.9) understood without a rule filling an OpenInference key:
# they have no OpenInference slot and stay in the raw attributes.
OTEL_GENAI_KNOWN_KEYS = frozenset(
    {
        "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.system",
        "gen_ai.request.encoding_formats", "gen_ai.request.previous_response.id",
        "gen_ai.request.stream_cursor", "gen_ai.response.id", "gen_ai.response.status",
        "gen_ai.response.time_to_first_chunk", "gen_ai.token.type",
        "gen_ai.conversation.compacted", "gen_ai.tool.type", "gen_ai.tool.call.decision",
        "gen_ai.tool.definitions", "gen_ai.retrieval.top_k", "gen_ai.retrieval.documents",
        "gen_ai.memory.store.id", "gen_ai.memory.record.id", "gen_ai.memory.record.count",
        "gen_ai.memory.records", "gen_ai.system_instructions", "gen_ai.input.messages",
        "gen_ai.output.messages", "gen_ai.evaluation.name", "gen_ai.evaluation.score.value",
        "gen_ai.evaluation.score.label", "gen_ai.evaluation.explanation",
        "gen_ai.invocation.is_nested", "gen_ai.live_session.id", "gen_ai.caller.type",
        "gen_ai.caller.name", "gen_ai.skill.definitions", "gen_ai.skill.name",
        "gen_ai.skill.resource.name", "gen_ai.agent.turn.count",
        "gen_ai.agent.token_budget.limit", "gen_ai.agent.token_budget.consumed",
        "gen_ai.agent.iteration_budget.limit", "gen_ai.agent.iteration_budget.consumed",
        "gen_ai.usage.cost.amount", "gen_ai.usage.cost.currency", "gen_ai.usage.cost.source",
        "gen_ai.prompt", "gen_ai.completion", "gen_ai.prompt.caching",
        "gen_ai.openai.response.service_tier", "gen_ai.openai.response.system_fingerprint",
        "gen_ai.openai.request.service_tier", "gen_ai.openai.request.response_format",
        "gen_ai.openai.request.seed",
    }
)
OTEL_GENAI_KNOWN_PREFIXES: tuple[str, ...] = (
    "gen_ai.usage.text.", "gen_ai.usage.image.", "gen_ai.usage.audio.", "gen_ai.bedrock.",
)
# General OTel semantic-convention namespaces and provider namespaces: understood, not mapped.
OTEL_KNOWN_PREFIXES: tuple[str, ...] = (
    "server.", "client.", "network.", "net.", "http.", "url.", "rpc.", "db.", "messaging.",
    "exception.", "error.", "code.", "thread.", "service.", "telemetry.", "otel.", "process.",
    "host.", "os.", "container.", "k8s.", "cloud.", "faas.", "user_agent.", "user.",
    "session.", "enduser.", "peer.", "deployment.", "event.", "log.", "feature_flag.",
    "graphql.", "jsonrpc.", "mcp.", "openai.", "aws.", "azure.", "gcp.", "az.",
    "pinecone.", "qdrant.", "haystack.",
)
