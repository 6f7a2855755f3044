"""Phoenix's annotation routes: log span, trace, session and document annotations (and notes),
and read a project's annotations back.

Writes are stored before the response, whatever `sync` says (Phoenix queues them when it is
false); the response lists the ids either way. Unlike Phoenix, an annotation whose span, trace
or session is not stored (yet) is kept, not refused: it shows up in its target's project when
the target arrives. The name `note` is kept for notes (`POST /v1/{span,trace,session}_notes`),
as in Phoenix.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ember.api.deps import project_of, store_of, unprocessable
from ember.api.routes import JSONResponse
from ember.api.shapes import ANNOTATION_GLOBAL_KINDS, annotation_json, global_id
from ember.errors import BadRequest, NotFound
from ember.model import NO_DOCUMENT, AnnotationInput, AnnotationQuery

router = APIRouter()

NOTE = "note"
# How many ids one listing request may name (Phoenix's bound too).
MAX_IDS = 1000
_SPAN_ID = re.compile(r"[0-9a-fA-F]{16}")
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")


def _hex_id(value: str, pattern: re.Pattern[str], what: str) -> str:
    value = value.strip()
    if not pattern.fullmatch(value):
        digits = 16 if pattern is _SPAN_ID else 32
        raise ValueError(f"{what} must be {digits} hex digits, got {value!r}")
    return value.lower()


class ResultBody(BaseModel):
    """Phoenix's AnnotationResult. A NaN score means none (pandas writes a missing value so)."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    score: float | None = None
    explanation: str | None = None

    @field_validator("score")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is None or math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError("score must be a finite number")
        return value


class AnnotationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    annotator_kind: Literal["LLM", "CODE", "HUMAN"]
    result: ResultBody | None = None
    metadata: dict[str, Any] | None = None
    identifier: str | None = ""

    def stored(
        self, kind: str, target_id: str, position: int = NO_DOCUMENT
    ) -> AnnotationInput:
        result = self.result or ResultBody()
        return AnnotationInput(
            target_kind=kind,
            target_id=target_id,
            name=self.name,
            annotator_kind=self.annotator_kind,
            label=result.label,
            score=result.score,
            explanation=result.explanation,
            metadata=self.metadata,
            identifier=(self.identifier or "").strip(),
            document_position=position,
        )


class SpanAnnotationBody(AnnotationBody):
    """Phoenix's SpanAnnotationData."""

    span_id: str

    @field_validator("span_id")
    @classmethod
    def _span_hex(cls, value: str) -> str:
        return _hex_id(value, _SPAN_ID, "span_id (an OpenTelemetry span id)")


class DocumentAnnotationBody(SpanAnnotationBody):
    """Phoenix's SpanDocumentAnnotationData: the document at `document_position` (0-based) of
    the span's `retrieval.documents`."""

    document_position: int = Field(ge=0)


class TraceAnnotationBody(AnnotationBody):
    """Phoenix's TraceAnnotationData."""

    trace_id: str

    @field_validator("trace_id")
    @classmethod
    def _trace_hex(cls, value: str) -> str:
        return _hex_id(value, _TRACE_ID, "trace_id (an OpenTelemetry trace id)")


class SessionAnnotationBody(AnnotationBody):
    """Phoenix's SessionAnnotationData."""

    session_id: str = Field(min_length=1)


class SpanAnnotations(BaseModel):
    data: list[SpanAnnotationBody]


class DocumentAnnotations(BaseModel):
    data: list[DocumentAnnotationBody]


class TraceAnnotations(BaseModel):
    data: list[TraceAnnotationBody]


class SessionAnnotations(BaseModel):
    data: list[SessionAnnotationBody]


SyncParam = Annotated[
    bool, Query(description="Accepted for Phoenix; Ember always stores before it answers")
]


def _log(request: Request, kind: str, items: list[AnnotationInput]) -> JSONResponse:
    if any(item.name == NOTE for item in items):
        raise BadRequest(
            f"the name {NOTE!r} is kept for notes; use POST /v1/{kind}_notes to add one"
        )
    ids = store_of(request).upsert_annotations(items)
    global_kind = ANNOTATION_GLOBAL_KINDS[kind]
    return JSONResponse({"data": [{"id": global_id(global_kind, rowid)} for rowid in ids]})


@router.post(
    "/v1/span_annotations",
    tags=["annotations"],
    summary="Create or update span annotations (Phoenix's AnnotateSpansRequestBody)",
)
def annotate_spans(
    request: Request, body: SpanAnnotations, sync: SyncParam = False
) -> JSONResponse:
    return _log(request, "span", [a.stored("span", a.span_id) for a in body.data])


@router.post(
    "/v1/document_annotations",
    tags=["annotations"],
    summary="Create or update annotations of retrieved documents (by span and position)",
)
def annotate_documents(
    request: Request, body: DocumentAnnotations, sync: SyncParam = False
) -> JSONResponse:
    items = [a.stored("document", a.span_id, a.document_position) for a in body.data]
    return _log(request, "document", items)


@router.post(
    "/v1/trace_annotations",
    tags=["annotations"],
    summary="Create or update trace annotations (Phoenix's AnnotateTracesRequestBody)",
)
def annotate_traces(
    request: Request, body: TraceAnnotations, sync: SyncParam = False
) -> JSONResponse:
    return _log(request, "trace", [a.stored("trace", a.trace_id) for a in body.data])


@router.post(
    "/v1/session_annotations",
    tags=["annotations"],
    summary="Create or update session annotations (Phoenix's AnnotateSessionsRequestBody)",
)
def annotate_sessions(
    request: Request, body: SessionAnnotations, sync: SyncParam = False
) -> JSONResponse:
    return _log(request, "session", [a.stored("session", a.session_id) for a in body.data])


# ------------------------------------------------------------------------------------ notes


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1)
    identifier: str = ""


class SpanNote(NoteBody):
    """Phoenix's SpanNoteData."""

    span_id: str

    @field_validator("span_id")
    @classmethod
    def _span_hex(cls, value: str) -> str:
        return _hex_id(value, _SPAN_ID, "span_id (an OpenTelemetry span id)")


class TraceNote(NoteBody):
    """Phoenix's TraceNoteData."""

    trace_id: str

    @field_validator("trace_id")
    @classmethod
    def _trace_hex(cls, value: str) -> str:
        return _hex_id(value, _TRACE_ID, "trace_id (an OpenTelemetry trace id)")


class SessionNote(NoteBody):
    """Phoenix's SessionNoteData."""

    session_id: str = Field(min_length=1)


class SpanNoteRequest(BaseModel):
    data: SpanNote


class TraceNoteRequest(BaseModel):
    data: TraceNote


class SessionNoteRequest(BaseModel):
    data: SessionNote


def _note(request: Request, kind: str, target_id: str, note: NoteBody) -> JSONResponse:
    """A note is a HUMAN annotation named `note` whose text is its explanation. Without an
    identifier each note is new (a fresh one is made up); with one, it is upserted."""
    identifier = note.identifier.strip() or f"note:{uuid.uuid4()}"
    item = AnnotationInput(
        target_kind=kind, target_id=target_id, name=NOTE, annotator_kind="HUMAN",
        explanation=note.note.strip(), identifier=identifier,
    )
    (rowid,) = store_of(request).upsert_annotations([item])
    return JSONResponse({"data": {"id": global_id(ANNOTATION_GLOBAL_KINDS[kind], rowid)}})


@router.post("/v1/span_notes", tags=["annotations"], summary="Add a note to a span")
def span_note(request: Request, body: SpanNoteRequest) -> JSONResponse:
    return _note(request, "span", body.data.span_id, body.data)


@router.post("/v1/trace_notes", tags=["annotations"], summary="Add a note to a trace")
def trace_note(request: Request, body: TraceNoteRequest) -> JSONResponse:
    return _note(request, "trace", body.data.trace_id, body.data)


@router.post("/v1/session_notes", tags=["annotations"], summary="Add a note to a session")
def session_note(request: Request, body: SessionNoteRequest) -> JSONResponse:
    return _note(request, "session", body.data.session_id, body.data)


# ---------------------------------------------------------------------------------- listings


def _list(
    request: Request,
    project_identifier: str,
    kind: str,
    target_ids: list[str] | None,
    identifier: list[str] | None,
    include_annotation_names: list[str] | None,
    exclude_annotation_names: list[str] | None,
    cursor: str | None,
    limit: int,
) -> JSONResponse:
    """A page of a project's annotations of one kind, as Phoenix lists them: by target ids
    and/or identifiers (one of them is needed), newest first."""
    field = {"span": "span_ids", "document": "span_ids", "trace": "trace_ids",
             "session": "session_ids"}[kind]
    targets = sorted({t.strip().lower() if kind != "session" else t for t in target_ids or []})
    identifiers = sorted(set(identifier or []))
    for name, values in ((field, targets), ("identifier", identifiers)):
        if len(values) > MAX_IDS:
            raise unprocessable(("query", name), f"at most {MAX_IDS} values, got {len(values)}")
    if not targets and not identifiers:
        raise unprocessable(("query", field), f"give {field} or identifier (or both)")
    store = store_of(request)
    project = project_of(store, project_identifier)
    query = AnnotationQuery(
        target_kind=kind,
        target_ids=tuple(targets),
        identifiers=tuple(identifiers),
        include_names=tuple(include_annotation_names or ()),
        exclude_names=tuple(exclude_annotation_names or ()),
    )
    page = store.page_annotations(project, query, cursor, limit)
    if (
        not page.items and cursor is None and targets and not identifiers
        and not store.annotation_targets_exist(project, kind, targets)
    ):
        raise NotFound(f"none of the given {field} is in project {project.name!r}")
    return JSONResponse(
        {"data": [annotation_json(a) for a in page.items], "next_cursor": page.next_cursor}
    )


Names = Annotated[list[str] | None, Query()]
Limit = Annotated[int, Query(gt=0, le=10_000)]


@router.get(
    "/v1/projects/{project_identifier}/span_annotations",
    tags=["annotations"],
    summary="A project's span annotations by span ids (Phoenix's SpanAnnotationsResponseBody)",
)
def list_span_annotations(
    request: Request,
    project_identifier: str,
    span_ids: Names = None,
    identifier: Names = None,
    include_annotation_names: Names = None,
    exclude_annotation_names: Names = None,
    cursor: str | None = None,
    limit: Limit = 10,
) -> JSONResponse:
    return _list(request, project_identifier, "span", span_ids, identifier,
                 include_annotation_names, exclude_annotation_names, cursor, limit)


@router.get(
    "/v1/projects/{project_identifier}/document_annotations",
    tags=["annotations"],
    summary="A project's document annotations by span ids (Phoenix's SpanDocumentAnnotation)",
)
def list_document_annotations(
    request: Request,
    project_identifier: str,
    span_ids: Names = None,
    identifier: Names = None,
    include_annotation_names: Names = None,
    exclude_annotation_names: Names = None,
    cursor: str | None = None,
    limit: Limit = 10,
) -> JSONResponse:
    return _list(request, project_identifier, "document", span_ids, identifier,
                 include_annotation_names, exclude_annotation_names, cursor, limit)


@router.get(
    "/v1/projects/{project_identifier}/trace_annotations",
    tags=["annotations"],
    summary="A project's trace annotations by trace ids (Phoenix's TraceAnnotationsResponseBody)",
)
def list_trace_annotations(
    request: Request,
    project_identifier: str,
    trace_ids: Names = None,
    identifier: Names = None,
    include_annotation_names: Names = None,
    exclude_annotation_names: Names = None,
    cursor: str | None = None,
    limit: Limit = 10,
) -> JSONResponse:
    return _list(request, project_identifier, "trace", trace_ids, identifier,
                 include_annotation_names, exclude_annotation_names, cursor, limit)


@router.get(
    "/v1/projects/{project_identifier}/session_annotations",
    tags=["annotations"],
    summary="A project's session annotations (Phoenix's SessionAnnotationsResponseBody)",
)
def list_session_annotations(
    request: Request,
    project_identifier: str,
    session_ids: Names = None,
    identifier: Names = None,
    include_annotation_names: Names = None,
    exclude_annotation_names: Names = None,
    cursor: str | None = None,
    limit: Limit = 10,
) -> JSONResponse:
    return _list(request, project_identifier, "session", session_ids, identifier,
                 include_annotation_names, exclude_annotation_names, cursor, limit)
