"""A small application traced with ember-sdk only, run by the tests in the clean virtual
environment: `python traced_app.py '<register() keyword arguments as JSON>'`.

Its functions are decorated at import time, before register() runs. It makes two traces:
planner (AGENT) > pipeline (CHAIN) > lookup (RETRIEVER), calculator (TOOL), generate (LLM),
inside using_session/using_user/using_metadata/using_tags; and templated (CHAIN, under
using_prompt_template) > manual (CHAIN, from trace.get_tracer). A `hidden` chain runs under
suppress_tracing and must not be stored. It prints "done" and exits without flushing: the
provider flushes at exit.
"""

import json
import sys

from opentelemetry import trace

from ember_sdk import (
    agent,
    chain,
    llm,
    register,
    retriever,
    suppress_tracing,
    tool,
    using_metadata,
    using_prompt_template,
    using_session,
    using_tags,
    using_user,
)


@retriever(name="lookup")
def lookup(query: str) -> list[str]:
    return [f"document about {query}"]


@tool(name="calculator")
def calculator(expression: str) -> int:
    """Adds the numbers in an expression like '2+3'."""
    return sum(int(part) for part in expression.split("+"))


@llm(name="generate")
def generate(prompt: str) -> str:
    return f"answer to {prompt}"


@chain(name="pipeline")
def pipeline(question: str) -> str:
    documents = lookup(question)
    total = calculator("2+3")
    return generate(f"{question} {documents[0]} {total}")


@agent(name="planner")
def planner(question: str) -> str:
    return pipeline(question)


@chain(name="hidden")
def hidden() -> str:
    return "not traced"


@chain(name="templated")
def templated() -> str:
    with trace.get_tracer("traced_app").start_as_current_span(
        "manual", openinference_span_kind="chain"
    ) as span:
        span.set_input("manual input")
        span.set_output("manual output")
    return "ok"


def main() -> None:
    register(**json.loads(sys.argv[1]))
    with (
        using_session("session-1"),
        using_user("user-1"),
        using_metadata({"tier": "gold"}),
        using_tags(["sdk-test"]),
    ):
        print(planner("what is ember"))
    with suppress_tracing():
        hidden()
    with using_prompt_template(template="Hello {name}", variables={"name": "Ada"}, version="v2"):
        templated()
    print("done")


main()
