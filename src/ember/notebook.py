"""launch_app(): a real Ember server inside a notebook (or any Python process), in a background
thread.

The server is the same EmberServer `ember serve` runs (UI, REST API, OTLP/HTTP and OTLP/gRPC,
the group-commit writer), on 127.0.0.1, with its own asyncio event loop in its own thread: a
Jupyter kernel already runs a loop in the main thread, which this never touches. Without a
working_dir or database_url it keeps its data in a temporary folder that stop() removes.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ember.server import EmberServer, Endpoints

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports on 127.0.0.1 (all held open while choosing, so the OS
    cannot hand out one twice)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                   for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]




class EmberApp:
    """A running server: `url` (UI, REST API, OTLP/HTTP at url + "/v1/traces"),
    `grpc_endpoint`, `database`; `stop()` ends it (also on leaving a `with` block, and at
    interpreter exit). Point the SDK at it with `ember_sdk.register(endpoint=app.url)`."""

    def __init__(self, server: EmberServer, endpoints: Endpoints, thread: threading.Thread,
                 loop: asyncio.AbstractEventLoop, temporary_dir: Path | None) -> None:
        self._server = server
        self._thread = thread
        self._loop = loop
        self._temporary_dir = temporary_dir
        self.url = endpoints.http
        self.grpc_endpoint = endpoints.grpc
        self.database = endpoints.database
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the server the way `ember serve` stops on SIGTERM (everything acknowledged is
        stored), then remove its temporary folder if it had one. Safe to call twice."""
        if self._thread.is_alive():
            # EmberServer.serve() ends when its stop event is set; it belongs to the server's
            # loop, so it is set from that loop's thread.
            self._loop.call_soon_threadsafe(self._server._stop.set)
            self._thread.join(STOP_TIMEOUT_S)
        if self._temporary_dir is not None and not self._thread.is_alive():
            shutil.rmtree(self._temporary_dir, ignore_errors=True)
            self._temporary_dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> EmberApp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmberApp {self.url} ({state}), data in {self.database}>"

    def _repr_html_(self) -> str:
        from html import escape

        url = escape(self.url, quote=True)
        return (f'<p>Ember is {"running" if self.running else "stopped"} at '
                f'<a href="{url}" target="_blank">{url}</a></p>')


def launch_app(
    working_dir: str | Path | None = None,
    database_url: str | None = None,
    port: int = 0,
    grpc_port: int = 0,
    *,
    log_level: str = "warning",
    quiet: bool = False,
) -> EmberApp:
    """Start an Ember server on 127.0.0.1 in a background thread and return it once it answers.

    - working_dir: its data folder (the SQLite file lives there); None: a temporary folder,
      removed by stop(). Other settings come from the EMBER_* environment as for `ember serve`
      (so EMBER_DATABASE_URL, if set, names the database when database_url is None).
    - database_url: a database instead (sqlite:///... or postgresql://...).
    - port, grpc_port: 0 picks free ports.
    - log_level: the server's log level (warning keeps a notebook's output clean).
    - quiet: do not print the URL.

    Raises what `ember serve` would refuse to start with (a busy port, an unreachable
    database, a bad setting) as an exception in the caller.
    """
    from ember.server import EmberServer
    from ember.settings import load_settings

    temporary = None
    if working_dir is None and database_url is None:
        temporary = Path(tempfile.mkdtemp(prefix="ember-notebook-"))
    free_http, free_grpc = _free_ports(2)
    settings = load_settings({
        "host": "127.0.0.1",
        "port": port or free_http,
        "grpc_port": grpc_port or free_grpc,
        "working_dir": str(temporary or working_dir or "") or None,
        "database_url": database_url,
        "log_level": log_level,
    })

    started = threading.Event()
    outcome: dict[str, Any] = {}

    def on_ready(endpoints: Endpoints) -> None:
        outcome["endpoints"] = endpoints
        started.set()

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        outcome["loop"] = loop
        try:
            server = EmberServer(settings)
            outcome["server"] = server
            loop.run_until_complete(server.serve(on_ready=on_ready, handle_signals=False))
        except BaseException as exc:  # reported to the caller of launch_app
            outcome["error"] = exc
            if "server" in outcome and "endpoints" not in outcome:
                # serve() failed before it started (a busy port) and so before the part of it
                # that closes the store.
                with contextlib.suppress(Exception):
                    outcome["server"].store.close()
        finally:
            started.set()
            loop.close()

    thread = threading.Thread(target=serve, name="ember-notebook-server", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT_S):
        raise TimeoutError(f"Ember did not start within {START_TIMEOUT_S:.0f} s")
    if "endpoints" not in outcome:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        error = outcome.get("error")
        if isinstance(error, Exception):
            raise error
        raise RuntimeError("Ember stopped while starting")
    app = EmberApp(outcome["server"], outcome["endpoints"], thread, outcome["loop"], temporary)
    if not quiet:
        print(f"Ember is running at {app.url} (OTLP/HTTP {app.url}/v1/traces, "
              f"gRPC {app.grpc_endpoint}); data in {app.database}.", flush=True)
    return app
