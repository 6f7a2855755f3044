"""What an LLM or a user wrote never runs in the trace view, and awkward traces still read well.

Spans are made with the real OpenTelemetry SDK (OpenInference attributes, as an instrumentor
writes them) and exported to a real `ember serve`; the page is checked in headless Chromium:
- hostile text (`<script>`, `<img onerror>`, `javascript:` links, raw HTML inside markdown) in
  names, messages, outputs, documents, tool results, exceptions, attribute keys and values is
  shown as text, and provably never runs: no dialog, no global the payloads set, no element
  with an event handler, and not even a Content-Security-Policy violation (nothing got as far
  as trying); the CSP header is on every UI response and the browser enforces it;
- a 200 KB prompt opens folded; a span whose parent never arrived is shown and marked;
  images (data: shown, remote ones as links), markdown, a reranker side by side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags
from playwright.sync_api import Page, expect

from ember.ui.security import CONTENT_SECURITY_POLICY
from tests.conftest import EmberProcess
from tests.instrumented.support import Telemetry, one, span_id, trace_id
from tests.ui.pages import TraceView, Watch

SCRIPT = "<script>window.emberXss = (window.emberXss || 0) + 1; alert('script')</script>"
IMG = "<img src=x onerror=\"window.emberXss = 2; alert('img')\">"
HOSTILE = "\n\n".join([
    "**bold** and _soft_ text",
    SCRIPT,
    IMG,
    "[click me](javascript:window.emberXss=3;alert('md-link'))",
    "<a href=\"javascript:alert('html-link')\">html link</a>",
    "<iframe src=\"javascript:alert('iframe')\"></iframe><svg onload=\"alert('svg')\"></svg>",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert('md-image'))",
    "<style>body { display: none }</style><form action=\"https://evil.invalid\"><button>go</button></form>",
])
# A 1x1 PNG.
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk"
       "YAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
SVG_WITH_SCRIPT = (
    "data:image/svg+xml;base64,"
    "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4="
)
BIG_PROMPT = ("The quick brown fox jumps over the lazy dog. " * 5000)[:200_000]


def messages(direction: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenInference's flattened message keys for `items` (each a dict of relative keys)."""
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        for key, value in item.items():
            out[f"llm.{direction}_messages.{i}.{key}"] = value
    return out


def documents(prefix: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        f"{prefix}.{i}.document.{key}": value
        for i, doc in enumerate(docs) for key, value in doc.items()
    }


@dataclass
class Stored:
    project: str
    spans: list[dict[str, Any]]

    def id_of(self, name: str) -> str:
        return span_id(one(self.spans, name))

    def trace_of(self, name: str) -> str:
        return trace_id(one(self.spans, name))


def _hostile_trace(tracer: otel_trace.Tracer) -> None:
    with tracer.start_as_current_span("<img src=x onerror=alert('name')>", attributes={
        "openinference.span.kind": "CHAIN",
        "input.value": HOSTILE, "output.value": HOSTILE,
        "metadata": json.dumps({"note": SCRIPT, IMG: "key"}),
        "tag.tags": [SCRIPT, "plain"],
        f"{IMG}.key": "an attribute whose key is HTML",
    }):
        with tracer.start_as_current_span("hostile-llm", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt<script>alert(1)</script>",
            **messages("input", [
                {"message.role": "system", "message.content": HOSTILE},
                {"message.role": "user<script>alert('role')</script>",
                 "message.contents.0.message_content.type": "text",
                 "message.contents.0.message_content.text": HOSTILE,
                 "message.contents.1.message_content.type": "image",
                 "message.contents.1.message_content.image.image.url": "javascript:alert('u')",
                 "message.contents.2.message_content.type": "image",
                 "message.contents.2.message_content.image.image.url": SVG_WITH_SCRIPT},
            ]),
            **messages("output", [{
                "message.role": "assistant", "message.content": HOSTILE,
                "message.tool_calls.0.tool_call.function.name": IMG,
                "message.tool_calls.0.tool_call.function.arguments": json.dumps(
                    {"q": "</pre>" + SCRIPT}),
            }]),
            "llm.prompt_template.template": SCRIPT + " {x}",
            "llm.prompt_template.variables": json.dumps({"x": IMG}),
        }):
            pass
        with tracer.start_as_current_span("hostile-tool", attributes={
            "openinference.span.kind": "TOOL", "tool.name": SCRIPT, "tool.description": IMG,
            "tool.parameters": json.dumps({"type": "object", "description": SCRIPT}),
            "input.value": json.dumps({"arg": IMG}), "output.value": HOSTILE,
        }):
            pass
        with tracer.start_as_current_span("hostile-retriever", attributes={
            "openinference.span.kind": "RETRIEVER", "input.value": SCRIPT,
            **documents("retrieval.documents", [
                {"id": IMG, "content": HOSTILE, "score": 0.5,
                 "metadata": json.dumps({"source": SCRIPT})},
            ]),
        }):
            pass
        with tracer.start_as_current_span("hostile-error") as span:
            span.add_event(IMG, {"detail": SCRIPT})
            span.record_exception(ValueError(SCRIPT + IMG))
            span.set_status(Status(StatusCode.ERROR, IMG))


def _awkward_trace(tracer: otel_trace.Tracer) -> None:
    with tracer.start_as_current_span("awkward", attributes={
        "openinference.span.kind": "AGENT", "input.value": "start",
    }) as root:
        with tracer.start_as_current_span("big-prompt", attributes={
            "openinference.span.kind": "LLM",
            **messages("input", [{"message.role": "user", "message.content": BIG_PROMPT}]),
            **messages("output", [{"message.role": "assistant", "message.content": "Short."}]),
        }):
            pass
        with tracer.start_as_current_span("pictures", attributes={
            "openinference.span.kind": "LLM",
            **messages("input", [{
                "message.role": "user",
                "message.contents.0.message_content.type": "text",
                "message.contents.0.message_content.text":
                    "Look at **these**: ![remote](https://example.invalid/cat.png)",
                "message.contents.1.message_content.type": "image",
                "message.contents.1.message_content.image.image.url": PNG,
                "message.contents.2.message_content.type": "image",
                "message.contents.2.message_content.image.image.url":
                    "https://example.invalid/dog.png",
                "message.contents.3.message_content.type": "image",
                "message.contents.3.message_content.image.image.url": "__REDACTED__",
            }]),
        }):
            pass
        with tracer.start_as_current_span("rerank", attributes={
            "openinference.span.kind": "RERANKER", "reranker.query": "which sky?",
            "reranker.model_name": "cross-encoder", "reranker.top_k": 2,
            **documents("reranker.input_documents", [
                {"id": "a", "content": "alpha", "score": 0.3},
                {"id": "b", "content": "beta", "score": 0.2},
                {"id": "c", "content": "gamma", "score": 0.1},
            ]),
            **documents("reranker.output_documents", [
                {"id": "c", "content": "gamma", "score": 0.9},
                {"id": "a", "content": "alpha", "score": 0.8},
            ]),
        }):
            pass
        # A child of a span that is never exported: its parent never arrives.
        missing = SpanContext(
            trace_id=root.get_span_context().trace_id, span_id=0x1234ABCD5678EF90,
            is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        context = otel_trace.set_span_in_context(NonRecordingSpan(missing))
        with tracer.start_as_current_span("orphan", context=context, attributes={
            "openinference.span.kind": "CHAIN",
        }):
            pass


@pytest.fixture(scope="module")
def stored(ui_server: EmberProcess) -> Iterator[Stored]:
    telemetry = Telemetry(ui_server, "untrusted")
    tracer = telemetry.provider.get_tracer("tests.ui")
    try:
        _hostile_trace(tracer)
        _awkward_trace(tracer)
        yield Stored(telemetry.project, telemetry.stored())
    finally:
        telemetry.shutdown()


@pytest.fixture
def view(page: Page, ui_server: EmberProcess) -> TraceView:
    return TraceView(page, ui_server.url)


def _open_every_fold(page: Page) -> None:
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def _assert_nothing_ran(page: Page, watch: Watch) -> None:
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.emberXss") is None
    assert watch.dialogs == []
    assert Watch.violations(page) == [], "something tried to run and the CSP had to stop it"
    found = page.evaluate("""() => ({
        scripts: [...document.scripts].map((s) => s.getAttribute('src') || 'inline'),
        handlers: [...document.querySelectorAll('*')].flatMap((el) =>
            [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on'))
              .map((a) => `${el.tagName} ${a.name}`)),
        javascript: [...document.querySelectorAll('[href], [src], [action]')].map((el) =>
            el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action'))
            .filter((url) => !/^(https?:|mailto:|data:image\\/(png|jpeg|gif|webp);|\\/)/i
            .test(url.trim())),
        dangerous: [...document.querySelectorAll(
            '#main iframe, #main object, #main embed, #main svg, #main style, #main form, '
            + '#main base, #main meta')].map((el) => el.tagName),
    })""")
    assert [s for s in found["scripts"] if not s.startswith("/static/")] == []
    assert found["handlers"] == []
    assert found["javascript"] == []
    assert found["dangerous"] == []


def test_hostile_content_is_shown_as_text_and_never_runs(
    view: TraceView, stored: Stored, watch: Watch
) -> None:
    trace = stored.trace_of("hostile-llm")
    view.open(stored.project, trace)
    names = [row["name"] for row in view.rows()]
    assert "<img src=x onerror=alert('name')>" in names  # a span name, as text
    for row in view.rows():
        detail = view.select(row["span_id"])
        _open_every_fold(view.page)
        _assert_nothing_ran(view.page, watch)
        assert "window.emberXss" in detail.inner_text(), row["name"]  # shown, as text
    # The error span: exception and status message, as text.
    detail = view.select(stored.id_of("hostile-error"))
    expect(detail.locator(".exception-message")).to_have_text(SCRIPT + IMG)
    expect(detail.locator(".status-message")).to_have_text(IMG)
    # Markdown still renders (bold), while its raw HTML shows as text.
    detail = view.select(stored.id_of("hostile-llm"))
    system = detail.locator(".msg[data-role=system] .md")
    expect(system.locator("strong")).to_have_text("bold")
    expect(system).to_contain_text(SCRIPT)
    expect(system).to_contain_text("[click me](javascript:")
    assert system.locator("a").count() == 0
    _assert_nothing_ran(view.page, watch)


def test_security_headers_on_every_ui_response(stored: Stored, ui_server: EmberProcess) -> None:
    trace = stored.trace_of("hostile-llm")
    llm = stored.id_of("hostile-llm")
    page = httpx.get(f"{ui_server.url}/projects/{stored.project}/traces/{trace}")
    script = page.text.split('<script type="module" src="')[1].split('"')[0]
    for url in (
        f"/projects/{stored.project}/traces/{trace}",
        f"/projects/{stored.project}/traces/{trace}?span={llm}",
        f"/ui/traces/{trace}/spans/{llm}",
        script,
        "/static/trace/model.js",
        "/static/ember.css",
        f"/v1/traces/{trace}/skeleton",
        "/projects/no-such-project/traces/" + "0" * 32,
        f"/spans/{llm}",
    ):
        response = httpx.get(f"{ui_server.url}{url}", follow_redirects=False)
        assert response.status_code in (200, 302, 404), (url, response.status_code)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["x-frame-options"] == "DENY", url
    # The API reference is Ember's own page (no CDN), under the same policy.
    docs = httpx.get(f"{ui_server.url}/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "/v1/projects/{project_identifier}/spans" in docs.text and "<script" not in docs.text
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    # The page holds no inline script or style: everything is a file.
    assert "<script>" not in page.text and "style=" not in page.text
    js = httpx.get(f"{ui_server.url}/static/trace.js")
    assert js.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")


def test_the_browser_enforces_the_policy(view: TraceView, stored: Stored, watch: Watch) -> None:
    """Were something to slip into the page, Chromium itself refuses to run it: an inline
    script, an inline event handler, a remote image. (eval is refused too, but the DevTools
    protocol the test drives the page with is exempt from the policy, so it cannot show it.)"""
    view.open(stored.project, stored.trace_of("hostile-llm"))
    view.page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.emberXss = "inline script"';
        document.body.append(script);
        const holder = document.createElement('div');
        holder.innerHTML = '<img src="data:," onerror="window.emberXss = \\'handler\\'">'
          + '<img src="https://example.invalid/pixel.png">';
        document.body.append(holder);
    }""")
    view.page.wait_for_function("window.__cspViolations.length >= 3")
    violations = Watch.violations(view.page)
    assert any(v.startswith("script-src-elem inline") for v in violations), violations
    assert any(v.startswith("script-src-attr inline") for v in violations), violations
    assert any(v.startswith("img-src https://example.invalid") for v in violations), violations
    assert view.page.evaluate("window.emberXss") is None
    assert watch.dialogs == []


def test_a_200_kb_prompt_opens_folded(view: TraceView, stored: Stored) -> None:
    view.open(stored.project, stored.trace_of("big-prompt"))
    detail = view.select(stored.id_of("big-prompt"))
    user = detail.locator(".msg[data-role=user]")
    folded = user.locator(".folded")
    expect(folded).to_have_attribute("data-chars", str(len(BIG_PROMPT)))
    fold = folded.locator("details.fold")
    assert fold.get_attribute("open") is None
    expect(fold.locator("summary")).to_have_text("Show all 200 KB")
    preview = folded.locator(".text-preview").inner_text()
    assert 1000 < len(preview) < 2000
    assert BIG_PROMPT.startswith(preview.rstrip("…"))
    # The answer after it is right there, not pushed down by 200 KB of text.
    expect(detail.locator(".msg[data-role=assistant]")).to_be_in_viewport()
    fold.locator("summary").click()
    expect(folded.locator(".text-preview")).to_be_hidden()
    assert folded.locator(".text-full").evaluate("(el) => el.textContent.length") == len(
        BIG_PROMPT
    )


def test_a_span_whose_parent_never_arrived(view: TraceView, stored: Stored) -> None:
    view.open(stored.project, stored.trace_of("orphan"))
    rows = {row["name"]: row for row in view.rows()}
    assert rows["orphan"]["level"] == 1  # shown at the top level, not dropped
    assert rows["orphan"]["flag"] == "parent missing"
    assert rows["awkward"]["flag"] is None and rows["rerank"]["flag"] is None
    flag = view.row(stored.id_of("orphan")).locator(".tv-flag")
    expect(flag).to_have_attribute("title", "Its parent span 1234abcd5678ef90 never arrived")
    expect(view.page.locator("#tv-summary")).to_contain_text("1 with a missing parent")
    detail = view.select(stored.id_of("orphan"))
    expect(detail.locator(".sd-timings")).to_contain_text("1234abcd5678ef90")


def test_images_and_markdown_in_messages(view: TraceView, stored: Stored, watch: Watch) -> None:
    """data: images are shown; remote images are never loaded but linked; redacted ones say
    so; markdown renders."""
    view.open(stored.project, stored.trace_of("pictures"))
    detail = view.select(stored.id_of("pictures"))
    message = detail.locator(".msg[data-role=user]")
    image = message.locator("img.msg-image")
    expect(image).to_have_count(1)
    assert image.get_attribute("src") == PNG
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 1
    expect(message.locator("strong")).to_have_text("these")
    links = message.locator("a")
    expect(links).to_have_text(["[image: remote]", "[image: https://example.invalid/dog.png]"])
    assert links.nth(0).get_attribute("href") == "https://example.invalid/cat.png"
    expect(message).to_contain_text("image hidden by the producer")
    assert message.locator("img[src^=http]").count() == 0
    assert Watch.violations(view.page) == []


def test_reranker_side_by_side(view: TraceView, stored: Stored) -> None:
    view.open(stored.project, stored.trace_of("rerank"))
    detail = view.select(stored.id_of("rerank"))
    section = detail.locator(".sd-reranker")
    expect(section).to_contain_text("cross-encoder")
    expect(section).to_contain_text("which sky?")
    before = section.locator(".docs-before .doc")
    after = section.locator(".docs-after .doc")
    expect(before).to_have_count(3)
    expect(after).to_have_count(2)
    expect(after.nth(0)).to_contain_text("gamma")
    expect(after.nth(0)).to_contain_text("was #3")
    expect(after.nth(1)).to_contain_text("was #1")
    expect(before.nth(1)).to_contain_text("dropped")
    expect(before.nth(0)).not_to_contain_text("dropped")


def test_pages_that_cannot_be_shown_say_why(
    view: TraceView, stored: Stored, ui_server: EmberProcess
) -> None:
    trace = stored.trace_of("orphan")
    missing = "f" * 32
    response = httpx.get(f"{ui_server.url}/projects/nope/traces/{trace}")
    assert response.status_code == 404
    assert "There is no project &#39;nope&#39;." in response.text
    response = httpx.get(f"{ui_server.url}/projects/{stored.project}/traces/not-a-trace")
    assert response.status_code == 404
    assert "trace ids are 32 hexadecimal digits" in response.text
    response = httpx.get(f"{ui_server.url}/projects/{stored.project}/traces/{trace}?span=zz")
    assert response.status_code == 400
    assert "span ids are 16 hexadecimal digits" in response.text
    response = httpx.get(f"{ui_server.url}/spans/{'0' * 16}")
    assert response.status_code == 404
    response = httpx.get(f"{ui_server.url}/ui/traces/{trace}/spans/{'0' * 16}")
    assert response.status_code == 404
    assert "no span with id" in response.text

    view.page.goto(view.url(stored.project, missing))
    view.page.wait_for_selector("#trace-view[data-state=error]")
    expect(view.page.locator("#tv-summary")).to_have_text(
        f"Could not load the trace: no trace with id '{missing}'"
    )
    view.open(stored.project, trace, span="0" * 16)
    expect(view.page.locator("#tv-summary")).to_contain_text(
        f"span {'0' * 16} is not in this trace"
    )
