"""Helpers for driving the UI in Chromium: what a page betrays about scripts that ran, and the
trace view's parts by their roles in the page (src/ember/ui/templates/trace.html)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Dialog, Locator, Page

# Installed by the test harness before any page script (through the DevTools protocol, which
# the page's Content-Security-Policy does not govern): it records every CSP violation.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Watch:
    """What a page did that a test may want to deny: dialogs, uncaught errors."""

    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.add_init_script(_RECORD_VIOLATIONS)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", lambda message: self.console.append(message.text))

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    @staticmethod
    def violations(page: Page) -> list[str]:
        found: list[str] = page.evaluate("window.__cspViolations")
        return found


class TraceView:
    """The trace page of one server."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def url(self, project: str, trace_id: str, span: str | None = None) -> str:
        url = f"{self.base_url}/projects/{quote(project, safe='')}/traces/{trace_id}"
        return f"{url}?span={span}" if span else url

    def open(self, project: str, trace_id: str, span: str | None = None) -> None:
        self.goto(self.url(project, trace_id, span))

    def goto(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("#trace-view[data-state=ready]")

    @property
    def tree(self) -> Locator:
        return self.page.locator("#tv-scroll")

    @property
    def detail(self) -> Locator:
        return self.page.locator("#tv-detail")

    def row(self, span_id: str) -> Locator:
        return self.page.locator(f".tv-row[data-span-id='{span_id}']")

    def select(self, span_id: str) -> Locator:
        """Click a span's row; returns its detail once loaded."""
        self.row(span_id).locator(".tv-name").click()
        return self.wait_detail(span_id)

    def wait_detail(self, span_id: str) -> Locator:
        detail = self.page.locator(f"#tv-detail .span-detail[data-span-id='{span_id}']")
        detail.wait_for()
        self.page.wait_for_selector("#tv-detail:not([aria-busy])")
        return detail

    def settle(self) -> None:
        """Wait until the rows are drawn: the list draws on the next animation frame, and
        animation-frame callbacks run in the order they were asked for, so once ours has run,
        any draw the last action asked for has run too."""
        self.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")

    def selected(self) -> str | None:
        self.settle()
        return self.page.get_attribute(".tv-row.is-selected", "data-span-id")

    def wait_selected(self, span: str) -> None:
        """Wait until `span`'s row is drawn selected (rows are drawn on the next frame, and a
        jump to the end first scrolls the list)."""
        self.page.wait_for_selector(f".tv-row.is-selected[data-span-id='{span}']")

    def row_count(self) -> int:
        return int(self.tree.get_attribute("data-rows") or "0")

    def wait_row_count(self, count: int) -> None:
        self.page.wait_for_selector(f"#tv-scroll[data-rows='{count}']")

    def rows(self) -> list[dict[str, Any]]:
        """The rows drawn, top to bottom: span id, level, name, kind label, flag, classes."""
        self.settle()
        rows: list[dict[str, Any]] = self.page.evaluate("""() =>
            [...document.querySelectorAll('.tv-row:not([hidden])')]
              .map((row) => ({
                row: Number(row.dataset.row),
                span_id: row.dataset.spanId,
                level: Number(row.getAttribute('aria-level')),
                expanded: row.getAttribute('aria-expanded'),
                name: row.querySelector('.tv-name').textContent,
                kind: row.querySelector('.kind-badge').textContent,
                flag: row.querySelector('.tv-flag').hidden
                  ? null : row.querySelector('.tv-flag').textContent,
                classes: row.className,
                bar_width: row.querySelector('.tv-bar').style.width,
              }))
              .sort((a, b) => a.row - b.row)""")
        return rows

    def search(self, text: str) -> None:
        box = self.page.locator("#tv-search")
        box.fill(text)

    def search_status(self) -> str:
        return self.page.locator("#tv-search-count").inner_text()
