"""A 200 means stored: kill -9 and restart keep every acknowledged span; a full queue pushes back
(503 + Retry-After / UNAVAILABLE) and the OTel exporters' own retries still store every span
exactly once."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult, SpanProcessor

from tests.conftest import EmberProcess
from tests.helpers import (
    PROTOBUF,
    error_status,
    make_span,
    post,
    project_request,
    span_id,
    trace_id,
)

UNAVAILABLE = 14
QUEUE = 50


def _project(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


# ------------------------------------------------------------------------------ kill -9


def test_kill_9_right_after_a_200_loses_nothing(
    server_factory: Callable[..., EmberProcess], tmp_path: Path
) -> None:
    working_dir = tmp_path / "data"
    server = server_factory(working_dir=working_dir)
    project = _project("kill")
    acked: dict[str, set[str]] = {}  # trace id -> span ids acknowledged with a 200
    lock = threading.Lock()
    stop = threading.Event()

    def send(worker: int) -> None:
        while not stop.is_set():
            trace = trace_id()
            spans = [make_span(trace, span_id(), name=f"w{worker}") for _ in range(20)]
            try:
                response = post(server.url, project_request(project, spans), timeout=10)
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 200:
                with lock:
                    acked[trace.hex()] = {s.span_id.hex() for s in spans}

    threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until enough acknowledged (a wait, not a timing check)
        with lock:
            if len(acked) >= 40:
                break
        time.sleep(0.01)
    server.kill()  # SIGKILL while requests are in flight, right after the latest 200s
    stop.set()
    for thread in threads:
        thread.join()
    assert server.proc is not None and server.proc.returncode == -9
    with lock:
        acknowledged = dict(acked)
    assert len(acknowledged) >= 40

    again = server_factory(working_dir=working_dir)
    stored: dict[str, set[str]] = {}
    for span in again.spans(project):
        stored.setdefault(span["context"]["trace_id"], set()).add(span["context"]["span_id"])
    for trace, span_ids in acknowledged.items():
        assert stored.get(trace) == span_ids, trace
    # Requests cut off mid-way are all or nothing, and their roll-ups match what is stored.
    for trace, span_ids in stored.items():
        assert len(span_ids) == 20
        summary = again.get(f"/v1/traces/{trace}").json()["data"]
        assert summary["span_count"] == 20


def test_kill_9_then_retry_of_the_same_requests(
    server_factory: Callable[..., EmberProcess], tmp_path: Path
) -> None:
    """What an exporter does after a crash: resend. Nothing doubles."""
    working_dir = tmp_path / "data"
    server = server_factory(working_dir=working_dir)
    project = _project("kill-retry")
    requests = [
        project_request(project, [make_span(trace, span_id(), status_code=2) for _ in range(5)])
        for trace in (trace_id() for _ in range(10))
    ]
    for request in requests:
        assert post(server.url, request).status_code == 200
    server.kill()
    again = server_factory(working_dir=working_dir)
    for request in requests:
        assert post(again.url, request).status_code == 200
    assert len(again.spans(project)) == 50
    for request in requests:
        trace = request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
        summary = again.get(f"/v1/traces/{trace}").json()["data"]
        assert (summary["span_count"], summary["error_count"]) == (5, 5)


# ------------------------------------------------------------------------------ a full queue


def _metric(server: EmberProcess, name: str, labels: str = "") -> float:
    text = server.get("/metrics").text
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _queue_full_count(server: EmberProcess) -> float:
    return _metric(server, "ember_otlp_requests_rejected_total", '{reason="queue_full"}')


def test_full_queue_is_503_with_retry_after_and_unavailable_on_grpc(
    server_factory: Callable[..., EmberProcess],
) -> None:
    server = server_factory(env={"EMBER_INGEST_QUEUE_SPANS": str(QUEUE)})
    project = _project("full")
    http_refusals: list[httpx.Response] = []
    grpc_refusals: list[grpc.RpcError] = []
    stored_ids: set[str] = set()
    lock = threading.Lock()

    def http_once() -> None:
        spans = [make_span(trace_id(), span_id()) for _ in range(QUEUE - 10)]
        response = post(server.url, project_request(project, spans))
        with lock:
            if response.status_code == 503:
                http_refusals.append(response)
            else:
                assert response.status_code == 200, response.content
                stored_ids.update(s.span_id.hex() for s in spans)

    def grpc_once(stub: Any) -> None:
        spans = [make_span(trace_id(), span_id()) for _ in range(QUEUE - 10)]
        try:
            stub.Export(project_request(project, spans), timeout=30)
        except grpc.RpcError as error:
            with lock:
                grpc_refusals.append(error)
        else:
            with lock:
                stored_ids.update(s.span_id.hex() for s in spans)

    with grpc.insecure_channel(server.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(8) as pool:
            while time.monotonic() < deadline and not (http_refusals and grpc_refusals):
                jobs = [pool.submit(http_once) for _ in range(6)]
                jobs += [pool.submit(grpc_once, stub) for _ in range(6)]
                for job in jobs:
                    job.result()
    assert http_refusals, "the queue never filled"
    for response in http_refusals:
        assert response.headers["retry-after"].isdigit()
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["content-type"] == PROTOBUF
        status = error_status(response)
        assert status.code == UNAVAILABLE
        assert "queue is full" in status.message
    assert grpc_refusals, "the queue never filled for gRPC"
    for error in grpc_refusals:
        assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
        assert "queue is full" in (error.details() or "")
    # Refused requests stored nothing; the accepted ones are all there.
    assert {s["context"]["span_id"] for s in server.spans(project)} == stored_ids
    assert httpx.get(f"{server.url}/healthz").status_code == 200


class _Keep(SpanProcessor):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


def _sdk_spans(project: str, batches: int, per_batch: int) -> list[list[ReadableSpan]]:
    """Real SDK spans, `per_batch` to a trace (a root and its children)."""
    provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
    keep = _Keep()
    provider.add_span_processor(keep)
    tracer = provider.get_tracer("ember.tests.overload")
    out = []
    for b in range(batches):
        keep.spans = []
        with tracer.start_as_current_span(f"root-{b}"):
            for k in range(per_batch - 1):
                with tracer.start_as_current_span(f"child-{b}-{k}") as child:
                    child.set_attribute("k", k)
        out.append(keep.spans)
    provider.shutdown()
    return out


def test_otel_exporters_retry_a_full_queue_and_every_span_lands_once(
    server_factory: Callable[..., EmberProcess],
) -> None:
    server = server_factory(env={"EMBER_INGEST_QUEUE_SPANS": str(QUEUE)})
    project = _project("overload")
    per_batch = 12
    exported: list[ReadableSpan] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(kind: str, batches: list[list[ReadableSpan]]) -> None:
        exporter: SpanExporter
        if kind == "http":
            exporter = HttpExporter(endpoint=f"{server.url}/v1/traces", timeout=60)
        else:
            exporter = GrpcExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=60)
        try:
            for batch in batches:
                result = exporter.export(batch)
                with lock:
                    if result is SpanExportResult.SUCCESS:
                        exported.extend(batch)
                    else:
                        failures.append(kind)
        finally:
            exporter.shutdown()

    rounds = 0
    deadline = time.monotonic() + 90
    while rounds == 0 or (_queue_full_count(server) == 0 and time.monotonic() < deadline):
        rounds += 1
        kinds = ["http", "grpc"] * 4
        with ThreadPoolExecutor(len(kinds)) as pool:
            jobs = [pool.submit(worker, kind, _sdk_spans(project, 4, per_batch)) for kind in kinds]
            for job in jobs:
                job.result()
    assert _queue_full_count(server) > 0, "the queue never filled: nothing was retried"
    assert failures == [], "an exporter gave up"

    stored = server.spans(project)
    stored_ids = [s["context"]["span_id"] for s in stored]
    assert len(stored_ids) == len(set(stored_ids))  # exactly once
    assert set(stored_ids) == {format(s.context.span_id, "016x") for s in exported}
    assert len(stored_ids) == rounds * 8 * 4 * per_batch
    for trace in {s["context"]["trace_id"] for s in stored}:
        summary = server.get(f"/v1/traces/{trace}").json()["data"]
        assert summary["span_count"] == per_batch
