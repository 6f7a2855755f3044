"""Trace view benchmark: how fast a big trace opens, on the server and in the browser.

For each `--spans` size (default 1,000, 10,000 and 50,000) it
1. builds one synthetic trace of that many spans, both deep and wide: an AGENT root over many
   sub-agent steps, each a chain nested `--depth` levels deep with an LLM call, a tool call and
   a retrieval at every level, plus one very deep branch; spans carry realistic OpenInference
   attributes (about 1 KB of text each, tokens on LLM spans);
2. sends it to a fresh `ember serve` (temporary working dir, free ports on 127.0.0.1) as OTLP
   protobuf, 2,000 spans per request, each request acknowledged only once durable;
3. measures (a) the skeleton route's server time, `GET /v1/traces/{id}/skeleton`, from its
   Server-Timing header (store read, shaping, JSON encoding, gzip) and as the client sees it;
   (gzip only for clients on another machine: the bench says it is one with X-Forwarded-For);
   (b) in headless Chromium (Playwright, /usr/bin/chromium), the time from navigation start to
   the tree being visible: the page's own `performance` marks (`ember:tree-ready` when the
   first rows are in the DOM, `ember:tree-painted` after the next frame), each trial in a new
   browser context;
4. prints a table and writes the JSON to bench/results/trace-view-*.json.

    .venv/bin/python bench/trace_view.py
    .venv/bin/python bench/trace_view.py --spans 50000 --trials 10

Budget (DESIGN.md section 7): a 50,000-span trace's tree in the browser in under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # sibling scripts, not a package
import run_ingest

BENCH_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
REQUEST_SPANS = 2_000
PROJECT = "bench-trace-view"
MS = 1_000_000  # ns


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


class TraceBuilder:
    """One big trace: deep chains under wide fan-out, in start order with realistic gaps.

    Every span id is taken from `remaining` before its children are made, so the trace has
    exactly the asked number of spans and every parent is in it."""

    def __init__(self, spans: int, depth: int, seed: int) -> None:
        self.remaining = spans
        self.depth = depth
        self.rng = random.Random(seed)
        self.text = loadgen.TextGen(self.rng)
        self.trace_id = self.rng.randbytes(16)
        self.spans: list[Span] = []

    def _take(self) -> bytes | None:
        """A new span id, or None when the trace is full."""
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        return self.rng.randbytes(8)

    def _add(self, span_id: bytes, parent: bytes, name: str, kind: str, start: int, end: int,
             extra: Sequence[tuple[str, str | int]] = (), text: tuple[int, int] = (200, 500),
             failed: bool = False) -> None:
        attributes = [
            _kv("openinference.span.kind", kind),
            _kv("input.value", self.text.chars(*text)),
            _kv("output.value", self.text.chars(*text)),
            *(_kv(k, v) for k, v in extra),
        ]
        self.spans.append(Span(
            trace_id=self.trace_id, span_id=span_id, parent_span_id=parent, name=name,
            kind=Span.SPAN_KIND_INTERNAL, start_time_unix_nano=start, end_time_unix_nano=end,
            attributes=attributes,
            status=Status(code=Status.STATUS_CODE_ERROR if failed else Status.STATUS_CODE_OK),
        ))

    def _leaves(self, parent: bytes, start: int) -> int:
        """An LLM call, a tool call and a retrieval, one after the other; returns the end."""
        t = start
        for name, kind in (("ChatOpenAI", "LLM"), ("search_orders", "TOOL"),
                           ("VectorStoreRetriever", "RETRIEVER")):
            span_id = self._take()
            if span_id is None:
                break
            length = self.rng.randint(2, 40) * MS
            extra: list[tuple[str, str | int]] = []
            if kind == "LLM":
                extra = [("llm.model_name", "gpt-4o-mini"),
                         ("llm.token_count.prompt", self.rng.randint(200, 4000)),
                         ("llm.token_count.completion", self.rng.randint(20, 600))]
            failed = kind == "TOOL" and self.rng.random() < 0.02
            self._add(span_id, parent, name, kind, t, t + length, extra, failed=failed)
            t += length + self.rng.randint(0, 3) * MS
        return t

    def _chain(self, parent: bytes, start: int, depth: int) -> int:
        """`depth` chains, each inside the one above, with leaves at every level; returns the
        end of the outermost."""
        levels: list[tuple[bytes, bytes, int]] = []  # (span id, parent id, start)
        above, t = parent, start
        for _ in range(depth):
            span_id = self._take()
            if span_id is None:
                break
            levels.append((span_id, above, t))
            t = self._leaves(span_id, t + MS)
            above = span_id
        # Each chain ends just after everything nested in it.
        for k, (span_id, above, begin) in enumerate(reversed(levels)):
            self._add(span_id, above, "chain", "CHAIN", begin, t + (k + 1) * MS, text=(100, 300))
        return t + (len(levels) + 1) * MS

    def build(self) -> list[Span]:
        root = self._take()
        assert root is not None
        start = time.time_ns() - 3_600 * 10**9
        t = start + MS
        step = 0
        while self.remaining > 0:
            agent = self._take()
            assert agent is not None
            # Half the steps overlap the previous one (parallel work), half follow it.
            begin = t if self.rng.random() < 0.5 else max(start + MS, t - 50 * MS)
            # The first step is one very deep branch; the others are `depth` deep.
            depth = self.depth if step else min(200, max(self.depth, self.remaining // 250))
            end = self._chain(agent, begin + MS, depth)
            self._add(agent, root, f"sub_agent_{step % 17}", "AGENT", begin, end, text=(60, 200))
            t = max(t, end)
            step += 1
        self._add(root, b"", "AgentExecutor", "AGENT", start, t + MS, text=(60, 200))
        return self.spans


def requests_of(spans: list[Span]) -> Iterator[bytes]:
    for offset in range(0, len(spans), REQUEST_SPANS):
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(_kv("openinference.project.name", PROJECT))
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = "bench.trace_view"
        scope_spans.spans.extend(spans[offset : offset + REQUEST_SPANS])
        yield request.SerializeToString()


def send(url: str, spans: list[Span]) -> float:
    started = time.perf_counter()
    with httpx.Client(trust_env=False, timeout=120) as client:
        for body in requests_of(spans):
            response = client.post(f"{url}/v1/traces", content=body,
                                   headers={"content-type": "application/x-protobuf"})
            response.raise_for_status()
    return time.perf_counter() - started


def server_timing(header: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in header.split(","):
        name, _, duration = part.strip().partition(";dur=")
        out[name] = float(duration)
    return out


def measure_route(url: str, trace_id: str, trials: int) -> dict[str, Any]:
    """The skeleton route: Server-Timing stages and client-side wall time, gzip on and off."""
    runs: dict[str, list[dict[str, float]]] = {"gzip": [], "identity": []}
    size: dict[str, int] = {}
    with httpx.Client(trust_env=False, timeout=120) as client:
        for encoding in ("identity", "gzip"):
            # The server gzips only for clients on another machine: say we are one.
            headers = {"accept-encoding": encoding, "x-forwarded-for": "203.0.113.7"}
            for _ in range(trials + 1):  # the first warms the page cache and is dropped
                started = time.perf_counter()
                response = client.get(f"{url}/v1/traces/{trace_id}/skeleton", headers=headers)
                wall = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                stages = server_timing(response.headers["server-timing"])
                stages["server_total"] = sum(stages.values())
                stages["client_wall"] = wall
                runs[encoding].append(stages)
                size[encoding] = int(response.headers["content-length"])
            runs[encoding] = runs[encoding][1:]
    return {
        encoding: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        | {"bytes": size[encoding]}
        for encoding, rows in runs.items()
    }


_MARKS = """() => {
    const at = (name) => performance.getEntriesByName(name)[0].startTime;
    const skeleton = performance.getEntriesByType('resource')
        .find((r) => r.name.includes('/skeleton'));
    const store = skeleton.serverTiming.find((t) => t.name === 'store');
    return {
        tree_ready: at('ember:tree-ready'),
        tree_painted: at('ember:tree-painted'),
        skeleton_requested: skeleton.startTime,
        skeleton_first_byte: skeleton.responseStart,
        skeleton_received: skeleton.responseEnd,
        skeleton_store: store ? store.duration : NaN,
        modules_loaded: Math.max(...performance.getEntriesByType('resource')
            .filter((r) => r.name.endsWith('.js') || r.name.includes('.js?'))
            .map((r) => r.responseEnd)),
        skeleton_parsed: at('ember:skeleton-parsed'),
        model_built: at('ember:model-built'),
        rows: document.querySelectorAll('.tv-row:not([hidden])').length,
        total_rows: Number(document.getElementById('tv-scroll').dataset.rows),
    };
}"""


def _open(page: Any, page_url: str, spans: int) -> dict[str, float]:
    page.goto(page_url, wait_until="commit")
    page.wait_for_selector("#trace-view[data-state=ready]", timeout=60_000)
    page.wait_for_function("performance.getEntriesByName('ember:tree-painted').length > 0")
    marks: dict[str, float] = page.evaluate(_MARKS)
    assert marks["total_rows"] == spans, marks
    return marks


def _summary(results: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        key: {"median": statistics.median(r[key] for r in results),
              "min": min(r[key] for r in results), "max": max(r[key] for r in results)}
        for key in results[0]
    }


def measure_browser(url: str, trace_id: str, spans: int, trials: int) -> dict[str, Any]:
    """Two ways in: a new tab (a fresh browser context, so a renderer process starts beside
    the request, competing with the server for the two cores), and the same tab coming from
    another page of the server (a click from the traces list)."""
    from playwright.sync_api import sync_playwright

    page_url = f"{url}/projects/{PROJECT}/traces/{trace_id}"
    new_tab: list[dict[str, float]] = []
    same_tab: list[dict[str, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--headless=new"],
        )
        try:
            for _ in range(trials + 1):  # the first run warms the browser and is dropped
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                new_tab.append(_open(context.new_page(), page_url, spans))
                context.close()
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            for _ in range(trials + 1):
                page.goto(f"{url}/static/favicon.svg")
                same_tab.append(_open(page, page_url, spans))
            context.close()
        finally:
            browser.close()
    return {"new_tab": _summary(new_tab[1:]), "same_tab": _summary(same_tab[1:])}


def run_size(spans: int, args: argparse.Namespace) -> dict[str, Any]:
    run_ingest.log(f"{spans:,} spans: building the trace")
    built = TraceBuilder(spans, args.depth, args.seed).build()
    trace_id = built[0].trace_id.hex()
    assert len(built) == spans, len(built)
    with run_ingest.scratch_dir(args.keep_data) as scratch:
        server = run_ingest.start_server(scratch / "ember", {}, ready_timeout=60)
        try:
            send_s = send(server.url, built)
            run_ingest.log(f"{spans:,} spans: sent in {send_s:.1f} s; measuring")
            route = measure_route(server.url, trace_id, args.trials)
            browser = measure_browser(server.url, trace_id, spans, args.trials)
        finally:
            run_ingest.stop_server(server)
    return {"spans": spans, "send_s": round(send_s, 2), "route_ms": route,
            "browser_ms": browser}


def print_table(results: list[dict[str, Any]]) -> None:
    header = ("spans", "skeleton server ms (store+shape+encode)", "gzip ms", "bytes (gzip)",
              "tree visible ms, new tab (min-max)", "same tab (min-max)",
              "skeleton fetch in the page ms (store)")
    print(" | ".join(header))
    for r in results:
        plain, zipped = r["route_ms"]["identity"], r["route_ms"]["gzip"]
        new, same = r["browser_ms"]["new_tab"], r["browser_ms"]["same_tab"]
        fetch = new["skeleton_received"]["median"] - new["skeleton_requested"]["median"]

        def span(m: dict[str, dict[str, float]]) -> str:
            p = m["tree_painted"]
            return f"{p['median']:.0f} ({p['min']:.0f}-{p['max']:.0f})"

        print(" | ".join((
            f"{r['spans']:,}",
            f"{plain['server_total']:.0f} ({plain['store']:.0f}+{plain['shape']:.0f}"
            f"+{plain['encode']:.0f})",
            f"{zipped.get('gzip', 0):.0f}",
            f"{plain['bytes']:,} ({zipped['bytes']:,})",
            span(new),
            span(same),
            f"{fetch:.0f} ({new['skeleton_store']['median']:.0f})",
        )))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--depth", type=int, default=12, help="nesting of each step's chain")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    report = {"machine": run_ingest.machine_info(),
              "results": [run_size(spans, args) for spans in args.spans]}
    print_table(report["results"])
    print(json.dumps(report, indent=2))
    if not args.no_save:
        out = BENCH_DIR / "results" / (
            f"trace-view-{dt.datetime.now():%Y%m%d-%H%M%S}-"
            + "-".join(str(s) for s in args.spans) + ".json"
        )
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
        run_ingest.log(f"wrote {out.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
