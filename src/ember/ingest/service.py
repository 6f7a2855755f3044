"""What both OTLP transports share, for traces and logs: admission, normalization, the wait
for the commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ember.errors import DecodeError, QueueFull
from ember.ingest.buffer import IngestBuffer
from ember.ingest.normalize import Normalizer
from ember.metrics import Metrics


@dataclass(frozen=True)
class ExportOutcome:
    accepted: int
    rejected: int
    message: str


class IngestService:
    def __init__(self, normalizer: Normalizer, buffer: IngestBuffer, metrics: Metrics) -> None:
        self.normalizer = normalizer
        self.buffer = buffer
        self.metrics = metrics

    def admit(self) -> None:
        """Refuse early, before decoding, when the queue is already full."""
        if self.buffer.is_full():
            self.metrics.requests_rejected.labels("queue_full").inc()
            raise QueueFull(
                f"the ingest queue is full ({self.buffer.queued_spans} spans waiting); retry later"
            )

    async def export(
        self, request: Any, header_project: str | None, transport: str
    ) -> ExportOutcome:
        """Store the valid spans of a decoded request; returns once they are committed.

        Raises DecodeError when the request has spans and none of them is valid, QueueFull when
        there is no room, StoreUnavailable when the database could not commit.
        """
        batch = self.normalizer.normalize(request, header_project)
        self.metrics.spans_received.labels(transport).inc(len(batch.spans) + batch.rejected)
        if batch.rejected:
            self.metrics.spans_rejected.labels("invalid").inc(batch.rejected)
            if not batch.spans:
                raise DecodeError(batch.message)
        try:
            await self.buffer.submit(batch.spans)
        except QueueFull:
            self.metrics.requests_rejected.labels("queue_full").inc()
            raise
        return ExportOutcome(len(batch.spans), batch.rejected, batch.message)

    async def export_logs(self, request: Any, transport: str) -> ExportOutcome:
        """Store the log records of a decoded ExportLogsServiceRequest that are tied to a span;
        the others are rejected (partial success). Raises as `export` does, except that a
        request whose records are all rejected is answered, not refused: nothing in it can be
        fixed by sending it again."""
        batch = self.normalizer.normalize_logs(request)
        self.metrics.logs_received.labels(transport).inc(len(batch.logs) + batch.rejected)
        if batch.rejected:
            self.metrics.logs_rejected.inc(batch.rejected)
        try:
            await self.buffer.submit_logs(batch.logs)
        except QueueFull:
            self.metrics.requests_rejected.labels("queue_full").inc()
            raise
        return ExportOutcome(len(batch.logs), batch.rejected, batch.message)
