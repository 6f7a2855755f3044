"""The fake OpenAI server lives in the server package (ember.demo.openai_server), because
`ember demo` starts it too; the tests import it from here as before."""

from ember.demo.openai_server import (
    DATED_MODELS,
    EMBEDDING_DIMENSIONS,
    FAIL_500_MODEL,
    FAIL_MODEL,
    Call,
    FakeOpenAI,
    chat_completion,
    chat_reply,
    count_tokens,
    dated_model,
    embed,
    embeddings,
    message_text,
)

__all__ = [
    "DATED_MODELS",
    "EMBEDDING_DIMENSIONS",
    "FAIL_500_MODEL",
    "FAIL_MODEL",
    "Call",
    "FakeOpenAI",
    "chat_completion",
    "chat_reply",
    "count_tokens",
    "dated_model",
    "embed",
    "embeddings",
    "message_text",
]
