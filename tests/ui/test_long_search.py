"""A text search that has to read more spans than one request may check: the Spans tab shows
each short page, says the search goes on, and *Load more* reaches the one match, which sits in
the oldest span (store/search.py checks at most MAX_SCAN candidates per request)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from ember.store.search import MAX_SCAN
from tests.conftest import EmberProcess
from tests.helpers import BASE_NS, make_span, post, project_request, span_id, trace_id

PROJECT = "haystack"
SPANS = MAX_SCAN + 500  # one request cannot check them all
NEEDLE = "needle-7731"
FILLER = "a long question about shipping, returns and refunds that no filter here looks for "


@pytest.fixture(scope="module")
def haystack(ui_server: EmberProcess) -> str:
    """SPANS root spans with long inputs (kept in the payload, so `in` is checked in Python);
    only the oldest holds NEEDLE. Returns its name."""
    spans = []
    for k in range(SPANS):
        text = FILLER + (NEEDLE if k == 0 else f"number {k}")
        spans.append(make_span(trace_id(), span_id(), None, f"ask {k}", start=BASE_NS + k * 10**6,
                               attributes={"openinference.span.kind": "CHAIN",
                                           "input.value": text}))
    for offset in range(0, SPANS, 1000):
        response = post(ui_server.url, project_request(PROJECT, spans[offset : offset + 1000]))
        assert response.status_code == 200, response.text
    return "ask 0"


def test_load_more_goes_on_searching_until_the_match(
    page: Page, ui_server: EmberProcess, haystack: str
) -> None:
    query = quote(f"'{NEEDLE}' in input.value")
    page.goto(f"{ui_server.url}/projects/{PROJECT}?tab=spans&range=all&filter={query}")
    page.wait_for_selector("#project-page[data-state]")
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    status = page.locator("#page-status")
    expect(status).to_contain_text("has more spans to search")
    assert page.locator("#rows-body tr").count() == 0
    more = page.locator("#more")
    expect(more).to_be_visible()

    more.click()
    expect(page.locator("#rows-body tr")).to_have_count(1)
    expect(page.locator("#rows-body tr").first).to_contain_text(haystack)
    expect(status).to_have_text("All 1 spans shown.")
    expect(more).to_be_hidden()
