"""Prometheus metrics of one Ember server (its own registry, so several can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.spans_received = Counter(
            "ember_spans_received", "Spans decoded from OTLP requests.",
            ["transport"], registry=self.registry,
        )
        self.spans_stored = Counter(
            "ember_spans_stored", "Spans newly committed to the database.",
            registry=self.registry,
        )
        self.spans_duplicate = Counter(
            "ember_spans_duplicate", "Spans acknowledged that were already stored.",
            registry=self.registry,
        )
        self.spans_rejected = Counter(
            "ember_spans_rejected", "Spans refused, by reason.",
            ["reason"], registry=self.registry,
        )
        self.logs_received = Counter(
            "ember_log_records_received", "Log records decoded from OTLP requests.",
            ["transport"], registry=self.registry,
        )
        self.logs_stored = Counter(
            "ember_log_records_stored", "Log records newly committed to the database.",
            registry=self.registry,
        )
        self.logs_rejected = Counter(
            "ember_log_records_rejected", "Log records refused (not tied to a span, bad ids).",
            registry=self.registry,
        )
        self.requests_rejected = Counter(
            "ember_otlp_requests_rejected", "OTLP requests refused as a whole, by reason.",
            ["reason"], registry=self.registry,
        )
        self.queue_spans = Gauge(
            "ember_ingest_queue_spans", "Spans and log records waiting for the writer.",
            registry=self.registry,
        )
        self.batch_commit_seconds = Histogram(
            "ember_batch_commit_seconds", "Time to write and commit one batch.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.batch_spans = Histogram(
            "ember_batch_spans", "Spans per committed batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
            registry=self.registry,
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
