"""DataFrames from Ember's query routes, for `ember_sdk.Client` (pandas and pyarrow are the
optional `ember-sdk[dataframe]` extra, imported only here and only when called).

- `span_query_body` builds a `POST /v1/spans` body: a filter, selected columns, one list to
  explode (a row per retrieved document or message) or to concatenate, renames.
- `frames_from_multipart` reads that route's answer: one Arrow IPC stream per query, each
  becoming a DataFrame indexed as the server says (span id, plus the position when exploded).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

ARROW = "application/vnd.apache.arrow.stream"


def span_query_body(
    *,
    filter: str | None = None,
    select: Sequence[str] | Mapping[str, str] | None = None,
    explode: str | None = None,
    explode_columns: Mapping[str, str] | None = None,
    concat: str | None = None,
    concat_columns: Mapping[str, str] | None = None,
    separator: str = "\n\n",
    rename: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One span query. `select` lists keys (or maps output names to keys); `explode_columns`
    maps output names to member keys (`{"content": "document.content"}`)."""
    query: dict[str, Any] = {}
    if filter:
        query["filter"] = {"condition": filter}
    if select is not None:
        pairs = select.items() if isinstance(select, Mapping) else ((k, k) for k in select)
        query["select"] = {name: {"key": key} for name, key in pairs}
    if explode is not None:
        query["explode"] = {"key": explode, "kwargs": dict(explode_columns or {})}
    if concat is not None:
        query["concat"] = {
            "key": concat, "kwargs": dict(concat_columns or {}), "separator": separator
        }
    if rename:
        query["rename"] = dict(rename)
    return query


def multipart_parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The (headers, payload) of each part of a multipart/mixed answer."""
    if "boundary=" not in content_type:
        raise ValueError(f"expected a multipart answer, got {content_type!r}")
    boundary = ("--" + content_type.split("boundary=", 1)[1].split(";", 1)[0]).encode()
    parts = []
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, payload.removesuffix(b"\r\n")))
    return parts


def frame_from_arrow(payload: bytes) -> pd.DataFrame:
    """A DataFrame from one Arrow IPC stream, indexed by the columns the server names."""
    import pyarrow as pa  # type: ignore[import-untyped]

    table = pa.ipc.open_stream(pa.py_buffer(payload)).read_all()
    index = json.loads((table.schema.metadata or {}).get(b"ember.index", b"[]"))
    frame: pd.DataFrame = table.to_pandas()
    return frame.set_index(index) if index else frame


def frames_from_multipart(content_type: str, body: bytes) -> list[tuple[pd.DataFrame, bool]]:
    """Each query's DataFrame, and whether more spans matched than the limit allowed."""
    out = []
    for headers, payload in multipart_parts(content_type, body):
        if headers.get("content-type") != ARROW:
            raise ValueError(f"unexpected part type {headers.get('content-type')!r}")
        out.append((frame_from_arrow(payload), headers.get("x-ember-more") == "true"))
    return out
