"""Comparing a project's spans before export and after import (span JSON from the REST API)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

SpanKey = tuple[str, str]


def typed(value: Any) -> str:
    """A value as canonical JSON: unlike ==, it tells 1 from 1.0 and from True."""
    return json.dumps(value, sort_keys=True)


def key(span: dict[str, Any]) -> SpanKey:
    return span["context"]["trace_id"], span["context"]["span_id"]


def by_key(spans: Iterable[dict[str, Any]]) -> dict[SpanKey, dict[str, Any]]:
    return {key(span): span for span in spans}


def comparable(span: dict[str, Any], *, ids: bool = True) -> dict[str, Any]:
    """Everything the API says of a span but its row id (which the receiving database picks)
    and its project; without `ids`, also without its trace, span, parent and link ids."""
    out = {k: v for k, v in span.items() if k not in ("id", "project_name")}
    if not ids:
        del out["context"], out["parent_id"]
        out["links"] = [
            {k: v for k, v in link.items() if k not in ("trace_id", "span_id")}
            for link in span["links"]
        ]
    return out


def assert_same_spans(
    expected: list[dict[str, Any]], got: list[dict[str, Any]], project: str
) -> None:
    """The same spans, field by field (re-derived fields included), under `project`."""
    want, have = by_key(expected), by_key(got)
    assert sorted(have) == sorted(want)
    for span_key, span in want.items():
        other = have[span_key]
        assert other["project_name"] == project
        a, b = comparable(span), comparable(other)
        for field in sorted(set(a) | set(b)):
            assert typed(b.get(field)) == typed(a.get(field)), (span["name"], field)


def assert_copy_with_new_ids(
    original: list[dict[str, Any]], copy: list[dict[str, Any]], project: str
) -> None:
    """`copy` is `original` with consistent new ids: every trace and span id is new, parents
    and links inside the data point at the copies, and nothing else changed."""
    by_name = {span["name"]: span for span in original}
    assert len(by_name) == len(original), "the test data needs unique span names"
    assert sorted(s["name"] for s in copy) == sorted(by_name)
    trace_map: dict[str, str] = {}
    span_map: dict[SpanKey, SpanKey] = {}
    for span in copy:
        old = by_name[span["name"]]
        assert span["project_name"] == project
        assert trace_map.setdefault(old["context"]["trace_id"], key(span)[0]) == key(span)[0]
        span_map[key(old)] = key(span)
        a, b = comparable(old, ids=False), comparable(span, ids=False)
        for field in sorted(set(a) | set(b)):
            assert typed(b.get(field)) == typed(a.get(field)), (span["name"], field)
    assert len(set(trace_map.values())) == len(trace_map)
    assert not set(trace_map) & set(trace_map.values())
    assert not {s for _, s in span_map} & {s for _, s in span_map.values()}
    for new_key in span_map.values():
        assert re.fullmatch(r"[0-9a-f]{32}", new_key[0])
        assert re.fullmatch(r"[0-9a-f]{16}", new_key[1])
    copies = by_key(copy)
    for old_key, new_key in span_map.items():
        old, new = by_name[copies[new_key]["name"]], copies[new_key]
        assert key(old) == old_key
        if old["parent_id"] is None:
            assert new["parent_id"] is None
        else:
            assert (new_key[0], new["parent_id"]) == span_map[(old_key[0], old["parent_id"])]
        for old_link, new_link in zip(old["links"], new["links"], strict=True):
            target = (old_link["trace_id"], old_link["span_id"])
            moved = (new_link["trace_id"], new_link["span_id"])
            if target in span_map:
                assert moved == span_map[target]
            else:  # a link out of the data gets new ids too, never the old ones
                assert moved[0] != target[0] and moved[1] != target[1]
