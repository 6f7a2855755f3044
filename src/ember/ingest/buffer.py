"""The bounded ingest queue and its group-commit writer thread.

Contract
- `submit(spans)` (and `submit_logs(logs)`) waits until the records are committed (durably,
  per the store contract) and only then returns; a caller acknowledges its client after that,
  never before.
- Many requests share one transaction: the writer takes every request waiting (up to
  `batch_max_spans`, lingering up to `max_delay_s` for more while the batch is small) and writes
  them with one `Store.write_spans` call (and one `Store.write_logs` call for the log records
  among them, after the spans).
- Bounded: at most `capacity` records (spans and log records) wait. Beyond that `submit` raises
  `QueueFull` at once, which transports turn into 503 / UNAVAILABLE so exporters back off and
  retry. A single request larger than the capacity is still admitted when the queue is empty,
  so it can never be starved.
- If a shared batch fails, each request in it is retried alone, so one bad request cannot fail
  its neighbours; a request that fails alone gets `StoreUnavailable` (retryable).
- `close()` stops taking requests, writes everything already queued, then stops the thread.

The writer runs in its own thread; the database driver releases the GIL while SQLite works, so
decoding on the event loop and writing overlap on two cores.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ember.errors import QueueFull, StoreUnavailable
from ember.metrics import Metrics
from ember.model import LogRecord, SpanRecord
from ember.store.base import Store

log = logging.getLogger("ember.ingest")


@dataclass
class _Pending:
    records: Sequence[Any]  # SpanRecords or LogRecords, as `kind` says
    kind: Literal["spans", "logs"]
    future: asyncio.Future[int]
    loop: asyncio.AbstractEventLoop


class IngestBuffer:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        capacity: int,
        batch_max_spans: int,
        max_delay_s: float,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._capacity = capacity
        self._batch_max = batch_max_spans
        self._max_delay = max_delay_s
        self._queue: deque[_Pending] = deque()
        self._queued_spans = 0
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="ember-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    def is_full(self) -> bool:
        return self._queued_spans >= self._capacity

    async def submit(self, spans: Sequence[SpanRecord]) -> int:
        """Wait until `spans` are committed."""
        return await self._submit(spans, "spans")

    async def submit_logs(self, logs: Sequence[LogRecord]) -> int:
        """Wait until the log records are committed."""
        return await self._submit(logs, "logs")

    async def _submit(self, records: Sequence[Any], kind: Literal["spans", "logs"]) -> int:
        if not records:
            return 0
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        with self._cond:
            if self._closing:
                raise StoreUnavailable("the server is shutting down")
            if self._queued_spans and self._queued_spans + len(records) > self._capacity:
                raise QueueFull(
                    f"the ingest queue is full ({self._queued_spans} records waiting); "
                    "retry later"
                )
            self._queue.append(_Pending(records, kind, future, loop))
            self._queued_spans += len(records)
            self._metrics.queue_spans.set(self._queued_spans)
            self._cond.notify()
        # Shielded: a client that hangs up must not cancel the wait of the batch it rides in.
        return await asyncio.shield(future)

    def close(self, timeout: float | None = None) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ---------------------------------------------------------------- writer

    def _take_batch(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            if self._max_delay > 0 and self._queued_spans < self._batch_max and not self._closing:
                deadline = time.monotonic() + self._max_delay
                while self._queued_spans < self._batch_max and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch: list[_Pending] = []
            taken = 0
            while self._queue and (
                not batch or taken + len(self._queue[0].records) <= self._batch_max
            ):
                item = self._queue.popleft()
                batch.append(item)
                taken += len(item.records)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            try:
                self._write(batch)
            finally:
                with self._cond:
                    self._queued_spans -= sum(len(p.records) for p in batch)
                    self._metrics.queue_spans.set(self._queued_spans)

    def _write(self, batch: list[_Pending]) -> None:
        # Spans first: log records that arrive with their spans then attach in one pass.
        for kind in ("spans", "logs"):
            group = [pending for pending in batch if pending.kind == kind]
            if group:
                self._write_group(group)

    def _write_group(self, batch: list[_Pending]) -> None:
        kind = batch[0].kind
        records = [record for pending in batch for record in pending.records]
        started = time.perf_counter()
        try:
            if kind == "spans":
                stored = self._store.write_spans(records)
            else:
                stored = self._store.write_logs(records)
        except Exception:
            if len(batch) == 1:
                log.exception("could not store a batch of %d %s", len(records), kind)
                _fail(batch[0], StoreUnavailable(f"the database could not store the {kind}"))
                return
            for pending in batch:
                self._write_group([pending])
            return
        if kind == "spans":
            self._metrics.batch_commit_seconds.observe(time.perf_counter() - started)
            self._metrics.batch_spans.observe(len(records))
            self._metrics.spans_stored.inc(stored)
            self._metrics.spans_duplicate.inc(len(records) - stored)
        else:
            self._metrics.logs_stored.inc(stored)
        for pending in batch:
            # Per request: how many of its records were new is not tracked, only that all are
            # stored.
            _resolve(pending, len(pending.records))


def _resolve(pending: _Pending, value: int) -> None:
    def settle() -> None:
        if not pending.future.done():
            pending.future.set_result(value)

    _call_in_loop(pending.loop, settle)


def _fail(pending: _Pending, error: Exception) -> None:
    def settle() -> None:
        if not pending.future.done():
            pending.future.set_exception(error)

    _call_in_loop(pending.loop, settle)


def _call_in_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:
        # The loop is gone (its request was abandoned at shutdown); the data is stored anyway.
        log.debug("event loop closed before a batch result could be delivered")
