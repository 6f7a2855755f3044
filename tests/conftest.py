"""Shared test fixtures: a real `ember serve` subprocess on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# The shared fixtures live beside the checkout (../shared), in CI as in a developer's tree.
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmberProcess:
    """`ember serve` in a subprocess, with its own working dir and ports."""

    def __init__(self, working_dir: Path, env: dict[str, str] | None = None) -> None:
        self.working_dir = working_dir
        self.extra_env = env or {}
        self.port = free_port()
        self.grpc_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = working_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, timeout: float = 30) -> EmberProcess:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
        env = {**inherited, **self.extra_env}
        self.working_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "ember", "serve",
                "--working-dir", str(self.working_dir),
                "--port", str(self.port),
                "--grpc-port", str(self.grpc_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ember serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"ember serve did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=30)

    def spans(self, project: str, **params: Any) -> list[dict[str, Any]]:
        """Every span of a project, following cursors."""
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, "limit": 1000}
            if cursor:
                query["cursor"] = cursor
            response = self.get(f"/v1/projects/{project}/spans", **query)
            response.raise_for_status()
            body = response.json()
            out.extend(body["data"])
            cursor = body["next_cursor"]
            if not cursor:
                return out


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmberProcess]:
    """One server per storage backend for tests that only add data under their own project
    names: every test that uses it runs against SQLite and against PostgreSQL."""
    env = {}
    if request.param == "postgresql":
        env["EMBER_DATABASE_URL"] = request.getfixturevalue("postgres").create_database()
    server = EmberProcess(tmp_path_factory.mktemp(f"ember-shared-{request.param}"), env).start()
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """Start dedicated servers (own data dir, optional env); all are stopped afterwards."""
    started: list[EmberProcess] = []

    def make(env: dict[str, str] | None = None, working_dir: Path | None = None) -> EmberProcess:
        server = EmberProcess(working_dir or tmp_path / f"ember-{len(started)}", env)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """One real PostgreSQL server for the session (tests/postgres.py); each test that needs a
    database asks it for a fresh one."""
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()
