"""`Client`: Ember's REST API from Python.

    from ember_sdk.client import Client

    with Client("http://127.0.0.1:6006") as client:
        client.projects()
        client.export_spans("my-rag", "my-rag.parquet")
        client.import_spans("my-rag.parquet", project="my-rag-copy", remint_ids=True)

One `httpx.Client` (the `http` attribute, with the base URL and headers set) carries every
request. Optional dependencies (pandas, pyarrow: `ember-sdk[dataframe]`) are imported only by
the methods that need them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ember_sdk import frames, transfer
from ember_sdk.http import ClientError, get_json, post_json
from ember_sdk.settings import resolve

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_BASE_URL = "http://127.0.0.1:6006"


class Client:
    """A connection to one Ember server.

    `api_key` (else the `EMBER_API_KEY` environment variable) is sent as
    `authorization: Bearer <key>`; `headers` are added to every request."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        all_headers = dict(headers or {})
        key = resolve("api_key", api_key).value
        if key:
            all_headers.setdefault("authorization", f"Bearer {key}")
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=all_headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def projects(self) -> list[dict[str, Any]]:
        """Every project (`id`, `name`, `description`), following the listing's cursors."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = get_json(self.http, "/v1/projects", params)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise ClientError(f"the server's project listing is not a page: {page!r:.200}")
            out.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def export_spans(
        self,
        project: str,
        path: str | Path,
        format: str | None = None,
        progress: transfer.Progress | None = None,
        include_logs: bool = False,
    ) -> transfer.ExportResult:
        """Write every span of `project` to `path`: `jsonl`, `parquet` or `otlp-json`, by
        default from the file name (see ember_sdk.transfer); with `include_logs`, the log
        records tied to them too. `progress(done, total)` is called after each page (total is
        None: the listing does not count)."""
        return transfer.export_spans(self.http, project, path, format, progress, include_logs)

    def import_spans(
        self,
        path: str | Path,
        project: str | None = None,
        format: str | None = None,
        remint_ids: bool = False,
        progress: transfer.Progress | None = None,
    ) -> transfer.ImportResult:
        """Send an export file's spans (and log records, if it has them) to this server
        through OTLP, into `project` (else each span's own project). `remint_ids` gives them
        consistent new random ids, so the same file can be imported twice. Raises
        TransferError naming the line and field of a bad file; spans the server rejected are
        counted in the result."""
        return transfer.import_spans(
            self.http, path, project=project, format=format, remint_ids=remint_ids,
            progress=progress,
        )

    # --- questions, answered as DataFrames (ember-sdk[dataframe]) --------------------------

    def spans(
        self,
        project: str,
        filter: str | None = None,
        *,
        select: Sequence[str] | Mapping[str, str] | None = None,
        explode: str | None = None,
        explode_columns: Mapping[str, str] | None = None,
        concat: str | None = None,
        concat_columns: Mapping[str, str] | None = None,
        rename: Mapping[str, str] | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        root_spans_only: bool = False,
        limit: int = 1000,
    ) -> pd.DataFrame:
        """The project's spans matching `filter` (Ember's filter language, docs/query.md) as
        a DataFrame indexed by span id: every field and attribute, or the `select`ed keys;
        `explode` gives a row per member of a list (`"retrieval.documents"` with
        `explode_columns={"content": "document.content"}`), indexed by span id and position.
        At most `limit` spans; a warning says when more matched."""
        query = frames.span_query_body(
            filter=filter, select=select, explode=explode, explode_columns=explode_columns,
            concat=concat, concat_columns=concat_columns, rename=rename,
        )
        body: dict[str, Any] = {
            "queries": [query], "limit": limit, "root_spans_only": root_spans_only,
            "start_time": None if start_time is None else start_time.isoformat(),
            "end_time": None if end_time is None else end_time.isoformat(),
        }
        response = post_json(self.http, "/v1/spans", body, {"project_name": project})
        ((frame, more),) = frames.frames_from_multipart(
            response.headers.get("content-type", ""), response.content
        )
        if more:
            warnings.warn(
                f"more than {limit} spans matched; raise limit= to get them all", stacklevel=2
            )
        return frame

    def traces(
        self,
        project: str,
        filter: str | None = None,
        *,
        sort: str = "start_time",
        descending: bool = True,
        limit: int = 1000,
    ) -> pd.DataFrame:
        """The project's traces matching a trace `filter` (roll-ups, the root's attributes,
        `any(...)` over spans), one row per trace, in `sort` order; at most `limit`."""
        return self._listing(project, "traces", filter, sort, descending, limit, "trace_id")

    def sessions(
        self,
        project: str,
        filter: str | None = None,
        *,
        sort: str = "start_time",
        descending: bool = True,
        limit: int = 1000,
    ) -> pd.DataFrame:
        """The project's sessions matching a session `filter`, one row per session."""
        return self._listing(project, "sessions", filter, sort, descending, limit, "session_id")

    def _listing(
        self,
        project: str,
        table: str,
        filter: str | None,
        sort: str,
        descending: bool,
        limit: int,
        index: str,
    ) -> pd.DataFrame:
        """Up to `limit` rows of a project's `table` listing, following its cursors."""
        import pandas as pd

        path = f"/v1/projects/{project}/{table}"
        params: dict[str, Any] = {"sort": sort, "order": "desc" if descending else "asc"}
        if filter is not None:
            params["filter"] = filter
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(rows) < limit:
            query = {**params}
            query["limit"] = min(1000, limit - len(rows))
            if cursor:
                query["cursor"] = cursor
            page = get_json(self.http, path, query)
            rows += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        frame = pd.json_normalize(rows) if rows else pd.DataFrame(columns=[index])
        return frame.set_index(index)

    def log_span_annotations(self, frame: pd.DataFrame, annotator_kind: str = "CODE") -> int:
        """Upsert one span annotation per row of `frame`: a `span_id` column (or the index,
        as `spans()` gives it), a `name` column, and any of `label`, `score`, `explanation`,
        `identifier`, `annotator_kind`, `metadata` (a dict). Returns how many were sent."""
        data = frame.reset_index() if "span_id" not in frame.columns else frame
        if "context.span_id" in data.columns and "span_id" not in data.columns:
            data = data.rename(columns={"context.span_id": "span_id"})
        missing = {"span_id", "name"} - set(data.columns)
        if missing:
            raise ValueError(f"the frame needs columns {sorted(missing)}")
        items = []
        for row in data.to_dict("records"):
            result = {k: _plain(row.get(k)) for k in ("label", "score", "explanation")}
            item: dict[str, Any] = {
                "span_id": row["span_id"],
                "name": row["name"],
                "annotator_kind": _plain(row.get("annotator_kind")) or annotator_kind,
                "result": {k: v for k, v in result.items() if v is not None},
            }
            for key in ("identifier", "metadata"):
                if _plain(row.get(key)) is not None:
                    item[key] = row[key]
            items.append(item)
        for start in range(0, len(items), 1000):
            post_json(self.http, "/v1/span_annotations", {"data": items[start : start + 1000]})
        return len(items)


def _plain(value: Any) -> Any:
    """None for pandas' missing values (None, NaN, NA, NaT), else the value."""
    import pandas as pd

    if value is None or (not isinstance(value, dict | list) and pd.isna(value)):
        return None
    return value
