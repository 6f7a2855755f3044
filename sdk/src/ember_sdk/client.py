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

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ember_sdk import transfer
from ember_sdk.http import ClientError, get_json
from ember_sdk.settings import resolve

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
