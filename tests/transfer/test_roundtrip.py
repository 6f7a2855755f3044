"""Export from one real `ember serve`, import into another: the same spans, exactly.

Every format is checked field by field against the source (ids, times in nanoseconds,
attributes with their types, events, links, status, kind, resource, scope, trace state, flags,
dropped counts, and what the receiving server derived again: span kind, cost, derived
attributes), then imported twice more with re-minted ids into one server.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import pytest

from ember_sdk import transfer
from ember_sdk.client import Client
from tests.conftest import EmberProcess
from tests.helpers import BASE_NS
from tests.transfer.compare import assert_copy_with_new_ids, assert_same_spans, key
from tests.transfer.conftest import (
    FILLER_TRACES,
    SDK_LLM_ATTRIBUTES,
    SOURCE_PROJECT,
)

FORMATS = ["jsonl", "parquet", "otlp-json"]


def named(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(span for span in spans if span["name"] == name)


def test_the_source_holds_what_the_tests_rely_on(source_spans: list[dict[str, Any]]) -> None:
    """The export round trip below is only as strong as the data: check the data has every
    kind of value, as the API shows it."""
    llm = named(source_spans, "OpenAI.chat")
    for name, value in SDK_LLM_ATTRIBUTES.items():
        assert llm["attributes"][name] == value, name
        assert type(llm["attributes"][name]) is type(value), name
    assert llm["derived_attributes"] and llm["cost"]["total"] > 0
    assert llm["otel_kind"] == "CLIENT" and llm["span_kind"] == "LLM"
    assert [e["name"] for e in llm["events"]] == ["first token", "done"]
    assert llm["events"][1]["time_unix_nano"] == BASE_NS + 987_654_321
    lookup = named(source_spans, "lookup")
    assert lookup["status_code"] == "ERROR" and lookup["exception"]["type"] == "ValueError"
    assert lookup["links"][0]["attributes"] == {"why": "uses", "n": 2}
    assert lookup["end_time_unix_nano"] == BASE_NS + 123_456_789
    assert llm["scope"]["attributes"] == {"scope.int": 7, "scope.list": [1.5, 2.5]}
    assert llm["resource"]["schema_url"] == "https://opentelemetry.io/schemas/1.21.0"
    raw = named(source_spans, "raw-root")
    assert raw["attribute_types"]["bytes"] == {
        "bytesValue": base64.b64encode(b"\x00\xffbinary").decode()
    }
    assert raw["attribute_types"]["not.a.number"] == {"doubleValue": "NaN"}
    assert raw["attributes"]["int64.min"] == -(2**63)
    assert raw["attributes"]["mixed"] == [1, "two", 3.0, False]
    assert isinstance(raw["attributes"]["mixed"][2], float)
    assert raw["attributes"]["empty"] is None
    assert (raw["trace_state"], raw["flags"]) == ("vendor=abc,other=1", 0x101)
    assert (raw["dropped_attributes_count"], raw["dropped_events_count"],
            raw["dropped_links_count"]) == (3, 2, 1)
    assert raw["links"][0]["flags"] == 1 and raw["links"][0]["dropped_attributes_count"] == 5
    assert raw["events"][0]["dropped_attributes_count"] == 4
    assert raw["resource"]["dropped_attributes_count"] == 6
    assert raw["scope"]["dropped_attributes_count"] == 2
    assert math.isnan(float(raw["scope"]["attribute_types"]["scope.nan"]["doubleValue"]))
    assert raw["start_time_unix_nano"] == BASE_NS + 5


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_round_trips_exactly(
    fmt: str, exports: dict[str, Path], source_spans: list[dict[str, Any]], server_factory: Any
) -> None:
    target: EmberProcess = server_factory()
    seen: list[tuple[int, int | None]] = []
    with Client(target.url) as client:
        result = client.import_spans(
            exports[fmt], progress=lambda done, total: seen.append((done, total))
        )
    assert (result.format, result.spans_sent, result.spans_rejected) == (
        fmt, len(source_spans), 0
    )
    assert seen[-1] == (len(source_spans), len(source_spans))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert_same_spans(source_spans, target.spans(SOURCE_PROJECT), SOURCE_PROJECT)
    # The receiving server derived the trace roll-ups again from the imported spans.
    trace_id = named(source_spans, "OpenAI.chat")["context"]["trace_id"]
    trace = target.get(f"/v1/traces/{trace_id}").json()["data"]
    assert (trace["span_count"], trace["error_count"]) == (4, 1)
    assert trace["token_count"] == {"prompt": 1200, "completion": 300, "total": 1500}


@pytest.mark.parametrize("fmt", FORMATS)
def test_import_twice_with_new_ids(
    fmt: str, exports: dict[str, Path], source_spans: list[dict[str, Any]], server_factory: Any
) -> None:
    target: EmberProcess = server_factory()
    with Client(target.url) as client:
        first_result = client.import_spans(exports[fmt], project="twice", remint_ids=True)
        first = target.spans("twice")
        second_result = client.import_spans(exports[fmt], project="twice", remint_ids=True)
    assert first_result.spans_sent == second_result.spans_sent == len(source_spans)
    everything = target.spans("twice")
    assert len(everything) == 2 * len(source_spans)
    first_keys = {key(s) for s in first}
    second = [s for s in everything if key(s) not in first_keys]
    assert_copy_with_new_ids(source_spans, first, "twice")
    assert_copy_with_new_ids(source_spans, second, "twice")
    assert not {s["context"]["trace_id"] for s in first} & {
        s["context"]["trace_id"] for s in second
    }
    trace_ids = {s["context"]["trace_id"] for s in everything}
    assert len(trace_ids) == 2 * (FILLER_TRACES + 2)
    # Each copy of a trace has its own exact roll-up.
    for copy in (first, second):
        llm = named(copy, "OpenAI.chat")
        trace = target.get(f"/v1/traces/{llm['context']['trace_id']}").json()["data"]
        assert (trace["span_count"], trace["error_count"]) == (4, 1)
        assert trace["token_count"]["total"] == 1500


def test_round_trip_into_postgresql(
    exports: dict[str, Path], source_spans: list[dict[str, Any]], server_factory: Any,
    postgres: Any,
) -> None:
    """A SQLite server's export imported into a server on PostgreSQL: the same spans."""
    target: EmberProcess = server_factory({"EMBER_DATABASE_URL": postgres.create_database()})
    with Client(target.url) as client:
        client.import_spans(exports["parquet"], project="on-postgres")
    assert_same_spans(source_spans, target.spans("on-postgres"), "on-postgres")


def test_export_pages_and_reports_progress(
    source: EmberProcess, source_spans: list[dict[str, Any]], tmp_path: Path
) -> None:
    seen: list[tuple[int, int | None]] = []
    with Client(source.url) as client:
        result = client.export_spans(
            SOURCE_PROJECT, tmp_path / "out.jsonl",
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen == [(1000, None), (len(source_spans), None)]
    assert result.spans == len(source_spans)
    assert not (tmp_path / "out.jsonl.part").exists()
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == len(source_spans)


def test_projects_lists_every_project(source: EmberProcess, source_spans: Any) -> None:
    with Client(source.url) as client:
        names = [p["name"] for p in client.projects()]
    assert SOURCE_PROJECT in names


def test_a_chunk_over_the_size_limit_is_split(
    exports: dict[str, Path], source_spans: list[dict[str, Any]], server_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks whose body would exceed MAX_REQUEST_BYTES go as smaller requests (down to one
    span each), and every span still arrives once."""
    monkeypatch.setattr(transfer, "MAX_REQUEST_BYTES", 50_000)
    target: EmberProcess = server_factory()
    with Client(target.url) as client:
        result = client.import_spans(exports["jsonl"], project="split")
    assert result.requests > len(source_spans) // transfer.CHUNK_SPANS + 1
    assert_same_spans(source_spans, target.spans("split"), "split")
