// One listing table of the project page: the header (sortable columns are buttons), rows built
// with textContent only, and the rows already shown (by id) so live updates and "Load more"
// never show a row twice.
//
// Traces and spans also get one column per annotation name found on the rows loaded so far
// (their `annotations`, asked for with include_annotations=true), added as rows arrive: a new
// name appends a header cell and an empty cell to every row already drawn. Annotation names
// and labels are untrusted text, so they only ever go through textContent and dataset.

import { COLUMNS, annotated, annotationCells, rowId, rowLink } from "./columns.js";

export class Table {
  constructor({ table, head, body, tab, pageBase, onSort }) {
    this.table = table;
    this.head = head;
    this.body = body;
    this.tab = tab;
    this.pageBase = pageBase;
    this.columns = COLUMNS[tab];
    this.onSort = onSort;
    this.shown = new Set();
    // Annotation names shown as columns, in the order they first appeared.
    this.notes = annotated(tab) ? [] : null;
    body.addEventListener("click", (event) => this.open(event));
  }

  drawHead(sort, order) {
    const cells = this.columns.map((column) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.dataset.column = column.key;
      if (column.kind === "num" || column.kind === "time") th.classList.add("num");
      if (!column.sort) {
        th.textContent = column.label;
        return th;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.dataset.sort = column.sort;
      const current = column.sort === sort;
      button.textContent = column.label + (current ? (order === "asc" ? " ▲" : " ▼") : "");
      button.title = `Sort by ${column.label.toLowerCase()}`;
      th.setAttribute("aria-sort", current ? (order === "asc" ? "ascending" : "descending") : "none");
      button.addEventListener("click", () => {
        // A new column sorts descending first (the largest, latest); the same one flips.
        this.onSort(column.sort, current && order === "desc" ? "asc" : "desc");
      });
      th.append(button);
      return th;
    });
    const notes = (this.notes || []).map((name) => this.noteHead(name));
    this.head.replaceChildren(...cells, ...notes);
  }

  noteHead(name) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.column = "annotation";
    th.dataset.annotation = name;
    th.title = `Annotation ${name}: its label, or its score when it has no label`;
    th.textContent = name;
    return th;
  }

  noteCell(name, cells) {
    const td = document.createElement("td");
    td.dataset.column = "annotation";
    td.dataset.annotation = name;
    td.classList.add("preview", "annotation");
    const cell = cells.get(name);
    if (cell) {
      td.textContent = cell.text;
      td.title = cell.title;
    }
    return td;
  }

  /** Add a column for each annotation name of `rows` not shown yet (empty on older rows). */
  addNoteColumns(rows) {
    if (!this.notes) return;
    const known = new Set(this.notes);
    const fresh = [];
    for (const row of rows) {
      for (const note of row.annotations || []) {
        if (!known.has(note.name)) {
          known.add(note.name);
          fresh.push(note.name);
        }
      }
    }
    if (!fresh.length) return;
    const none = new Map();
    for (const name of fresh) {
      this.notes.push(name);
      this.head.append(this.noteHead(name));
      for (const tr of this.body.children) tr.append(this.noteCell(name, none));
    }
  }

  clear() {
    this.shown.clear();
    this.body.replaceChildren();
    if (this.notes && this.notes.length) {
      // The next rows decide the annotation columns afresh (another filter, range or sort).
      this.notes = [];
      for (const th of this.head.querySelectorAll("th[data-column=annotation]")) th.remove();
    }
  }

  /** Redraw the rows of `rows` already shown (a trace that grew since, or was annotated). */
  refresh(rows) {
    this.addNoteColumns(rows);
    for (const row of rows) {
      const old = this.body.querySelector(`tr[data-id="${CSS.escape(rowId(row))}"]`);
      if (old) old.replaceWith(this.rowElement(row));
    }
  }

  get size() {
    return this.shown.size;
  }

  /** Add rows at the end (`prepend`: at the top, marked new); returns how many were new. */
  add(rows, { prepend = false } = {}) {
    const fresh = rows.filter((row) => !this.shown.has(rowId(row)));
    this.addNoteColumns(fresh);
    const elements = fresh.map((row) => {
      this.shown.add(rowId(row));
      const tr = this.rowElement(row);
      if (prepend) tr.classList.add("is-new");
      return tr;
    });
    if (prepend) this.body.prepend(...elements);
    else this.body.append(...elements);
    return fresh.length;
  }

  rowElement(row) {
    const tr = document.createElement("tr");
    const link = rowLink(this.tab, row, this.pageBase);
    tr.dataset.id = rowId(row);
    tr.dataset.href = link;
    if (this.tab === "traces") tr.dataset.traceId = row.trace_id;
    if (this.tab === "spans") {
      tr.dataset.traceId = row.context.trace_id;
      tr.dataset.spanId = row.context.span_id;
    }
    if (this.tab === "sessions") tr.dataset.sessionId = row.session_id;
    for (const column of this.columns) {
      const td = document.createElement("td");
      td.dataset.column = column.key;
      const value = column.value(row);
      if (column.kind === "link") {
        const a = document.createElement("a");
        a.href = link;
        a.textContent = value || "(no name)";
        td.append(a);
      } else if (column.kind === "kind") {
        if (value) {
          const badge = document.createElement("span");
          badge.className = "kind-badge";
          badge.dataset.kind = value;
          badge.textContent = value;
          td.append(badge);
        }
      } else if (column.kind === "status") {
        const span = document.createElement("span");
        span.className = "status";
        span.dataset.status = value;
        span.textContent = value === "ERROR" ? "✕ error" : value === "OK" ? "ok" : "unset";
        td.append(span);
      } else {
        td.textContent = value;
        if (column.kind === "num" || column.kind === "time") td.classList.add("num");
        if (column.kind === "text") td.classList.add("preview");
      }
      tr.append(td);
    }
    if (this.notes && this.notes.length) {
      const cells = annotationCells(row);
      for (const name of this.notes) tr.append(this.noteCell(name, cells));
    }
    return tr;
  }

  open(event) {
    if (event.target.closest("a")) return; // the link opens itself (and middle-click works)
    const tr = event.target.closest("tr[data-href]");
    if (!tr || window.getSelection().toString()) return; // selecting text is not a click
    window.location.assign(tr.dataset.href);
  }
}
