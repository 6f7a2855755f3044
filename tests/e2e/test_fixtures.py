"""Recorded exports from real instrumented programs (shared/fixtures/*/), replayed byte for byte
with their recorded headers, then read back through the API and compared with what each
fixture's manifest.json and expected_spans.jsonl say must be stored.

Data-driven: a new fixture folder is picked up without touching this file.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES, EmberProcess
from tests.helpers import export_response

FOLDERS = sorted(p.parent for p in FIXTURES.glob("*/manifest.json"))
# Headers that belong to the recorded connection, not to the request.
_NOT_REPLAYED = {"host", "content-length", "connection", "transfer-encoding"}


def test_fixtures_are_found() -> None:
    assert FIXTURES.is_dir(), f"shared fixtures not found at {FIXTURES}"
    assert FOLDERS, f"no */manifest.json under {FIXTURES}"


def _manifest(folder: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return result


def _expected(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "expected_spans.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _captures(folder: Path) -> list[tuple[dict[str, Any], bytes]]:
    out = []
    for meta_path in sorted((folder / "captures").glob("*.meta.json")):
        meta = json.loads(meta_path.read_text())
        out.append((meta, (folder / "captures" / meta["file"]).read_bytes()))
    return out


def _replay(server: EmberProcess, meta: dict[str, Any], body: bytes) -> httpx.Response:
    headers = {k: v for k, v in meta["headers"].items() if k.lower() not in _NOT_REPLAYED}
    return httpx.request(
        meta.get("method", "POST"), f"{server.url}{meta.get('path', '/v1/traces')}",
        content=body, headers=headers, timeout=60,
    )


@cache
def _replayed(server: EmberProcess, folder: Path) -> dict[str, dict[str, Any]]:
    """Post every capture of a folder (twice: a retry must change nothing); the stored spans of
    the fixture's project by span id."""
    for _ in range(2):
        for meta, body in _captures(folder):
            response = _replay(server, meta, body)
            assert response.status_code == 200, (meta["file"], response.content[:500])
            assert not export_response(response).HasField("partial_success"), meta["file"]
    spans = server.spans(_manifest(folder)["project_name"])
    return {s["context"]["span_id"]: s for s in spans}


@pytest.fixture(params=FOLDERS, ids=[f.name for f in FOLDERS])
def folder(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture
def stored(shared_server: EmberProcess, folder: Path) -> dict[str, dict[str, Any]]:
    return _replayed(shared_server, folder)


def test_captures_match_their_manifest(folder: Path) -> None:
    """The replayed bytes are the ones the manifest describes (the fixtures are intact)."""
    manifest = _manifest(folder)
    captures = {f"captures/{meta['file']}": (meta, body) for meta, body in _captures(folder)}
    assert len(captures) == manifest["expected"]["request_count"]
    assert set(captures) == {r["file"] for r in manifest["requests"]}
    for request in manifest["requests"]:
        meta, body = captures[request["file"]]
        assert len(body) == request["bytes"], request["file"]
        assert hashlib.sha256(body).hexdigest() == request["sha256"], request["file"]
        headers = {k.lower(): v for k, v in meta["headers"].items()}
        assert int(headers["content-length"]) == len(body)
        assert headers["content-type"] == request["content_type"]
        assert headers.get("content-encoding") == request["content_encoding"]


def test_project_trace_and_span_counts(folder: Path, stored: dict[str, dict[str, Any]]) -> None:
    manifest = _manifest(folder)
    expected = _expected(folder)
    assert len(stored) == manifest["expected"]["span_count"] == len(expected)
    assert {s["project_name"] for s in stored.values()} == {manifest["project_name"]}
    traces = {s["context"]["trace_id"] for s in stored.values()}
    assert len(traces) == manifest["expected"]["trace_count"]
    assert traces == {e["trace_id"] for e in expected}
    kinds: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for span in stored.values():
        kinds[span["span_kind"]] = kinds.get(span["span_kind"], 0) + 1
        statuses[span["status_code"]] = statuses.get(span["status_code"], 0) + 1
    assert kinds == {_kind(k): n for k, n in manifest["expected"]["span_kind_counts"].items()}
    assert statuses == manifest["expected"]["status_counts"]


def _kind(expected: str) -> str:
    """The manifest writes 'mapped:X' for kinds mapped from other vocabularies, '(none)' for
    spans without one."""
    if expected == "(none)":
        return "UNKNOWN"
    return expected.removeprefix("mapped:")


def test_traces_and_their_rollups(
    shared_server: EmberProcess, folder: Path, stored: dict[str, dict[str, Any]]
) -> None:
    expected = _expected(folder)
    for trace in _manifest(folder)["expected"]["traces"]:
        data = shared_server.get(f"/v1/traces/{trace['trace_id']}").json()["data"]
        mine = [e for e in expected if e["trace_id"] == trace["trace_id"]]
        assert data["span_count"] == trace["span_count"] == len(mine)
        assert data["error_count"] == sum(e["status_code"] == "ERROR" for e in mine)
        assert data["start_time_unix_nano"] == min(e["start_time_unix_nano"] for e in mine)
        assert data["end_time_unix_nano"] == max(e["end_time_unix_nano"] for e in mine)
        assert data["project_name"] == _manifest(folder)["project_name"]
        roots = [s for s in data["spans"] if s["parent_id"] is None]
        assert [r["name"] for r in roots] == [trace["root_span"]]
        assert roots[0]["span_kind"] == _kind(trace["root_span_kind"])
        assert roots[0]["status_code"] == trace["root_status"]
        ids = {s["context"]["span_id"] for s in data["spans"]}
        orphans = {s["context"]["span_id"] for s in data["spans"]
                   if s["parent_id"] is not None and s["parent_id"] not in ids}
        assert orphans == set(trace["orphan_spans"])
        # The trace's own roll-up: its root, its LLM-only token total, its session and user.
        assert data["root_span"]["name"] == trace["root_span"]
        assert data["root_span"]["span_kind"] == _kind(trace["root_span_kind"])
        assert data["token_count"]["total"] == trace["total_tokens_llm_spans"]
        assert data["session_id"] == trace["session_id"]
        assert data["user_id"] == trace["user_id"]


def test_token_sums(folder: Path, stored: dict[str, dict[str, Any]]) -> None:
    sums = _manifest(folder)["expected"]["token_sums_over_spans_with_counts"]
    for fact, key in (("prompt_tokens", "llm.token_count.prompt"),
                      ("completion_tokens", "llm.token_count.completion"),
                      ("total_tokens", "llm.token_count.total")):
        assert sum(s["attributes"].get(key, 0) for s in stored.values()) == sums[fact]


_LIST_MEMBER = {
    "input_messages": re.compile(r"^llm\.input_messages\.(\d+)\."),
    "output_messages": re.compile(r"^llm\.output_messages\.(\d+)\."),
    "retrieved_documents": re.compile(r"^retrieval\.documents\.(\d+)\."),
    "embeddings": re.compile(r"^embedding\.embeddings\.(\d+)\."),
    "llm_tools": re.compile(r"^llm\.tools\.(\d+)\."),
}
_SCALAR_FACTS = {
    "system": "llm.system",
    "provider": "llm.provider",
    "prompt_tokens": "llm.token_count.prompt",
    "completion_tokens": "llm.token_count.completion",
    "total_tokens": "llm.token_count.total",
    "session_id": "session.id",
    "user_id": "user.id",
    "metadata": "metadata",
    "tool_name": "tool.name",
    "prompt_template": "llm.prompt_template.template",
    "prompt_template_variables": "llm.prompt_template.variables",
}


def _cases() -> list[Any]:
    return [
        pytest.param(folder, expected, id=f"{folder.name}-{expected['span_id']}")
        for folder in FOLDERS
        for expected in _expected(folder)
    ]


@pytest.mark.parametrize(("folder", "expected"), _cases())
def test_each_expected_span(
    shared_server: EmberProcess, folder: Path, expected: dict[str, Any]
) -> None:
    stored = _replayed(shared_server, folder)
    span = stored[expected["span_id"]]
    facts = expected["facts"]
    attributes = span["attributes"]

    assert span["context"]["trace_id"] == expected["trace_id"]
    assert span["parent_id"] == expected["parent_span_id"]
    assert span["name"] == expected["name"]
    assert span["otel_kind"] == expected["otel_kind"]
    assert span["span_kind"] == _kind(expected["span_kind"])
    assert attributes.get("openinference.span.kind") == facts["openinference_span_kind"]
    assert span["status_code"] == expected["status_code"] == facts["status"]
    assert span["status_message"] == (expected["status_message"] or "")
    assert span["start_time_unix_nano"] == expected["start_time_unix_nano"]
    assert span["end_time_unix_nano"] == expected["end_time_unix_nano"]

    # The fixtures count the attributes as sent; Ember's derived keys (cost) sit beside them.
    raw = {k: v for k, v in attributes.items() if k not in span.get("derived_attributes", ())}
    assert len(raw) == facts["attribute_count"]
    assert len(span["events"]) == facts["event_count"]
    exceptions = [e for e in span["events"] if e["name"] == "exception"]
    assert len(exceptions) == facts["exception_events"]
    if "exception_type" in facts:
        assert exceptions[0]["attributes"]["exception.type"] == facts["exception_type"]
        assert exceptions[0]["attributes"]["exception.message"] == facts["exception_message"]

    for side in ("input", "output"):
        value = attributes.get(f"{side}.value")
        assert (len(value) if value is not None else None) == facts.get(f"{side}_value_chars")
        assert attributes.get(f"{side}.mime_type") == facts.get(f"{side}_mime_type")

    if "model_name" in facts:
        model = attributes.get("llm.model_name", attributes.get("embedding.model_name"))
        assert model == facts["model_name"]
    for fact, key in _SCALAR_FACTS.items():
        if fact in facts:
            assert attributes.get(key) == facts[fact], fact
    if "tags" in facts:
        assert attributes["tag.tags"] == facts["tags"]
    for fact, pattern in _LIST_MEMBER.items():
        if fact in facts:
            members = {m.group(1) for k in attributes if (m := pattern.match(k))}
            assert len(members) == facts[fact], fact
    if "output_tool_calls" in facts:
        names = [v for k, v in sorted(attributes.items())
                 if k.startswith("llm.output_messages.") and k.endswith(".function.name")]
        assert names == facts["output_tool_calls"]


def test_sessions_and_their_rollups(
    shared_server: EmberProcess, folder: Path, stored: dict[str, dict[str, Any]]
) -> None:
    manifest = _manifest(folder)
    project = manifest["project_name"]
    for session_id, expected in manifest["expected"]["sessions"].items():
        response = shared_server.get(f"/v1/projects/{project}/sessions/{session_id}")
        assert response.status_code == 200, response.text
        session = response.json()["data"]
        assert sorted(session["trace_ids"]) == sorted(expected["trace_ids"])
        assert session["trace_count"] == len(expected["trace_ids"])
        assert session["token_count"]["total"] == expected["total_tokens_llm_spans"]
        assert [session["user_id"]] == expected["user_ids"]
        first = min(expected["trace_ids"], key=lambda t: _trace_start(shared_server, t))
        first_root = shared_server.get(f"/v1/traces/{first}").json()["data"]["root_span"]
        assert session["first_input"] and session["first_input"] == first_root["input_preview"]


def _trace_start(server: EmberProcess, trace_id: str) -> int:
    return int(server.get(f"/v1/traces/{trace_id}").json()["data"]["start_time_unix_nano"])
