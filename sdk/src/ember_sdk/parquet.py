"""Spans (Ember's span JSON) in a Parquet file and back: one row per span.

Scalar fields are typed columns (ids and names as strings, times as exact int64 nanoseconds
and, for people and pandas, as UTC timestamps); nested values (attributes, their types, events,
links, resource, scope, ...) are JSON text columns, so a value keeps its type (3 stays an int,
3.0 a double) and the file reads back into exactly the span JSON it was made from.

pyarrow is an optional dependency (`pip install 'ember-sdk[dataframe]'`), imported only here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# (column, arrow type name) of the scalar fields, in span JSON order.
SCALARS: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("trace_id", "string"),
    ("span_id", "string"),
    ("parent_id", "string"),
    ("name", "string"),
    ("span_kind", "string"),
    ("otel_kind", "string"),
    ("start_time", "timestamp"),
    ("end_time", "timestamp"),
    ("start_time_unix_nano", "int64"),
    ("end_time_unix_nano", "int64"),
    ("latency_ms", "float64"),
    ("status_code", "string"),
    ("status_message", "string"),
    ("project_name", "string"),
    ("trace_state", "string"),
    ("flags", "int64"),
    ("dropped_attributes_count", "int64"),
    ("dropped_events_count", "int64"),
    ("dropped_links_count", "int64"),
)
# Fields held as JSON text (null when the span JSON has none).
JSON_COLUMNS = (
    "attributes", "attribute_types", "derived_attributes", "truncated_attributes", "events",
    "links", "resource", "scope", "cost", "exception", "logs",
)
REQUIRED = ("trace_id", "span_id", "name", "start_time_unix_nano", "end_time_unix_nano")
ROWS_PER_GROUP = 10_000


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow  # type: ignore[import-untyped]
        import pyarrow.parquet  # type: ignore[import-untyped]
    except ImportError as exc:
        from ember_sdk.transfer import TransferError

        raise TransferError(
            "the parquet format needs pyarrow: pip install 'ember-sdk[dataframe]'"
        ) from exc
    return pyarrow, pyarrow.parquet


def schema() -> Any:
    pa, _ = _pyarrow()
    types = {
        "string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
        "timestamp": pa.timestamp("ns", tz="UTC"),
    }
    fields = [pa.field(name, types[kind]) for name, kind in SCALARS]
    fields += [pa.field(name, pa.string()) for name in JSON_COLUMNS]
    return pa.schema(fields)


def _row(span: dict[str, Any]) -> dict[str, Any]:
    context = span.get("context") or {}
    row: dict[str, Any] = {name: span.get(name) for name, _ in SCALARS}
    row["trace_id"] = context.get("trace_id")
    row["span_id"] = context.get("span_id")
    row["start_time"] = span.get("start_time_unix_nano")
    row["end_time"] = span.get("end_time_unix_nano")
    for name in JSON_COLUMNS:
        value = span.get(name)
        row[name] = None if value is None else json.dumps(value, ensure_ascii=False)
    return row


class ParquetWriter:
    """Writes pages of span JSON, a row group per ROWS_PER_GROUP spans."""

    def __init__(self, path: Path) -> None:
        _, pq = _pyarrow()
        self._schema = schema()
        self._writer: Any = pq.ParquetWriter(str(path), self._schema, compression="zstd")
        self._pending: list[dict[str, Any]] = []

    def write(self, spans: Sequence[dict[str, Any]]) -> None:
        self._pending.extend(_row(span) for span in spans)
        if len(self._pending) >= ROWS_PER_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pa, _ = _pyarrow()
            self._writer.write_table(pa.Table.from_pylist(self._pending, schema=self._schema))
            self._pending = []

    def close(self) -> None:
        if self._writer is None:
            return
        try:
            self._flush()
        finally:
            self._writer.close()
            self._writer = None


def _open(path: Path) -> Any:
    pa, pq = _pyarrow()
    try:
        parquet = pq.ParquetFile(str(path))
    except (pa.ArrowException, OSError) as exc:
        from ember_sdk.transfer import TransferError

        raise TransferError(f"{path}: not a readable Parquet file: {exc}") from exc
    missing = [name for name in REQUIRED if name not in parquet.schema_arrow.names]
    if missing:
        from ember_sdk.transfer import TransferError

        raise TransferError(
            f"{path}: not an Ember span export: column {missing[0]!r} is missing"
        )
    return parquet


def read_spans(path: Path) -> Iterator[tuple[str, Any]]:
    """("row N", span JSON) for each row (N from 1), read a batch at a time."""
    from ember_sdk.transfer import TransferError

    parquet = _open(path)
    names = set(parquet.schema_arrow.names)
    number = 0
    for batch in parquet.iter_batches(batch_size=1000):
        for row in batch.to_pylist():
            number += 1
            where = f"row {number}"
            span: dict[str, Any] = {
                name: row[name] for name, _ in SCALARS
                if name in names and name not in ("start_time", "end_time")
                and row[name] is not None
            }
            span["context"] = {
                "trace_id": span.pop("trace_id", None), "span_id": span.pop("span_id", None),
            }
            for name in JSON_COLUMNS:
                text = row.get(name)
                if text is None:
                    continue
                try:
                    span[name] = json.loads(text)
                except ValueError as exc:
                    raise TransferError(
                        f"{path} {where}: column {name!r} is not valid JSON: {exc}"
                    ) from exc
            span.setdefault("parent_id", None)
            yield where, span
