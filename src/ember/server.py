"""One Ember server process: HTTP (uvicorn) and OTLP/gRPC in one event loop, one writer thread.

Shutdown order on SIGINT/SIGTERM: stop accepting connections, let in-flight requests finish
(they wait for their commit), stop gRPC with a grace period, drain the ingest queue, close the
database. A request that got its 200 was committed before the 200 was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from ember.api.app import create_app
from ember.cost.table import load_prices
from ember.ingest.buffer import IngestBuffer
from ember.ingest.derive import SpanDeriver
from ember.ingest.grpc import create_grpc_server
from ember.ingest.normalize import Normalizer
from ember.ingest.service import IngestService
from ember.metrics import Metrics
from ember.settings import Settings
from ember.store import migrate
from ember.store.engine import create_engines
from ember.store.sql import SqlStore

log = logging.getLogger("ember.server")


class _UvicornServer(uvicorn.Server):
    """uvicorn without its own signal handling: Ember's serve() owns the shutdown sequence."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class Endpoints:
    http: str
    grpc: str
    database: str


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


class EmberServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store, deriver = self.open_store(settings)
        self.metrics = Metrics()
        self.buffer = IngestBuffer(
            self.store,
            self.metrics,
            capacity=settings.ingest_queue_spans,
            batch_max_spans=settings.batch_max_spans,
            max_delay_s=settings.batch_max_delay_ms / 1000,
        )
        self.ingest = IngestService(
            Normalizer(
                settings.max_attribute_value_bytes, settings.max_attribute_depth,
                deriver,
            ),
            self.buffer,
            self.metrics,
        )
        self.app = create_app(settings, self.store, self.ingest, self.metrics)
        self._stop = asyncio.Event()

    @staticmethod
    def open_store(settings: Settings) -> tuple[SqlStore, SpanDeriver]:
        """The migrated store of these settings (prices are read first, so a bad price file
        stops start-up before the database is touched)."""
        settings.working_path.mkdir(parents=True, exist_ok=True)
        deriver = SpanDeriver(load_prices(settings.prices_file))
        writer, readers = create_engines(
            settings.resolved_database_url, settings.sqlite_synchronous
        )
        migrate.upgrade(writer)
        return SqlStore(writer, readers, deriver), deriver

    def endpoints(self) -> Endpoints:
        s = self.settings
        host = f"[{s.host}]" if ":" in s.host else s.host
        return Endpoints(
            http=f"http://{host}:{s.port}",
            grpc=f"{host}:{s.grpc_port}",
            database=database_display(s.resolved_database_url),
        )

    async def serve(
        self,
        on_ready: Callable[[Endpoints], None] | None = None,
        handle_signals: bool = True,
    ) -> None:
        s = self.settings
        http_socket = bind_socket(s.host, s.port)
        grpc_server = create_grpc_server(self.ingest, s.host, s.grpc_port, s.max_request_bytes)
        self.buffer.start()
        await grpc_server.start()
        config = uvicorn.Config(
            self.app,
            log_level=s.log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=30,
        )
        http_server = _UvicornServer(config)
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._stop.set)
        http_task = asyncio.create_task(http_server.serve(sockets=[http_socket]))
        try:
            while not http_server.started and not http_task.done():
                await asyncio.sleep(0.01)
            if http_task.done():
                http_task.result()
                return
            if on_ready is not None:
                on_ready(self.endpoints())
            stop_task = asyncio.create_task(self._stop.wait())
            sweeper = asyncio.create_task(self._sweep_retention())
            await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_task.cancel()
            sweeper.cancel()
        finally:
            http_server.should_exit = True
            with contextlib.suppress(BaseException):
                await http_task
            await grpc_server.stop(grace=10)
            await asyncio.to_thread(self.buffer.close)
            self.store.close()
            http_socket.close()
            if handle_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            log.info("stopped; everything acknowledged is stored")


    async def _sweep_retention(self) -> None:
        """Apply retention now and then (EMBER_RETENTION_SWEEP_MINUTES), in a worker thread;
        a failed sweep is logged and tried again next time."""
        interval = self.settings.retention_sweep_minutes * 60
        if interval <= 0:
            return
        while True:
            try:
                deleted = await asyncio.to_thread(
                    self.store.prune, self.settings.default_retention, time.time_ns()
                )
                if deleted:
                    log.info("retention: deleted %d traces", deleted)
            except Exception:
                log.exception("retention sweep failed; will try again")
            await asyncio.sleep(interval)


def database_display(url: str) -> str:
    """The database location as shown to a person (no password)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


def run(settings: Settings, on_ready: Callable[[Endpoints], None] | None = None) -> None:
    """Run a server in this thread until SIGINT or SIGTERM."""
    try:
        import uvloop

        runner: Callable[..., None] = uvloop.run
    except ImportError:
        runner = asyncio.run
    server = EmberServer(settings)
    runner(server.serve(on_ready=on_ready))
