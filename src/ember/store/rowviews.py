"""Rows as `ember.query.evaluate.RowView`s, for the part of a filter SQL could not decide."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from ember.model import StoredSpan

AnnotationLookup = Callable[[str], Sequence[Mapping[str, Any]]]
NO_ANNOTATIONS: AnnotationLookup = lambda _name: ()  # noqa: E731


class SpanView:
    """A stored span (with its whole attribute map) as the evaluator reads it."""

    __slots__ = ("_annotations", "span")

    def __init__(self, span: StoredSpan, annotations: AnnotationLookup = NO_ANNOTATIONS) -> None:
        self.span = span
        self._annotations = annotations

    def column(self, name: str) -> Any:
        span = self.span
        if name == "latency_ms":
            return span.end_time - span.start_time
        if name in _SPAN_FIELDS:
            return getattr(span, name)
        return getattr(span.promoted, name)

    def attributes(self) -> Mapping[str, Any]:
        return self.span.attributes

    def annotations(self, name: str) -> Sequence[Mapping[str, Any]]:
        return self._annotations(name)

    def spans(self) -> Iterable[SpanView]:
        return ()


_SPAN_FIELDS = frozenset(
    {
        "span_id", "trace_id", "parent_id", "name", "span_kind", "status_code",
        "status_message", "start_time", "end_time",
    }
)


class RollUpView:
    """A trace or session row: columns from the roll-up row; a trace's attributes are its root
    span's, and its spans load on first use (only `any(...)` left to Python needs them)."""

    __slots__ = ("_annotations", "_attributes", "_row", "_span_annotations", "_spans")

    def __init__(
        self,
        row: Any,
        attributes: Callable[[], Mapping[str, Any]] = dict,
        spans: Callable[[], Sequence[StoredSpan]] = list,
        annotations: AnnotationLookup = NO_ANNOTATIONS,
        span_annotations: Callable[[str, str], Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self._row = row
        self._attributes = attributes
        self._spans = spans
        self._annotations = annotations
        self._span_annotations = span_annotations

    def column(self, name: str) -> Any:
        if name == "latency_ms":
            return self._row.end_time - self._row.start_time
        return getattr(self._row, name)

    def attributes(self) -> Mapping[str, Any]:
        return self._attributes()

    def annotations(self, name: str) -> Sequence[Mapping[str, Any]]:
        return self._annotations(name)

    def spans(self) -> Iterable[SpanView]:
        """The trace's spans; `span_annotations(span id, name)` gives their annotations."""
        lookup = self._span_annotations
        for span in self._spans():
            if lookup is None:
                yield SpanView(span)
            else:
                yield SpanView(span, partial(lookup, span.span_id))
