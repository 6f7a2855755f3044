"""Trace and session roll-ups, kept exact under any arrival order and any number of retries.

Every roll-up is an order-free function of the stored spans: sums, minimums, maximums, and
"the earliest root" / "the smallest session id" chosen by a total order (start time, then id).
So a batch whose spans were all new adds its own contribution (`add_batch`), and a batch with
duplicates recomputes the traces it touched from their spans (`recompute`): both give the
value a full recomputation would, whatever came before. Sessions are recomputed from their
traces each time a batch touches them (sessions hold tens of traces, not millions).
These run inside the writer's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ember.cost.compute import PRICED_KINDS
from ember.model import STATUS_CODES, SpanRecord
from ember.semconv.promote import input_preview, output_preview
from ember.store import codec
from ember.store.dialects import chunks, insert_ignore, lock_key, serialize
from ember.store.schema import sessions, spans, traces

_ERROR = STATUS_CODES["ERROR"]

# A trace as the writer knows it during a batch: (row id, project id, session id before it).
TraceRow = tuple[int, int, str | None]


@dataclass
class TraceSums:
    """One trace's contribution from a set of spans."""

    rowid: int
    n: int = 0
    errors: int = 0
    first: int | None = None
    last: int | None = None
    prompt: int = 0
    completion: int = 0
    total: int = 0
    root: tuple[int, str, str, str, str | None, str | None] | None = None
    session: str | None = None
    user: str | None = None
    cost: int = 0
    unpriced: int = 0

    def add(
        self,
        *,
        start: int,
        end: int,
        status: int,
        span_kind: str,
        tokens: tuple[int | None, int | None, int | None],
        root: tuple[int, str, str, str, str | None, str | None] | None,
        session: str | None,
        user: str | None,
        cost: int | None,
    ) -> None:
        self.n += 1
        self.errors += status == _ERROR
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)
        if span_kind == "LLM":
            self.prompt += tokens[0] or 0
            self.completion += tokens[1] or 0
            self.total += tokens[2] or 0
        if span_kind in PRICED_KINDS:
            # Agent and chain spans may report run totals: only model calls count, as for tokens.
            if cost is not None:
                self.cost += cost
            elif tokens[2]:
                self.unpriced += 1
        if root is not None and (self.root is None or root[:2] < self.root[:2]):
            self.root = root
        if session is not None and (self.session is None or session < self.session):
            self.session = session
        if user is not None and (self.user is None or user < self.user):
            self.user = user

    def params(self) -> dict[str, Any]:
        root = self.root or (None, None, None, None, None, None)
        return {
            "rowid": self.rowid, "n": self.n, "errors": self.errors,
            "first": self.first, "last": self.last,
            "prompt": self.prompt, "completion": self.completion, "total": self.total,
            "root_start": root[0], "root_id": root[1], "root_name": root[2],
            "root_kind": root[3], "root_input": root[4], "root_output": root[5],
            "session": self.session, "user": self.user,
            "cost": self.cost, "unpriced": self.unpriced,
        }


def _bp(name: str, type_: Any = None) -> Any:
    return sa.bindparam(name, type_=type_)


def _smaller(column: Any, name: str) -> Any:
    """The parameter when it is set and smaller than the column (or the column is NULL)."""
    value = _bp(name, sa.String)
    return sa.case(
        (sa.and_(value.is_not(None), sa.or_(column.is_(None), value < column)), value),
        else_=column,
    )


def _root_is_better() -> Any:
    start, span_id = _bp("root_start", sa.BigInteger), _bp("root_id", sa.String)
    return sa.and_(
        start.is_not(None),
        sa.or_(
            traces.c.root_start_time.is_(None),
            start < traces.c.root_start_time,
            sa.and_(start == traces.c.root_start_time, span_id < traces.c.root_span_id),
        ),
    )


def _root_values(better: Any) -> dict[str, Any]:
    pairs = {
        "root_start_time": ("root_start", sa.BigInteger),
        "root_span_id": ("root_id", sa.String),
        "root_name": ("root_name", sa.String),
        "root_span_kind": ("root_kind", sa.String),
        "input_preview": ("root_input", sa.String),
        "output_preview": ("root_output", sa.String),
    }
    return {
        column: sa.case((better, _bp(name, type_)), else_=traces.c[column])
        for column, (name, type_) in pairs.items()
    }


ADD_TO_TRACES = (
    traces.update()
    .where(traces.c.id == _bp("rowid"))
    .values(
        span_count=traces.c.span_count + _bp("n"),
        error_count=traces.c.error_count + _bp("errors"),
        start_time=sa.case(
            (traces.c.start_time <= _bp("first"), traces.c.start_time), else_=_bp("first")
        ),
        end_time=sa.case(
            (traces.c.end_time >= _bp("last"), traces.c.end_time), else_=_bp("last")
        ),
        prompt_tokens=traces.c.prompt_tokens + _bp("prompt"),
        completion_tokens=traces.c.completion_tokens + _bp("completion"),
        total_tokens=traces.c.total_tokens + _bp("total"),
        cost=traces.c.cost + _bp("cost"),
        unpriced_spans=traces.c.unpriced_spans + _bp("unpriced"),
        session_id=_smaller(traces.c.session_id, "session"),
        user_id=_smaller(traces.c.user_id, "user"),
        **_root_values(_root_is_better()),
    )
)

SET_TRACES = (
    traces.update()
    .where(traces.c.id == _bp("rowid"))
    .values(
        span_count=_bp("n"),
        error_count=_bp("errors"),
        start_time=_bp("first"),
        end_time=_bp("last"),
        prompt_tokens=_bp("prompt"),
        completion_tokens=_bp("completion"),
        total_tokens=_bp("total"),
        cost=_bp("cost"),
        unpriced_spans=_bp("unpriced"),
        session_id=_bp("session", sa.String),
        user_id=_bp("user", sa.String),
        root_start_time=_bp("root_start", sa.BigInteger),
        root_span_id=_bp("root_id", sa.String),
        root_name=_bp("root_name", sa.String),
        root_span_kind=_bp("root_kind", sa.String),
        input_preview=_bp("root_input", sa.String),
        output_preview=_bp("root_output", sa.String),
    )
)


def add_batch(
    conn: Connection, batch: Sequence[SpanRecord], trace_rows: dict[str, TraceRow]
) -> set[tuple[int, str]]:
    """Add a batch of spans that were all new to their traces' roll-ups; return the (project,
    session) keys the traces have now (the same rule as the SQL: the smallest id wins)."""
    sums: dict[int, TraceSums] = {}
    for r in batch:
        rowid = trace_rows[r.trace_id][0]
        entry = sums.get(rowid)
        if entry is None:
            entry = sums[rowid] = TraceSums(rowid)
        p = r.promoted
        entry.add(
            start=r.start_time, end=r.end_time, status=r.status_code, span_kind=p.span_kind,
            tokens=(p.prompt_tokens, p.completion_tokens, p.total_tokens),
            root=None if r.parent_id else (
                r.start_time, r.span_id, r.name, p.span_kind, p.input_preview, p.output_preview
            ),
            session=p.session_id, user=p.user_id, cost=p.cost,
        )
    conn.execute(ADD_TO_TRACES, [s.params() for s in sums.values()])
    keys: set[tuple[int, str]] = set()
    for rowid, project, before in trace_rows.values():
        added = sums[rowid].session if rowid in sums else None
        session = min(s for s in (before, added) if s is not None) if (before or added) else None
        if session is not None:
            keys.add((project, session))
    return keys


def recompute(conn: Connection, trace_rowids: Iterable[int]) -> None:
    """Set the roll-ups of these traces from their stored spans."""
    for chunk in chunks(sorted(trace_rowids)):
        sums = {rowid: TraceSums(rowid) for rowid in chunk}
        rows = conn.execute(
            sa.select(
                spans.c.trace_rowid, spans.c.span_id, spans.c.parent_id, spans.c.name,
                spans.c.span_kind, spans.c.start_time, spans.c.end_time, spans.c.status_code,
                spans.c.prompt_tokens, spans.c.completion_tokens, spans.c.total_tokens,
                spans.c.session_id, spans.c.user_id, spans.c.cost,
                # Only roots need their input and output, for the trace's previews.
                sa.case((spans.c.parent_id.is_(None), spans.c.attributes)).label("attributes"),
                sa.case((spans.c.parent_id.is_(None), spans.c.payload)).label("payload"),
            ).where(spans.c.trace_rowid.in_(chunk))
        )
        for row in rows:
            root = None
            if row.parent_id is None:
                attributes = codec.join_attributes(
                    row.attributes, codec.decode_payload(row.payload)
                )
                root = (
                    row.start_time, row.span_id, row.name, row.span_kind,
                    input_preview(attributes),
                    output_preview(attributes),
                )
            sums[row.trace_rowid].add(
                start=row.start_time, end=row.end_time, status=row.status_code,
                span_kind=row.span_kind,
                tokens=(row.prompt_tokens, row.completion_tokens, row.total_tokens),
                root=root, session=row.session_id, user=row.user_id, cost=row.cost,
            )
        conn.execute(SET_TRACES, [s.params() for s in sums.values() if s.n])


def session_keys(conn: Connection, trace_rowids: Iterable[int]) -> set[tuple[int, str]]:
    """(project id, session id) of these traces, where they have one."""
    keys: set[tuple[int, str]] = set()
    for chunk in chunks(sorted(trace_rowids)):
        for row in conn.execute(
            sa.select(traces.c.project_id, traces.c.session_id).where(
                traces.c.id.in_(chunk), traces.c.session_id.is_not(None)
            )
        ):
            keys.add((row.project_id, row.session_id))
    return keys


def refresh_sessions(conn: Connection, keys: set[tuple[int, str]]) -> None:
    """Recompute these sessions from their traces; a session left without traces is removed.

    One grouped pass over the sessions' traces gives the sums (UPDATE ... FROM); the first
    input and last output are the two lookups that need an order."""
    if not keys:
        return
    serialize(conn, (lock_key(str(project), session) for project, session in keys))
    t = traces.alias("t")
    of_session = sa.and_(
        t.c.project_id == sessions.c.project_id, t.c.session_id == sessions.c.session_id
    )
    for chunk in chunks(sorted(keys)):
        conn.execute(
            insert_ignore(conn.dialect.name, sessions),
            [
                {"project_id": project, "session_id": session, "start_time": 0, "end_time": 0}
                for project, session in chunk
            ],
        )
        agg = (
            sa.select(
                t.c.project_id,
                t.c.session_id,
                sa.func.count().label("trace_count"),
                sa.func.sum(t.c.error_count).label("error_count"),
                sa.func.min(t.c.start_time).label("start_time"),
                sa.func.max(t.c.end_time).label("end_time"),
                sa.func.sum(t.c.prompt_tokens).label("prompt_tokens"),
                sa.func.sum(t.c.completion_tokens).label("completion_tokens"),
                sa.func.sum(t.c.total_tokens).label("total_tokens"),
                sa.func.min(t.c.user_id).label("user_id"),
                sa.func.sum(t.c.cost).label("cost"),
                sa.func.sum(t.c.unpriced_spans).label("unpriced_spans"),
            )
            .where(sa.tuple_(t.c.project_id, t.c.session_id).in_(list(chunk)))
            .group_by(t.c.project_id, t.c.session_id)
            .subquery("agg")
        )
        conn.execute(
            sessions.update()
            .where(
                sessions.c.project_id == agg.c.project_id,
                sessions.c.session_id == agg.c.session_id,
            )
            .values(
                trace_count=agg.c.trace_count,
                error_count=agg.c.error_count,
                start_time=agg.c.start_time,
                end_time=agg.c.end_time,
                prompt_tokens=agg.c.prompt_tokens,
                completion_tokens=agg.c.completion_tokens,
                total_tokens=agg.c.total_tokens,
                user_id=agg.c.user_id,
                cost=agg.c.cost,
                unpriced_spans=agg.c.unpriced_spans,
                first_input=sa.select(t.c.input_preview)
                .where(of_session)
                .order_by(t.c.start_time, t.c.trace_id)
                .limit(1)
                .scalar_subquery(),
                last_output=sa.select(t.c.output_preview)
                .where(of_session)
                .order_by(t.c.start_time.desc(), t.c.trace_id.desc())
                .limit(1)
                .scalar_subquery(),
            )
        )
        in_chunk = sa.tuple_(sessions.c.project_id, sessions.c.session_id).in_(list(chunk))
        conn.execute(
            sessions.delete().where(in_chunk, ~sa.exists(sa.select(t.c.id).where(of_session)))
        )
