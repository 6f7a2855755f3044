"""The one table of Ember's server settings.

Every setting is declared once in `SETTINGS` with its name, environment variable, default, type
and help. `load_settings()` reads the environment once; CLI flags are passed in as overrides, so a
flag beats the environment, which beats the default. Nothing else in Ember reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ember.errors import SettingsError
from ember.model import RetentionPolicy

MiB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError("must be a port number between 1 and 65535")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _synchronous(text: str) -> str:
    value = text.strip().upper()
    if value not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError("must be one of OFF, NORMAL, FULL, EXTRA")
    return value


def _log_level(text: str) -> str:
    value = text.strip().lower()
    if value not in {"debug", "info", "warning", "error"}:
        raise ValueError("must be one of debug, info, warning, error")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "EMBER_HOST", "127.0.0.1", str, "Interface the HTTP and gRPC servers bind."),
    Setting("port", "EMBER_PORT", 6006, _port, "HTTP port: UI, REST API and OTLP/HTTP."),
    Setting("grpc_port", "EMBER_GRPC_PORT", 4317, _port, "OTLP/gRPC port."),
    Setting(
        "working_dir", "EMBER_WORKING_DIR", "~/.ember", str,
        "Folder for Ember's data; the default SQLite database lives here.",
    ),
    Setting(
        "database_url", "EMBER_DATABASE_URL", "", str,
        "SQLAlchemy URL of the database; empty means sqlite:///<working_dir>/ember.db.",
    ),
    Setting(
        "max_request_bytes", "EMBER_MAX_REQUEST_BYTES", 32 * MiB, _positive_int,
        "Largest OTLP request body accepted, before and after decompression (413 beyond).",
    ),
    Setting(
        "max_attribute_value_bytes", "EMBER_MAX_ATTRIBUTE_VALUE_BYTES", 4 * MiB, _positive_int,
        "Longest string or bytes attribute value kept whole; longer ones are cut to this size "
        "and listed as truncated with their original size.",
    ),
    Setting(
        "max_attribute_depth", "EMBER_MAX_ATTRIBUTE_DEPTH", 32, _positive_int,
        "Deepest nesting of array/kvlist attribute values kept; deeper parts are replaced by a "
        "marker and listed as truncated.",
    ),
    Setting(
        "ingest_queue_spans", "EMBER_INGEST_QUEUE_SPANS", 20_000, _positive_int,
        "Spans that may wait for the writer; beyond this OTLP gets 503 / UNAVAILABLE.",
    ),
    Setting(
        "batch_max_spans", "EMBER_BATCH_MAX_SPANS", 5_000, _positive_int,
        "Most spans written in one group-commit transaction.",
    ),
    Setting(
        "batch_max_delay_ms", "EMBER_BATCH_MAX_DELAY_MS", 2.0, _non_negative_float,
        "How long the writer waits for more requests to join a batch that is not full.",
    ),
    Setting(
        "sqlite_synchronous", "EMBER_SQLITE_SYNCHRONOUS", "FULL", _synchronous,
        "SQLite synchronous pragma. FULL makes every acknowledged batch survive power loss.",
    ),
    Setting(
        "prices_file", "EMBER_PRICES_FILE", "", str,
        "TOML or JSON price table whose models are added to (or replace) Ember's bundled LLM "
        "prices; see docs/cost.md. Prices apply to spans as they arrive.",
    ),
    Setting(
        "retention_days", "EMBER_RETENTION_DAYS", 0, _non_negative_int,
        "Default retention: delete traces older than this many days (0 keeps them forever). "
        "A project's own policy (PUT /v1/projects/{id}/retention) overrides it.",
    ),
    Setting(
        "retention_max_traces", "EMBER_RETENTION_MAX_TRACES", 0, _non_negative_int,
        "Default retention: keep only this many newest traces per project (0: no limit).",
    ),
    Setting(
        "retention_sweep_minutes", "EMBER_RETENTION_SWEEP_MINUTES", 60.0, _non_negative_float,
        "How often the server applies retention (0: never; `ember db prune` does it once).",
    ),
    Setting("log_level", "EMBER_LOG_LEVEL", "info", _log_level, "Server log level."),
)


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    grpc_port: int
    working_dir: str
    database_url: str
    max_request_bytes: int
    max_attribute_value_bytes: int
    max_attribute_depth: int
    ingest_queue_spans: int
    batch_max_spans: int
    batch_max_delay_ms: float
    sqlite_synchronous: str
    prices_file: str
    retention_days: int
    retention_max_traces: int
    retention_sweep_minutes: float
    log_level: str

    @property
    def default_retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            days=self.retention_days or None, max_traces=self.retention_max_traces or None
        )

    @property
    def working_path(self) -> Path:
        return Path(self.working_dir).expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.working_path / 'ember.db'}"


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings from defaults, then the environment, then non-None `overrides`."""
    env = os.environ if environ is None else environ
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        raw = env.get(setting.env)
        if raw is not None and raw != "":
            try:
                value = setting.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{setting.env}={raw!r}: {exc}") from exc
        override = overrides.get(setting.name)
        if override is not None:
            try:
                value = setting.parse(str(override))
            except ValueError as exc:
                raise SettingsError(f"--{setting.name.replace('_', '-')}: {exc}") from exc
        values[setting.name] = value
    unknown = set(overrides) - {s.name for s in SETTINGS}
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    return Settings(**values)


def settings_table() -> list[tuple[str, str, str]]:
    """(env var, default, help) rows, for `ember settings` and the docs."""
    return [(s.env, str(s.default), s.help) for s in SETTINGS]


assert {f.name for f in fields(Settings)} == {s.name for s in SETTINGS}
