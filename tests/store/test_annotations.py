"""The storage contract for annotations (every backend): upsert on (target, name, identifier),
kept before their target arrives, read within the target's project, deleted with it."""

from __future__ import annotations

import pytest

from ember.errors import BadRequest
from ember.model import AnnotationInput, AnnotationQuery, Project, SpanRecord
from ember.store.annotations import annotations_by_target
from ember.store.base import Store
from ember.store.sql import SqlStore
from tests.helpers import BASE_NS, make_span, span_id, trace_id
from tests.store.test_logs_and_cost import span_records


def turn(project: str, session: str | None = None, start: int = BASE_NS) -> list[SpanRecord]:
    """A root span and one retriever child."""
    trace, root = trace_id(), span_id()
    root_attributes = {"openinference.span.kind": "CHAIN", "input.value": "q"}
    if session is not None:
        root_attributes["session.id"] = session
    return span_records([
        make_span(trace, root, name="turn", start=start, end=start + 100,
                  attributes=root_attributes),
        make_span(trace, span_id(), root, name="retrieve", start=start + 1, end=start + 50,
                  attributes={"openinference.span.kind": "RETRIEVER"}),
    ], project)


def label(kind: str, target: str, name: str, value: str, **extra: object) -> AnnotationInput:
    return AnnotationInput(
        target_kind=kind, target_id=target, name=name, annotator_kind="LLM", label=value,
        **extra,  # type: ignore[arg-type]
    )


def listed(store: Store, project: Project, kind: str, *targets: str, **query: object) -> list:
    """Every annotation of the query, following cursors two at a time."""
    out = []
    cursor = None
    while True:
        page = store.page_annotations(
            project, AnnotationQuery(kind, tuple(targets), **query),  # type: ignore[arg-type]
            cursor, 2,
        )
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def test_same_name_and_identifier_is_one_annotation_updated(store: Store) -> None:
    spans = turn("annotated")
    store.write_spans(spans)
    project = store.get_project("annotated")
    target = spans[0].span_id

    (first,) = store.upsert_annotations([
        label("span", target, "correctness", "wrong", score=0.1, explanation="no",
              metadata={"model": "judge-1"}),
    ])
    second, other = store.upsert_annotations([
        label("span", target, "correctness", "right", score=0.9),
        label("span", target, "correctness", "right", identifier="second-opinion"),
    ])
    assert second == first and other != first

    found = {a.identifier: a for a in listed(store, project, "span", target)}
    assert set(found) == {"", "second-opinion"}
    updated = found[""]
    assert (updated.label, updated.score, updated.explanation, updated.metadata) == (
        "right", 0.9, None, {}
    )
    assert updated.created_at <= updated.updated_at
    assert updated.annotator_kind == "LLM" and updated.source == "API"


def test_items_with_one_key_in_one_batch_share_a_row_and_the_last_wins(store: Store) -> None:
    ids = store.upsert_annotations([
        label("trace", "a" * 32, "tone", "calm"),
        label("trace", "b" * 32, "tone", "calm"),
        label("trace", "a" * 32, "tone", "angry"),
    ])
    assert ids[0] == ids[2] != ids[1]
    with store._readers.connect() as conn:  # type: ignore[attr-defined]
        found = annotations_by_target(conn, "trace", ["a" * 32])
    assert [a["label"] for a in found[("a" * 32, "tone")]] == ["angry"]


def test_an_annotation_before_its_span_is_kept_and_shown_in_the_span_project(
    store: Store,
) -> None:
    spans = turn("late")
    early_span, early_trace = spans[1].span_id, spans[1].trace_id
    store.upsert_annotations([
        label("span", early_span, "relevance", "high"),
        label("trace", early_trace, "outcome", "solved"),
    ])
    store.write_spans(turn("late"))  # the project exists, the annotated spans not yet
    project = store.get_project("late")
    assert listed(store, project, "span", early_span) == []
    assert not store.annotation_targets_exist(project, "span", [early_span])

    store.write_spans(spans)
    (found,) = listed(store, project, "span", early_span)
    assert (found.target_id, found.label) == (early_span, "high")
    assert [a.label for a in listed(store, project, "trace", early_trace)] == ["solved"]
    store.write_spans(turn("elsewhere"))
    assert listed(store, store.get_project("elsewhere"), "span", early_span) == []


def test_document_annotations_are_per_position(store: Store) -> None:
    spans = turn("docs")
    store.write_spans(spans)
    retriever = spans[1].span_id
    ids = store.upsert_annotations([
        label("document", retriever, "relevant", "yes", document_position=0),
        label("document", retriever, "relevant", "no", document_position=1),
        label("document", retriever, "relevant", "maybe", document_position=0),
    ])
    assert ids[0] == ids[2] != ids[1]
    found = listed(store, store.get_project("docs"), "document", retriever)
    assert sorted((a.document_position, a.label) for a in found) == [(0, "maybe"), (1, "no")]
    assert listed(store, store.get_project("docs"), "span", retriever) == []


def test_pages_filter_by_name_and_identifier_and_drop_nothing(store: Store) -> None:
    spans = turn("paged")
    store.write_spans(spans)
    project = store.get_project("paged")
    target = spans[0].span_id
    names = [f"metric-{i}" for i in range(7)]
    store.upsert_annotations([label("span", target, name, "x") for name in names])
    store.upsert_annotations([label("span", target, "note", "n", identifier="note:1")])

    assert sorted(a.name for a in listed(store, project, "span", target)) == sorted(
        [*names, "note"]
    )
    assert sorted(
        a.name for a in listed(store, project, "span", target, exclude_names=("note",))
    ) == sorted(names)
    assert [
        a.name for a in listed(store, project, "span", target,
                               include_names=("metric-3", "nothing"))
    ] == ["metric-3"]
    assert [a.identifier for a in listed(store, project, "span", identifiers=("note:1",))] == [
        "note:1"
    ]
    with pytest.raises(BadRequest):
        store.page_annotations(project, AnnotationQuery("span", (target,)), "garbage", 2)


def test_deleting_a_trace_takes_the_annotations_of_it_and_its_spans(store: Store) -> None:
    gone, kept = turn("cascade", "s-gone"), turn("cascade", "s-kept", BASE_NS + 1000)
    store.write_spans(gone + kept)
    project = store.get_project("cascade")
    for spans, session in ((gone, "s-gone"), (kept, "s-kept")):
        store.upsert_annotations([
            label("span", spans[0].span_id, "q", "x"),
            label("document", spans[1].span_id, "q", "x", document_position=0),
            label("trace", spans[0].trace_id, "q", "x"),
            label("session", session, "q", "x"),
        ])

    store.delete_trace(gone[0].trace_id)

    assert listed(store, project, "span", gone[0].span_id) == []
    assert store.get_project("cascade") == project
    with store._readers.connect() as conn:  # type: ignore[attr-defined]
        for kind, target in (("span", gone[0].span_id), ("document", gone[1].span_id),
                             ("trace", gone[0].trace_id), ("session", "s-gone")):
            assert annotations_by_target(conn, kind, [target]) == {}, kind
        for kind, target in (("span", kept[0].span_id), ("document", kept[1].span_id),
                             ("trace", kept[0].trace_id), ("session", "s-kept")):
            assert annotations_by_target(conn, kind, [target]) != {}, kind

    store.delete_project(project)
    with store._readers.connect() as conn:  # type: ignore[attr-defined]
        assert annotations_by_target(conn, "session", ["s-kept"]) == {}
        assert annotations_by_target(conn, "trace", [kept[0].trace_id]) == {}


def test_a_session_annotation_stays_while_another_project_has_the_session(
    store: Store,
) -> None:
    first, second = turn("p1", "shared"), turn("p2", "shared")
    store.write_spans(first + second)
    store.upsert_annotations([label("session", "shared", "satisfied", "yes")])
    store.delete_trace(first[0].trace_id)
    (found,) = listed(store, store.get_project("p2"), "session", "shared")
    assert found.label == "yes"


def test_the_filter_compiler_reads_annotations_through_the_table(store: Store) -> None:
    """`schema.annotation_table` is what store/filters.py joins on: target kind and id plain."""
    assert isinstance(store, SqlStore)
    from ember.store.schema import annotation_table

    spans = turn("plain")
    store.write_spans(spans)
    store.upsert_annotations([label("span", spans[0].span_id, "correctness", "incorrect")])
    import sqlalchemy as sa

    with store._readers.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(annotation_table).where(
                annotation_table.c.target_kind == "span",
                annotation_table.c.target_id == spans[0].span_id,
                annotation_table.c.name == "correctness",
                annotation_table.c.label == "incorrect",
            )
        ).scalar_one()
    assert count == 1
