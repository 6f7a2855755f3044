from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ember.store import migrate
from tests.conftest import free_port


def _ember(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ember", *args],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )


def test_db_upgrade_creates_and_reports(tmp_path: Path) -> None:
    first = _ember("db", "upgrade", "--working-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert f"upgraded at revision {migrate.HEAD}" in first.stdout
    assert (tmp_path / "ember.db").exists()
    again = _ember("db", "upgrade", "--working-dir", str(tmp_path))
    assert f"already at revision {migrate.HEAD}" in again.stdout


def test_settings_lists_every_env_var() -> None:
    out = _ember("settings").stdout
    for name in ("EMBER_HOST", "EMBER_PORT", "EMBER_GRPC_PORT", "EMBER_DATABASE_URL",
                 "EMBER_INGEST_QUEUE_SPANS", "EMBER_BATCH_MAX_SPANS"):
        assert name in out


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    result = _ember("serve", "--working-dir", str(tmp_path), "--port", "99999")
    assert result.returncode != 0
    assert "port" in result.stderr and "65535" in result.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = _ember("serve", "--working-dir", str(tmp_path), "--port", str(port),
                        "--grpc-port", str(free_port()))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://u:secret@127.0.0.1:{port}/x"
    for command in (("db", "upgrade"), ("serve", "--port", str(free_port()),
                                          "--grpc-port", str(free_port()))):
        result = _ember(*command, "--database-url", url, "--working-dir", str(tmp_path))
        assert result.returncode == 1, result.stderr
        assert f"cannot reach the database postgresql+psycopg://u:***@127.0.0.1:{port}/x" in (
            result.stderr
        )
        assert "secret" not in result.stderr
        assert "Traceback" not in result.stderr


def test_an_unsupported_database_is_refused(tmp_path: Path) -> None:
    result = _ember("db", "upgrade", "--database-url", "mysql://u@127.0.0.1/x")
    assert result.returncode != 0
    assert "Ember stores to SQLite" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_and_sigint_stop_cleanly(tmp_path: Path) -> None:
    import signal

    from tests.conftest import EmberProcess

    for sig in (signal.SIGTERM, signal.SIGINT):
        server = EmberProcess(tmp_path / sig.name).start()
        assert server.stop(sig) == 0
        assert "everything acknowledged is stored" in server.log()


def test_docs_settings_page_is_current() -> None:
    from ember.cli import settings_markdown

    page = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
    regenerate = "run: ember settings --markdown > docs/settings.md"
    assert page.read_text() == settings_markdown(), regenerate
