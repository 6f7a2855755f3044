// The project page's tables (templates/project.html): Traces, Spans or Sessions, read from the
// REST listings with the filter, sort, time range and cursor the URL holds. Everything the page
// shows is in its URL (history.replaceState), so a view can be shared.
//
// - "Load more" follows next_cursor and appends; a short page that still has a cursor (the
//   filter's scan budget ran out, store/search.py) keeps offering more, never dropping rows.
// - A bad filter's 400 is shown under the bar with the offending part marked (filterbar.js).
// - Traces and spans are asked for with include_annotations=true: the table shows a column per
//   annotation name on the rows loaded (project/table.js).
// - Live mode polls a one-row probe (the newest trace, or span) every LIVE_MS and fetches the
//   table's first page only when the probe's answer changed: one indexed row when idle.

import { errorMessage } from "./lib/format.js";
import { rangeTimes } from "./lib/timerange.js";
import { annotated } from "./project/columns.js";
import { FilterBar } from "./project/filterbar.js";
import { Table } from "./project/table.js";

const PAGE = 50;
const LIVE_MS = 2000;
const NOUN = { traces: "traces", spans: "spans", sessions: "sessions" };

const root = document.getElementById("project-page");
const { tab, apiBase, pageBase } = root.dataset;
const params = new URLSearchParams(window.location.search);
const input = document.getElementById("filter-input");
const more = document.getElementById("more");
const status = document.getElementById("page-status");
const tableEl = document.getElementById("rows");
const liveToggle = document.getElementById("live-toggle");
const liveStatus = document.getElementById("live-status");
const rootsOnly = document.getElementById("roots-only");
const filterBar = new FilterBar(
  input,
  document.getElementById("filter-error"),
  document.getElementById("filter-echo"),
  document.getElementById("filter-message"),
);

const state = {
  filter: params.get("filter") || "",
  sort: params.get("sort") || "start_time",
  order: params.get("order") === "asc" ? "asc" : "desc",
  roots: params.get("roots") === "1",
  live: params.get("live") === "1",
  cursor: null,
  generation: 0,
};

const table = new Table({
  table: tableEl,
  head: document.getElementById("rows-head"),
  body: document.getElementById("rows-body"),
  tab,
  pageBase,
  onSort: (sort, order) => {
    state.sort = sort;
    state.order = order;
    table.drawHead(sort, order);
    reload();
  },
});

function syncUrl() {
  const url = new URL(window.location.href);
  const set = (name, value, fallback) => {
    if (value && value !== fallback) url.searchParams.set(name, value);
    else url.searchParams.delete(name);
  };
  url.searchParams.set("tab", tab);
  set("filter", state.filter, "");
  set("sort", state.sort, "start_time");
  set("order", state.order, "desc");
  set("roots", state.roots ? "1" : "", "");
  set("live", state.live ? "1" : "", "");
  window.history.replaceState(null, "", url);
  // Tab links keep the time range and live mode; the filter belongs to one tab's language.
  for (const link of document.querySelectorAll(".tabs a.tab")) {
    const target = new URL(link.href);
    for (const name of ["range", "from", "to", "live"]) {
      const value = url.searchParams.get(name);
      if (value) target.searchParams.set(name, value);
      else target.searchParams.delete(name);
    }
    link.href = target.toString();
  }
}

// Every listing (traces, spans, sessions) takes the range as start_time/end_time on the rows'
// start times, and the user's filter text as it is (so a 400's positions are on that text).
function listingUrl(cursor, limit = PAGE) {
  const url = new URL(`${apiBase}/${tab}`, window.location.origin);
  const q = url.searchParams;
  const times = rangeTimes(new URLSearchParams(window.location.search));
  q.set("limit", String(limit));
  q.set("sort", state.sort);
  q.set("order", state.order);
  if (state.filter.trim()) q.set("filter", state.filter);
  if (times.start) q.set("start_time", times.start);
  if (times.end) q.set("end_time", times.end);
  if (annotated(tab)) q.set("include_annotations", "true");
  if (tab === "spans") {
    q.set("fields", "table");
    if (state.roots) q.set("parent_id", "null");
  }
  if (cursor) q.set("cursor", cursor);
  return url.pathname + url.search;
}

async function fetchPage(cursor, limit) {
  const url = listingUrl(cursor, limit);
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (response.ok) return { body: await response.json() };
  let error = null;
  try {
    error = (await response.clone().json()).error;
  } catch (_) {
    // not JSON
  }
  return { error: error || { message: await errorMessage(response) }, status: response.status };
}

function describe(added, body) {
  const noun = NOUN[tab];
  if (body.next_cursor) {
    more.hidden = false;
    const short = added < PAGE;
    status.textContent = short
      ? `${table.size} ${noun} shown; the filter has more ${noun} to search: load more to continue.`
      : `${table.size} ${noun} shown.`;
  } else {
    more.hidden = true;
    status.textContent = table.size ? `All ${table.size} ${noun} shown.` : `No ${noun} match.`;
  }
}

async function load(reset) {
  const generation = reset ? ++state.generation : state.generation;
  if (reset) state.cursor = null;
  tableEl.setAttribute("aria-busy", "true");
  more.disabled = true;
  const result = await fetchPage(reset ? null : state.cursor);
  if (generation !== state.generation) return; // a newer request replaced this one
  more.disabled = false;
  tableEl.setAttribute("aria-busy", "false");
  if (reset) table.clear();
  if (result.error) {
    more.hidden = true;
    if (result.status === 400 && result.error.code === "bad_filter") {
      filterBar.show(state.filter, result.error);
      status.textContent = "Fix the filter to see rows.";
    } else {
      status.textContent = result.error.message;
    }
    root.dataset.state = "error";
    return;
  }
  filterBar.clear();
  const added = table.add(result.body.data);
  state.cursor = result.body.next_cursor;
  describe(added, result.body);
  root.dataset.state = "ready";
}

function reload() {
  syncUrl();
  return load(true);
}

// ---- filter bar, switches, time range
input.value = state.filter;
document.getElementById("filter-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.filter = input.value;
  reload();
});
document.getElementById("filter-clear").addEventListener("click", () => {
  input.value = "";
  state.filter = "";
  reload();
});
if (rootsOnly) {
  rootsOnly.checked = state.roots;
  rootsOnly.addEventListener("change", () => {
    state.roots = rootsOnly.checked;
    reload();
  });
}
more.addEventListener("click", () => load(false));

function setRange(changes) {
  const url = new URL(window.location.href);
  for (const [name, value] of Object.entries(changes)) {
    if (value) url.searchParams.set(name, value);
    else url.searchParams.delete(name);
  }
  window.history.replaceState(null, "", url);
  const picker = document.getElementById("range-picker");
  picker.dataset.range = changes.range;
  for (const link of picker.querySelectorAll("a.range-preset")) {
    link.classList.toggle("is-current", link.dataset.range === changes.range);
  }
  reload();
}
for (const link of document.querySelectorAll("#range-picker a.range-preset")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    setRange({ range: link.dataset.range, from: "", to: "" });
  });
}
document.getElementById("range-custom").addEventListener("submit", (event) => {
  event.preventDefault();
  setRange({
    range: "custom",
    from: document.getElementById("range-from").value,
    to: document.getElementById("range-to").value,
  });
});

// ---- live mode
let liveTimer = 0;
let lastProbe = "";

function probeUrl() {
  return tab === "spans" ? `${apiBase}/spans?limit=1&fields=table` : `${apiBase}/traces?limit=1`;
}

function signature(row) {
  if (!row) return "";
  return tab === "spans" ? row.id : `${row.id}|${row.span_count}|${row.end_time}`;
}

async function refreshFirstPage() {
  const generation = state.generation;
  const result = await fetchPage(null);
  if (generation !== state.generation || result.error) return;
  const rows = result.body.data;
  const newestFirst = state.sort === "start_time" && state.order === "desc";
  const fresh = rows.filter((row) => !table.shown.has(row.id));
  if (!newestFirst || (fresh.length === rows.length && result.body.next_cursor && table.size)) {
    // Another order, or more new rows than a page: a gap would hide rows, so start over.
    await load(true);
    return;
  }
  table.refresh(rows); // a trace that grew since
  const added = table.add(fresh, { prepend: true });
  if (added) liveStatus.textContent = `${added} new · ${new Date().toLocaleTimeString()}`;
  if (!table.size || state.cursor === null) describe(0, { next_cursor: state.cursor });
}

async function poll() {
  if (document.hidden) return;
  try {
    const response = await fetch(probeUrl(), { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const body = await response.json();
    const now = signature(body.data[0]);
    // The first probe after switching on compares with "": anything stored since the table
    // loaded is merged at once.
    if (now !== lastProbe) await refreshFirstPage();
    lastProbe = now;
    root.dataset.liveProbe = now;
  } catch (_) {
    liveStatus.textContent = "live: the server does not answer; retrying";
  }
}

function setLive(on) {
  state.live = on;
  clearInterval(liveTimer);
  liveStatus.textContent = on ? "live" : "";
  root.dataset.live = on ? "on" : "off";
  if (on) {
    lastProbe = "";
    poll();
    liveTimer = setInterval(poll, LIVE_MS);
  }
  syncUrl();
}
liveToggle.checked = state.live;
liveToggle.addEventListener("change", () => setLive(liveToggle.checked));

table.drawHead(state.sort, state.order);
reload();
if (state.live) setLive(true);
