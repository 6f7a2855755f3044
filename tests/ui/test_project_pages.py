"""The projects, project (Traces, Spans, Sessions, Metrics) and session pages in headless
Chromium, against a real `ember serve` holding OpenInference-shaped traces sent over OTLP.

Checks: the projects page's figures against the metrics route and its first-run state,
pagination that shows every row once, sort by a numeric column, a filter (and a bad one shown
inline at its mistake) kept in the URL, the time range, the root-spans switch, live mode
picking up a trace sent during the test, a session as a conversation, the sessions' p50 and
p99 latency against the API, annotations logged through the API shown as columns of the traces
and spans tables (as text), and the charts' values against the API. Takes the docs'
screenshots (docs/images, with EMBER_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect

from ember.ui.format import duration
from tests.conftest import EmberProcess
from tests.helpers import make_span, post, project_request, span_id, trace_id
from tests.ui.pages import Watch

UNTRUSTED_LABEL = "<img src=x onerror=alert(1)>wrong"

PROJECT = "shop"
RECENT = 55  # traces in the last minutes
OLD = 5  # traces three days ago
DAY_NS = 86400 * 10**9


@dataclass
class Shop:
    server: EmberProcess
    now_ns: int

    def get(self, path: str, **params: Any) -> Any:
        response = self.server.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def all_traces(self, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, "limit": 1000, **({"cursor": cursor} if cursor else {})}
            body = self.get(f"/v1/projects/{PROJECT}/traces", **query)
            out += body["data"]
            cursor = body["next_cursor"]
            if not cursor:
                return out


def send_trace(
    server: EmberProcess,
    project: str,
    name: str,
    start: int,
    *,
    latency_ns: int = 50_000_000,
    session: str | None = None,
    error: bool = False,
    question: str = "",
    answer: str = "",
) -> str:
    """One trace: a CHAIN root with an LLM child; returns its trace id."""
    trace, root = trace_id(), span_id()
    common = {"session.id": session, "user.id": "alice"} if session else {}
    spans = [
        make_span(trace, root, None, name, start=start, end=start + latency_ns,
                  status_code=2 if error else 0, attributes={
                      "openinference.span.kind": "CHAIN", "input.value": question,
                      "output.value": answer, **common}),
        make_span(trace, span_id(), root, "ChatCompletion", start=start + 1000,
                  end=start + latency_ns - 1000, attributes={
                      "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                      "llm.provider": "openai", "llm.token_count.prompt": 100,
                      "llm.token_count.completion": 20, "llm.token_count.total": 120, **common}),
    ]
    assert post(server.url, project_request(project, spans)).status_code == 200
    return trace.hex()


@pytest.fixture(scope="module")
def shop(ui_server: EmberProcess) -> Shop:
    now = time.time_ns()
    for i in range(RECENT):
        send_trace(
            ui_server, PROJECT, f"ask-{i:02d}", now - (RECENT - i) * 10**9,
            latency_ns=(7 * i % 23 + 1) * 10_000_000,
            session="conv-1" if i in (3, 4, 5) else f"s-{i}",
            error=i % 11 == 0,
            question=f"Question number {i}: where is my order?",
            answer=f"Answer {i}: it ships tomorrow.",
        )
    for i in range(OLD):
        send_trace(ui_server, PROJECT, f"old-{i}", now - 3 * DAY_NS - i * 10**9,
                   question=f"old question {i}", answer=f"old answer {i}")
    send_trace(ui_server, "other-app", "hello", now - 10**9, question="hi", answer="hello")
    return Shop(ui_server, now)


def project_url(shop: Shop, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{shop.server.url}/projects/{PROJECT}" + (f"?{query}" if query else "")


def open_table(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#project-page[data-state]")
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")


def row_ids(page: Page, attribute: str = "data-trace-id") -> list[str]:
    ids: list[str] = page.locator("#rows-body tr").evaluate_all(
        f"rows => rows.map(r => r.getAttribute('{attribute}'))"
    )
    return ids


def load_everything(page: Page) -> None:
    more = page.locator("#more")
    while more.is_visible():
        before = page.locator("#rows-body tr").count()
        more.click()
        expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
        page.wait_for_function(
            f"document.querySelectorAll('#rows-body tr').length > {before} "
            "|| document.getElementById('more').hidden"
        )


def test_projects_page_shows_each_project_with_the_metrics_route_figures(
    shop: Shop, page: Page, screenshot_dir: Path
) -> None:
    page.goto(f"{shop.server.url}/?range=7d")
    row = page.locator("#projects tr[data-project='shop']")
    totals = shop.get(f"/v1/projects/{PROJECT}/metrics",
                      start_time=_iso(shop.now_ns - 7 * DAY_NS - 60 * 10**9))["data"]["totals"]
    assert totals["trace_count"] == RECENT + OLD
    expect(row.locator("[data-field=trace_count]")).to_have_text(str(RECENT + OLD))
    expect(row.locator("[data-field=error_rate]")).to_have_text(
        f"{totals['error_rate'] * 100:.1f}%"
    )
    expect(row.locator("[data-field=total_tokens]")).to_have_text(
        f"{totals['total_tokens']:,}"
    )
    expect(page.locator("#projects tr[data-project='other-app']")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "projects.png"), full_page=True)
    # One day back: the old traces drop out.
    page.locator("#range-picker a[data-range='1d']").click()
    expect(row.locator("[data-field=trace_count]")).to_have_text(str(RECENT))
    row.locator("a.project-link").click()
    page.wait_for_selector("#project-page[data-state=ready]")
    assert parse_qs(urlparse(page.url).query)["range"] == ["1d"]


def test_first_run_explains_how_to_send_a_trace_to_this_server(
    server_factory: Any, page: Page, screenshot_dir: Path
) -> None:
    empty: EmberProcess = server_factory()
    page.goto(empty.url + "/")
    code = page.locator("#first-run-code")
    expect(code).to_contain_text("pip install ember-sdk")
    expect(code).to_contain_text(f'endpoint="{empty.url}"')
    expect(code).to_contain_text("from ember_sdk import register")
    page.screenshot(path=str(screenshot_dir / "first-run.png"))


def test_traces_table_pages_through_every_trace_once(shop: Shop, page: Page) -> None:
    open_table(page, project_url(shop))
    assert len(row_ids(page)) == 50
    first = page.locator("#rows-body tr").first
    expected = shop.all_traces()
    newest = expected[0]
    expect(first.locator("td[data-column=name]")).to_have_text(newest["root_span_name"])
    expect(first.locator("td[data-column=input]")).to_have_text(newest["input_preview"])
    expect(first.locator("td[data-column=user]")).to_have_text("alice")
    expect(first.locator("[data-kind=CHAIN]")).to_be_visible()
    load_everything(page)
    ids = row_ids(page)
    assert ids == [t["trace_id"] for t in expected]  # every trace, once, in order
    expect(page.locator("#page-status")).to_have_text(f"All {RECENT + OLD} traces shown.")
    assert Watch.violations(page) == []
    # A row opens the trace view.
    page.locator("#rows-body tr").nth(3).locator("td[data-column=latency]").click()
    page.wait_for_url(f"**/projects/{PROJECT}/traces/{ids[3]}")


def test_sort_by_latency_follows_the_api_order(shop: Shop, page: Page) -> None:
    open_table(page, project_url(shop))
    page.locator("button.sort[data-sort=latency_ms]").click()
    expect(page.locator("th[data-column=latency]")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    load_everything(page)
    api = [t["trace_id"] for t in shop.all_traces(sort="latency_ms", order="desc")]
    assert row_ids(page) == api
    query = parse_qs(urlparse(page.url).query)
    assert query["sort"] == ["latency_ms"]
    # Again: ascending.
    page.locator("button.sort[data-sort=latency_ms]").click()
    expect(page.locator("th[data-column=latency]")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    first = shop.all_traces(sort="latency_ms", order="asc")[0]["trace_id"]
    expect(page.locator("#rows-body tr").first).to_have_attribute("data-trace-id", first)


def test_filter_is_kept_in_the_url_and_errors_point_at_the_mistake(
    shop: Shop, page: Page, screenshot_dir: Path
) -> None:
    open_table(page, project_url(shop))
    page.fill("#filter-input", "error_count > 0")
    page.press("#filter-input", "Enter")
    errored = [t["trace_id"] for t in shop.all_traces(filter="error_count > 0")]
    assert len(errored) == 5  # i = 0, 11, 22, 33, 44
    page.wait_for_function(
        f"document.querySelectorAll('#rows-body tr').length === {len(errored)}"
    )
    assert row_ids(page) == errored
    assert parse_qs(urlparse(page.url).query)["filter"] == ["error_count > 0"]
    # The URL alone brings the same view back.
    open_table(page, page.url)
    expect(page.locator("#filter-input")).to_have_value("error_count > 0")
    assert row_ids(page) == errored

    bad = "error_count > 0 and latncy_ms > 5"
    page.fill("#filter-input", bad)
    page.press("#filter-input", "Enter")
    box = page.locator("#filter-error")
    expect(box).to_be_visible()
    api = shop.server.get(f"/v1/projects/{PROJECT}/traces", filter=bad).json()["error"]
    position = api["position"]
    expect(page.locator("mark.filter-mistake")).to_have_text(
        bad[position["start"]:position["end"]]
    )
    assert "latncy_ms" in bad[position["start"]:position["end"]]
    expect(page.locator("#filter-message")).to_have_text(api["message"])
    expect(page.locator("#filter-input")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(screenshot_dir / "filter-error.png"))


def test_sessions_filter_error_is_placed_on_the_users_text(shop: Shop, page: Page) -> None:
    open_table(page, project_url(shop, tab="sessions", range="1d"))
    with page.expect_request(lambda r: "/sessions?" in r.url) as sent:
        page.fill("#filter-input", "trace_count >= 2 and frist_input == 'x'")
        page.press("#filter-input", "Enter")
    expect(page.locator("mark.filter-mistake")).to_have_text("frist_input")
    # The range goes to the listing's own time parameters; the filter is the user's text.
    query = parse_qs(urlparse(sent.value.url).query)
    assert query["filter"] == ["trace_count >= 2 and frist_input == 'x'"]
    assert "start_time" in query and "end_time" not in query


def test_sessions_tab_keeps_to_the_time_range(shop: Shop, page: Page) -> None:
    # Every session started in the last minutes; three days back holds none of them.
    start = _local(shop.now_ns - 4 * DAY_NS)
    end = _local(shop.now_ns - 2 * DAY_NS)
    open_table(page, project_url(shop, tab="sessions", range="custom", **{"from": start,
                                                                         "to": end}))
    expect(page.locator("#page-status")).to_have_text("No sessions match.")
    assert row_ids(page, "data-session-id") == []
    open_table(page, project_url(shop, tab="sessions", range="1h"))
    expect(page.locator("#rows-body tr[data-session-id='conv-1']")).to_be_visible()


def test_time_range_is_kept_in_the_url(shop: Shop, page: Page) -> None:
    open_table(page, project_url(shop))
    page.locator("#range-picker a[data-range='1d']").click()
    expect(page.locator("#range-picker a[data-range='1d']")).to_have_class(
        "range-preset is-current"
    )
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    load_everything(page)
    assert len(row_ids(page)) == RECENT
    assert parse_qs(urlparse(page.url).query)["range"] == ["1d"]
    open_table(page, page.url)
    load_everything(page)
    assert len(row_ids(page)) == RECENT
    # A custom range that holds only the old traces.
    start = _local(shop.now_ns - 4 * DAY_NS)
    end = _local(shop.now_ns - 2 * DAY_NS)
    open_table(page, project_url(shop, range="custom", **{"from": start, "to": end}))
    assert sorted(page.locator("#rows-body td[data-column=name]").all_inner_texts()) == [
        f"old-{i}" for i in range(OLD)
    ]


def test_spans_tab_with_root_spans_only(shop: Shop, page: Page) -> None:
    open_table(page, project_url(shop, tab="spans", range="1d"))
    kinds = set(page.locator("#rows-body [data-kind]").all_inner_texts())
    assert kinds == {"CHAIN", "LLM"}
    page.locator("#roots-only").check()
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    page.wait_for_function(
        "[...document.querySelectorAll('#rows-body [data-kind]')]"
        ".every(e => e.dataset.kind === 'CHAIN')"
    )
    load_everything(page)
    assert len(row_ids(page, "data-span-id")) == RECENT
    assert parse_qs(urlparse(page.url).query)["roots"] == ["1"]
    # Sorted by tokens, the LLM spans come first.
    page.locator("#roots-only").uncheck()
    page.locator("button.sort[data-sort=total_tokens]").click()
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#rows-body tr").first.locator("td[data-column=tokens]")).to_have_text(
        "120"
    )


def test_live_mode_shows_a_trace_sent_during_the_test(shop: Shop, page: Page) -> None:
    open_table(page, project_url(shop, live="1"))
    page.wait_for_selector("#project-page[data-live-probe]")
    before = len(row_ids(page))
    new = send_trace(shop.server, PROJECT, "live-arrival", time.time_ns(),
                     question="Did it arrive?", answer="Live.")
    row = page.locator(f"#rows-body tr[data-trace-id='{new}']")
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_have_class("is-new")
    assert page.locator("#rows-body tr").first.get_attribute("data-trace-id") == new
    assert len(row_ids(page)) == before + 1
    assert len(set(row_ids(page))) == before + 1


def test_a_session_reads_as_a_conversation(shop: Shop, page: Page,
                                           screenshot_dir: Path) -> None:
    open_table(page, project_url(shop, tab="sessions"))
    row = page.locator("#rows-body tr[data-session-id='conv-1']")
    expect(row.locator("td[data-column=traces]")).to_have_text("3")
    # p50 and p99 of the session's trace latencies (220, 60 and 130 ms), as the API says.
    api = {s["session_id"]: s for s in shop.get(f"/v1/projects/{PROJECT}/sessions",
                                                 limit=1000)["data"]}
    conv = api["conv-1"]
    assert (conv["latency_ms_p50"], conv["latency_ms_p99"]) == pytest.approx((130.0, 220.0))
    expect(row.locator("td[data-column=p50]")).to_have_text(duration(conv["latency_ms_p50"] * 1e6))
    expect(row.locator("td[data-column=p99]")).to_have_text(duration(conv["latency_ms_p99"] * 1e6))
    for other in page.locator("#rows-body tr").all():
        session = other.get_attribute("data-session-id") or ""
        expect(other.locator("td[data-column=p50]")).to_have_text(
            duration(api[session]["latency_ms_p50"] * 1e6)
        )
    expect(page.locator("th[data-column=p50] button.sort")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "sessions-table.png"))
    row.locator("td[data-column=name] a").click()
    page.wait_for_url(f"**/projects/{PROJECT}/sessions/conv-1")
    expect(page.locator("dd[data-field=latency_ms_p50]")).to_have_text("130 ms")
    expect(page.locator("dd[data-field=latency_ms_p99]")).to_have_text("220 ms")
    turns = page.locator("ol.turns > li.turn")
    expect(turns).to_have_count(3)
    for index, number in enumerate((3, 4, 5)):
        turn = turns.nth(index)
        expect(turn.locator(".turn-input")).to_contain_text(f"Question number {number}:")
        expect(turn.locator(".turn-output")).to_contain_text(f"Answer {number}:")
    page.screenshot(path=str(screenshot_dir / "session.png"), full_page=True)
    trace = turns.nth(1).get_attribute("data-trace-id")
    turns.nth(1).locator("a.turn-link").click()
    page.wait_for_url(f"**/traces/{trace}")


def test_annotations_show_as_columns_of_the_traces_and_spans_tables(
    shop: Shop, page: Page, watch: Watch, screenshot_dir: Path
) -> None:
    every = shop.all_traces()
    ids = [t["trace_id"] for t in every[:3]]
    oldest = every[-1]["trace_id"]  # on the table's second page
    notes = [
        {"trace_id": ids[0], "name": "correctness", "annotator_kind": "HUMAN",
         "result": {"label": "correct", "score": 1}},
        {"trace_id": ids[1], "name": "correctness", "annotator_kind": "LLM",
         "result": {"label": UNTRUSTED_LABEL}},
        {"trace_id": ids[1], "name": "relevance", "annotator_kind": "LLM",
         "result": {"score": 0.75}},
        {"trace_id": oldest, "name": "reviewed", "annotator_kind": "HUMAN",
         "result": {"label": "yes"}},
    ]
    response = httpx.post(f"{shop.server.url}/v1/trace_annotations", json={"data": notes})
    assert response.status_code == 200, response.text
    open_table(page, project_url(shop))
    head = page.locator("#rows-head th[data-column=annotation]")
    expect(head).to_have_text(["correctness", "relevance"])
    cell = page.locator(
        f"#rows-body tr[data-trace-id='{ids[0]}'] td[data-annotation='correctness']"
    )
    expect(cell).to_have_text("correct")
    second = page.locator(f"#rows-body tr[data-trace-id='{ids[1]}']")
    # The label is shown as the text it is: no element made of it, no script run.
    expect(second.locator("td[data-annotation='correctness']")).to_have_text(UNTRUSTED_LABEL)
    expect(second.locator("td[data-annotation='relevance']")).to_have_text("0.75")
    assert page.locator("#rows-body img").count() == 0
    expect(page.locator(
        f"#rows-body tr[data-trace-id='{ids[2]}'] td[data-annotation='correctness']"
    )).to_have_text("")
    # Wide enough for the annotation columns (a narrower window scrolls the table sideways).
    page.set_viewport_size({"width": 1680, "height": 900})
    page.screenshot(path=str(screenshot_dir / "traces-table.png"))
    # A name first seen on a later page adds its column to the rows already drawn too.
    load_everything(page)
    expect(head).to_have_text(["correctness", "relevance", "reviewed"])
    counts = page.locator("#rows-body tr").evaluate_all(
        "rows => rows.map(r => r.querySelectorAll('td[data-column=annotation]').length)"
    )
    assert len(counts) >= RECENT + OLD and set(counts) == {3}
    expect(page.locator(
        f"#rows-body tr[data-trace-id='{oldest}'] td[data-annotation='reviewed']"
    )).to_have_text("yes")
    # A filter whose rows carry no annotation: the columns go.
    page.fill("#filter-input", "error_count > 0")
    page.press("#filter-input", "Enter")
    expect(head).to_have_count(0)

    # A span annotation shows on the Spans tab.
    llm = shop.get(f"/v1/projects/{PROJECT}/spans", trace_id=ids[2], span_kind="LLM")["data"][0]
    response = httpx.post(f"{shop.server.url}/v1/span_annotations", json={"data": [
        {"span_id": llm["context"]["span_id"], "name": "hallucination",
         "annotator_kind": "CODE", "result": {"label": "no", "score": 0}},
    ]})
    assert response.status_code == 200, response.text
    open_table(page, project_url(shop, tab="spans"))
    expect(page.locator("#rows-head th[data-column=annotation]")).to_have_text(["hallucination"])
    expect(page.locator(
        f"#rows-body tr[data-span-id='{llm['context']['span_id']}'] "
        "td[data-annotation='hallucination']"
    )).to_have_text("no")
    assert watch.dialogs == []


def test_charts_show_the_metrics_route_values(shop: Shop, page: Page,
                                              screenshot_dir: Path) -> None:
    page.goto(project_url(shop, tab="metrics", range="1d"))
    metrics = page.locator("#metrics")
    expect(metrics).to_be_visible()
    start = metrics.get_attribute("data-start")
    assert start is not None
    api = shop.get(f"/v1/projects/{PROJECT}/metrics",
                   start_time=_iso(int(start)), buckets=24)["data"]
    assert sum(s["trace_count"] for s in api["series"]) >= RECENT

    def marks(series: str) -> list[float]:
        found: list[str] = page.locator(f"[data-series={series}]").evaluate_all(
            "marks => marks.map(m => m.dataset.value)"
        )
        return [float(value) for value in found]

    def expected(field: str) -> list[float]:
        # The chart leaves out buckets without a value (no latency without traces).
        return [float(s[field]) for s in api["series"] if s[field] is not None]

    for field in ("trace_count", "error_rate", "latency_ms_p50", "latency_ms_p99",
                  "total_tokens", "cost"):
        assert marks(field) == pytest.approx(expected(field)), field
    model = page.locator("#top-models tr[data-model='gpt-4o-mini']")
    expect(model).to_be_visible()
    top = api["top_models"][0]
    assert top["model_name"] == "gpt-4o-mini"
    assert float(model.locator("td[data-value]").get_attribute("data-value") or "nan") == (
        pytest.approx(top["cost"])
    )
    expect(page.locator("figure[data-metric=trace_count] .chart-total")).to_have_text(
        f"{api['totals']['trace_count']:,}"
    )
    page.screenshot(path=str(screenshot_dir / "metrics.png"), full_page=True)


def _iso(unix_ns: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix_ns / 1e9, tz=UTC).isoformat()


def _local(unix_ns: int) -> str:
    """A datetime-local value (UTC, no zone), as the custom range form sends it."""
    from datetime import UTC, datetime

    return f"{datetime.fromtimestamp(unix_ns // 10**9, tz=UTC):%Y-%m-%dT%H:%M:%S}"


@pytest.fixture(autouse=True)
def _no_csp_violations(page: Page) -> Iterator[None]:
    yield
    assert Watch.violations(page) == []
