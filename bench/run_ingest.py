"""Ingest benchmark: a fresh `ember serve`, a realistic OTLP load, durable spans/s and what it cost.

For each `--spans` count it
1. measures start-up: `--start-trials` times, a server on an empty folder from process start to
   the first 200 from /readyz, and its resident memory after `--idle-wait` seconds;
2. starts a fresh server (temporary working dir, free ports on 127.0.0.1), builds the load in
   the client processes (bench/loadgen.py), then sends it and times it: durable spans/s is
   acknowledged spans over the time from the first request to the last 200;
3. samples the server's resident memory while it runs (psutil, every 50 ms, plus the kernel's
   high-water mark VmHWM) and its CPU time; with --profile, records it with py-spy;
4. reads /metrics, stops the server with SIGINT (a clean stop), then measures the database files
   and counts the stored spans with sqlite3;
5. checks that nothing was lost: stored spans == acknowledged spans == unique spans sent;
6. prints a table and a JSON summary and writes the JSON (and any profile) to bench/results/.

    .venv/bin/python bench/run_ingest.py --spans 100000
    .venv/bin/python bench/run_ingest.py --spans 1000000 --profile

Exit status 1 if any span was lost or a request failed.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # a sibling script, not a package

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
MiB = 1024 * 1024


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    working_dir: Path
    port: int
    log_path: Path
    start_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def ember_executable() -> str:
    candidate = VENV_BIN / "ember"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ember")
    if found is None:
        raise SystemExit("cannot find the `ember` command next to this Python or on PATH")
    return found


def start_server(working_dir: Path, env_overrides: dict[str, str], ready_timeout: float) -> Server:
    """Start `ember serve` on free ports and wait for /readyz; `start_s` is the time it took."""
    port, grpc_port = free_port(), free_port()
    log_path = working_dir.parent / f"{working_dir.name}.log"
    env = {**os.environ, "EMBER_LOG_LEVEL": "warning", **env_overrides}
    command = [ember_executable(), "serve", "--working-dir", str(working_dir),
               "--host", HOST, "--port", str(port), "--grpc-port", str(grpc_port)]
    with log_path.open("wb") as log_file:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = Server(process, working_dir, port, log_path)
    deadline = started + ready_timeout
    try:
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"ember serve exited with {process.returncode}:\n"
                                       f"{server.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{server.url}/readyz").status_code == 200:
                        server.start_s = time.monotonic() - started
                        return server
                if time.monotonic() > deadline:
                    raise RuntimeError(f"ember serve was not ready in {ready_timeout}s:\n"
                                       f"{server.log_tail()}")
                time.sleep(0.005)
    except BaseException:
        stop_server(server, timeout=10)
        raise


def stop_server(server: Server, timeout: float = 120.0) -> tuple[float, bool]:
    """SIGINT (a clean stop that drains the queue), SIGKILL after `timeout`.
    Returns (seconds it took, whether it stopped cleanly with exit code 0)."""
    if server.process.poll() is not None:
        return 0.0, server.process.returncode == 0
    started = time.monotonic()
    server.process.send_signal(signal.SIGINT)
    try:
        code = server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)
        return time.monotonic() - started, False
    return time.monotonic() - started, code == 0


def rss_bytes(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def peak_rss_bytes(pid: int) -> int | None:
    """The kernel's resident-set high-water mark for the process (Linux), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class Sampler(threading.Thread):
    """Samples one process's RSS every `interval` seconds; keeps the max and a 1 s timeline."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.process = psutil.Process(pid)
        self.interval = interval
        self.max_rss = 0
        self.timeline: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        next_mark = 0.0
        while not self._stop_event.is_set():
            try:
                rss = int(self.process.memory_info().rss)
            except psutil.Error:
                return
            self.max_rss = max(self.max_rss, rss)
            elapsed = time.monotonic() - started
            if elapsed >= next_mark:
                self.timeline.append((round(elapsed, 1), rss))
                next_mark += 1.0
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (all processes, all cores)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def scrape_metrics(url: str) -> dict[str, float]:
    """Prometheus text format -> {'name{labels}': value}, without the *_created series."""
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        text = client.get(f"{url}/metrics").text
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        if name.split("{", 1)[0].endswith("_created"):
            continue
        with contextlib.suppress(ValueError):
            values[name] = float(value)
    return values


# ------------------------------------------------------------------------------ database


@dataclass
class DiskReport:
    files: dict[str, int]
    total_bytes: int
    spans: int
    traces: int
    table_bytes: dict[str, int] = field(default_factory=dict)
    avg_attributes_bytes: float = 0.0
    avg_payload_bytes: float = 0.0


def inspect_postgres(url: str) -> DiskReport:
    """The same figures for a PostgreSQL database: its size, per-table sizes with indexes and
    TOAST, counts and average column lengths."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        conn.execute("CHECKPOINT")
        total = int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
        spans = int(conn.execute("SELECT COUNT(*) FROM spans").fetchone()[0])
        traces = int(conn.execute("SELECT COUNT(*) FROM traces").fetchone()[0])
        avg_attributes, avg_payload = conn.execute(
            "SELECT AVG(OCTET_LENGTH(attributes)), AVG(OCTET_LENGTH(payload)) FROM spans"
        ).fetchone()
        table_bytes = {
            str(name): int(size)
            for name, size in conn.execute(
                "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables"
                " ORDER BY 2 DESC"
            )
        }
    return DiskReport({"(postgresql database)": total}, total, spans, traces, table_bytes,
                      float(avg_attributes or 0), float(avg_payload or 0))


def inspect_database(working_dir: Path, database_url: str = "") -> DiskReport:
    """Sizes of ember.db and its -wal/-shm, span and trace counts, per-table bytes (dbstat);
    or the PostgreSQL figures when the server ran on `database_url`."""
    if database_url.startswith(("postgresql", "postgres:")):
        return inspect_postgres(database_url)
    files = {p.name: p.stat().st_size for p in sorted(working_dir.glob("ember.db*"))}
    total = files.get("ember.db", 0) + files.get("ember.db-wal", 0)
    db = working_dir / "ember.db"
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        spans = int(connection.execute("SELECT COUNT(*) FROM spans").fetchone()[0])
        traces = int(connection.execute("SELECT COUNT(*) FROM traces").fetchone()[0])
        avg_attributes, avg_payload = connection.execute(
            "SELECT AVG(LENGTH(attributes)), AVG(LENGTH(payload)) FROM spans"
        ).fetchone()
        table_bytes: dict[str, int] = {}
        with contextlib.suppress(sqlite3.Error):  # dbstat is an optional SQLite module
            for name, size in connection.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ):
                table_bytes[str(name)] = int(size)
    finally:
        connection.close()
    return DiskReport(files, total, spans, traces, table_bytes,
                      float(avg_attributes or 0), float(avg_payload or 0))


# ------------------------------------------------------------------------------- profile


class Profiler:
    """`py-spy record` attached to the server for the duration of the load."""

    def __init__(self, pid: int, out_dir: Path, stem: str, rate: int, native: bool,
                 gil: bool, nonblocking: bool) -> None:
        self.raw_path = out_dir / f"{stem}.txt"
        self.svg_path = out_dir / f"{stem}.svg"
        self.log_path = out_dir / f"{stem}.py-spy.log"
        self.rate = rate
        py_spy = VENV_BIN / "py-spy"
        executable = str(py_spy) if py_spy.exists() else shutil.which("py-spy")
        if executable is None:
            raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
        self.command = [executable, "record", "--pid", str(pid), "--rate", str(rate),
                        "--format", "raw", "--nolineno", "--threads", "--output",
                        str(self.raw_path)]
        if native:
            self.command.append("--native")
        if gil:
            self.command.append("--gil")
        if nonblocking:
            self.command.append("--nonblocking")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(self.command, stdout=log_file,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        time.sleep(0.5)  # let it attach before the load starts
        if self.process.poll() is not None:
            raise RuntimeError(f"py-spy exited at once: {self.log_path.read_text()[-1000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def read_collapsed(path: Path) -> dict[tuple[str, ...], int]:
    """py-spy's raw format: one line per distinct stack, 'root;...;leaf count'."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return dict(stacks)


_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")


def frame_area(frame: str) -> str:
    """Where a frame's code lives: an Ember module path, else the top-level package."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    file = match.group("file")
    if "/ember/" in file or file.startswith("ember/"):
        return "ember/" + file.split("ember/", 1)[1]
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    elif "/lib/python3" in file:
        return "stdlib/" + file.rsplit("/", 1)[-1]
    first = file.split("/", 1)[0]
    return first.removesuffix(".py")


# Leaf frames of threads that are blocked, which py-spy still reports as active (a lock wait
# with a timeout, gRPC's completion-queue poller blocking in C): counted apart, not as work.
_WAITING_LEAVES = frozenset({
    "Condition.wait (threading.py)", "Event.wait (threading.py)", "Queue.get (queue.py)",
})
_WAITING_THREADS = ("_poll_wrapper",)


def is_waiting(stack: tuple[str, ...]) -> bool:
    if stack[-1] in _WAITING_LEAVES:
        return True
    return stack[0].startswith("thread") and any(t in stack[0] for t in _WAITING_THREADS)


def summarize_profile(
    stacks: dict[tuple[str, ...], int], rate: int, top: int = 25
) -> dict[str, Any]:
    """Per thread, per module/package and per function (self; inclusive for Ember's own
    functions), as shares of the busy samples. Stacks start with the thread frame (--threads)."""
    by_thread: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    waiting = 0
    for stack, count in stacks.items():
        if is_waiting(stack):
            waiting += count
            continue
        thread, frames = (stack[0], stack[1:]) if stack[0].startswith("thread") else ("", stack)
        by_thread[_thread_label(thread)] += count
        if not frames:
            continue
        self_time[frames[-1]] += count
        by_area[frame_area(frames[-1])] += count
        for frame in set(frames):
            if frame_area(frame).startswith("ember/"):
                inclusive[frame] += count
    busy = sum(by_thread.values())

    def rows(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"name": name, "samples": n, "seconds": round(n / rate, 2),
                 "percent": round(100 * n / max(busy, 1), 1)}
                for name, n in counter.most_common(top)]

    return {
        "samples": busy + waiting,
        "busy_samples": busy,
        "waiting_samples_excluded": waiting,
        "rate_hz": rate,
        "sampled_busy_s": round(busy / rate, 1),
        "threads": rows(by_thread),
        "top_self": rows(self_time),
        "top_inclusive_ember": rows(inclusive),
        "self_by_area": rows(by_area),
    }


def _thread_label(frame: str) -> str:
    # py-spy --threads writes e.g. 'thread (14671): ember-writer'.
    return frame[:60] or "(all)"


def write_flamegraph_svg(stacks: dict[tuple[str, ...], int], path: Path, title: str) -> None:
    """A static icicle graph (root on top); hover a box for its name, samples and share."""
    root: dict[str, Any] = {"n": 0, "c": {}}
    for stack, count in stacks.items():
        node = root
        node["n"] += count
        for frame in stack:
            node = node["c"].setdefault(frame, {"n": 0, "c": {}})
            node["n"] += count
    width, row, margin = 1600.0, 17, 10
    total = max(root["n"], 1)
    scale = (width - 2 * margin) / total
    boxes: list[str] = []
    depth_max = 0

    def place(children: dict[str, Any], x: float, depth: int) -> None:
        nonlocal depth_max
        for name, child in sorted(children.items()):
            w = child["n"] * scale
            if w >= 0.4:
                depth_max = max(depth_max, depth)
                y = 40 + depth * row
                share = 100 * child["n"] / total
                label = _escape(name)
                fill = _color(frame_area(name))
                text = ""
                chars = int(w / 7)
                if chars >= 4:
                    shown = name if len(name) <= chars else name[: chars - 2] + ".."
                    text = (f'<text x="{x + 3:.1f}" y="{y + 12}" font-size="11">'
                            f"{_escape(shown)}</text>")
                boxes.append(
                    f'<g><title>{label} ({child["n"]} samples, {share:.1f}%)</title>'
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                    f'fill="{fill}" rx="2"/>{text}</g>'
                )
                place(child["c"], x, depth + 1)
            x += w

    place(root["c"], margin, 0)
    height = 40 + (depth_max + 1) * row + margin
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'font-family="monospace">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="{margin}" y="24" font-size="15">{_escape(title)}</text>'
        + "".join(boxes) + "</svg>"
    )
    path.write_text(svg)


def _escape(text: str) -> str:
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.replace(raw, entity)
    return text


def _color(area: str) -> str:
    hue = 20 + (sum(area.encode()) * 37) % 50 if area.startswith("ember") else (
        sum(area.encode()) * 47) % 360
    return f"hsl({hue}, 70%, 72%)"


# ----------------------------------------------------------------------------------- run


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO_DIR), *args], capture_output=True,
                              text=True, timeout=30, check=False).stdout.strip()
    except OSError:
        return ""


@contextlib.contextmanager
def code_snapshot(ref: str | None) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """A byte-compiled copy of src/ (the working tree's, or a git ref's) for the servers to
    import through PYTHONPATH: the code measured cannot change under a run, and a ref can be
    compared with another side by side. Yields (environment for the server, description)."""
    folder = Path(tempfile.mkdtemp(prefix="ember-src-"))
    try:
        if ref is None:
            shutil.copytree(REPO_DIR / "src", folder / "src",
                            ignore=shutil.ignore_patterns("__pycache__"))
            info = {"source": "working tree", "commit": git("rev-parse", "--short", "HEAD"),
                    "uncommitted_changes_in_src": bool(git("status", "--porcelain", "--", "src"))}
        else:
            commit = git("rev-parse", "--short", "--verify", f"{ref}^{{commit}}")
            if not commit:
                raise SystemExit(f"--ref {ref!r} is not a commit of {REPO_DIR}")
            archive = subprocess.run(["git", "-C", str(REPO_DIR), "archive", "--format=tar",
                                      commit, "src"], capture_output=True, check=True,
                                     timeout=60).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(folder, filter="data")
            info = {"source": f"git {ref}", "commit": commit,
                    "uncommitted_changes_in_src": False}
        compileall.compile_dir(folder / "src", quiet=1)
        path = str(folder / "src")
        if os.environ.get("PYTHONPATH"):
            path += os.pathsep + os.environ["PYTHONPATH"]
        imported = subprocess.run(
            [sys.executable, "-c", "import ember; print(ember.__file__)"],
            env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True, check=True,
            timeout=60,
        ).stdout.strip()
        if not imported.startswith(str(folder)):
            raise RuntimeError(f"the snapshot is not what `import ember` finds: {imported}")
        yield {"PYTHONPATH": path}, info
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def machine_info() -> dict[str, Any]:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


@contextlib.contextmanager
def scratch_dir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ember-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def measure_start(trials: int, env: dict[str, str], idle_wait: float) -> dict[str, Any]:
    """Start-up time and idle RSS of servers on empty folders (each started, then stopped)."""
    starts: list[float] = []
    idles: list[int] = []
    with scratch_dir(keep=False) as scratch:
        for trial in range(trials):
            server = start_server(scratch / f"start-{trial}", env, ready_timeout=60)
            try:
                time.sleep(idle_wait)
                idles.append(rss_bytes(server.pid))
            finally:
                stop_server(server, timeout=30)
            starts.append(server.start_s)
    return {
        "trials": trials,
        "start_s": [round(s, 3) for s in starts],
        "start_s_median": round(statistics.median(starts), 3),
        "idle_rss_mib": [round(b / MiB, 1) for b in idles],
        "idle_rss_mib_median": round(statistics.median(idles) / MiB, 1),
    }


def run_once(spans: int, args: argparse.Namespace, env: dict[str, str],
             results_dir: Path | None, stamp: str) -> dict[str, Any]:
    report: dict[str, Any] = {"spans_target": spans}
    with scratch_dir(args.keep_data) as scratch:
        working_dir = scratch / "data"
        server = start_server(working_dir, env, ready_timeout=60)
        profiler: Profiler | None = None
        sampler: Sampler | None = None
        cpu_at_start = 0.0
        machine_at_start = 0.0
        try:
            report["start_s"] = round(server.start_s, 3)
            time.sleep(args.idle_wait)
            report["idle_rss_mib"] = round(rss_bytes(server.pid) / MiB, 1)
            log(f"server pid {server.pid} on {server.url}: ready in {server.start_s:.2f}s, "
                f"idle RSS {report['idle_rss_mib']} MiB")

            def on_start() -> None:
                nonlocal profiler, sampler, cpu_at_start, machine_at_start
                if args.profile:
                    out_dir = results_dir or Path(tempfile.mkdtemp(prefix="ember-profile-"))
                    profiler = Profiler(server.pid, out_dir, f"profile-{stamp}-{spans}",
                                        args.profile_rate, args.profile_native,
                                        args.profile_gil, args.profile_nonblocking)
                    profiler.start()
                report["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
                sampler = Sampler(server.pid)
                sampler.start()
                cpu_at_start = cpu_seconds(server.pid)
                machine_at_start = busy_cpu_seconds()

            load = loadgen.run_load(server.url, spans, args.clients, args.batch_spans,
                                    args.seed, args.timeout, on_start=on_start, log=log)
            server_cpu = cpu_seconds(server.pid) - cpu_at_start
            machine_cpu = busy_cpu_seconds() - machine_at_start
            report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
            if sampler is not None:
                sampler.stop()
            if profiler is not None:
                profiler.stop()
            metrics = scrape_metrics(server.url)
            kernel_peak = peak_rss_bytes(server.pid)
        finally:
            if sampler is not None:
                sampler.stop()
            if profiler is not None:
                profiler.stop()
            stop_s, clean = stop_server(server)
        log(f"server stopped in {stop_s:.1f}s ({'clean' if clean else 'NOT clean'})")
        disk = inspect_database(working_dir, env.get("EMBER_DATABASE_URL", ""))

    stored_metric = int(metrics.get("ember_spans_stored_total", -1))
    batches = metrics.get("ember_batch_spans_count", 0.0)
    lost = load.unique_spans - disk.spans
    report.update({
        "load": load.summary(),
        "durable_spans_per_s": round(load.spans_per_s, 1),
        "stored_spans_per_s": round(disk.spans / load.wall_s, 1) if load.wall_s else 0.0,
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_span": round(1000 * server_cpu / max(disk.spans, 1), 3),
        "server_cores_busy": round(server_cpu / load.wall_s, 2) if load.wall_s else 0.0,
        "client_cpu_s": load.client_cpu_s,
        # What else ran during the load (other sessions' tests, py-spy, this harness):
        "other_cpu_cores": round(max(machine_cpu - server_cpu - load.client_cpu_s, 0.0)
                                 / load.wall_s, 2) if load.wall_s else 0.0,
        "peak_rss_mib_sampled": round((sampler.max_rss if sampler else 0) / MiB, 1),
        "peak_rss_mib_vmhwm": round(kernel_peak / MiB, 1) if kernel_peak else None,
        "rss_timeline_mib": [(t, round(b / MiB, 1)) for t, b in sampler.timeline]
        if sampler else [],
        "stop_s": round(stop_s, 2),
        "stopped_cleanly": clean,
        "db_files": disk.files,
        "db_bytes": disk.total_bytes,
        "db_bytes_per_span": round(disk.total_bytes / max(disk.spans, 1), 1),
        "db_table_mib": {k: round(v / MiB, 1) for k, v in disk.table_bytes.items()},
        "avg_attributes_column_bytes": round(disk.avg_attributes_bytes, 1),
        "avg_payload_column_bytes": round(disk.avg_payload_bytes, 1),
        "stored_spans_sqlite": disk.spans,
        "stored_traces_sqlite": disk.traces,
        "stored_spans_metric": stored_metric,
        "batches": int(batches),
        "mean_spans_per_batch": round(metrics.get("ember_batch_spans_sum", 0) / batches, 1)
        if batches else 0.0,
        "writer_commit_s": round(metrics.get("ember_batch_commit_seconds_sum", 0.0), 2),
        "writer_busy_share": round(metrics.get("ember_batch_commit_seconds_sum", 0.0)
                                   / load.wall_s, 2) if load.wall_s else 0.0,
        "requests_rejected_metric": {k: v for k, v in metrics.items()
                                     if k.startswith("ember_otlp_requests_rejected_total")},
        "zero_loss": (lost == 0 and load.spans_acked == load.unique_spans
                      and stored_metric == load.unique_spans and load.requests_failed == 0
                      and load.spans_rejected == 0 and clean),
        "spans_lost": lost,
    })
    if profiler is not None and profiler.raw_path.exists():
        stacks = read_collapsed(profiler.raw_path)
        report["profile"] = summarize_profile(stacks, args.profile_rate)
        report["profile"]["raw"] = str(profiler.raw_path)
        if stacks:
            write_flamegraph_svg(stacks, profiler.svg_path,
                                 f"ember serve, {spans} spans ingested, py-spy "
                                 f"{args.profile_rate} Hz, {stamp}")
            report["profile"]["svg"] = str(profiler.svg_path)
    return report


def print_table(report: dict[str, Any]) -> None:
    load = report["load"]
    latency = load["ack_latency_ms"]
    rows = [
        ("spans sent (unique)", f"{load['spans_sent']:,} ({load['unique_spans']:,})"),
        ("protobuf bytes/span", f"{load['protobuf_bytes_per_span']:,.0f}"),
        ("clients x spans/request", f"{load['clients']} x {load['batch_spans']}"),
        ("wall time (first send -> last ack)", f"{load['wall_s']:.2f} s"),
        ("durable spans/s (acked / wall)", f"{report['durable_spans_per_s']:,.0f}"),
        ("stored spans/s (COUNT(*) / wall)", f"{report['stored_spans_per_s']:,.0f}"),
        ("ack latency p50 / p90 / p99 / max",
         f"{latency['p50']:.0f} / {latency['p90']:.0f} / {latency['p99']:.0f} / "
         f"{latency['max']:.0f} ms"),
        ("spans/s by tenth of the run", " ".join(f"{x:,.0f}" for x in
                                                load["spans_per_s_by_tenth"])),
        ("503 retries", f"{sum(load['retries'].values())} {load['retries'] or ''}"),
        ("server CPU per span", f"{report['server_cpu_ms_per_span']:.3f} ms "
                                f"({report['server_cores_busy']:.2f} cores busy)"),
        ("spans per group commit (mean)", f"{report['mean_spans_per_batch']:,.0f}"),
        ("writer busy (commit time / wall)", f"{report['writer_busy_share']:.0%}"),
        ("peak RSS (sampled / VmHWM)",
         f"{report['peak_rss_mib_sampled']:.0f} / {report['peak_rss_mib_vmhwm'] or 0:.0f} MiB"),
        ("start time (this run)", f"{report['start_s']:.2f} s"),
        ("idle RSS (this run)", f"{report['idle_rss_mib']:.0f} MiB"),
        ("db size after clean stop", f"{report['db_bytes'] / MiB:,.1f} MiB {report['db_files']}"),
        ("bytes on disk per span", f"{report['db_bytes_per_span']:,.0f}"),
        ("stored: sqlite COUNT(*) / metric",
         f"{report['stored_spans_sqlite']:,} / {report['stored_spans_metric']:,}"),
        ("zero spans lost", "yes" if report["zero_loss"] else f"NO ({report['spans_lost']})"),
        ("other processes' CPU during the run", f"{report['other_cpu_cores']:.2f} cores"),
        ("load average at start / end",
         f"{report.get('load_average_at_start')} / {report.get('load_average_at_end')}"),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"== ingest, {report['spans_target']:,} spans ==")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    profile = report.get("profile")
    if profile:
        print_profile(profile)


def print_profile(profile: dict[str, Any]) -> None:
    print(f"\n  py-spy: {profile['busy_samples']:,} busy samples at {profile['rate_hz']} Hz "
          f"(~{profile['sampled_busy_s']} s of thread time; "
          f"{profile['waiting_samples_excluded']:,} samples of blocked threads left out)")
    print("  shares below are of the busy samples")
    print("  threads:")
    for row in profile["threads"][:6]:
        print(f"    {row['percent']:5.1f}%  {row['name']}")
    print("  self time by module/package:")
    for row in profile["self_by_area"][:12]:
        print(f"    {row['percent']:5.1f}%  {row['name']}")
    print("  top functions by self time:")
    for row in profile["top_self"][:15]:
        print(f"    {row['percent']:5.1f}%  {row['name']}")
    print("  Ember functions by inclusive time:")
    for row in profile["top_inclusive_ember"][:12]:
        print(f"    {row['percent']:5.1f}%  {row['name']}")
    print(f"  flamegraph: {profile.get('svg')}")


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("EMBER_"):
            raise SystemExit(f"--env takes EMBER_NAME=VALUE, got {pair!r}")
        env[key] = value
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, nargs="+", default=[100_000],
                        help="Span count(s); each gets its own fresh server. Default 100000.")
    parser.add_argument("--clients", type=int, default=4, help="Client processes (default 4).")
    parser.add_argument("--batch-spans", type=int, default=512, help="Spans per request.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="Most seconds of sending per run (default 900).")
    parser.add_argument("--env", action="append", default=[], metavar="EMBER_NAME=VALUE",
                        help="A server setting for the runs (repeatable).")
    parser.add_argument("--start-trials", type=int, default=3,
                        help="Extra start/stop cycles on empty folders for start time and idle "
                             "RSS (default 3; 0 to skip).")
    parser.add_argument("--idle-wait", type=float, default=2.0,
                        help="Seconds after ready before idle RSS is read.")
    parser.add_argument("--profile", action="store_true",
                        help="Record the server with py-spy during the load.")
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples/s.")
    parser.add_argument("--profile-native", action="store_true",
                        help="py-spy --native: include C frames (SQLite, zstd, protobuf).")
    parser.add_argument("--profile-gil", action="store_true",
                        help="py-spy --gil: sample only the thread holding the GIL.")
    parser.add_argument("--profile-nonblocking", action="store_true",
                        help="py-spy --nonblocking: do not pause the server to sample.")
    parser.add_argument("--results-dir", default=str(BENCH_DIR / "results"))
    parser.add_argument("--no-save", action="store_true", help="Do not write bench/results/.")
    parser.add_argument("--keep-data", action="store_true", help="Keep the temporary data dir.")
    parser.add_argument("--ref", help="Benchmark this git commit/branch/tag of the repository "
                        "(a clean export of its src/) instead of the working tree.")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="Run the installed code in place instead of a copy of src/.")
    parser.add_argument("--summarize", metavar="RAW_FILE",
                        help="Only summarize a py-spy raw file (and draw its SVG); no run.")
    args = parser.parse_args(argv)
    # Stop cleanly (servers, clients, py-spy) on SIGTERM, and on SIGINT even when started in
    # the background by a shell that ignores it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.summarize:
        raw = Path(args.summarize)
        stacks = read_collapsed(raw)
        profile = summarize_profile(stacks, args.profile_rate)
        profile["svg"] = str(raw.with_suffix(".svg"))
        write_flamegraph_svg(stacks, raw.with_suffix(".svg"), raw.name)
        print_profile(profile)
        return 0
    env = parse_env(args.env)
    results_dir = None if args.no_save else Path(args.results_dir)
    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    summary: dict[str, Any] = {"machine": machine_info(), "runs": []}
    ok = True
    with contextlib.ExitStack() as stack:
        if args.no_snapshot:
            code_env: dict[str, str] = {}
            summary["code"] = {"source": "installed (no snapshot)",
                               "commit": git("rev-parse", "--short", "HEAD")}
        else:
            code_env, summary["code"] = stack.enter_context(code_snapshot(args.ref))
        log(f"code under test: {summary['code']}")
        server_env = {**code_env, **env}
        if args.start_trials:
            log(f"start-up: {args.start_trials} trials")
            summary["startup"] = measure_start(args.start_trials, server_env, args.idle_wait)
            log(f"start-up: {summary['startup']}")
        for spans in args.spans:
            log(f"run: {spans:,} spans")
            report = run_once(spans, args, server_env, results_dir, stamp)
            report["settings_env"] = env
            summary["runs"].append(report)
            ok = ok and report["zero_loss"]
            print_table(report)
    summary["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if "startup" in summary:
        s = summary["startup"]
        print(f"\nstart-up over {s['trials']} empty folders: {s['start_s_median']} s median "
              f"{s['start_s']}, idle RSS {s['idle_rss_mib_median']} MiB median")
    text = json.dumps(summary, indent=2)
    if results_dir is not None:
        sizes = "-".join(str(n) for n in args.spans)
        path = results_dir / f"ingest-{stamp}-{sizes}.json"
        path.write_text(text + "\n")
        log(f"wrote {path}")
    print("\n" + json.dumps(_compact(summary), indent=2))
    return 0 if ok else 1


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _compact(summary: dict[str, Any]) -> dict[str, Any]:
    """The JSON printed at the end: everything but the long lists."""
    runs = []
    for run in summary["runs"]:
        slim = {k: v for k, v in run.items() if k != "rss_timeline_mib"}
        if "profile" in slim:
            profile = dict(slim["profile"])
            for key in ("top_self", "top_inclusive_ember", "self_by_area"):
                profile[key] = profile[key][:10]
            slim["profile"] = profile
        runs.append(slim)
    return {**summary, "runs": runs}


if __name__ == "__main__":
    sys.exit(main())
