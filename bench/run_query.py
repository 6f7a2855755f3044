"""Query benchmark: listing and filter latency at 1M stored spans, on SQLite or PostgreSQL.

1. Fill: a fresh database gets `--spans` spans (1,000,000) of the realistic mix of
   bench/loadgen.py, sent over OTLP/HTTP to a real `ember serve` (started as run_ingest.py
   does, on a byte-compiled copy of this checkout's src/), so the rows, roll-ups and indexes are
   exactly what ingest writes. The database is kept in `--data-dir`; `--reuse` skips the fill
   when a complete one of that size is there. PostgreSQL (`--backend postgresql`) is a durable
   server (fsync on) of tests/postgres.py whose data folder is kept in `--data-dir` too.
2. Store API, in this process: `SqlStore.list_traces` / `list_spans` / `list_sessions` with a
   `Listing` (filters parsed by `parse_filter`), a warm-up then `--runs` timed calls each, wall
   time of the call (the server time of a request minus HTTP and JSON). Per case: rows returned,
   whether a next cursor came back, SQL statements issued, and the time of the first statement
   alone (executed again with the same parameters and fetched), which splits SQL from Python.
   Filters with a part SQL cannot decide scan at most 20,000 candidates per request (see
   store/search.py): `--follow` also times following their cursors until a page of 50 rows is
   complete or the listing ends, as a client must.
3. HTTP: a fresh `ember serve` on the same database; `GET /v1/projects/{p}/spans` and
   `POST /v1/spans` (Phoenix's span query; it follows cursors itself, with no scan budget), timed
   by the client on a keep-alive connection over 127.0.0.1.
4. The plan of each case's first statement, EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE,
   BUFFERS), in the JSON; printed for the cases over budget (first pages 50 ms, filters 500 ms:
   DESIGN.md section 7). A case whose query fails is recorded with its error, not fatal.

    .venv/bin/python bench/run_query.py                       # SQLite, fill then measure
    .venv/bin/python bench/run_query.py --reuse               # measure the kept database again
    .venv/bin/python bench/run_query.py --backend postgresql --reuse
    .venv/bin/python bench/run_query.py --reuse --only 'metadata' --runs 50 --no-http

Results: a table on stdout, JSON in bench/results/query-*.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
# This checkout's code, whatever the venv's editable install points at; and the sibling scripts.
sys.path[:0] = [str(REPO_DIR / "src"), str(BENCH_DIR), str(REPO_DIR)]

import httpx  # noqa: E402
import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402

import loadgen  # noqa: E402
import run_ingest  # noqa: E402
from ember.cost.table import load_prices  # noqa: E402
from ember.ingest.derive import SpanDeriver  # noqa: E402
from ember.model import Page, Project, SpanFilter  # noqa: E402
from ember.query.parse import parse_filter  # noqa: E402
from ember.store import migrate  # noqa: E402
from ember.store.engine import create_engines  # noqa: E402
from ember.store.listings import Listing  # noqa: E402
from ember.store.sql import SqlStore  # noqa: E402
from run_ingest import log  # noqa: E402

PROJECT = loadgen.PROJECT_NAME
PAGE_BUDGET_MS = 50.0  # the traces page's first 50 rows (DESIGN.md section 7)
FILTER_BUDGET_MS = 500.0  # a filter over 1M spans with one attribute condition
LIMIT = 50
PG_DATABASE = "ember_bench"


# ---------------------------------------------------------------------------- databases


class KeptPostgres:
    """tests/postgres.py's PostgresServer (durable: fsync on) with its data folder kept in
    `root`, so a filled database survives between runs."""

    def __init__(self, root: Path) -> None:
        from tests.postgres import PostgresServer

        server = PostgresServer(durable=True)
        shutil.rmtree(server.root, ignore_errors=True)  # the temporary folder it made
        server.root, server.data = root, root / "data"
        self.server = server

    def start(self, settings: Sequence[str] = ()) -> str:
        """Start it (initdb the first time); the URL of the bench database (created if
        missing). `settings` (NAME=VALUE) apply when it starts on a kept data folder."""
        server = self.server
        server.root.mkdir(parents=True, exist_ok=True)
        if not (server.data / "PG_VERSION").exists():
            server.start()
        else:
            if server._as_postgres:
                import pwd

                owner = pwd.getpwnam("postgres")
                os.chown(server.root, owner.pw_uid, owner.pw_gid)
            options = (f"-p {server.port} -k {server.root} -c listen_addresses=127.0.0.1 "
                       "-c max_connections=200")
            options += "".join(f" -c {setting}" for setting in settings)
            server._run("pg_ctl", "-D", str(server.data), "-o", options, "-l",
                        str(server.root / "server.log"), "-w", "-t", "60", "start")
        return self.create()

    def create(self) -> str:
        import psycopg

        server = self.server
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (PG_DATABASE,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        return server.url(PG_DATABASE)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.server.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.server.data / "postmaster.pid").read_text().split()[0])
        return None

    def stop(self) -> None:
        self.server._run("pg_ctl", "-D", str(self.server.data), "-m", "fast", "-w", "stop")


@dataclass
class Database:
    backend: str
    url: str  # for create_engines and EMBER_DATABASE_URL ("" on SQLite: the working dir's)
    working_dir: Path  # the servers' working dir
    marker: Path  # JSON describing the completed fill
    postgres: KeptPostgres | None = None

    @property
    def store_url(self) -> str:
        return self.url or f"sqlite:///{self.working_dir / 'ember.db'}"

    def server_env(self) -> dict[str, str]:
        return {"EMBER_DATABASE_URL": self.url} if self.url else {}


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[Database]:
    root = Path(args.data_dir) / args.backend
    root.mkdir(parents=True, exist_ok=True)
    if args.backend == "sqlite":
        yield Database("sqlite", "", root / "data", root / "filled.json")
        return
    postgres = KeptPostgres(root / "pg")
    url = postgres.start(args.pg_setting)
    try:
        yield Database("postgresql", url, root / "server", root / "filled.json", postgres)
    finally:
        postgres.stop()


def filled(db: Database, spans: int) -> dict[str, Any] | None:
    """The fill's record when a complete fill of `spans` spans is there."""
    if not db.marker.exists():
        return None
    record: dict[str, Any] = json.loads(db.marker.read_text())
    return record if record.get("spans") == spans else None


def fill(db: Database, args: argparse.Namespace, code_env: dict[str, str]) -> dict[str, Any]:
    """A fresh database with `args.spans` spans sent through a real server; checks none was
    lost."""
    db.marker.unlink(missing_ok=True)
    shutil.rmtree(db.working_dir, ignore_errors=True)
    if db.postgres is not None:
        db.postgres.drop()
        db.postgres.create()
    server = run_ingest.start_server(db.working_dir, {**code_env, **db.server_env()}, 60)
    log(f"filling {db.backend} with {args.spans:,} spans through {server.url}")
    try:
        load = loadgen.run_load(server.url, args.spans, args.clients, 512, args.seed,
                                args.fill_timeout, log=log)
    finally:
        stop_s, clean = run_ingest.stop_server(server)
    stored = count_spans(db)
    if not (clean and load.requests_failed == 0 and stored == load.unique_spans == args.spans):
        raise SystemExit(f"the fill lost spans or failed: stored {stored}, sent "
                         f"{load.unique_spans}, failed requests {load.requests_failed}, "
                         f"clean stop {clean}")
    if db.postgres is not None:
        # What autovacuum would have done by the time anyone queries: statistics and the
        # visibility map. Said in the README.
        run_sql(db, "VACUUM (ANALYZE)", autocommit=True)
    record = {
        "spans": stored,
        "backend": db.backend,
        "seed": args.seed,
        "clients": args.clients,
        "filled_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": run_ingest.git("rev-parse", "--short", "HEAD"),
        "durable_spans_per_s": round(load.spans_per_s),
        "send_wall_s": round(load.wall_s, 1),
        "stop_s": round(stop_s, 1),
    }
    db.marker.write_text(json.dumps(record, indent=2) + "\n")
    log(f"filled: {record}")
    return record


def count_spans(db: Database) -> int:
    return int(run_sql(db, "SELECT COUNT(*) FROM spans")[0][0])


def run_sql(db: Database, text: str, autocommit: bool = False) -> list[Any]:
    engine = sa.create_engine(db.store_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
        with engine.connect().execution_options(**options) as conn:
            result = conn.exec_driver_sql(text)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One request. `filter` may hold {user} and {code}, values picked from the data."""

    name: str
    target: str  # "trace", "span" or "session"
    filter: str | None = None
    sort: str = "start_time"
    roots: bool = False
    page2: bool = False  # time the second page (after the first page's cursor)
    budget_ms: float = FILTER_BUDGET_MS
    http: bool = False  # also GET /v1/projects/{p}/spans
    post: bool = False  # also POST /v1/spans
    post_once: bool = False  # POST scans every span (no scan budget there): time it once
    what: str = ""


CASES: tuple[Case, ...] = (
    Case("traces newest", "trace", budget_ms=PAGE_BUDGET_MS,
         what="traces page: first 50 traces, newest first"),
    Case("traces by latency", "trace", sort="latency_ms", budget_ms=PAGE_BUDGET_MS,
         what="first 50 traces sorted by latency_ms, longest first"),
    Case("traces by cost", "trace", sort="cost", budget_ms=PAGE_BUDGET_MS,
         what="first 50 traces sorted by cost, highest first"),
    Case("traces by tokens", "trace", sort="total_tokens", budget_ms=PAGE_BUDGET_MS,
         what="first 50 traces sorted by total tokens"),
    Case("traces by span count", "trace", sort="span_count", budget_ms=PAGE_BUDGET_MS,
         what="first 50 traces sorted by span count"),
    Case("spans by latency", "span", sort="latency_ms", budget_ms=PAGE_BUDGET_MS,
         what="first 50 spans sorted by latency_ms (no index serves it)"),
    Case("sessions by cost", "session", sort="cost", budget_ms=PAGE_BUDGET_MS,
         what="first 50 sessions sorted by cost (8,000 sessions, no index)"),
    Case("traces newest p2", "trace", page2=True, budget_ms=PAGE_BUDGET_MS,
         what="second page of traces newest first (cursor)"),
    Case("spans newest", "span", budget_ms=PAGE_BUDGET_MS, http=True,
         what="first 50 spans, newest first"),
    Case("root spans", "span", roots=True, budget_ms=PAGE_BUDGET_MS, http=True,
         what="first 50 root spans (parent_id=null)"),
    Case("sessions newest", "session", budget_ms=PAGE_BUDGET_MS,
         what="first 50 sessions, newest first"),
    Case("kind LLM", "span", "span_kind == 'LLM'", http=True, post=True,
         what="a column, 31% of spans"),
    Case("kind LLM p2", "span", "span_kind == 'LLM'", page2=True, http=True,
         what="its second page (cursor)"),
    Case("user rare", "span", "user.id == '{user}'", http=True,
         what="user.id (promoted to a column), one user of 2,000: 0.05% of spans"),
    Case("user absent", "span", "user.id == 'user-nobody'", http=True,
         what="user.id, a user with no span"),
    Case("tool.name common", "span", "tool.name == 'refund_payment'", http=True, post=True,
         what="a short attribute in the JSON column, ~2% of spans"),
    Case("tool.name absent", "span", "tool.name == 'cancel_order'", http=True,
         what="the same attribute, a value no span has"),
    Case("metadata common", "span", "metadata['tier'] == 'enterprise'", http=True, post=True,
         what="a metadata key on every span, 1/3 of spans"),
    Case("metadata absent", "span", "metadata['tier'] == 'gold'", http=True, post=True,
         post_once=True, what="the same key, a value no span has"),
    Case("text common", "span", "'refund' in input.value", http=True, post=True,
         what="a frequent word in long text"),
    Case("text common p2", "span", "'refund' in input.value", page2=True, http=True,
         what="its second page (cursor)"),
    Case("text rare", "span", "'{code}' in input.value", http=True, post=True,
         post_once=True, what="a code found in the oldest trace only"),
    Case("trace any(ERROR)", "trace", "any(status_code == 'ERROR')",
         what="traces with an ERROR span (half of them)"),
    Case("trace error_count", "trace", "error_count > 0",
         what="the same through the roll-up column"),
)


def pick_values(store: SqlStore, project: Project) -> dict[str, str]:
    """{user}: the user of the oldest span; {code}: a code (e.g. ORD-123456) in the request of
    the oldest agent trace, so a search for it must go through the whole listing."""
    oldest = Listing(descending=False, limit=5)
    first = store.list_spans(project, SpanFilter(), None, 1, oldest).items[0]
    user = str(first.attributes.get("user.id", ""))
    agent = replace(oldest, condition=parse_filter("span_kind == 'AGENT'"))
    code = ""
    for span in store.list_spans(project, SpanFilter(), None, 20, agent).items:
        found = re.search(r"\b(?:SKU|INV|ORD|TKT|REF|ACC|CASE)-\d{5,6}\b",
                          str(span.attributes.get("input.value", "")))
        if found:
            code = found.group(0)
            break
    if not user or not code:
        raise SystemExit(f"could not pick values from the data: user {user!r}, code {code!r}")
    return {"user": user, "code": code}


def filter_text(case: Case, values: dict[str, str]) -> str | None:
    return None if case.filter is None else case.filter.format(**values)


# ------------------------------------------------------------------------------- timing


@dataclass
class Timing:
    runs: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    rows: int = 0
    cursor: bool = False
    statements: int = 0
    sql_ms: float | None = None  # the first statement alone, median of 3
    error: str = ""
    samples_ms: list[float] = field(default_factory=list)


def timed(call: Callable[[], tuple[int, bool]], runs: int, warmups: int,
          slow_s: float, slow_runs: int) -> Timing:
    """Warm up, then time `runs` calls (`slow_runs` when the last warm-up call took over
    `slow_s`: the first may be slow only because the cache is cold)."""
    result = Timing()
    last = 0.0
    for _ in range(warmups):
        started = time.perf_counter()
        result.rows, result.cursor = call()
        last = time.perf_counter() - started
    count = slow_runs if last > slow_s else runs
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        result.rows, result.cursor = call()
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    result.runs = count
    result.samples_ms = [round(s, 2) for s in samples]
    result.median_ms = round(statistics.median(ordered), 2)
    result.p95_ms = round(loadgen.percentile(ordered, 95), 2)
    result.min_ms, result.max_ms = round(ordered[0], 2), round(ordered[-1], 2)
    return result


class StatementLog:
    """The SQL statements (driver text and parameters) the readers run while recording."""

    def __init__(self, engine: sa.Engine) -> None:
        self.recorded: list[tuple[str, Any]] | None = None
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
                _context: Any, _executemany: bool) -> None:
        if self.recorded is not None and not statement.lstrip().upper().startswith("BEGIN"):
            self.recorded.append((statement, parameters))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.recorded = []
        try:
            yield self.recorded
        finally:
            self.recorded = None


def store_call(store: SqlStore, project: Project, case: Case, text: str | None,
               cursor: str | None) -> Callable[[], Page[Any]]:
    condition = None if text is None else parse_filter(text, case.target)  # type: ignore[arg-type]
    listing = Listing(condition=condition, sort=case.sort, limit=LIMIT, cursor=cursor)
    if case.target == "trace":
        return lambda: store.list_traces(project, listing)
    if case.target == "session":
        return lambda: store.list_sessions(project, listing)
    spans_filter = SpanFilter(roots_only=case.roots)
    return lambda: store.list_spans(project, spans_filter, cursor, LIMIT, listing)


def measure_store(store: SqlStore, statements: StatementLog, project: Project,
                  values: dict[str, str], cases: Sequence[Case],
                  args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for case in cases:
        text = filter_text(case, values)
        try:
            results[case.name] = measure_case(store, statements, project, case, text, args)
        except sa.exc.DBAPIError as exc:
            # Recorded, not fatal: the statement that failed and why.
            with statements.recording() as recorded, contextlib.suppress(sa.exc.DBAPIError):
                store_call(store, project, case, text, None)()
            error = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
            results[case.name] = {"error": error, "filter": text,
                                  "first_statement": list(recorded[0]) if recorded else None}
            log(f"{case.name:<20} FAILED: {error}")
        results[case.name].update(budget_ms=case.budget_ms, what=case.what)
    return results


def measure_case(store: SqlStore, statements: StatementLog, project: Project, case: Case,
                 text: str | None, args: argparse.Namespace) -> dict[str, Any]:
    cursor = store_call(store, project, case, text, None)().next_cursor if case.page2 else None
    call = store_call(store, project, case, text, cursor)

    def run() -> tuple[int, bool]:
        page = call()
        return len(page.items), page.next_cursor is not None

    timing = timed(run, args.runs, args.warmups, args.slow_s, args.slow_runs)
    with statements.recording() as recorded:
        call()
    timing.statements = len(recorded)
    if recorded:
        timing.sql_ms = sql_alone(store, *recorded[0])
    entry: dict[str, Any] = {"timing": timing.__dict__, "filter": text,
                             "first_statement": list(recorded[0]) if recorded else None}
    if args.follow and case.filter is not None and timing.cursor and timing.rows < LIMIT:
        entry["follow"] = follow(store, project, case, text)
    log(f"{case.name:<20} median {timing.median_ms:9.1f} ms  p95 {timing.p95_ms:9.1f}  "
        f"rows {timing.rows:>3} cursor {'yes' if timing.cursor else 'no '} "
        f"statements {timing.statements} first SQL alone {timing.sql_ms} ms  "
        f"(n={timing.runs})")
    return entry


def sql_alone(store: SqlStore, statement: str, parameters: Any) -> float:
    """Median of 3 of the statement executed and fully fetched, in ms."""
    samples = []
    with store._readers.connect() as conn:
        for _ in range(3):
            started = time.perf_counter()
            conn.exec_driver_sql(statement, parameters).all()
            samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)


def follow(store: SqlStore, project: Project, case: Case, text: str | None) -> dict[str, Any]:
    """Follow cursors until a full page of 50 rows or the end, as a client must."""
    started = time.perf_counter()
    rows, requests, cursor = 0, 0, None
    while True:
        page = store_call(store, project, case, text, cursor)()
        requests += 1
        rows += len(page.items)
        cursor = page.next_cursor
        if cursor is None or rows >= LIMIT:
            break
    total_ms = (time.perf_counter() - started) * 1000
    log(f"{case.name:<20} followed cursors: {rows} rows in {requests} requests, "
        f"{total_ms:,.0f} ms ({'end reached' if cursor is None else 'page full'})")
    return {"rows": rows, "requests": requests, "total_ms": round(total_ms, 1),
            "ended": cursor is None}


def explain(store: SqlStore, backend: str, statement: str, parameters: Any,
            analyze: bool = True) -> str:
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else (
        "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ")
    with store._readers.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    if backend == "sqlite":
        return "\n".join(f"{row[0]} {row[1]} {row[3]}" for row in rows)
    return "\n".join(str(row[0]) for row in rows)


def indexes(db: Database) -> list[str]:
    if db.backend == "sqlite":
        query = ("SELECT tbl_name || ': ' || sql FROM sqlite_master WHERE type = 'index' AND "
                 "sql IS NOT NULL AND tbl_name IN ('spans', 'traces', 'sessions') ORDER BY 1")
    else:
        query = ("SELECT tablename || ': ' || indexdef FROM pg_indexes WHERE tablename IN "
                 "('spans', 'traces', 'sessions') ORDER BY 1")
    return [str(row[0]) for row in run_sql(db, query)]


# --------------------------------------------------------------------------------- http


def measure_http(db: Database, code_env: dict[str, str], values: dict[str, str],
                 cases: Sequence[Case], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    server = run_ingest.start_server(db.working_dir, {**code_env, **db.server_env()}, 60)
    results: dict[str, dict[str, Any]] = {}
    try:
        with httpx.Client(base_url=server.url, trust_env=False,
                          timeout=httpx.Timeout(args.http_timeout, connect=10.0)) as client:
            for case in cases:
                text = filter_text(case, values)
                if case.http:
                    results[f"GET {case.name}"] = http_get(client, case, text, args)
                if case.post and not case.page2:
                    runs, warmups = (1, 0) if case.post_once else (args.runs, args.warmups)
                    results[f"POST {case.name}"] = http_post(client, text, runs, warmups, args)
        results["_server"] = {"pid": server.pid, "cpu_s": run_ingest.cpu_seconds(server.pid)}
    finally:
        run_ingest.stop_server(server)
    return results


def http_get(client: httpx.Client, case: Case, text: str | None,
             args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": LIMIT}
    if text is not None:
        params["filter"] = text
    if case.roots:
        params["parent_id"] = "null"
    path = f"/v1/projects/{PROJECT}/spans"

    def run() -> tuple[int, bool]:
        body = _ok(_send(client, "GET", path, params=params)).json()
        return len(body["data"]), body["next_cursor"] is not None

    try:
        if case.page2:
            params["cursor"] = _ok(_send(client, "GET", path, params=params)).json()["next_cursor"]
        timing = timed(run, args.runs, args.warmups, args.slow_s, args.slow_runs)
    except (RuntimeError, httpx.HTTPError) as exc:
        log(f"GET {case.name:<16} FAILED: {exc}")
        return {"error": str(exc), "params": params}
    log(f"GET {case.name:<16} median {timing.median_ms:9.1f} ms  p95 {timing.p95_ms:9.1f}  "
        f"rows {timing.rows:>3} cursor {'yes' if timing.cursor else 'no '} (n={timing.runs})")
    return {"timing": timing.__dict__, "params": params}


def http_post(client: httpx.Client, text: str | None, runs: int, warmups: int,
              args: argparse.Namespace) -> dict[str, Any]:
    """Phoenix's span query with `limit` 50: the route follows cursors itself."""
    body = {"queries": [{"filter": {"condition": text}}], "limit": LIMIT}

    def run() -> tuple[int, bool]:
        response = _ok(_send(client, "POST", "/v1/spans", params={"project_name": PROJECT},
                             json=body, headers={"accept": "application/json"}))
        more = b"X-Ember-More: true" in response.content[:300]
        return _table_rows(response.content), more

    try:
        timing = timed(run, runs, warmups, args.slow_s, args.slow_runs)
    except (RuntimeError, httpx.HTTPError) as exc:
        log(f"POST {text!s:<40} FAILED: {exc}")
        return {"error": str(exc), "body": body}
    log(f"POST {text!s:<40} median {timing.median_ms:9.1f} ms  p95 {timing.p95_ms:9.1f}  "
        f"rows {timing.rows:>3} more {'yes' if timing.cursor else 'no '} (n={timing.runs})")
    return {"timing": timing.__dict__, "body": body}


def _table_rows(content: bytes) -> int:
    """Rows in the first part of a multipart answer holding pandas table JSON."""
    start = content.find(b"\r\n\r\n")
    end = content.rfind(b"\r\n--")
    part = content[start + 4:end]
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return len(json.loads(part)["data"])
    return -1


def _send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request, tried again once on a new connection when the kept-alive one was closed
    (the server closes it after answering 500 to an unexpected error)."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.TransportError:
        return client.request(method, url, **kwargs)


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.method} {response.request.url}: "
                           f"{response.status_code} {response.text[:300]}")
    return response


# ------------------------------------------------------------------------------ machine


class MachineLoad:
    """CPU that other processes used during a phase: the machine's busy CPU minus this
    process and the processes doing its work (the server, PostgreSQL)."""

    def __init__(self, ours: Callable[[], list[int]]) -> None:
        self.ours = ours
        self.started = time.monotonic()
        self.machine = run_ingest.busy_cpu_seconds()
        self.own = self._own()
        self.load_before = [round(x, 2) for x in os.getloadavg()]

    def _own(self) -> float:
        total = 0.0
        pids = {os.getpid(), *self.ours()}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                for member in [process, *process.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = member.cpu_times()
                        total += times.user + times.system
        return total

    def report(self) -> dict[str, Any]:
        wall = time.monotonic() - self.started
        other = run_ingest.busy_cpu_seconds() - self.machine - (self._own() - self.own)
        return {"wall_s": round(wall, 1), "other_cpu_cores": round(max(other, 0.0) / wall, 2),
                "load_before": self.load_before,
                "load_after": [round(x, 2) for x in os.getloadavg()]}


def top_processes() -> list[str]:
    """The five busiest processes over one second (what else is running)."""
    processes = list(psutil.process_iter(["pid", "name", "cmdline"]))
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.cpu_percent(None)
    time.sleep(1.0)
    busy = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            busy.append((process.cpu_percent(None), process))
    busy.sort(key=lambda item: -item[0])
    return [f"{pct:.0f}% {p.info['pid']} {' '.join(p.info['cmdline'] or [p.info['name']])[:90]}"
            for pct, p in busy[:5]]


# ----------------------------------------------------------------------------------- run


def print_table(report: dict[str, Any]) -> None:
    store_results = report["store"]
    http = report.get("http", {})
    print(f"\n== query latency, {report['backend']}, {report['spans']:,} spans "
          f"({report['traces']:,} traces, {report['sessions']:,} sessions) ==")
    print(f"{'case':<20} {'store median/p95 ms':>20} {'rows':>4} {'cur':>3} {'stmts':>5} "
          f"{'1st SQL ms':>10} {'GET median/p95 ms':>19} {'POST median ms':>14} {'budget':>6}")
    for name, entry in store_results.items():
        get_entry, post_entry = http.get(f"GET {name}", {}), http.get(f"POST {name}", {})
        get, post = get_entry.get("timing"), post_entry.get("timing")
        get_text = f"{get['median_ms']:.1f}/{get['p95_ms']:.1f}" if get else (
            "FAILED" if "error" in get_entry else "-")
        post_text = f"{post['median_ms']:.1f} ({post['rows']})" if post else (
            "FAILED" if "error" in post_entry else "-")
        budget = entry["budget_ms"]
        if "error" in entry:
            print(f"{name:<20} FAILED: {entry['error'][:70]} | GET {get_text} | POST {post_text}")
            continue
        t = entry["timing"]
        verdict = "ok" if t["median_ms"] <= budget else "MISS"
        print(f"{name:<20} {t['median_ms']:>9.1f}/{t['p95_ms']:<10.1f} {t['rows']:>4} "
              f"{'yes' if t['cursor'] else 'no':>3} {t['statements']:>5} "
              f"{t['sql_ms'] if t['sql_ms'] is not None else '-':>10} {get_text:>19} "
              f"{post_text:>14} {budget:>4.0f} {verdict}")
        if "follow" in entry:
            f = entry["follow"]
            print(f"{'':<20} followed cursors: {f['rows']} rows in {f['requests']} requests, "
                  f"{f['total_ms']:,.0f} ms{' (to the end)' if f['ended'] else ''}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--data-dir", default="/tmp/ember-query-bench",
                        help="Where the filled databases are kept (one folder per backend).")
    parser.add_argument("--reuse", action="store_true",
                        help="Measure the kept database when it holds --spans spans.")
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="A PostgreSQL setting for the measurement (repeatable; a kept "
                             "database only), e.g. max_parallel_workers_per_gather=0.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fill-timeout", type=float, default=3600.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--slow-s", type=float, default=3.0,
                        help="A case whose warm-up took longer gets --slow-runs runs.")
    parser.add_argument("--slow-runs", type=int, default=5)
    parser.add_argument("--only", action="append", default=[],
                        help="Only cases whose name contains this (repeatable).")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--follow", action="store_true",
                        help="Also follow cursors of short filtered pages to 50 rows or the end.")
    parser.add_argument("--http-timeout", type=float, default=600.0)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    for setting in args.pg_setting:
        if not re.fullmatch(r"[a-z_.]+=[\w.\-]+", setting):
            parser.error(f"--pg-setting takes NAME=VALUE, got {setting!r}")
    signal.signal(signal.SIGTERM, run_ingest._interrupt)
    cases = [c for c in CASES if not args.only or any(o in c.name for o in args.only)]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    report: dict[str, Any] = {"backend": args.backend, "machine": run_ingest.machine_info(),
                              "argv": sys.argv[1:], "pg_settings": args.pg_setting}
    with contextlib.ExitStack() as stack:
        code_env, report["code"] = stack.enter_context(run_ingest.code_snapshot(None))
        db = stack.enter_context(database(args))
        record = filled(db, args.spans) if args.reuse else None
        if record is None:
            record = fill(db, args, code_env)
        else:
            log(f"reusing {db.backend} database filled {record['filled_at']}")
        report["fill"] = record
        if args.fill_only:
            return 0
        # A database filled by an older checkout gets this one's migrations first (what
        # `ember serve` does at start), timed: new indexes are built over the existing rows.
        writer, readers = create_engines(db.store_url)
        started = time.perf_counter()
        if migrate.upgrade(writer):
            report["migration_s"] = round(time.perf_counter() - started, 1)
            log(f"migrated to {migrate.HEAD} in {report['migration_s']} s")
        writer.dispose()
        readers.dispose()
        report["spans"] = count_spans(db)
        report["traces"] = int(run_sql(db, "SELECT COUNT(*) FROM traces")[0][0])
        report["sessions"] = int(run_sql(db, "SELECT COUNT(*) FROM sessions")[0][0])
        report["indexes"] = indexes(db)
        report["top_processes_before"] = top_processes()
        log("busiest processes: " + " | ".join(report["top_processes_before"]))
        writer, readers = create_engines(db.store_url)
        store = SqlStore(writer, readers, SpanDeriver(load_prices("")))
        statements = StatementLog(readers)
        stack.callback(store.close)
        project = store.get_project(PROJECT)
        values = pick_values(store, project)
        report["values"] = values
        log(f"values picked from the data: {values}")

        def ours() -> list[int]:
            pid = db.postgres.postmaster_pid() if db.postgres else None
            return [pid] if pid else []

        load = MachineLoad(ours)
        report["store"] = measure_store(store, statements, project, values, cases, args)
        report["store_phase_load"] = load.report()
        log(f"store phase: {report['store_phase_load']}")
        # Every case's plan goes to the JSON; those over budget (or failing) are printed.
        report["plans"] = {}
        for case in cases:
            entry = report["store"][case.name]
            if not entry["first_statement"]:
                continue
            failed = "error" in entry
            statement, parameters = entry["first_statement"]
            report["plans"][case.name] = {
                "sql": statement, "parameters": repr(parameters),
                "over_budget": failed or entry["timing"]["median_ms"] > case.budget_ms,
                "plan": explain(store, db.backend, statement, parameters, not failed)}
        if not args.no_http:
            load = MachineLoad(ours)
            report["http"] = measure_http(db, code_env, values, cases, args)
            report["http_phase_load"] = load.report()
            log(f"http phase: {report['http_phase_load']}")
    report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print_table(report)
    for name, plan in report["plans"].items():
        if plan["over_budget"]:
            print(f"\n-- plan of {name}'s first statement --\n{plan['plan']}")
    print("\nindexes:\n  " + "\n  ".join(report["indexes"]))
    print(f"\nstore phase: {report['store_phase_load']}")
    if "http_phase_load" in report:
        print(f"http phase: {report['http_phase_load']}")
    if not args.no_save:
        out = BENCH_DIR / "results" / f"query-{stamp}-{args.backend}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
