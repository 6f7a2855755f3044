// Search inside the trace: names, kinds and id prefixes are matched here from the skeleton at
// once; the text of attributes, events and logs is matched by the server
// (GET /v1/traces/{id}/search), whose hits are merged in when they arrive.

import { count, debounce, errorMessage } from "../lib/format.js";

const SERVER_MIN_CHARS = 2;

export class Search {
  /**
   * @param input the search box; @param status element for "3 of 12"
   * @param model a TraceModel; @param searchUrl the server route
   * @param onChange called with no argument when the matches changed
   */
  constructor(input, status, model, searchUrl, onChange) {
    this.input = input;
    this.status = status;
    this.model = model;
    this.searchUrl = searchUrl;
    this.onChange = onChange;
    this.query = "";
    this.flags = null; // Uint8Array: 1 for a matching span, or null when not searching
    this.list = []; // matching spans in tree order
    this.position = -1;
    this.controller = null;
    this.serverNote = "";
    this.runLocal = debounce(() => this._local(), 100);
    this.runServer = debounce(() => this._server(), 300);
    input.addEventListener("input", () => {
      this.runLocal();
      this.runServer();
    });
  }

  /** The current match (a span index), or -1. */
  get current() {
    return this.position >= 0 ? this.list[this.position] : -1;
  }

  clear() {
    this.input.value = "";
    this.runLocal.cancel();
    this.runServer.cancel();
    this._set("", []);
  }

  _local() {
    const q = this.input.value.trim();
    this._set(q, q ? this.model.localMatches(q) : []);
  }

  async _server() {
    const q = this.input.value.trim();
    if (this.controller) this.controller.abort();
    if (q.length < SERVER_MIN_CHARS) {
      this.serverNote = "";
      this._showStatus();
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.serverNote = " (searching text…)";
    this._showStatus();
    let ids;
    try {
      const url = `${this.searchUrl}?q=${encodeURIComponent(q)}`;
      const response = await fetch(url, { signal: controller.signal });
      if (!response.ok) throw new Error(await errorMessage(response));
      const body = await response.json();
      ids = body.data.span_ids;
      this.serverNote = body.data.truncated ? " (text matches cut short)" : "";
    } catch (error) {
      if (error.name === "AbortError") return;
      this.serverNote = ` (text search failed: ${error.message})`;
      this._showStatus();
      return;
    }
    if (controller !== this.controller || q !== this.query) return;
    const merged = new Set(this.list);
    for (const id of ids) {
      const node = this.model.index.get(id);
      if (node !== undefined) merged.add(node);
    }
    this._set(q, [...merged], true);
  }

  _set(query, nodes, keepPosition = false) {
    const previous = this.current;
    this.query = query;
    const pre = this.model.pre;
    this.list = nodes.sort((a, b) => pre[a] - pre[b]);
    if (!query) {
      this.flags = null;
      this.serverNote = "";
    } else {
      this.flags = new Uint8Array(this.model.n);
      for (const node of this.list) this.flags[node] = 1;
    }
    const kept = keepPosition ? this.list.indexOf(previous) : -1;
    this.position = kept >= 0 ? kept : (this.list.length ? 0 : -1);
    this._showStatus();
    this.onChange(!keepPosition || kept < 0);
  }

  _showStatus() {
    if (!this.query) {
      this.status.textContent = "";
    } else if (!this.list.length) {
      this.status.textContent = "no match" + this.serverNote;
    } else {
      this.status.textContent =
        `${count(this.position + 1)} of ${count(this.list.length)}${this.serverNote}`;
    }
  }

  /** Move to the next (or previous) match; returns its span index or -1. */
  step(forward = true) {
    if (!this.list.length) return -1;
    const n = this.list.length;
    this.position = (this.position + (forward ? 1 : n - 1)) % n;
    this._showStatus();
    return this.current;
  }
}
