"""Files that are not what they claim: a clear error naming the line (or row) and the field,
and nothing imported."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ember_sdk.client import Client
from ember_sdk.transfer import TransferError
from tests.conftest import EmberProcess


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    server = EmberProcess(tmp_path_factory.mktemp("transfer-target")).start()
    yield server
    server.stop()


def lines_of(exports: dict[str, Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in exports["jsonl"].read_text().splitlines()[:5]]


def write_jsonl(path: Path, rows: list[Any]) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def with_change(span: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    span = json.loads(json.dumps(span))
    change(span)
    return span


def drop(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda span: span.pop(field)


def put(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(span: dict[str, Any]) -> None:
        holder = span
        for part in path[:-1]:
            holder = holder[part]
        holder[path[-1]] = value
    return change


JSONL_CASES = [
    (drop("start_time_unix_nano"), "line 2: start_time_unix_nano is missing"),
    (put(("context", "trace_id"), "xyz"),
     "line 2: context.trace_id must be 32 hex characters, got 'xyz'"),
    (put(("parent_id",), "12345"), "line 2: parent_id must be 16 hex characters"),
    (put(("start_time_unix_nano",), "2025-01-01"),
     "line 2: start_time_unix_nano must be an integer"),
    (put(("otel_kind",), "SIDEWAYS"), "line 2: otel_kind must be one of UNSPECIFIED"),
    (lambda span: span.update(attributes={"k": 1}, attribute_types={"k": 5}),
     "line 2: attributes types.k must be an object"),
    (put(("links",), [{"trace_id": "ab" * 16}]), "line 2: links[0].span_id must be 16 hex"),
    (put(("events",), [{"time_unix_nano": 1}]), "line 2: events[0].name is missing"),
    (put(("resource",), "nope"), "line 2: resource must be an object"),
]


@pytest.mark.parametrize(("change", "message"), JSONL_CASES)
def test_bad_span_in_jsonl(
    change: Callable[[dict[str, Any]], None], message: str, exports: dict[str, Path],
    target: EmberProcess, tmp_path: Path,
) -> None:
    spans = lines_of(exports)
    spans[1] = with_change(spans[1], change)
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, spans)
    assert_refused(target, path, message)


def test_not_json_and_not_an_object(
    exports: dict[str, Path], target: EmberProcess, tmp_path: Path
) -> None:
    spans: list[Any] = lines_of(exports)
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [*spans[:3], '{"context": ', *spans[3:]])
    assert_refused(target, path, "bad.jsonl line 4: not valid JSON")
    write_jsonl(path, [spans[0], [1, 2]])
    assert_refused(target, path, "bad.jsonl line 2: the span must be an object")


def test_bad_otlp_json(target: EmberProcess, tmp_path: Path) -> None:
    path = tmp_path / "bad.otlp.json"
    good = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "x",
         "startTimeUnixNano": "1", "endTimeUnixNano": "2"},
    ]}]}]}
    write_jsonl(path, [good, {"traces": []}])
    assert_refused(target, path, "line 2: not an ExportTraceServiceRequest")
    with_bad_id = json.loads(json.dumps(good))
    with_bad_id["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "zz"
    write_jsonl(path, [good, with_bad_id])
    assert_refused(target, path, "line 2: span 0 spanId must be 16 hex characters",
                   remint_ids=True)


def test_a_request_the_server_refuses(target: EmberProcess, tmp_path: Path) -> None:
    """Every span of the line is invalid for the server (an 8-byte trace id): a 400, reported
    with the line and the server's own words."""
    path = tmp_path / "refused.otlp.json"
    write_jsonl(path, [{"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 8, "spanId": "cd" * 8, "name": "x",
         "startTimeUnixNano": "1", "endTimeUnixNano": "2"},
    ]}]}]}])
    assert_refused(target, path, "refused.otlp.json line 1-line 1: the server refused these "
                   "spans (400): span 0 of scope 0 of resource 0: trace_id must be 16 bytes")


def test_bad_parquet(exports: dict[str, Path], target: EmberProcess, tmp_path: Path) -> None:
    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("trace_id,span_id\n")
    assert_refused(target, not_parquet, "text.parquet: not a readable Parquet file")

    table = pq.read_table(exports["parquet"]).slice(0, 4)
    no_ids = tmp_path / "no_ids.parquet"
    pq.write_table(table.drop_columns(["trace_id"]), no_ids)
    assert_refused(target, no_ids, "no_ids.parquet: not an Ember span export: column "
                   "'trace_id' is missing")

    attributes = table.column("attributes").to_pylist()
    attributes[1] = "{broken"
    broken = tmp_path / "broken.parquet"
    pq.write_table(table.set_column(
        table.schema.get_field_index("attributes"), "attributes", pa.array(attributes)
    ), broken)
    assert_refused(target, broken, "broken.parquet row 2: column 'attributes' is not valid JSON")

    kinds = table.column("otel_kind").to_pylist()
    kinds[3] = "SIDEWAYS"
    bad_kind = tmp_path / "bad_kind.parquet"
    pq.write_table(table.set_column(
        table.schema.get_field_index("otel_kind"), "otel_kind", pa.array(kinds)
    ), bad_kind)
    assert_refused(target, bad_kind, "bad_kind.parquet row 4: otel_kind must be one of")


def test_unknown_format_and_missing_file(target: EmberProcess, tmp_path: Path) -> None:
    with Client(target.url) as client:
        with pytest.raises(TransferError, match="no such file"):
            client.import_spans(tmp_path / "absent.jsonl")
        with pytest.raises(TransferError, match="format 'csv' is not one of"):
            client.export_spans("p", tmp_path / "x.csv", format="csv")


def assert_refused(target: EmberProcess, path: Path, message: str, **options: Any) -> None:
    project = f"refused-{secrets.token_hex(4)}"
    with Client(target.url) as client, pytest.raises(TransferError) as raised:
        client.import_spans(path, project=project, **options)
    assert message in str(raised.value)
    assert target.get(f"/v1/projects/{project}").status_code == 404  # nothing was imported
