"""`ember demo`: fill a running Ember with realistic traces, through the real SDK.

It checks that Ember answers, starts the fake OpenAI server (ember.demo.openai_server) on
127.0.0.1, traces ember.demo.scenarios with ember_sdk.register() and OpenInference's openai
instrumentor, flushes, and prints what it sent and where to look. Exit status 1 with one clear
line when Ember is not there or did not take the spans.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import click

DEFAULT_PROJECT = "ember-demo"


@dataclass(frozen=True)
class DemoRun:
    base_url: str
    project: str
    session_id: str
    spans: int
    traces: int


class _Failures(logging.Handler):
    """Counts the SDK's warnings: it logs one when an export to Ember fails."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def base_url_of(endpoint: str | None) -> str:
    """Ember's base URL: the flag, else EMBER_COLLECTOR_ENDPOINT (via ember_sdk's settings),
    else http://127.0.0.1:6006; a trailing /v1/traces is dropped."""
    from ember_sdk.settings import DEFAULT_HTTP_ENDPOINT, resolve

    found = resolve("endpoint", endpoint)
    url = found.value if found.source in ("argument", "EMBER_COLLECTOR_ENDPOINT") else None
    url = (url or DEFAULT_HTTP_ENDPOINT).rstrip("/")
    return url.removesuffix("/v1/traces")


def run_demo(endpoint: str | None, project: str, echo: Callable[[str], None]) -> DemoRun:
    """Send the demo's traces to Ember at `endpoint`; raises click.ClickException when Ember is
    not reachable or did not accept them."""
    import httpx
    import openai
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

    from ember.demo.openai_server import FakeOpenAI
    from ember.demo.scenarios import DemoApp
    from ember_sdk import register

    base = base_url_of(endpoint)
    try:
        httpx.get(f"{base}/healthz", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"no Ember server answers at {base} ({exc}); start one with `ember serve`, "
            "or pass --endpoint"
        ) from exc

    class Counter(SpanProcessor):
        def __init__(self) -> None:
            self.spans = 0
            self.traces: set[int] = set()

        def on_end(self, span: ReadableSpan) -> None:
            self.spans += 1
            if span.context is not None:
                self.traces.add(span.context.trace_id)

    failures = _Failures()
    sdk_log = logging.getLogger("ember_sdk")
    sdk_log.addHandler(failures)
    provider = register(
        project_name=project, endpoint=base, protocol="http/protobuf",
        set_global_tracer_provider=False, verbose=False,
    )
    counter = Counter()
    provider.add_span_processor(counter)
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    fake = FakeOpenAI().start()
    session_id = f"demo-chat-{secrets.token_hex(4)}"
    echo(f"Sending demo traces to Ember at {base}, project {project!r} "
         f"(the LLM is a fake OpenAI server on {fake.base_url}).")
    try:
        client = openai.OpenAI(
            base_url=fake.base_url, api_key="sk-ember-demo", max_retries=0,
            http_client=openai.DefaultHttpxClient(trust_env=False),
        )
        sent = DemoApp(provider.get_tracer("ember.demo"), client, session_id).run()
    finally:
        instrumentor.uninstrument()
        fake.stop()
        provider.force_flush()
        provider.shutdown()
        sdk_log.removeHandler(failures)
    if failures.messages:
        raise click.ClickException(f"Ember did not take every span: {failures.messages[0]}")

    from ember.demo import data

    echo(f"  RAG: indexed {len(data.DOCUMENTS)} help-centre documents, answered "
         f"{len(sent.rag_answers)} questions (rag-query > retrieve > embeddings, LLM).")
    echo(f"  Agent: {data.AGENT_NAME} called get_weather and {data.FAILING_TOOL}; "
         f"{data.FAILING_TOOL} failed on purpose ({data.TOOL_FAILURE}), so its span is an "
         "ERROR and the agent answered anyway.")
    echo(f"  Chat: session {session_id}, user {data.CHAT_USER_ID}, "
         f"{len(sent.chat_replies)} turns.")
    echo(f"Sent {counter.spans} spans in {len(counter.traces)} traces.")
    echo(f"Open {base}/projects/{quote(project, safe='')} to explore them: the traces, the "
         f"failing tool span, and session {session_id} in the sessions tab.")
    return DemoRun(base, project, session_id, counter.spans, len(counter.traces))


@click.command()
@click.option("--endpoint", help="Ember's URL [EMBER_COLLECTOR_ENDPOINT, default "
                                 "http://127.0.0.1:6006].")
@click.option("--project", default=DEFAULT_PROJECT, show_default=True,
              help="Project the demo's traces go to.")
def demo(endpoint: str | None, project: str) -> None:
    """Send realistic sample traces (RAG, an agent with a failing tool, a chat session) to a
    running Ember, through the real SDK and instrumentors against a fake LLM."""
    run_demo(endpoint, project, click.echo)
