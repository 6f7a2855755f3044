// The columns of the project page's tables. Each column says how to read its cell from a row
// of the REST listing and, for numeric and time columns, which API sort key orders by it.
// Cells are filled with textContent only: every value may have been written by an LLM.

import { count, duration, usd } from "../lib/format.js";

const MAX_PREVIEW = 160;

function preview(text) {
  if (text === null || text === undefined) return "";
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > MAX_PREVIEW ? `${flat.slice(0, MAX_PREVIEW - 1)}…` : flat;
}

function time(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/\.\d+/, "").replace(/\+00:00$/, " UTC");
}

function cost(value) {
  return value && value.total !== null && value.total !== undefined ? usd(value.total) : "";
}

const ms = (value) => (value === null || value === undefined ? "" : duration(value * 1e6));

// kind: "status" | "kind" | "text" | "num" | "link" draw the cell differently (table.js).
const STATUS = { key: "status", label: "Status", kind: "status" };

export const COLUMNS = {
  traces: [
    { ...STATUS, value: (r) => (r.error_count > 0 ? "ERROR" : "OK") },
    { key: "kind", label: "Kind", kind: "kind", value: (r) => r.root_span_kind || "" },
    { key: "name", label: "Name", kind: "link", value: (r) => r.root_span_name || r.trace_id },
    { key: "input", label: "Input", kind: "text", value: (r) => preview(r.input_preview) },
    { key: "output", label: "Output", kind: "text", value: (r) => preview(r.output_preview) },
    { key: "start_time", label: "Start time", kind: "time", sort: "start_time", value: (r) => time(r.start_time) },
    { key: "latency", label: "Latency", kind: "num", sort: "latency_ms", value: (r) => ms(r.latency_ms) },
    { key: "spans", label: "Spans", kind: "num", sort: "span_count", value: (r) => count(r.span_count) },
    { key: "tokens", label: "Tokens", kind: "num", sort: "total_tokens", value: (r) => (r.token_count_total ? count(r.token_count_total) : "") },
    { key: "cost", label: "Cost", kind: "num", sort: "cost", value: (r) => cost(r.cost) },
    { key: "user", label: "User", kind: "text", value: (r) => r.user_id || "" },
    { key: "session", label: "Session", kind: "text", value: (r) => r.session_id || "" },
  ],
  spans: [
    { ...STATUS, value: (r) => r.status_code },
    { key: "kind", label: "Kind", kind: "kind", value: (r) => r.span_kind || "" },
    { key: "name", label: "Name", kind: "link", value: (r) => r.name },
    { key: "input", label: "Input", kind: "text", value: (r) => preview(r.input_preview) },
    { key: "output", label: "Output", kind: "text", value: (r) => preview(r.output_preview) },
    { key: "start_time", label: "Start time", kind: "time", sort: "start_time", value: (r) => time(r.start_time) },
    { key: "latency", label: "Latency", kind: "num", sort: "latency_ms", value: (r) => ms(r.latency_ms) },
    { key: "tokens", label: "Tokens", kind: "num", sort: "total_tokens", value: (r) => (r.token_count_total === null ? "" : count(r.token_count_total)) },
    { key: "cost", label: "Cost", kind: "num", sort: "cost", value: (r) => cost(r.cost) },
    { key: "model", label: "Model", kind: "text", value: (r) => r.model_name || "" },
    { key: "user", label: "User", kind: "text", value: (r) => r.user_id || "" },
    { key: "session", label: "Session", kind: "text", value: (r) => r.session_id || "" },
  ],
  sessions: [
    { key: "name", label: "Session", kind: "link", value: (r) => r.session_id },
    { key: "input", label: "First input", kind: "text", value: (r) => preview(r.first_input) },
    { key: "output", label: "Last output", kind: "text", value: (r) => preview(r.last_output) },
    { key: "start_time", label: "Start time", kind: "time", sort: "start_time", value: (r) => time(r.start_time) },
    { key: "traces", label: "Traces", kind: "num", sort: "trace_count", value: (r) => count(r.trace_count) },
    { key: "latency", label: "Duration", kind: "num", sort: "latency_ms", value: (r) => duration(r.end_time_unix_nano - r.start_time_unix_nano) },
    // Percentiles of the session's trace latencies, ranked when the page is read: no sort key.
    { key: "p50", label: "p50", kind: "num", value: (r) => ms(r.latency_ms_p50) },
    { key: "p99", label: "p99", kind: "num", value: (r) => ms(r.latency_ms_p99) },
    { key: "tokens", label: "Tokens", kind: "num", sort: "total_tokens", value: (r) => (r.token_count_total ? count(r.token_count_total) : "") },
    { key: "cost", label: "Cost", kind: "num", sort: "cost", value: (r) => cost(r.cost) },
    { key: "errors", label: "Errors", kind: "num", sort: "error_count", value: (r) => (r.error_count ? count(r.error_count) : "") },
    { key: "user", label: "User", kind: "text", value: (r) => r.user_id || "" },
  ],
};

/** Whether the tab's rows can carry annotations (the listing's `include_annotations`). */
export function annotated(tab) {
  return tab === "traces" || tab === "spans";
}

/** The text of one annotation in a cell: its label, else its score. */
function annotationText(note) {
  if (note.label !== null && note.label !== undefined && note.label !== "") return String(note.label);
  if (note.score === null || note.score === undefined) return "";
  return String(Number(note.score.toFixed(3))); // 0.5, 0.833, 1
}

/** The annotation columns' cells of a row: {name: {text, title}}, several annotations of one
 * name (other identifiers) joined in their order. */
export function annotationCells(row) {
  const cells = new Map();
  for (const note of row.annotations || []) {
    const cell = cells.get(note.name) || { texts: [], titles: [] };
    cell.texts.push(annotationText(note));
    const parts = [note.annotator_kind, note.identifier ? `identifier ${note.identifier}` : ""];
    if (note.label && note.score !== null && note.score !== undefined) parts.push(`score ${note.score}`);
    cell.titles.push(`${note.name}: ${parts.filter(Boolean).join(", ")}`);
    cells.set(note.name, cell);
  }
  return new Map(
    [...cells].map(([name, cell]) => [name, { text: cell.texts.filter(Boolean).join(", "), title: cell.titles.join("\n") }]),
  );
}

/** The page (trace view, session page) a row opens. */
export function rowLink(tab, row, pageBase) {
  if (tab === "sessions") return `${pageBase}/sessions/${encodeURIComponent(row.session_id)}`;
  const traceId = tab === "spans" ? row.context.trace_id : row.trace_id;
  const link = `${pageBase}/traces/${traceId}`;
  return tab === "spans" ? `${link}?span=${row.context.span_id}` : link;
}

/** A row's stable identity (to merge live updates without duplicates). */
export function rowId(row) {
  return row.id;
}
