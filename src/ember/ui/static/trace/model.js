// A trace's skeleton (GET /v1/traces/{id}/skeleton, see src/ember/api/trace_routes.py) as a
// navigable tree held in typed arrays: no object per span, so 50,000 spans cost a few MB and a
// few milliseconds.
//
// The tree is kept in preorder (`order`) with each span's subtree size (`size`): the rows on
// screen are then one linear walk that jumps over collapsed subtrees, and expanding or
// collapsing never rebuilds the tree.

const ROLLUP_KINDS = new Set(["LLM", "EMBEDDING"]);
export const MISSING_PARENT = -2;

export class TraceModel {
  constructor(data) {
    const s = data.spans;
    const n = s.span_id.length;
    this.n = n;
    this.traceId = data.trace_id;
    this.projectName = data.project_name;
    this.spanCount = data.span_count;
    this.errorCount = data.error_count;
    this.totalTokens = data.total_tokens;
    this.totalCost = data.cost;
    this.names = data.names;
    this.kinds = data.kinds;
    this.spanId = s.span_id;
    this.nameIdx = Int32Array.from(s.name);
    this.kindIdx = Int32Array.from(s.kind);
    this.start = Float64Array.from(s.start);
    this.duration = Float64Array.from(s.duration);
    this.status = Uint8Array.from(s.status);
    this.parent = Int32Array.from(s.parent);
    this.missingParents = data.missing_parents || {};
    this.tokens = new Float64Array(n);
    this.cost = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = s.tokens[i];
      const c = s.cost[i];
      this.tokens[i] = t === null ? NaN : t;
      this.cost[i] = c === null ? NaN : c;
    }
    this.index = new Map();
    for (let i = 0; i < n; i++) this.index.set(this.spanId[i], i);
    let end = 1;
    for (let i = 0; i < n; i++) end = Math.max(end, this.start[i] + this.duration[i]);
    this.traceDuration = end;
    this._buildTree();
    this.expanded = new Uint8Array(n).fill(1);
    this.visible = new Int32Array(n);
    this.visibleCount = 0;
    this.rowOf = new Int32Array(n);
    this.computeVisible();
  }

  _buildTree() {
    const n = this.n;
    const parent = this.parent;
    // Children lists, built backwards so each keeps start order (rows come sorted by start).
    const firstChild = new Int32Array(n).fill(-1);
    const nextSibling = new Int32Array(n).fill(-1);
    for (let i = n - 1; i >= 0; i--) {
      const p = parent[i];
      if (p >= 0 && p !== i) {
        nextSibling[i] = firstChild[p];
        firstChild[p] = i;
      }
    }
    this.order = new Int32Array(n);
    this.pre = new Int32Array(n);
    this.depth = new Int32Array(n);
    this.treeParent = new Int32Array(n).fill(-1);
    this.size = new Int32Array(n).fill(1);
    // "parent missing": the parent never arrived, or the parent links loop (broken data).
    this.orphan = new Uint8Array(n);
    const visited = new Uint8Array(n);
    let position = 0;
    const stack = [];
    const children = [];
    const walk = (root) => {
      stack.push(root);
      while (stack.length) {
        const node = stack.pop();
        if (visited[node]) continue;
        visited[node] = 1;
        this.order[position] = node;
        this.pre[node] = position++;
        children.length = 0;
        for (let c = firstChild[node]; c !== -1; c = nextSibling[c]) {
          if (!visited[c]) children.push(c);
        }
        for (let k = children.length - 1; k >= 0; k--) {
          const c = children[k];
          this.treeParent[c] = node;
          this.depth[c] = this.depth[node] + 1;
          stack.push(c);
        }
      }
    };
    for (let i = 0; i < n; i++) {
      if (parent[i] < 0) {
        if (parent[i] === MISSING_PARENT) this.orphan[i] = 1;
        walk(i);
      }
    }
    for (let i = 0; i < n; i++) {
      if (!visited[i]) {
        this.orphan[i] = 1;
        this.depth[i] = 0;
        walk(i);
      }
    }
    this.orphanCount = this.orphan.reduce((sum, v) => sum + v, 0);
    // Subtree sizes and roll-ups (tokens and cost of LLM and EMBEDDING spans only: agent and
    // chain spans may repeat their children's totals), children before parents.
    this.subTokens = new Float64Array(n);
    this.subCost = new Float64Array(n);
    for (let k = n - 1; k >= 0; k--) {
      const node = this.order[k];
      if (ROLLUP_KINDS.has(this.kinds[this.kindIdx[node]])) {
        if (!Number.isNaN(this.tokens[node])) this.subTokens[node] += this.tokens[node];
        if (!Number.isNaN(this.cost[node])) this.subCost[node] += this.cost[node];
      }
      const p = this.treeParent[node];
      if (p >= 0) {
        this.size[p] += this.size[node];
        this.subTokens[p] += this.subTokens[node];
        this.subCost[p] += this.subCost[node];
      }
    }
  }

  name(node) { return this.names[this.nameIdx[node]]; }
  kind(node) { return this.kinds[this.kindIdx[node]]; }
  hasChildren(node) { return this.size[node] > 1; }
  isRollupKind(node) { return ROLLUP_KINDS.has(this.kind(node)); }
  missingParentId(node) { return this.missingParents[String(node)] || null; }

  /** The rows on screen: a preorder walk that skips collapsed subtrees. */
  computeVisible() {
    const { order, size, expanded, visible, rowOf } = this;
    rowOf.fill(-1);
    let count = 0;
    for (let pos = 0; pos < this.n;) {
      const node = order[pos];
      rowOf[node] = count;
      visible[count++] = node;
      pos += expanded[node] ? 1 : size[node];
    }
    this.visibleCount = count;
  }

  toggle(node) {
    if (!this.hasChildren(node)) return;
    this.expanded[node] ^= 1;
    this.computeVisible();
  }

  setExpanded(node, open) {
    if (!this.hasChildren(node) || this.expanded[node] === (open ? 1 : 0)) return;
    this.expanded[node] = open ? 1 : 0;
    this.computeVisible();
  }

  expandAll() {
    this.expanded.fill(1);
    this.computeVisible();
  }

  collapseAll() {
    this.expanded.fill(0);
    this.computeVisible();
  }

  /** Expand every ancestor of `node`, so it has a row. */
  reveal(node) {
    let changed = false;
    for (let p = this.treeParent[node]; p >= 0; p = this.treeParent[p]) {
      if (!this.expanded[p]) {
        this.expanded[p] = 1;
        changed = true;
      }
    }
    if (changed) this.computeVisible();
  }

  /** Spans whose name contains `text`, whose kind is `text` or whose id starts with it. */
  localMatches(text) {
    const q = text.toLowerCase();
    const nameHit = this.names.map((name) => name.toLowerCase().includes(q));
    const kindHit = this.kinds.map((kind) => kind.toLowerCase() === q);
    // An id prefix needs a few digits: one hex digit would match a sixteenth of the spans.
    const byId = q.length >= 4;
    const hits = [];
    for (let i = 0; i < this.n; i++) {
      if (nameHit[this.nameIdx[i]] || kindHit[this.kindIdx[i]]
          || (byId && this.spanId[i].startsWith(q))) {
        hits.push(i);
      }
    }
    return hits;
  }
}
