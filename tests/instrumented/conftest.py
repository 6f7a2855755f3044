"""Fixtures: the fake OpenAI server (one per session, its call log cleared for each test) and a
per-test tracing pipeline into the shared `ember serve`, under a project named after the test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import EmberProcess
from tests.fakes.openai_server import FakeOpenAI
from tests.instrumented.support import Telemetry


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAI) -> FakeOpenAI:
    """The fake OpenAI server with an empty call log."""
    fake_openai_server.clear()
    return fake_openai_server


@pytest.fixture
def telemetry(shared_server: EmberProcess, request: pytest.FixtureRequest) -> Iterator[Telemetry]:
    """A fresh TracerProvider exporting to the shared server under this test's own project."""
    module = request.node.path.stem.removeprefix("test_")
    project = re.sub(r"[^a-z0-9]+", "-", f"inst-{module}-{request.node.name}".lower()).strip("-")
    pipeline = Telemetry(shared_server, project)
    yield pipeline
    pipeline.shutdown()
