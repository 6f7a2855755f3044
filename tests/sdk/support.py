"""Helpers for the SDK tests: wait for a project's spans, and look at them."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import EmberProcess


def wait_for_spans(server: EmberProcess, project: str, count: int,
                   timeout: float = 20.0) -> list[dict[str, Any]]:
    """The project's spans once at least `count` are stored (a 200 means stored, but batches
    are sent in the background); fails with what is there after `timeout`."""
    deadline = time.monotonic() + timeout
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        response = server.get(f"/v1/projects/{project}/spans", limit=1000)
        if response.status_code == 200:
            spans = response.json()["data"]
            if len(spans) >= count:
                return spans
        time.sleep(0.1)
    raise AssertionError(
        f"{project}: {len(spans)} spans stored, expected {count}: "
        f"{sorted(s['name'] for s in spans)}"
    )


def by_name(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Spans by name (names are unique in the traces these tests make)."""
    out = {span["name"]: span for span in spans}
    assert len(out) == len(spans), f"duplicate names: {sorted(s['name'] for s in spans)}"
    return out


def parent_name(spans: list[dict[str, Any]], span: dict[str, Any]) -> str | None:
    ids = {s["context"]["span_id"]: s["name"] for s in spans}
    return ids.get(span["parent_id"]) if span["parent_id"] else None
