// The tree and the timeline, drawn together row by row (one scroll for both, so they always
// line up), and only the rows on screen: a pool of a few dozen row elements is moved and
// refilled as the list scrolls. Text goes in with textContent only; positions and widths are
// set through the CSSOM (element.style), which the Content-Security-Policy allows.

import { count, duration, usd } from "../lib/format.js";

export const ROW_HEIGHT = 26; // px; the same as --row-height in ember.css
const OVERSCAN = 10;
const INDENT = 14; // px per level

const KNOWN_KINDS = new Set([
  "LLM", "CHAIN", "RETRIEVER", "RERANKER", "EMBEDDING", "TOOL", "AGENT", "GUARDRAIL",
  "EVALUATOR", "PROMPT", "UNKNOWN",
]);

function el(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

export class TreeView {
  /**
   * @param scroll the scrolling element (role=tree); @param spacer its tall child
   * @param model a TraceModel; @param state {selected, matches (Uint8Array), current}
   */
  constructor(scroll, spacer, model, state) {
    this.scroll = scroll;
    this.spacer = spacer;
    this.model = model;
    this.state = state;
    this.pool = [];
    this.frame = 0;
    this.revision = 0;
    this.onScroll = () => this.schedule();
    scroll.addEventListener("scroll", this.onScroll, { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroll);
  }

  /** Redraw on the next frame; `changed` when rows' contents (not only positions) changed. */
  schedule(changed = false) {
    if (changed) this.revision++;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draw now (also used for the first paint, so it is measurable). */
  render() {
    const { model, scroll } = this;
    this.spacer.style.height = `${model.visibleCount * ROW_HEIGHT}px`;
    scroll.dataset.rows = String(model.visibleCount);
    const top = scroll.scrollTop;
    const height = scroll.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(model.visibleCount, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const needed = last - first;
    while (this.pool.length < needed) this.pool.push(this._makeRow());
    for (let k = 0; k < this.pool.length; k++) {
      const row = this.pool[k];
      if (k >= needed) {
        row.root.hidden = true;
        row.root.removeAttribute("data-span-id");
        row.node = -1;
        row.row = -1;
        continue;
      }
      const r = first + k;
      const node = model.visible[r];
      row.root.hidden = false;
      if (row.row !== r) {
        row.row = r;
        row.root.dataset.row = String(r);
        row.root.style.transform = `translateY(${r * ROW_HEIGHT}px)`;
      }
      if (row.node !== node || row.revision !== this.revision) this._fill(row, node);
    }
    const selectedRow = this.state.selected >= 0 ? model.rowOf[this.state.selected] : -1;
    if (selectedRow >= first && selectedRow < last) {
      scroll.setAttribute("aria-activedescendant", "tv-selected");
    } else {
      scroll.removeAttribute("aria-activedescendant");
    }
  }

  _makeRow() {
    const root = el("div", "tv-row");
    root.setAttribute("role", "treeitem");
    const tree = el("div", "tv-tree");
    const toggle = el("span", "tv-toggle");
    toggle.setAttribute("aria-hidden", "true");
    const badge = el("span", "kind-badge");
    const name = el("span", "tv-name");
    const flag = el("span", "tv-flag");
    const metrics = el("span", "tv-metrics");
    const latency = el("span", "tv-latency");
    const tokens = el("span", "tv-tokens");
    const cost = el("span", "tv-cost");
    metrics.append(latency, tokens, cost);
    tree.append(toggle, badge, name, flag, metrics);
    const time = el("div", "tv-time");
    const bar = el("div", "tv-bar");
    time.append(bar);
    root.append(tree, time);
    this.spacer.append(root);
    return { root, tree, toggle, badge, name, flag, latency, tokens, cost, bar, node: -1, row: -1,
      revision: -1 };
  }

  _fill(row, node) {
    const { model, state } = this;
    row.node = node;
    row.revision = this.revision;
    const kind = model.kind(node);
    const hasChildren = model.hasChildren(node);
    const open = model.expanded[node] === 1;
    const root = row.root;
    root.dataset.node = String(node);
    root.dataset.spanId = model.spanId[node];
    root.dataset.kind = KNOWN_KINDS.has(kind) ? kind : "OTHER";
    root.setAttribute("aria-level", String(model.depth[node] + 1));
    if (hasChildren) root.setAttribute("aria-expanded", open ? "true" : "false");
    else root.removeAttribute("aria-expanded");
    const selected = node === state.selected;
    root.setAttribute("aria-selected", selected ? "true" : "false");
    if (selected) root.id = "tv-selected";
    else if (root.id) root.removeAttribute("id");
    root.classList.toggle("is-selected", selected);
    root.classList.toggle("is-match", state.matches !== null && state.matches[node] === 1);
    root.classList.toggle("is-current-match", node === state.current);
    root.classList.toggle("is-error", model.status[node] === 2);
    row.tree.style.paddingLeft = `${4 + model.depth[node] * INDENT}px`;
    row.toggle.textContent = hasChildren ? (open ? "▾" : "▸") : "";
    row.toggle.classList.toggle("has-children", hasChildren);
    row.badge.textContent = kind;
    row.badge.dataset.kind = root.dataset.kind;
    row.name.textContent = model.name(node);
    row.name.title = model.name(node);
    if (model.orphan[node]) {
      row.flag.textContent = "parent missing";
      const missing = model.missingParentId(node);
      row.flag.title = missing
        ? `Its parent span ${missing} never arrived`
        : "Its parent links loop back to it";
      row.flag.hidden = false;
    } else {
      row.flag.hidden = true;
    }
    row.latency.textContent = duration(model.duration[node]);
    // LLM and embedding spans show their own tokens and cost; others the sum below them.
    const own = model.isRollupKind(node);
    const tokens = own ? model.tokens[node] : model.subTokens[node];
    const cost = own ? model.cost[node] : model.subCost[node];
    row.tokens.textContent = tokens > 0 ? `${count(tokens)} tok` : "";
    row.cost.textContent = cost > 0 ? usd(cost) : "";
    row.tokens.classList.toggle("is-sum", !own);
    row.cost.classList.toggle("is-sum", !own);
    const span = model.traceDuration;
    row.bar.style.left = `${(model.start[node] / span) * 100}%`;
    row.bar.style.width = `${(model.duration[node] / span) * 100}%`;
    row.bar.dataset.kind = root.dataset.kind;
    row.bar.title = `${model.name(node)}: ${duration(model.duration[node])}, `
      + `starts at +${duration(model.start[node])}`;
  }

  /** Scroll so row `r` is on screen (centred when `center`). */
  scrollToRow(r, center = false) {
    const { scroll } = this;
    // The list may just have grown (a subtree expanded): size it before scrolling into it.
    this.spacer.style.height = `${this.model.visibleCount * ROW_HEIGHT}px`;
    const top = r * ROW_HEIGHT;
    const height = scroll.clientHeight;
    if (center) {
      scroll.scrollTop = Math.max(0, top - (height - ROW_HEIGHT) / 2);
    } else if (top < scroll.scrollTop) {
      scroll.scrollTop = top;
    } else if (top + ROW_HEIGHT > scroll.scrollTop + height) {
      scroll.scrollTop = top + ROW_HEIGHT - height;
    }
  }

  /** Rows that fit on one screen (PageUp/PageDown). */
  pageRows() {
    return Math.max(1, Math.floor(this.scroll.clientHeight / ROW_HEIGHT) - 1);
  }
}

/** Tick labels over the timeline: 0, a quarter, a half and three quarters of the trace. */
export function drawAxis(axis, traceDuration) {
  axis.textContent = "";
  for (let k = 0; k < 4; k++) {
    const tick = el("span", "tv-tick");
    tick.style.left = `${k * 25}%`;
    tick.textContent = duration((traceDuration * k) / 4);
    axis.append(tick);
  }
}
