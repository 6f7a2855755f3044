"""Keyset pages over a filtered query, with the rows SQL could not decide checked in Python.

Every listing orders by one sort expression and then the row id, both in the same direction, and
a cursor is the position of the last row a page returned: the next page starts strictly after
it, so no row is skipped or repeated while rows are added. A filter's SQL part (`Plan.where`)
narrows the rows; its residual part (`Plan.residual`) is checked by `check` on each chunk of
candidates, and scanning stops once the page is full, or after MAX_SCAN candidates, in which
case the page may be short (even empty) and its cursor says where to go on: a listing never
hides that there is more.

A filtered listing is also bounded in SQL: given its unfiltered `frame` (the same rows in the
same order, which an index serves), a request only looks at the next WINDOW rows of the frame.
Without it, a condition SQL decides but no index serves (a rare attribute value) would walk
the whole table before answering; with it, each request costs at most a window, and a page that
comes back short carries a cursor at the window's edge.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from ember.errors import BadRequest

# Per request: rows of the frame a filtered page looks at, and of those, candidates checked in
# Python (~50 us each: a payload decoded). Both are read at call time, so tests can lower them.
WINDOW = 50_000
MAX_SCAN = 4_000
CHUNK = 500
_ROW_ID_CEILING = 2**62


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by `expression` (never NULL), then `row_id`, descending or ascending."""

    name: str
    expression: ColumnElement[Any]
    row_id: ColumnElement[Any]
    descending: bool = True

    def after(self, position: tuple[Any, int]) -> ColumnElement[bool]:
        key = sa.tuple_(self.expression, self.row_id)
        return key < position if self.descending else key > position

    def through(self, value: Any) -> ColumnElement[bool]:
        """Rows whose sort value is up to and including `value` in this order."""
        bound: ColumnElement[bool] = (
            self.expression >= value if self.descending else self.expression <= value
        )
        return bound

    def beyond(self, value: Any) -> tuple[Any, int]:
        """A position after every row whose sort value is up to and including `value` (row
        ids are positive and below 2**62)."""
        return (value, 0) if self.descending else (value, _ROW_ID_CEILING)

    def clauses(self) -> tuple[Any, Any]:
        if self.descending:
            return self.expression.desc(), self.row_id.desc()
        return self.expression.asc(), self.row_id.asc()


def encode_cursor(order: Order, value: Any, row_id: int) -> str:
    text = orjson.dumps([order.name, "desc" if order.descending else "asc", value, row_id])
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> tuple[Any, int]:
    """The position a cursor holds; BadRequest when it is not one of ours or belongs to a
    listing sorted another way."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, direction, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(f"cursor {cursor!r} is not a cursor this server gave") from None
    wanted = (order.name, "desc" if order.descending else "asc")
    if (name, direction) != wanted or not isinstance(row_id, int):
        raise BadRequest(
            f"cursor {cursor!r} belongs to a listing sorted by {name} {direction}, "
            f"not {wanted[0]} {wanted[1]}"
        )
    return value, row_id


def page(
    conn: Connection,
    query: sa.Select[Any],
    order: Order,
    cursor: str | None,
    limit: int,
    check: Callable[[Sequence[Row[Any]]], Sequence[bool]] | None = None,
    frame: sa.Select[Any] | None = None,
) -> tuple[list[Row[Any]], str | None]:
    """Up to `limit` rows of `query` (which must select `order.expression` labelled
    `sort_value` and the row id labelled `row_id`) after `cursor`, and the next cursor.

    `frame`, when given, selects `sort_value` of the rows `query` filters (the same table and
    bounds, without the filter, served by an index); the request then only looks at its next
    WINDOW rows, and at every row that ties with the last of them."""
    ordered = query.order_by(*order.clauses())
    position = None if cursor is None else decode_cursor(order, cursor)
    edge = None if frame is None else _window_edge(conn, frame, order, position)
    if edge is not None:
        ordered = ordered.where(order.through(edge))
    # Where to go on when this request found the end of what it looked at.
    end = None if edge is None else encode_cursor(order, *order.beyond(edge))
    if check is None:
        bounded = ordered if position is None else ordered.where(order.after(position))
        rows = list(conn.execute(bounded.limit(limit + 1)).all())
        if len(rows) <= limit:
            return rows, end
        rows = rows[:limit]
        return rows, encode_cursor(order, rows[-1].sort_value, rows[-1].row_id)
    found: list[Row[Any]] = []
    scanned = 0
    budget = MAX_SCAN
    chunk = max(min(CHUNK, budget), limit)
    while True:
        bounded = ordered if position is None else ordered.where(order.after(position))
        rows = list(conn.execute(bounded.limit(chunk)).all())
        if not rows:
            return found, end
        for row, ok in zip(rows, check(rows), strict=True):
            scanned += 1
            position = (row.sort_value, row.row_id)
            if ok:
                found.append(row)
                if len(found) == limit:
                    return found, encode_cursor(order, row.sort_value, row.row_id)
        if len(rows) < chunk:
            return found, end
        if scanned >= budget:
            last = rows[-1]
            return found, encode_cursor(order, last.sort_value, last.row_id)


def _window_edge(
    conn: Connection, frame: sa.Select[Any], order: Order, position: tuple[Any, int] | None
) -> Any | None:
    """The sort value of the frame's WINDOW-th row after `position`; None when fewer remain
    (the request may then read to the end). Only the value is read, so the index of the sort
    answers alone (PostgreSQL's start-time indexes do not hold the row id)."""
    query = frame.order_by(order.clauses()[0])
    if position is not None:
        query = query.where(order.after(position))
    return conn.execute(query.offset(WINDOW - 1).limit(1)).scalar()
