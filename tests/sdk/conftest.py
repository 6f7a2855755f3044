"""Fixtures for the SDK tests: one `ember serve` for the session (every test writes under its own
project), the fake OpenAI server, and one clean virtual environment holding only ember-sdk (made
once per session: creating it and installing into it takes about 15 s)."""

from __future__ import annotations

import os
import subprocess
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ember.demo.openai_server import FakeOpenAI
from tests.conftest import EmberProcess

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "venv: uses the session's clean virtual environment (made once, ~15 s)"
    )


@pytest.fixture(scope="session")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    server = EmberProcess(tmp_path_factory.mktemp("ember-sdk-tests")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: no EMBER_*, OTEL_* or OPENAI_* from the caller's,
    no PYTHONPATH (so nothing of this checkout leaks in), plus `extra`."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("EMBER_", "OTEL_", "OPENAI_", "PYTHON"))
    }
    env.update(extra)
    return env


@dataclass(frozen=True)
class Venv:
    """A virtual environment: its python, and a runner for scripts in it."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def run(self, script: Path | str, *args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 120,
            ) -> subprocess.CompletedProcess[str]:
        command = [str(self.python), *(["-c", script] if isinstance(script, str) else
                                       [str(script)]), *args]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False,
            env=env if env is not None else clean_env(), cwd=cwd,
        )

    def pip(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.python), "-m", "pip", "install", "--quiet", "--no-input", *args],
            capture_output=True, text=True, timeout=600, check=False, env=clean_env(),
        )
        assert result.returncode == 0, f"pip install {args} failed:\n{result.stderr[-4000:]}"


@pytest.fixture(scope="session")
def sdk_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtual environment with `pip install <checkout>/sdk` and nothing else (pip's
    configured package index is used, as a user's would be)."""
    path = tmp_path_factory.mktemp("sdk-venv") / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    env = Venv(path)
    env.pip(str(ROOT / "sdk"))
    return env


def project_name(request: pytest.FixtureRequest, *parts: str) -> str:
    """A project name unique to the test (and its parameters)."""
    import re

    raw = "-".join(["sdk", request.node.name, *parts]).lower()
    return re.sub(r"[^a-z0-9]+", "-", raw).strip("-")[:80]
