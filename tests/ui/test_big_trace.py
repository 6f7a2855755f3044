"""A 5,000-span trace in the trace view: only the rows on screen are in the page, and the
keyboard, search and the shareable link still reach any span, however deep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import EmberProcess
from tests.helpers import BASE_NS, make_span, post, project_request, span_id, trace_id
from tests.ui.pages import TraceView

SPANS = 5_000
DEPTH = 60
PROJECT = "big-trace"
MAX_ROWS_IN_PAGE = 100  # a screen of rows and the overscan, whatever the trace's size


@pytest.fixture(scope="module")
def big(ui_server: EmberProcess) -> Iterator[dict[str, str]]:
    """A root over a chain DEPTH deep (the deepest span is named "needle") and a wide fan of
    leaves; returns the ids that matter."""
    t = trace_id()
    root = span_id()
    spans = [make_span(t, root, name="root", start=BASE_NS, end=BASE_NS + 10**9)]
    parent = root
    for level in range(DEPTH):
        child = span_id()
        name = "needle" if level == DEPTH - 1 else f"level {level}"
        spans.append(make_span(t, child, parent, name, start=BASE_NS + level + 1,
                               end=BASE_NS + 10**6))
        parent = child
    needle = parent
    last = b""
    for k in range(SPANS - len(spans)):
        last = span_id()
        spans.append(make_span(t, last, root, f"leaf {k % 50}", start=BASE_NS + 1_000 + k,
                               end=BASE_NS + 2_000 + k))
    for offset in range(0, SPANS, 1000):
        response = post(ui_server.url, project_request(PROJECT, spans[offset : offset + 1000]))
        assert response.status_code == 200, response.text
    yield {"trace": t.hex(), "root": root.hex(), "needle": needle.hex(), "last": last.hex()}


@pytest.fixture
def view(page: Page, ui_server: EmberProcess) -> TraceView:
    return TraceView(page, ui_server.url)


def test_only_rows_on_screen_are_drawn(view: TraceView, big: dict[str, str]) -> None:
    view.open(PROJECT, big["trace"])
    assert view.row_count() == SPANS
    assert len(view.rows()) < MAX_ROWS_IN_PAGE
    assert view.page.locator(".tv-row").count() < MAX_ROWS_IN_PAGE  # hidden pool rows too

    view.tree.focus()
    view.page.keyboard.press("End")
    view.wait_selected(big["last"])
    expect(view.row(big["last"])).to_be_in_viewport()
    assert view.page.locator(".tv-row").count() < MAX_ROWS_IN_PAGE
    view.wait_detail(big["last"])

    view.page.click("#tv-collapse-all")
    view.wait_row_count(1)
    assert [row["name"] for row in view.rows()] == ["root"]


def test_search_and_links_reach_a_deep_span(view: TraceView, big: dict[str, str]) -> None:
    view.open(PROJECT, big["trace"])
    view.page.click("#tv-collapse-all")
    view.wait_row_count(1)
    view.search("needle")
    expect(view.page.locator("#tv-search-count")).to_have_text("1 of 1")
    # Its ancestors were opened, and it was scrolled to.
    expect(view.row(big["needle"])).to_be_in_viewport()
    rows = {row["span_id"]: row for row in view.rows()}
    assert rows[big["needle"]]["level"] == DEPTH + 1
    view.wait_detail(big["needle"])

    view.open(PROJECT, big["trace"], span=big["needle"])
    view.wait_selected(big["needle"])
    expect(view.row(big["needle"])).to_be_in_viewport()
