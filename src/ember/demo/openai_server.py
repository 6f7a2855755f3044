"""A small OpenAI-compatible HTTP server on loopback, answering deterministically from the input.

`ember demo` starts it so the real openai SDK and its real instrumentor have a model to call
without a network or an API key; the tests use it the same way (tests/fakes/openai_server.py).
It serves what the instrumented client libraries call:

- `POST /v1/chat/completions`: a reply that depends only on the request. When the request carries
  `tools` and the last message is not a tool result, the reply is a call of the first tool, its
  string arguments filled from the last word of the last user message ("weather in Paris?" ->
  `{"city": "Paris"}`). After a tool result, the reply quotes it. Otherwise the reply repeats the
  last user message. `stream: true` answers with server-sent events, word by word, and a final
  usage chunk when `stream_options.include_usage` is set.
- `POST /v1/embeddings`: bag-of-words vectors (each word hashed to one of 16 dimensions, then
  normalized), so texts sharing words are near each other and retrieval is meaningful; float
  lists or base64 as `encoding_format` asks (the openai SDK asks for base64 by default).
- The model name `fail-model` fails with a 400 and an OpenAI-shaped error body; `fail-500-model`
  with a 500.

Responses name the dated model (`gpt-4o-mini` -> `gpt-4o-mini-2024-07-18`) and carry realistic
usage: prompt, completion and total tokens, cached prompt tokens (a fifth of the prompt, as if its
prefix were cached) and reasoning tokens (only for `o*` reasoning models). Every call is recorded
in `FakeOpenAI.calls` with the usage it reported, so tests compare stored counts to exact values.
It is a test double and a demo prop, not a model: never point a real application at it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DATED_MODELS: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "o3-mini": "o3-mini-2025-01-31",
}
FAIL_MODEL = "fail-model"
FAIL_500_MODEL = "fail-500-model"
EMBEDDING_DIMENSIONS = 16
CREATED = 1_760_000_000
SYSTEM_FINGERPRINT = "fp_ember_fake"
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "be", "by", "did", "do", "does", "for", "from", "how", "in", "is",
    "it", "of", "on", "or", "the", "to", "was", "what", "which", "who", "why", "with",
})


def dated_model(model: str) -> str:
    """The model name a response reports: the dated snapshot of a known alias."""
    return DATED_MODELS.get(model, model)


def count_tokens(text: str) -> int:
    """A deterministic token count: words and punctuation marks."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def embed(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A unit bag-of-words vector: each non-stopword adds 1 to the dimension its hash picks."""
    vector = [0.0] * dimensions
    for word in re.findall(r"\w+", text.lower()):
        if word in _STOPWORDS:
            continue
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dimensions
        vector[bucket] += 1.0
    norm = sum(v * v for v in vector) ** 0.5
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


def message_text(message: dict[str, Any]) -> str:
    """The text of a chat message: its string content, or its text parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _short_id(prefix: str, *parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}{digest[:24]}"


@dataclass
class Call:
    """One request the fake answered: what came in, what went out, the usage it reported."""

    path: str
    request: dict[str, Any]
    status: int
    response: dict[str, Any]
    stream: bool = False

    @property
    def usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = self.response["usage"]
        return usage


@dataclass
class _Reply:
    content: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


def _tool_arguments(tool: dict[str, Any], last_user: str) -> dict[str, Any]:
    """Arguments for a tool call: string parameters get the last word of the user's message,
    integer and number parameters its word count."""
    words = re.findall(r"\w+", last_user)
    parameters = tool.get("function", {}).get("parameters") or {}
    properties: dict[str, Any] = parameters.get("properties") or {}
    out: dict[str, Any] = {}
    for name, schema in properties.items():
        kind = schema.get("type") if isinstance(schema, dict) else None
        if kind in ("integer", "number"):
            out[name] = len(words)
        elif kind == "boolean":
            out[name] = True
        else:
            out[name] = words[-1] if words else ""
    return out


def chat_reply(request: dict[str, Any]) -> _Reply:
    """What the fake model says to a chat request (see the module docstring)."""
    messages: list[dict[str, Any]] = request.get("messages") or []
    last = messages[-1] if messages else {}
    users = [m for m in messages if m.get("role") == "user"]
    last_user = message_text(users[-1]) if users else ""
    tools: list[dict[str, Any]] = request.get("tools") or []
    if last.get("role") == "tool":
        return _Reply(f"The tool answered: {message_text(last)}")
    if tools and request.get("tool_choice") != "none":
        tool = tools[0]
        name = tool.get("function", {}).get("name", "tool")
        arguments = json.dumps(_tool_arguments(tool, last_user))
        call = {
            "id": _short_id("call_", messages, name),
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        return _Reply(None, [call])
    return _Reply(f"You said: {last_user}")


def chat_usage(request: dict[str, Any], reply: _Reply) -> dict[str, Any]:
    """Usage as OpenAI reports it, computed from the request and the reply."""
    prompt = 3
    for message in request.get("messages") or []:
        prompt += 4 + count_tokens(message_text(message))
        for call in message.get("tool_calls") or []:
            prompt += count_tokens(json.dumps(call.get("function", {})))
    for tool in request.get("tools") or []:
        prompt += count_tokens(json.dumps(tool, sort_keys=True))
    visible = count_tokens(reply.content or "") + sum(
        count_tokens(json.dumps(call["function"])) for call in reply.tool_calls
    )
    reasoning = 2 * visible if str(request.get("model", "")).startswith("o") else 0
    completion = visible + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": prompt // 5, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(request: dict[str, Any]) -> dict[str, Any]:
    """The whole (non-streaming) chat completion object for a request."""
    reply = chat_reply(request)
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    return {
        "id": _short_id("chatcmpl-", request),
        "object": "chat.completion",
        "created": CREATED,
        "model": dated_model(str(request.get("model", ""))),
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": chat_usage(request, reply),
    }


def stream_chunks(completion: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    """The chunks that stream `completion`: role, content word by word (or the tool call in
    two argument pieces), the finish reason, then the usage chunk if asked for."""
    choice = completion["choices"][0]
    message = choice["message"]
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "system_fingerprint": completion["system_fingerprint"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**base, "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        ]}
        if include_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "" if message["content"] else None})]
    if message["content"]:
        for piece in re.findall(r"\S+\s*", message["content"]):
            chunks.append(chunk({"content": piece}))
    for index, call in enumerate(message.get("tool_calls") or []):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        chunks.append(chunk({"tool_calls": [{
            "index": index, "id": call["id"], "type": "function",
            "function": {"name": call["function"]["name"], "arguments": arguments[:half]},
        }]}))
        chunks.append(chunk({"tool_calls": [
            {"index": index, "function": {"arguments": arguments[half:]}}
        ]}))
    chunks.append(chunk({}, choice["finish_reason"]))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


def _embedding_input(value: Any) -> list[str]:
    """Texts from an embeddings `input`: a string, strings, token ids or lists of token ids."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [" ".join(f"t{v}" for v in value)]
    if isinstance(value, list):
        return [
            v if isinstance(v, str) else " ".join(f"t{t}" for t in v) for v in value
        ]
    return []


def embeddings(request: dict[str, Any]) -> dict[str, Any]:
    texts = _embedding_input(request.get("input"))
    dimensions = int(request.get("dimensions") or EMBEDDING_DIMENSIONS)
    base64_format = request.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = embed(text, dimensions)
        encoded: Any = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            if base64_format else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(count_tokens(text) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": str(request.get("model", "")),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def error_body(model: str, status: int) -> dict[str, Any]:
    if status == 500:
        return {"error": {
            "message": "The server had an error while processing your request.",
            "type": "server_error", "param": None, "code": None,
        }}
    return {"error": {
        "message": f"The model `{model}` does not exist or you do not have access to it.",
        "type": "invalid_request_error", "param": "model", "code": "model_not_found",
    }}


class FakeOpenAI:
    """The fake server, in a daemon thread. `base_url` is what OpenAI clients take."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def chat_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/chat/completions")]

    def embedding_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/embeddings")]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    owner: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeOpenAI.calls`, not an access log."""

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", _short_id("req_", body))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "body is not JSON",
                                       "type": "invalid_request_error"}})
            return
        path = self.path.split("?")[0]
        model = str(request.get("model", ""))
        if model in (FAIL_MODEL, FAIL_500_MODEL):
            status = 500 if model == FAIL_500_MODEL else 400
            body = error_body(model, status)
            self.owner.record(Call(path, request, status, body))
            self._json(status, body)
            return
        if path.endswith("/chat/completions"):
            completion = chat_completion(request)
            stream = bool(request.get("stream"))
            self.owner.record(Call(path, request, 200, completion, stream))
            if stream:
                options = request.get("stream_options") or {}
                self._sse(stream_chunks(completion, bool(options.get("include_usage"))))
            else:
                self._json(200, completion)
        elif path.endswith("/embeddings"):
            body = embeddings(request)
            self.owner.record(Call(path, request, 200, body))
            self._json(200, body)
        else:
            self._json(404, {"error": {"message": f"no route {path}",
                                       "type": "invalid_request_error"}})

    def _sse(self, chunks: list[dict[str, Any]]) -> None:
        """Server-sent events, then [DONE]; the connection closes to end the body."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
