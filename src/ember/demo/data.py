"""What `ember demo` talks about: a small help-centre document set, the questions asked of it,
the agent's request and the chat session's turns. Plain data, so the tests can check that what
Ember stored is what the demo sent."""

from __future__ import annotations

from dataclasses import dataclass

MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
EMBEDDING_DIMENSIONS = 256  # the fake's bag-of-words vectors: enough room for few collisions
TOP_K = 3


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str


DOCUMENTS: tuple[Doc, ...] = (
    Doc("kb-1", "Returns",
        "You can return a bike rental within 14 days of the booking for a full refund, "
        "if the bike was never collected."),
    Doc("kb-2", "Late returns",
        "A late bike return will cost 5 euros per started hour, charged to the card on file."),
    Doc("kb-3", "Helmets",
        "Every rental includes a helmet at no charge; child helmets are at the front desk."),
    Doc("kb-4", "Electric bikes",
        "Electric bikes have a range of about 60 km; charge them at any station overnight."),
    Doc("kb-5", "Damage",
        "Report damage in the app before the rental ends; small scratches are never charged."),
    Doc("kb-6", "Opening hours",
        "Stations are open from 7:00 to 22:00; bikes can be returned to the box at any time."),
)

RAG_SYSTEM_PROMPT = (
    "Answer the customer's question using only the context below. If the context does not "
    "answer it, say you don't know.\n\nContext:\n{context}"
)
RAG_QUESTIONS: tuple[str, ...] = (
    "How long do I have to return a bike for a refund?",
    "What does a late bike return cost?",
)

AGENT_NAME = "trip-planner"
AGENT_SYSTEM_PROMPT = "You plan bike trips. Use the tools you are given; never guess."
# One sub-task per tool: the first works, the second's tool fails and the agent carries on.
AGENT_TASKS: tuple[tuple[str, str], ...] = (
    ("get_weather", "What is the weather tomorrow in Lisbon"),
    ("convert_currency", "How much is a 120 EUR day trip in USD"),
)
FAILING_TOOL = "convert_currency"
TOOL_FAILURE = "exchange-rate service unavailable (HTTP 503)"

CHAT_USER_ID = "demo-user-alice"
CHAT_SYSTEM_PROMPT = "You are the rental shop's friendly assistant."
CHAT_TURNS: tuple[str, ...] = (
    "Hi, I'd like to rent two bikes this Saturday",
    "Do you have electric ones?",
    "Great, and are helmets included?",
)
