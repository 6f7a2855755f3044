"""Log records tied to spans (GenAI message events) through export and import.

With `include_logs` every format carries them and the receiving server derives the span with
them again (its messages, previews and cost); without it they are left out, as documented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ember_sdk.client import Client
from tests.conftest import EmberProcess
from tests.transfer.compare import assert_same_spans, typed
from tests.transfer.conftest import LOGS_PROJECT

NAMES = {"jsonl": "logs.jsonl", "parquet": "logs.parquet", "otlp-json": "logs.otlp.json"}


def trace_of(server: EmberProcess, span_id: str) -> dict[str, Any]:
    span = server.get(f"/v1/spans/{span_id}").json()["data"]
    trace: dict[str, Any] = server.get(f"/v1/traces/{span['context']['trace_id']}").json()["data"]
    return trace


def without_ids(trace: dict[str, Any]) -> dict[str, Any]:
    """A trace's roll-up and spans (with their log records) but the database's row ids."""
    return {
        **{k: v for k, v in trace.items() if k not in ("spans", "project_name")},
        "spans": [{k: v for k, v in span.items() if k not in ("id", "project_name")}
                  for span in trace["spans"]],
    }


@pytest.mark.parametrize("fmt", list(NAMES))
def test_log_records_round_trip(
    fmt: str, source: EmberProcess, logs_span_id: str, server_factory: Any, tmp_path: Path
) -> None:
    source_spans = source.spans(LOGS_PROJECT)
    target: EmberProcess = server_factory()
    with Client(source.url) as client:
        exported = client.export_spans(LOGS_PROJECT, tmp_path / NAMES[fmt], include_logs=True)
    with Client(target.url) as client:
        result = client.import_spans(exported.path)
    assert (result.spans_sent, result.log_records_sent, result.log_records_rejected) == (1, 5, 0)
    assert_same_spans(source_spans, target.spans(LOGS_PROJECT), LOGS_PROJECT)
    want, got = trace_of(source, logs_span_id), trace_of(target, logs_span_id)
    assert [log["name"] for log in got["spans"][0]["logs"]] == [
        "gen_ai.system.message", "gen_ai.user.message", "gen_ai.choice",
        "gen_ai.tool.message", "custom.note",
    ]
    assert typed(without_ids(got)) == typed(without_ids(want))
    assert got["root_span"]["output_preview"] == "Paris."


def test_log_records_follow_reminted_ids(
    source: EmberProcess, logs_span_id: str, server_factory: Any, tmp_path: Path
) -> None:
    target: EmberProcess = server_factory()
    with Client(source.url) as client:
        exported = client.export_spans(LOGS_PROJECT, tmp_path / "logs.jsonl", include_logs=True)
    with Client(target.url) as client:
        for _ in range(2):
            client.import_spans(exported.path, project="twice", remint_ids=True)
    want = trace_of(source, logs_span_id)["spans"][0]
    copies = target.spans("twice")
    assert len(copies) == 2 and logs_span_id not in {c["context"]["span_id"] for c in copies}
    for copy in copies:
        detail = target.get(f"/v1/spans/{copy['context']['span_id']}").json()["data"]
        assert typed(detail["logs"]) == typed(want["logs"])
        assert typed(detail["attributes"]) == typed(want["attributes"])


def test_without_include_logs_the_records_stay_behind(
    source: EmberProcess, logs_span_id: str, server_factory: Any, tmp_path: Path
) -> None:
    with Client(source.url) as client:
        exported = client.export_spans(LOGS_PROJECT, tmp_path / "spans.jsonl")
    (line,) = exported.path.read_text().splitlines()
    assert "logs" not in json.loads(line)
    target: EmberProcess = server_factory()
    with Client(target.url) as client:
        client.import_spans(exported.path)
    (span,) = target.spans(LOGS_PROJECT)
    assert span["context"]["span_id"] == logs_span_id
    assert "llm.output_messages.0.message.content" not in span["attributes"]


def test_export_with_logs_command(
    source: EmberProcess, logs_span_id: str, server_factory: Any, tmp_path: Path
) -> None:
    import subprocess
    import sys

    output = tmp_path / "cli.otlp.json"
    exported = subprocess.run(
        [sys.executable, "-m", "ember", "export", "--project", LOGS_PROJECT, "-o", str(output),
         "--with-logs", "--url", source.url],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert [next(iter(json.loads(line))) for line in output.read_text().splitlines()] == [
        "resourceSpans", "resourceLogs"
    ]
    target: EmberProcess = server_factory()
    imported = subprocess.run(
        [sys.executable, "-m", "ember", "import", str(output), "--url", target.url],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert "Sent 1 spans and 5 log records" in imported.stdout
    assert typed(without_ids(trace_of(target, logs_span_id))) == typed(
        without_ids(trace_of(source, logs_span_id))
    )
