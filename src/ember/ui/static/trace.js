// The trace page (templates/trace.html): loads the trace's skeleton, draws the tree and the
// timeline, and wires selection, the shareable link (?span=), search and the keyboard.
// Page data comes from data- attributes of #trace-view; nothing is inlined in the page.

import { count, duration, errorMessage, usd } from "./lib/format.js";
import { DetailPane } from "./trace/detail.js";
import { TraceModel } from "./trace/model.js";
import { drawAxis, TreeView } from "./trace/rows.js";
import { Search } from "./trace/search.js";

const root = document.getElementById("trace-view");
const config = root.dataset;
const scroll = document.getElementById("tv-scroll");
const summary = document.getElementById("tv-summary");

function describe(model) {
  const parts = [
    model.n ? model.name(model.order[0]) : "empty trace",
    `${count(model.n)} spans`,
    duration(model.traceDuration),
  ];
  if (model.totalTokens) parts.push(`${count(model.totalTokens)} tokens`);
  if (model.totalCost) parts.push(usd(model.totalCost));
  if (model.errorCount) parts.push(`${count(model.errorCount)} errors`);
  if (model.orphanCount) parts.push(`${count(model.orphanCount)} with a missing parent`);
  return parts.join(" · ");
}

function start(model) {
  const state = { selected: -1, matches: null, current: -1 };
  const view = new TreeView(scroll, document.getElementById("tv-spacer"), model, state);
  drawAxis(document.getElementById("tv-axis"), model.traceDuration);
  summary.textContent = describe(model);
  view.render();
  root.dataset.state = "ready";
  // Marks for bench/trace_view.py: rows in the DOM, then painted (the frame after).
  performance.mark("ember:tree-ready");
  requestAnimationFrame(() => setTimeout(() => performance.mark("ember:tree-painted")));

  const detail = new DetailPane(
    document.getElementById("tv-detail"),
    config.detailUrl,
    (spanId) => {
      const node = model.index.get(spanId);
      if (node !== undefined) select(node, { center: true });
    },
    (spanId) => {
      const node = model.index.get(spanId);
      return node === undefined ? null : model.start[node];
    },
  );

  function select(node, { center = false, updateUrl = true } = {}) {
    if (node < 0 || node >= model.n) return;
    model.reveal(node);
    state.selected = node;
    view.scrollToRow(model.rowOf[node], center);
    view.schedule(true);
    const spanId = model.spanId[node];
    detail.show(spanId);
    if (updateUrl) {
      history.replaceState(null, "", `${config.pageUrl}?span=${encodeURIComponent(spanId)}`);
    }
  }

  function selectRow(r) {
    if (!model.visibleCount) return;
    select(model.visible[Math.max(0, Math.min(model.visibleCount - 1, r))]);
  }

  /** After collapsing, keep the selection on a row that is still shown. */
  function keepSelectionVisible() {
    let node = state.selected;
    while (node >= 0 && model.rowOf[node] < 0) node = model.treeParent[node];
    if (node >= 0 && node !== state.selected) select(node);
    view.schedule(true);
  }

  function toggle(node) {
    model.toggle(node);
    keepSelectionVisible();
  }

  scroll.addEventListener("click", (event) => {
    const row = event.target.closest(".tv-row");
    if (!row) return;
    const node = Number(row.dataset.node);
    scroll.focus({ preventScroll: true });
    if (event.target.closest(".tv-toggle")) toggle(node);
    else select(node);
  });
  scroll.addEventListener("dblclick", (event) => {
    const row = event.target.closest(".tv-row");
    if (row && !event.target.closest(".tv-toggle")) toggle(Number(row.dataset.node));
  });

  scroll.addEventListener("keydown", (event) => {
    const node = state.selected;
    const row = node >= 0 ? model.rowOf[node] : -1;
    switch (event.key) {
      case "ArrowDown": selectRow(row + 1); break;
      case "ArrowUp": selectRow(row < 0 ? 0 : row - 1); break;
      case "PageDown": selectRow(row + view.pageRows()); break;
      case "PageUp": selectRow(row - view.pageRows()); break;
      case "Home": selectRow(0); break;
      case "End": selectRow(model.visibleCount - 1); break;
      case "ArrowRight":
        if (node < 0) break;
        if (model.hasChildren(node) && !model.expanded[node]) {
          model.setExpanded(node, true);
          view.schedule(true);
        } else if (model.hasChildren(node)) {
          select(model.order[model.pre[node] + 1]);
        }
        break;
      case "ArrowLeft":
        if (node < 0) break;
        if (model.hasChildren(node) && model.expanded[node]) {
          model.setExpanded(node, false);
          view.schedule(true);
        } else if (model.treeParent[node] >= 0) {
          select(model.treeParent[node]);
        }
        break;
      case "Enter":
      case " ":
        if (node >= 0) toggle(node);
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.getElementById("tv-expand-all").addEventListener("click", () => {
    model.expandAll();
    if (state.selected >= 0) view.scrollToRow(model.rowOf[state.selected], true);
    view.schedule(true);
  });
  document.getElementById("tv-collapse-all").addEventListener("click", () => {
    model.collapseAll();
    keepSelectionVisible();
  });

  const input = document.getElementById("tv-search");
  const search = new Search(
    input, document.getElementById("tv-search-count"), model, config.searchUrl,
    (moved) => {
      state.matches = search.flags;
      state.current = search.current;
      if (moved && search.current >= 0) select(search.current, { center: true });
      view.schedule(true);
    },
  );
  const step = (forward) => {
    const node = search.step(forward);
    state.current = node;
    if (node >= 0) select(node, { center: true });
    view.schedule(true);
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      step(!event.shiftKey);
    } else if (event.key === "Escape") {
      search.clear();
      scroll.focus({ preventScroll: true });
    }
  });
  document.getElementById("tv-next").addEventListener("click", () => step(true));
  document.getElementById("tv-prev").addEventListener("click", () => step(false));
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });

  const wanted = config.selected;
  if (wanted) {
    const node = model.index.get(wanted);
    if (node === undefined) {
      summary.textContent += ` · span ${wanted} is not in this trace`;
    } else {
      select(node, { center: true, updateUrl: false });
    }
  } else if (model.n) {
    select(model.order[0], { updateUrl: false });
  }
}

async function main() {
  let response;
  try {
    // The same request as the page's <link rel="preload">, so the preloaded response is used.
    response = await fetch(config.skeletonUrl);
  } catch (error) {
    summary.textContent = `Could not load the trace: ${error.message}`;
    root.dataset.state = "error";
    return;
  }
  if (!response.ok) {
    summary.textContent = `Could not load the trace: ${await errorMessage(response)}`;
    root.dataset.state = "error";
    return;
  }
  const body = await response.json();
  performance.mark("ember:skeleton-parsed");
  const model = new TraceModel(body.data);
  performance.mark("ember:model-built");
  start(model);
}

main();
