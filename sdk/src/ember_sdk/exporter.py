"""A span exporter that never troubles the application when Ember is away.

It wraps the OTLP exporter (HTTP or gRPC) and:

- never raises: whatever goes wrong in an export is a failed export;
- logs once when exports start failing and once when they work again (with the number of spans
  dropped meanwhile), instead of the OTLP exporter's error on every batch: the exporter's own
  log records are filtered out while this wrapper is exporting;
- while Ember is known to be away, tries a quick TCP connect before each export and drops the
  spans at once when nothing listens, so a stopped server costs the application a refused
  connection rather than the exporter's retries with backoff (up to its timeout) on every span.
  The first export is probed too, so an app started before its server is not held up either.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger("ember_sdk")

# The loggers the OTLP exporters report failed exports on (HTTP: its module logger, also handed
# to its HTTP client; gRPC: the shared exporter module's logger).
_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
)
_exporting = threading.local()
PROBE_TIMEOUT_S = 1.0


class _WhileExporting(logging.Filter):
    """Drops records logged by an OTLP exporter inside a guarded export (in that thread only),
    so other exporters the application has keep their logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(_exporting, "active", False):
            return True
        if record.levelno >= logging.ERROR:  # the exporter's final word, kept for our message
            _exporting.last_error = record.getMessage()
        return False


_FILTER = _WhileExporting()
for _name in _EXPORTER_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


class GuardedExporter(SpanExporter):
    """`inner` with the guarantees in the module docstring. `target` names the destination in
    log messages; `host_port` is what the reachability probe connects to."""

    def __init__(self, inner: SpanExporter, target: str, host_port: tuple[str, int]) -> None:
        self.inner = inner
        self.target = target
        self.host_port = host_port
        self._lock = threading.Lock()
        self._reachable: bool | None = None  # None: not known yet, probe first
        self.dropped = 0
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._reachable is not True and not self._probe():
            self._failed(len(spans), "nothing accepts connections there")
            return SpanExportResult.FAILURE
        _exporting.active, _exporting.last_error = True, None
        try:
            result = self.inner.export(spans)
            reason = getattr(_exporting, "last_error", None) or "the export failed"
        except Exception as exc:  # never into the application
            result, reason = SpanExportResult.FAILURE, f"{type(exc).__name__}: {exc}"
        finally:
            _exporting.active = False
        if result is SpanExportResult.SUCCESS:
            self._succeeded(len(spans))
        else:
            self._failed(len(spans), reason)
        return result

    def _probe(self) -> bool:
        try:
            with socket.create_connection(self.host_port, timeout=PROBE_TIMEOUT_S):
                return True
        except OSError:
            return False

    def _failed(self, count: int, reason: str) -> None:
        with self._lock:
            self.dropped += count
            first = self._reachable is not False
            self._reachable = False
        if first:
            log.warning(
                "Could not export spans to Ember at %s (%s); spans are dropped until it "
                "answers again. The application keeps running (is `ember serve` running?).",
                self.target, reason,
            )

    def _succeeded(self, count: int) -> None:
        with self._lock:
            self.exported += count
            recovered = self._reachable is False
            self._reachable = True
            dropped, self.dropped = self.dropped, 0
        if recovered:
            log.warning(
                "Exporting spans to Ember at %s again; %d spans were dropped meanwhile.",
                self.target, dropped,
            )

    def shutdown(self) -> None:
        _exporting.active = True
        try:
            self.inner.shutdown()
        except Exception:
            log.debug("exporter shutdown failed", exc_info=True)
        finally:
            _exporting.active = False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        try:
            return self.inner.force_flush(timeout_millis)
        except Exception:
            return False
