"""`ember export` and `ember import` end to end: real processes against real servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EmberProcess
from tests.transfer.compare import assert_copy_with_new_ids, assert_same_spans
from tests.transfer.conftest import SOURCE_PROJECT


def ember(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ember", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet", "out.otlp.json"])
def test_export_and_import_commands(
    name: str, source: EmberProcess, source_spans: list[dict[str, Any]], server_factory: Any,
    tmp_path: Path,
) -> None:
    output = tmp_path / name
    exported = ember("export", "--project", SOURCE_PROJECT, "--output", str(output),
                     "--url", source.url)
    assert exported.returncode == 0, exported.stderr
    assert f"Exported {len(source_spans):,} spans of {SOURCE_PROJECT!r}" in exported.stdout
    assert output.exists() and not output.with_name(name + ".part").exists()

    target: EmberProcess = server_factory()
    imported = ember("import", str(output), "--project", "copy", "--url", target.url)
    assert imported.returncode == 0, imported.stderr
    assert f"Sent {len(source_spans):,} spans" in imported.stdout
    assert "into project 'copy'" in imported.stdout
    assert_same_spans(source_spans, target.spans("copy"), "copy")

    again = ember("import", str(output), "--project", "again", "--remint-ids",
                  "--url", target.url)
    assert again.returncode == 0, again.stderr
    assert_copy_with_new_ids(source_spans, target.spans("again"), "again")


def test_format_flag_beats_the_file_name(
    source: EmberProcess, source_spans: list[dict[str, Any]], server_factory: Any,
    tmp_path: Path,
) -> None:
    output = tmp_path / "spans.data"
    exported = ember("export", "--project", SOURCE_PROJECT, "-o", str(output),
                     "--format", "otlp-json", "--url", source.url)
    assert exported.returncode == 0, exported.stderr
    first = json.loads(output.read_text().splitlines()[0])
    assert "resourceSpans" in first
    target: EmberProcess = server_factory()
    imported = ember("import", str(output), "--format", "otlp-json", "--url", target.url)
    assert imported.returncode == 0, imported.stderr
    # Without --project an OTLP file goes where its resource says (the source project).
    assert_same_spans(source_spans, target.spans(SOURCE_PROJECT), SOURCE_PROJECT)


def test_export_errors_say_what_is_wrong(source: EmberProcess, tmp_path: Path) -> None:
    missing = ember("export", "--project", "no-such-project", "-o", str(tmp_path / "x.jsonl"),
                    "--url", source.url)
    assert missing.returncode == 1
    assert "no-such-project" in missing.stderr and "404" in missing.stderr
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.jsonl.part").exists()

    unknown = ember("export", "--project", SOURCE_PROJECT, "-o", str(tmp_path / "x.csv"),
                    "--url", source.url)
    assert unknown.returncode == 1
    assert "cannot tell the format" in unknown.stderr and ".parquet" in unknown.stderr

    nowhere = ember("export", "--project", SOURCE_PROJECT, "-o", str(tmp_path / "no" / "x.jsonl"),
                    "--url", source.url)
    assert nowhere.returncode == 1
    assert "x.jsonl: cannot write the file: No such file or directory" in nowhere.stderr

    down = ember("export", "--project", SOURCE_PROJECT, "-o", str(tmp_path / "x.jsonl"),
                 "--url", "http://127.0.0.1:9")
    assert down.returncode == 1
    assert "cannot reach Ember at http://127.0.0.1:9" in down.stderr


def test_import_of_a_bad_file_names_the_line_and_imports_nothing(
    exports: dict[str, Path], server_factory: Any, tmp_path: Path
) -> None:
    lines = exports["jsonl"].read_text().splitlines()
    broken = json.loads(lines[2])
    broken["events"] = [{"name": "e", "time_unix_nano": "soon", "attributes": {}}]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], lines[1], json.dumps(broken), *lines[3:]]) + "\n")
    target: EmberProcess = server_factory()
    result = ember("import", str(bad), "--project", "bad", "--url", target.url)
    assert result.returncode == 1
    assert "bad.jsonl line 3: events[0].time_unix_nano must be an integer" in result.stderr
    assert target.get("/v1/projects/bad").status_code == 404


def test_spans_the_server_rejects_fail_the_command(
    server_factory: Any, tmp_path: Path
) -> None:
    """One span of two has a span id of the wrong size: the server stores the other and says
    which it rejected; the command reports it and exits 1."""
    good = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "good",
            "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
    bad = {**good, "spanId": "cd" * 5, "name": "bad"}
    request = {"resourceSpans": [{"scopeSpans": [{"spans": [good, bad]}]}]}
    path = tmp_path / "partial.otlp.json"
    path.write_text(json.dumps(request) + "\n")
    target: EmberProcess = server_factory()
    result = ember("import", str(path), "--project", "partial", "--url", target.url)
    assert result.returncode == 1
    assert "rejected 1 spans" in result.stderr
    assert "line 1-line 1" in result.stderr and "span_id" in result.stderr
    assert [s["name"] for s in target.spans("partial")] == ["good"]
