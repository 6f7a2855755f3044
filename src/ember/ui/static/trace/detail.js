// The span detail pane: loads one span's detail when it is opened (never before), as an HTML
// fragment the server rendered and sanitized (src/ember/ui/trace_page.py). Inserting it runs
// nothing: scripts inserted through innerHTML never run, the server escapes or sanitizes every
// untrusted value, and the Content-Security-Policy refuses inline scripts and handlers.

import { debounce, duration, errorMessage } from "../lib/format.js";

export class DetailPane {
  /**
   * @param root the pane element; @param detailUrl URL prefix to which a span id is appended
   * @param onSelectSpan called with a span id when a link inside the detail names a span
   * @param offsetOf span id -> its start from the trace's start (ns), or null
   */
  constructor(root, detailUrl, onSelectSpan, offsetOf) {
    this.root = root;
    this.detailUrl = detailUrl;
    this.onSelectSpan = onSelectSpan;
    this.offsetOf = offsetOf;
    this.controller = null;
    this.shown = null;
    this.load = debounce((spanId) => this._load(spanId), 60);
    root.addEventListener("input", (event) => {
      if (event.target.classList.contains("attr-filter")) this._filterAttributes(event.target);
    });
    root.addEventListener("click", (event) => {
      const target = event.target.closest("[data-select-span]");
      if (target) this.onSelectSpan(target.dataset.selectSpan);
    });
  }

  /** Show span `spanId` (debounced: holding an arrow key does not fetch every span). */
  show(spanId) {
    if (spanId === this.shown) {
      // Back on the span already shown: drop any load still pending for another one.
      this.load.cancel();
      if (this.controller) this.controller.abort();
      this.controller = null;
      this.root.removeAttribute("aria-busy");
      return;
    }
    this.root.setAttribute("aria-busy", "true");
    this.load(spanId);
  }

  async _load(spanId) {
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    let html;
    try {
      const response = await fetch(this.detailUrl + encodeURIComponent(spanId), {
        signal: controller.signal,
        headers: { Accept: "text/html" },
      });
      if (!response.ok && !(response.headers.get("content-type") || "").startsWith("text/html")) {
        throw new Error(await errorMessage(response));
      }
      html = await response.text();
    } catch (error) {
      if (error.name === "AbortError") return;
      if (controller === this.controller) this._message(`Could not load the span: ${error.message}`);
      return;
    }
    if (controller !== this.controller) return;
    this.root.innerHTML = html;
    this.root.scrollTop = 0;
    this.root.removeAttribute("aria-busy");
    this.shown = spanId;
    const slot = this.root.querySelector("[data-offset-slot]");
    const offset = this.offsetOf(spanId);
    if (slot && offset !== null) slot.textContent = `starts at +${duration(offset)}`;
  }

  _message(text) {
    const p = document.createElement("p");
    p.className = "detail-error";
    p.textContent = text;
    this.root.replaceChildren(p);
    this.root.removeAttribute("aria-busy");
    this.shown = null;
  }

  _filterAttributes(input) {
    const q = input.value.trim().toLowerCase();
    const section = input.closest(".sd-attributes");
    let shown = 0;
    for (const row of section.querySelectorAll("tr[data-key]")) {
      const hit = !q || row.textContent.toLowerCase().includes(q);
      row.hidden = !hit;
      if (hit) shown++;
    }
    section.querySelector(".attr-none").hidden = shown > 0;
  }
}
