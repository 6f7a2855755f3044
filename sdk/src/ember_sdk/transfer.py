"""Export a project's spans to a file and import them again, through Ember's REST API and OTLP.

Formats (`FORMATS`):
- `jsonl`: one span per line, exactly as `GET /v1/projects/{p}/spans` returns it (span JSON).
- `parquet`: one row per span; scalar fields as typed columns (ids, name, kinds, times as
  exact int64 nanoseconds and as timestamps, status, counts), nested values (attributes,
  events, links, resource, scope, ...) as JSON text columns. Needs pyarrow
  (`pip install 'ember-sdk[dataframe]'`).
- `otlp-json`: one OTLP/JSON `ExportTraceServiceRequest` per line, grouped by resource and
  scope, hex ids: what `POST /v1/traces` takes with `Content-Type: application/json`. The
  attributes Ember derived at ingest are left out.

Export reads the project a page of 1,000 spans at a time, newest first, following cursors, and
writes `PATH.part` first, renamed to PATH only when complete. Import turns every span into
OTLP/JSON without the derived attributes and sends it to `POST /v1/traces` in chunks, so the
receiving server derives everything again exactly as at first ingest; the project is the
`x-project-name` header (`project=`, else each span's own project; for OTLP-JSON without
`project=` the server routes by resource attributes as usual). A busy server (503 with
Retry-After) is waited for. `remint_ids=True` gives every trace and span consistent random new
ids (parents and links follow), so the same data can be imported twice into one project.

Log records tied to spans (GenAI message events; a span's `logs`, which `GET /v1/traces/{id}`
shows but the span listing does not) are exported with `include_logs=True`, which reads each
trace once more: in JSONL and Parquet under each span's `logs`, in OTLP-JSON as
`ExportLogsServiceRequest` lines after each page's spans. Import sends them to `POST /v1/logs`
(with the span's resource and scope: Ember does not keep a record's own), and the receiving
server derives the spans with them again. Without `include_logs` what the records gave a span
(its messages, for instance) is not in the file and is not derived again.

A file that is not what its format says gets a TransferError naming the file, the line (or
row) and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from ember_sdk.http import ClientError, error_text, get_json, post_with_retries
from ember_sdk.otlp_json import (
    SIGNALS,
    Converted,
    IdMinter,
    build_request,
    convert,
    export_request,
    otlp_logs,
    request_items,
    signal_of,
)

FORMATS = ("jsonl", "parquet", "otlp-json")
PAGE_SPANS = 1000  # the most the spans listing returns at once
CHUNK_SPANS = 500  # spans per import request
MAX_REQUEST_BYTES = 8 << 20  # a chunk bigger than this is split (the server's default is 32 MiB)

# Called with (spans done, spans in all or None when unknown) after each page or chunk.
Progress = Callable[[int, int | None], None]


class TransferError(ClientError):
    """An export or import failed; the message names the file, line or row, and field."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    spans: int


@dataclass(frozen=True)
class ImportResult:
    path: Path
    format: str
    spans_sent: int
    spans_rejected: int
    requests: int
    messages: tuple[str, ...]  # the server's partial-success messages, if any
    log_records_sent: int = 0
    log_records_rejected: int = 0


def detect_format(path: Path, format: str | None = None, *, sniff: bool = False) -> str:
    """The file's format: `format` when given, else from the name (`.parquet`, `.jsonl`,
    `.otlp.json`, ...); with `sniff`, an existing file's first bytes decide a `.json`/`.jsonl`
    file between span JSON and OTLP/JSON."""
    if format is not None:
        if format not in FORMATS:
            raise TransferError(f"format {format!r} is not one of {', '.join(FORMATS)}")
        return format
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".otlp.json", ".otlp.jsonl", ".otlp.ndjson", ".otlpjson")):
        return "otlp-json"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        if sniff:
            return _sniff_lines(path)
        return "jsonl"
    if sniff and path.is_file():
        with path.open("rb") as file:
            if file.read(4) == b"PAR1":
                return "parquet"
        return _sniff_lines(path)
    raise TransferError(
        f"{path}: cannot tell the format from the name; name it .jsonl, .parquet or "
        f".otlp.json, or give the format ({', '.join(FORMATS)})"
    )


def _sniff_lines(path: Path) -> str:
    """otlp-json when the first JSON line is an OTLP request, else jsonl."""
    try:
        with path.open("rb") as file:
            for raw in file:
                if raw.strip():
                    first = json.loads(raw)
                    try:
                        signal_of(first)
                    except ValueError:
                        return "jsonl"
                    return "otlp-json"
    except (OSError, ValueError):
        pass  # the reader reports what is wrong, with the line
    return "jsonl"


# ------------------------------------------------------------------------- export


class _Writer(Protocol):
    def write(self, spans: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class _JsonlWriter:
    def __init__(self, path: Path, otlp: bool) -> None:
        self._file = path.open("w", encoding="utf-8")
        self._otlp = otlp

    def write(self, spans: Sequence[dict[str, Any]]) -> None:
        if not self._otlp:
            self._file.writelines(_dumps(span) + "\n" for span in spans)
            return
        self._file.write(_dumps(export_request(spans)) + "\n")
        logs = [
            (*convert(span)[:4], record) for span in spans if span.get("logs")
            for record in otlp_logs(span)
        ]
        if logs:
            self._file.write(_dumps(build_request(logs, "logs")) + "\n")

    def close(self) -> None:
        self._file.close()


def export_spans(
    http: httpx.Client,
    project: str,
    path: str | Path,
    format: str | None = None,
    progress: Progress | None = None,
    include_logs: bool = False,
) -> ExportResult:
    """Write every span of `project` to `path` (see the module's docstring for formats);
    with `include_logs`, their log records too (one more request per trace)."""
    path = Path(path)
    fmt = detect_format(path, format)
    partial = path.with_name(path.name + ".part")
    writer: _Writer
    try:
        if fmt == "parquet":
            from ember_sdk.parquet import ParquetWriter

            writer = ParquetWriter(partial)
        else:
            writer = _JsonlWriter(partial, otlp=fmt == "otlp-json")
    except OSError as exc:
        raise TransferError(f"{path}: cannot write the file: {exc.strerror or exc}") from exc
    count = 0
    logs: dict[tuple[str, str], list[Any]] = {}  # of spans still to come, by (trace, span)
    fetched: set[str] = set()  # traces whose log records were read
    try:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_SPANS}
            if cursor:
                params["cursor"] = cursor
            page = get_json(http, f"/v1/projects/{quote(project, safe='')}/spans", params)
            spans = page.get("data") if isinstance(page, dict) else None
            if not isinstance(spans, list):
                raise TransferError(f"the server's span listing is not a page: {page!r:.200}")
            if include_logs:
                _attach_logs(http, spans, logs, fetched)
            if spans:
                writer.write(spans)
            count += len(spans)
            if progress is not None:
                progress(count, None)
            cursor = page.get("next_cursor")
            if not cursor:
                break
        writer.close()
        partial.replace(path)
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(path=path, format=fmt, spans=count)


def _attach_logs(
    http: httpx.Client,
    spans: list[dict[str, Any]],
    logs: dict[tuple[str, str], list[Any]],
    fetched: set[str],
) -> None:
    """Set each span's `logs` from its whole trace (`GET /v1/traces/{id}`, once per trace)."""
    for trace_id in dict.fromkeys(span["context"]["trace_id"] for span in spans):
        if trace_id in fetched:
            continue
        fetched.add(trace_id)
        trace = get_json(http, f"/v1/traces/{quote(trace_id, safe='')}")
        for span in trace["data"]["spans"]:
            if span.get("logs"):
                logs[span["context"]["trace_id"], span["context"]["span_id"]] = span["logs"]
    for span in spans:
        found = logs.pop((span["context"]["trace_id"], span["context"]["span_id"]), None)
        if found:
            span["logs"] = found


# ------------------------------------------------------------------------- import


@dataclass
class _Chunk:
    signal: str  # "spans" (to /v1/traces) or "logs" (to /v1/logs)
    project: str | None
    first: str  # where in the file the chunk starts and ends ("line 12")
    last: str
    request: dict[str, Any]  # OTLP/JSON
    items: int  # spans or log records


_ROUTES = {"spans": "/v1/traces", "logs": "/v1/logs"}
_REJECTED = {"spans": "rejectedSpans", "logs": "rejectedLogRecords"}
_WORDS = {"spans": "spans", "logs": "log records"}


def import_spans(
    http: httpx.Client,
    path: str | Path,
    project: str | None = None,
    format: str | None = None,
    remint_ids: bool = False,
    progress: Progress | None = None,
    chunk_spans: int = CHUNK_SPANS,
) -> ImportResult:
    """Send the spans of an export file to `POST /v1/traces`, and their log records, if the
    file has them, to `POST /v1/logs` (see the module's docstring).

    The whole file is read and checked once before anything is sent, so a bad file is refused
    with nothing imported (and the progress total is known)."""
    path = Path(path)
    if not path.is_file():
        raise TransferError(f"{path}: no such file")
    fmt = detect_format(path, format, sniff=True)

    def chunks() -> Iterator[_Chunk]:
        if fmt == "otlp-json":
            return _otlp_chunks(path, project, check_ids=remint_ids)
        if fmt == "parquet":
            from ember_sdk.parquet import read_spans

            return _span_chunks(path, read_spans(path), project, chunk_spans)
        return _span_chunks(path, _read_jsonl(path), project, chunk_spans)

    total = sum(chunk.items for chunk in chunks() if chunk.signal == "spans")
    minter = IdMinter() if remint_ids else None
    sent = {"spans": 0, "logs": 0}
    rejected = {"spans": 0, "logs": 0}
    requests = 0
    messages: list[str] = []
    for chunk in chunks():
        for part in _split(chunk):
            if minter is not None:
                minter.remint(part.request)
            part_rejected, message = _send(http, path, part)
            requests += 1
            sent[part.signal] += part.items
            rejected[part.signal] += part_rejected
            if message:
                messages.append(f"{part.first}-{part.last}: {message}")
        if progress is not None and chunk.signal == "spans":
            progress(sent["spans"], total)
    return ImportResult(
        path=path, format=fmt, spans_sent=sent["spans"], spans_rejected=rejected["spans"],
        requests=requests, messages=tuple(messages), log_records_sent=sent["logs"],
        log_records_rejected=rejected["logs"],
    )


def _read_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        file = path.open("rb")
    except OSError as exc:
        raise TransferError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    with file:
        for number, raw in enumerate(file, start=1):
            if not raw.strip():
                continue
            try:
                yield f"line {number}", json.loads(raw)
            except ValueError as exc:
                raise TransferError(f"{path} line {number}: not valid JSON: {exc}") from exc


def _span_chunks(
    path: Path, spans: Iterator[tuple[str, Any]], project: str | None, size: int
) -> Iterator[_Chunk]:
    """Chunks of at most `size` converted spans, each of one project, each followed by a
    chunk of those spans' log records when they have any."""
    pending: list[Converted] = []
    pending_logs: list[Converted] = []
    pending_project: str | None = None
    first = last = ""

    def flush() -> Iterator[_Chunk]:
        yield _Chunk("spans", pending_project, first, last, build_request(pending), len(pending))
        if pending_logs:
            yield _Chunk("logs", pending_project, first, last,
                         build_request(pending_logs, "logs"), len(pending_logs))

    for where, span in spans:
        try:
            converted = convert(span)
            logs = [(*converted[:4], record) for record in otlp_logs(span)]
        except ValueError as exc:
            raise TransferError(f"{path} {where}: {exc}") from exc
        span_project = project or _project_of(span, path, where)
        if pending and (span_project != pending_project or len(pending) >= size):
            yield from flush()
            pending, pending_logs = [], []
        if not pending:
            pending_project, first = span_project, where
        pending.append(converted)
        pending_logs.extend(logs)
        last = where
    if pending:
        yield from flush()


def _project_of(span: dict[str, Any], path: Path, where: str) -> str | None:
    name = span.get("project_name")
    if name is not None and not isinstance(name, str):
        raise TransferError(f"{path} {where}: project_name must be a string, got {name!r}")
    return name


def _otlp_chunks(path: Path, project: str | None, check_ids: bool) -> Iterator[_Chunk]:
    """Each line of an OTLP-JSON file as it is: one trace or logs request. With `check_ids`,
    every id must be hex (to be re-minted); otherwise the server checks them."""
    for where, request in _read_jsonl(path):
        try:
            signal = signal_of(request)
            count = len(request_items(request, signal))
            if check_ids:
                IdMinter().remint(request, apply=False)
        except ValueError as exc:
            raise TransferError(f"{path} {where}: {exc}") from exc
        yield _Chunk(signal, project, where, where, request, count)


def _split(chunk: _Chunk) -> Iterator[_Chunk]:
    """The chunk, or halves of it while its body is over MAX_REQUEST_BYTES (very large spans)."""
    if chunk.items <= 1 or len(_dumps(chunk.request)) <= MAX_REQUEST_BYTES:
        yield chunk
        return
    resources_field, scopes_field, items_field = SIGNALS[chunk.signal]
    halves: tuple[dict[str, Any], dict[str, Any]] = (
        {resources_field: []}, {resources_field: []}
    )
    half = chunk.items // 2
    seen = 0
    for resource_items in chunk.request[resources_field]:
        for scope_items in resource_items.get(scopes_field, []):
            members = scope_items.get(items_field, [])
            cut = max(half - seen, 0)
            for target, part in ((halves[0], members[:cut]), (halves[1], members[cut:])):
                if part:
                    target[resources_field].append({
                        **resource_items, scopes_field: [{**scope_items, items_field: part}],
                    })
            seen += len(members)
    for target in halves:
        count = len(request_items(target, chunk.signal))
        yield from _split(
            _Chunk(chunk.signal, chunk.project, chunk.first, chunk.last, target, count)
        )


def _send(http: httpx.Client, path: Path, chunk: _Chunk) -> tuple[int, str]:
    """POST one chunk; (items the server rejected, its message)."""
    headers = {"content-type": "application/json"}
    if chunk.project:
        headers["x-project-name"] = chunk.project
    route = _ROUTES[chunk.signal]
    try:
        response = post_with_retries(http, route, _dumps(chunk.request).encode(), headers)
    except ClientError as exc:
        raise TransferError(f"{path} {chunk.first}-{chunk.last}: {exc}") from exc
    if response.status_code != 200:
        raise TransferError(
            f"{path} {chunk.first}-{chunk.last}: the server refused these "
            f"{_WORDS[chunk.signal]} ({response.status_code}): {error_text(response)}"
        )
    try:
        partial = response.json().get("partialSuccess") or {}
    except (ValueError, AttributeError):
        partial = {}
    return (
        int(partial.get(_REJECTED[chunk.signal]) or 0),
        str(partial.get("errorMessage") or ""),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
